"""The feed's health (issue 8 §1-2; split out of the pipeline, issue 17): its latest status, the
run's status history, whether it ever went live, the error a command exits with, and the tick
rate and data age the status bar shows.

Plain inputs: statuses, tick counts, the feed's clock (epoch ms, which stamps statuses raised
without a time) and a monotonic wall clock (seconds, for the rates), so it is tested without a
feed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace

from feeds.events import FeedState, FeedStatus

StatusSink = Callable[[FeedStatus], None]

STATUS_MEMORY = 200  # status changes kept for the feed-status screen (a run's history)


class FeedHealth:
    """The status of one feed over one run.

    ``label``: the feed's name for people (the first status is "opening <label>"); ``clock``: the
    feed's time in epoch ms (a sim's or a replay's day is not today, so the history reads in one
    clock; a clock that raises falls back to the wall clock); ``sinks``: called with every
    status, in order; ``monotonic``: seconds, for the tick rate and the data's age.
    """

    def __init__(
        self,
        label: str,
        clock: Callable[[], int],
        sinks: Iterable[StatusSink] = (),
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.sinks: list[StatusSink] = list(sinks)
        self.monotonic = monotonic
        self.status = FeedStatus(FeedState.CONNECTING, f"opening {label}", self.now())
        self._opening = self.status
        self.history: deque[FeedStatus] = deque([self.status], maxlen=STATUS_MEMORY)
        self._history_view: tuple[FeedStatus, ...] | None = None
        self.ever_live = False
        # per-frame rate bookkeeping
        self._rate_ticks = 0
        self._rate_wall = monotonic()
        self._rate = 0.0
        self._arrival_ticks = 0  # tick count when arrivals were last noticed (per frame)
        self._arrival_wall = 0.0  # monotonic time of the frame that first saw new ticks

    def now(self) -> int:
        """The feed's clock (epoch ms); the wall clock while the feed cannot tell its time."""
        try:
            return int(self.clock())
        except Exception:  # a feed that cannot tell its time yet
            return int(time.time() * 1000)

    def set_status(self, status: FeedStatus) -> None:
        """The feed's latest status; a new state or reason is also kept in :attr:`history`
        (a status that only updates the counters replaces nothing there)."""
        last = self.history[-1] if self.history else None
        if last is None or (last.state, last.detail) != (status.state, status.detail):
            if not status.ts:
                status = replace(status, ts=self.now())
            if len(self.history) == 1 and self.history[0] is self._opening:
                # r2k's own "opening" was stamped before the feed had a clock (a sim's or a
                # replay's day starts when it opens): it takes the feed's first time
                self.history[0] = replace(self._opening, ts=min(self._opening.ts, status.ts))
            self.history.append(status)
            self._history_view = None
        if status.state is FeedState.LIVE:
            self.ever_live = True
        self.status = status
        for sink in self.sinks:
            sink(status)

    def status_history(self) -> tuple[FeedStatus, ...]:
        """This run's status changes, oldest first (the latest :data:`STATUS_MEMORY`)."""
        if self._history_view is None:
            self._history_view = tuple(self.history)
        return self._history_view

    def feed_error(self, total_ticks: int) -> str | None:
        """Why the feed failed this run, as one line, or None when it did not (``total_ticks``:
        the ticks applied this run).

        A failure is: the feed ended in ERROR (a refused key, plan or symbol); it never reached
        LIVE during the whole run (no network, a wrong URL; the last reason given); all it sent
        was unreadable (malformed frames and not one tick); or not one tick came in the whole
        run, whatever the state it ended in (issue 19 §3): a server that accepts the connection,
        then closes it before a frame, every time; a feed that said LIVE and sent nothing (a
        provider counting itself live once subscribed, Yahoo before its warm-up produced
        anything). A feed that lost its connection after data came is not; nor is one that sent
        ticks without saying LIVE. The reason is the status's detail alone: the provider's
        notes (:attr:`FeedStatus.note`) stay in the status history.
        """
        st = self.status
        if st.state is FeedState.ERROR:
            return st.reason() or "the feed stopped on an error"
        if total_ticks:
            return None
        # frames came, so it connected: whether it said LIVE before the garbage did depends on
        # timing, and the reason is the same either way
        if st.malformed and st.state is not FeedState.LIVE:
            return f"no readable data ({st.malformed:,} malformed frames skipped): {st.reason()}"
        if not self.ever_live:
            reasons = [
                s.reason()
                for s in self.history
                if s.state in (FeedState.RECONNECTING, FeedState.STALE) and s.reason()
            ]
            why = reasons[-1] if reasons else st.reason() or "no reason given"
            return f"never connected: {why}"
        why = st.reason()
        if st.state is FeedState.LIVE:
            # connected and subscribed, and not one tick in the whole run: nothing to show
            why = "connected, but not one tick arrived" + (f" ({why})" if why else "")
        return f"no data this run: {why or 'no reason given'}"

    def tick_age(self, total: int) -> float | None:
        """Seconds since the frame that first saw ticks arrive (``total``: the ticks so far),
        None before any: ticks that arrived since the last frame are under one frame old."""
        if total != self._arrival_ticks:
            self._arrival_ticks = total
            self._arrival_wall = self.monotonic()
        return None if not self._arrival_wall else self.monotonic() - self._arrival_wall

    def tick_rate(self, total: int) -> float:
        """Ticks per second, smoothed over about a second so the figure is readable at 4 Hz
        (``total``: the ticks so far; measured again at most every 0.25 s)."""
        now = self.monotonic()
        dt = now - self._rate_wall
        if dt >= 0.25:
            inst = (total - self._rate_ticks) / dt
            alpha = min(1.0, dt)
            self._rate = inst if self._rate == 0 else self._rate + alpha * (inst - self._rate)
            self._rate_ticks = total
            self._rate_wall = now
        return self._rate
