"""The alert history (issue 17): the alerts kept in memory for the panel, what is new since the
frame last looked, which of them this run fired, which wait for the trader's acknowledgement, and
the acknowledgements themselves (split out of :class:`feeds.alertdesk.AlertDesk`).

It takes plain inputs: alerts (:class:`~feeds.alerting.levels.AlertEvent`), a practice run's id
(``""`` on a live feed, whose alerts have no run), the feed's time in epoch ms, and the sinks an
acknowledgement is written through. The desk decides what fires; the history keeps it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace

from feeds.alerting.alerts import alert_key, busts
from feeds.alerting.delivery import needs_ack
from feeds.alerting.levels import AlertEvent

ALERT_MEMORY = 500  # alerts kept in memory for the log panel; the durable log keeps all
_NEVER_MS = 2**62  # a feed time no clock reaches

#: the alert history newest first, the ones this run fired, the ones busted (recent_alerts)
Recent = tuple[tuple[AlertEvent, ...], frozenset[AlertEvent], frozenset[AlertEvent]]


class AlertHistory:
    """The latest :data:`ALERT_MEMORY` alerts, newest first: the durable log's tail
    (:meth:`add_history`), then this run's (:meth:`record`), with the acknowledgements made to
    them (:meth:`acknowledge`) and the count still waiting (:meth:`unacknowledged`; the rule is
    :func:`feeds.alerting.delivery.needs_ack`, which the alert panel's marks use too)."""

    def __init__(self) -> None:
        self.alerts: deque[AlertEvent] = deque(maxlen=ALERT_MEMORY)
        self._pending: list[AlertEvent] = []
        self.fired = 0  # alerts fired by this run
        self._fired_keys: set[tuple[object, ...]] = set()  # their alert_key
        self._acks = 0  # acknowledgements made (the alert history changed in place)
        self._recent: Recent = ((), frozenset(), frozenset())
        self._recent_key: tuple[object, ...] = ()
        self._next_reveal = _NEVER_MS  # feed time of the first earlier-run alert not yet listed
        self._unacked: int | None = None  # cached count (None: count again)

    def changed(self) -> None:
        """Something outside the history changed what waits (a level muted): count again."""
        self._unacked = None

    def retire(self, run: str) -> None:
        """Practice run ``run``'s alerts become history (a new run starts with nothing waiting);
        nothing changes for a live feed (``run`` is ``""``)."""
        if run:
            past = [replace(a, past_run=True) if a.run == run else a for a in self.alerts]
            self.alerts.clear()
            self.alerts.extend(past)
            self._fired_keys.clear()
            self._unacked = None
            self._acks += 1  # the history changed in place: the panel lists it again

    def add_history(self, alerts: Iterable[AlertEvent], run: str) -> None:
        """The durable log's latest alerts (newest first), after this run's. On practice
        (``run``: this run's id, not ``""``) an alert of another run is history, never waiting
        (:attr:`AlertEvent.past_run`)."""
        self.alerts.extend(replace(a, past_run=True) if run and a.run != run else a for a in alerts)
        self._unacked = None

    def record(self, alert: AlertEvent) -> AlertEvent:
        """Keep an alert this run fired and return it as kept: the same event again (a seed-0 sim
        or a replay played twice) that was acknowledged before is acknowledged already (the log
        keeps it once)."""
        if needs_ack(alert) and self._acknowledged(alert_key(alert)):
            alert = replace(alert, acknowledged=True)
        self.alerts.appendleft(alert)
        self._pending.append(alert)
        self.fired += 1
        self._fired_keys.add(alert_key(alert))
        self._unacked = None  # count again (the memory may have dropped one)
        return alert

    def take_new(self) -> list[AlertEvent]:
        """The alerts fired since the last call, oldest first (one consumer: the frame)."""
        new, self._pending = self._pending, []
        return new

    def acknowledge(self, key: tuple[object, ...] | None, sinks: Sequence[object]) -> int:
        """Acknowledge the alert whose :func:`feeds.alerting.alerts.alert_key` is ``key``, or every
        alert waiting for it when ``key`` is None. The acknowledgement is appended to the durable
        log (every one of ``sinks`` with ``acknowledge(alerts, epoch_ms)``), so it survives a
        restart. Returns how many alerts were acknowledged (0: none waited, or no such alert)."""
        done: list[AlertEvent] = []
        for n, alert in enumerate(self.alerts):
            if needs_ack(alert) and (key is None or alert_key(alert) == key):
                self.alerts[n] = replace(alert, acknowledged=True)
                done.append(alert)
        if done:
            now = int(time.time() * 1000)
            for sink in sinks:
                ack = getattr(sink, "acknowledge", None)
                if ack is not None:
                    ack(done, now)
            self._unacked = None
            self._acks += 1
        return len(done)

    def unacknowledged(self) -> int:
        """Alerts in :attr:`alerts` waiting for an acknowledgement (``needs_ack``), each event
        once (:func:`feeds.alerting.alerts.alert_key`: the log's copy and this run's are one, as
        in the alert panel)."""
        if self._unacked is None:
            self._unacked = len({alert_key(a) for a in self.alerts if needs_ack(a)})
        return self._unacked

    def _acknowledged(self, key: tuple[object, ...]) -> bool:
        """Whether an alert with ``key`` in the history is acknowledged (a repeat fires
        acknowledged). A scan of at most ALERT_MEMORY alerts, only when one fires."""
        return any(a.acknowledged and alert_key(a) == key for a in self.alerts)

    def recent_alerts(self, horizon: int | None) -> Recent:
        """The alert history newest first by the alerts' own time (a replay's alerts are older
        than the log's live ones), each event once (:func:`feeds.alerting.alerts.alert_key`: a
        repeated seed-0 sim or a replay played twice fires what the log has already); the ones
        this run fired (one the log also has counts as this run's); and the ones taken back by a
        later "busted" alert (:func:`feeds.alerting.alerts.busts`: their trade was cancelled).
        Rebuilt only when it changed (a new alert, an acknowledgement, or the clock reaching a
        hidden one).

        ``horizon``: on the sim or a replay, the feed's clock (epoch ms); an earlier run's alert
        dated after it is not listed until the clock gets there: the data's own time, not
        today's, says what has happened (a replay played again listed its later days' alerts at
        its first tick). None on a live feed (everything is listed)."""
        alerts = self.alerts
        key = (
            self.fired,
            self._acks,
            len(alerts),
            alerts[0] if alerts else None,
            alerts[-1] if alerts else None,
        )
        if key != self._recent_key or (horizon is not None and horizon >= self._next_reveal):
            self._recent_key = key
            self._next_reveal = _NEVER_MS
            once: dict[tuple[object, ...], AlertEvent] = {}
            for alert in alerts:  # this run's first (appended on the left)
                later = horizon is not None and alert.ts > horizon
                if later and alert_key(alert) not in self._fired_keys:  # another run's, to come
                    self._next_reveal = min(self._next_reveal, alert.ts)
                    continue
                once.setdefault(alert_key(alert), alert)
            ordered = tuple(sorted(once.values(), key=lambda a: -a.ts))  # stable among equals
            fired = frozenset(a for k, a in once.items() if k in self._fired_keys)
            busted: set[AlertEvent] = set()
            for n, bust in enumerate(ordered):
                if bust.kind == "busted":  # the newest alert it takes back, older than itself
                    taken = next(
                        (a for a in ordered[n + 1 :] if a not in busted and busts(bust, a)), None
                    )
                    if taken is not None:
                        busted.add(taken)
            self._recent = (ordered, fired, frozenset(busted))
        return self._recent
