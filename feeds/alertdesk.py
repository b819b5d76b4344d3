"""The alert desk: the level and spread engines, their bar closes, busts, acknowledgements, mutes,
the alert history and the sinks alerts are delivered to (issue 10; split out of the pipeline,
issue 17).

The pipeline routes a price to the desk; the desk decides. It reads prices from a
:class:`~feeds.market.state.MarketState` (the pipeline's, handed over again by
:meth:`AlertDesk.reset` when the market starts over) and the feed's time from ``clock`` (epoch
ms), so it is tested with a
state, a few prices and a number for the clock.

- ^RUT's level engine watches the index (:meth:`AlertDesk.on_level_price`); one engine per spread
  (RUT-SPX, RUT-MAGS) watches that spread in basis points, evaluated on the ticks of its two
  indices only (:meth:`AlertDesk.on_spread_leg`).
- Bar-confirmed levels' bars close on the next price or when the clock passes their end
  (:meth:`AlertDesk.on_clock`).
- A cancelled trade busts the alerts it fired (:meth:`AlertDesk.on_amend`).
- Alerts are acknowledged here (:meth:`AlertDesk.acknowledge`), durably through every sink that can
  (the log), and muted per level (:meth:`AlertDesk.set_muted`).

Run identity (issue 18 §1): on the sim or a replay (practice), each desk (each start of r2k,
and each restart of the upstream's market, :meth:`AlertDesk.reset`) is a run with an id of its
own, stamped on every alert it fires (:attr:`~feeds.alerting.levels.AlertEvent.run`). An
earlier run's alerts (the offline log's, :meth:`AlertDesk.add_history`) are history: listed
dated and dimmed, never waiting, so every run starts with nothing waiting and an
acknowledgement binds to the run's alert it was given for. A live feed's alerts have no run:
the durable log keeps them, and their acknowledgements, across restarts. The status bar's
count (:meth:`AlertDesk.unacknowledged`) and the panel's ``●`` marks use one rule,
:func:`feeds.alerting.delivery.needs_ack`.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from feeds.alerting.alerts import alert_key, busts
from feeds.alerting.delivery import needs_ack
from feeds.alerting.levels import AlertEvent, LevelEngine
from feeds.events import TradeCancel, TradeCorrection
from feeds.feed import is_live
from feeds.frame import LevelView, SpreadAlerts
from feeds.market.calendar import session_phase
from feeds.market.lastsale import NOT_LAST
from feeds.market.state import MarketState
from feeds.symbols import SPREADS

AlertSink = Callable[[AlertEvent], None]

ALERT_MEMORY = 500  # alerts kept in memory for the log panel; the durable log keeps all
#: a bar closes on the clock this long after its end (a print stamped before the end
#: may still be on its way); the first print of a later bar closes it at once
BAR_GRACE_MS = 1_000
FIRED_MEMORY = 256  # trades whose alerts a cancel can still bust
#: when level and spread crossings fire (``[alerts] sessions``; issue 18 §3)
ALERT_SESSIONS = ("regular", "extended")
_NEVER_MS = 2**62  # a feed time no clock reaches

#: the alert history newest first, the ones this run fired, the ones busted (recent_alerts)
Recent = tuple[tuple[AlertEvent, ...], frozenset[AlertEvent], frozenset[AlertEvent]]


class AlertDesk:
    """Levels, spread thresholds, crossings, busts, acknowledgements, mutes and the alert history.

    ``state``: the market the prices are read from; ``clock``: the feed's time in epoch ms;
    ``levels``: ^RUT's engine (default: the technical levels); ``spreads``: an engine per spread of
    :data:`feeds.symbols.SPREADS`, thresholds in bp measured from ``anchor`` (``prev`` when that
    is ``ytd``) for the whole run; ``sinks``: where each alert goes (called in order);
    ``proxies``: ETF -> the index estimated from it when the feed has no index values (a cancel
    of the ETF's trade moves the index); ``feed``: the kind of feed alerts are stamped with.
    ``sessions`` (``[alerts] sessions``): ``"regular"`` (levels and spreads see only prints
    stamped in the regular session, 09:30-16:00 ET or to the early close, by the NYSE
    calendar) or ``"extended"`` (the pre- and post-market too). Prints whose condition codes
    bar them from the last sale (Form T, extended hours: :mod:`feeds.market.conditions`) never
    reach the desk either way. Raises ValueError for another ``sessions``.
    """

    def __init__(
        self,
        state: MarketState,
        clock: Callable[[], int],
        *,
        levels: LevelEngine | None = None,
        spreads: Mapping[str, LevelEngine] | None = None,
        sinks: Iterable[AlertSink] = (),
        anchor: str = "prev",
        proxies: Mapping[str, str] | None = None,
        feed: str = "",
        sessions: str = "regular",
    ) -> None:
        if sessions not in ALERT_SESSIONS:
            raise ValueError(f"sessions must be one of {', '.join(ALERT_SESSIONS)}")
        self.sessions = sessions
        self.state = state
        self.clock = clock
        self.levels = levels if levels is not None else LevelEngine()
        self.levels.feed = self.levels.feed or feed  # alerts name their feed
        self.run = ""  # this practice run's id ("" on a live feed): see the module's doc
        self.sinks: list[AlertSink] = list(sinks)
        self.proxies = dict(proxies or {})
        # the alert history, newest first: the durable log's tail (build_pipeline), then this run's
        self.alerts: deque[AlertEvent] = deque(maxlen=ALERT_MEMORY)
        self._pending: list[AlertEvent] = []
        self.fired = 0  # alerts fired by this run
        self._fired_keys: set[tuple[object, ...]] = set()  # their alert_key
        self._acks = 0  # acknowledgements made (the alert history changed in place)
        self._recent: Recent = ((), frozenset(), frozenset())
        self._recent_key: tuple[object, ...] = ()
        self._next_reveal = _NEVER_MS  # feed time of the first earlier-run alert not yet listed
        self._levels_session = 0  # the state's session the engines' "today" belongs to
        #: (symbol, trade id) -> the alerts that trade fired: its cancel busts them
        self._fired_by: OrderedDict[tuple[str, int | str], list[AlertEvent]] = OrderedDict()
        # spread engines, fed by the ticks of their indices only
        self.spreads: dict[str, LevelEngine] = {}
        self.spread_anchor = anchor if anchor != "ytd" else "prev"
        #: state id -> the spread engines that id is a leg of, with both legs' ids
        self.watched: dict[int, list[tuple[LevelEngine, int, int]]] = {}
        self._unacked: int | None = None  # cached count (None: count again)
        self._data_lag = 0  # ms the watched prints trail the feed's clock (a delayed feed)
        for pair, engine in (spreads or {}).items():
            self.add_spread_engine(pair, engine)
        self._new_run()

    def _new_run(self) -> None:
        """A new practice run (its own id on every engine), or none on a live feed."""
        self.run = "" if is_live(self.levels.feed) else uuid.uuid4().hex[:12]
        self.levels.run = self.run
        for engine in self.spreads.values():
            engine.run = self.run

    def _retire_run(self) -> None:
        """This practice run's alerts become history (a new run starts with nothing waiting)."""
        if self.run:
            past = [replace(a, past_run=True) if a.run == self.run else a for a in self.alerts]
            self.alerts.clear()
            self.alerts.extend(past)
            self._fired_keys.clear()
            self._unacked = None
            self._acks += 1  # the history changed in place: the panel lists it again

    def add_history(self, alerts: Iterable[AlertEvent]) -> None:
        """The durable log's latest alerts (newest first), after this run's. On practice they
        are earlier runs' alerts: history, never waiting (:attr:`AlertEvent.past_run`)."""
        practice = not is_live(self.levels.feed)
        self.alerts.extend(
            replace(a, past_run=True) if practice and a.run != self.run else a for a in alerts
        )
        self._unacked = None

    def follow_kind(self, kind: str) -> None:
        """Stamp alerts with ``kind`` from now on (a relay's terminal learns the kind of feed its
        relay reads at run time: a relay of the sim fires practice alerts, in a run of their
        own)."""
        if kind and kind != self.levels.feed:
            self.levels.feed = kind
            for engine in self.spreads.values():
                engine.feed = kind
            self._retire_run()
            self._new_run()

    def reset(self, state: MarketState) -> None:
        """The market started over on ``state``: the levels' and spreads' sides and today's
        crossings are forgotten (the new run's first price only sets them), and so are the trades
        that fired alerts. The alert history stays; on practice, a new run starts (the old one's
        alerts are history: nothing waits)."""
        self._retire_run()
        self._new_run()
        self.state = state
        self._levels_session = state.session
        self.levels.new_session(resettle=True)
        for engine in self.spreads.values():
            engine.new_session(resettle=True)
        self._fired_by.clear()
        self._data_lag = 0

    def _roll(self) -> None:
        """A new session: the levels' crossings today start afresh (checked before each level
        price and each frame, so no crossing of the new session is lost). Spreads are measured
        afresh from the new session's anchor: their next value only sets their sides."""
        if self._levels_session != self.state.session:
            self._levels_session = self.state.session
            self.levels.new_session()
            for engine in self.spreads.values():
                engine.new_session(resettle=True)

    # --- prices ----------------------------------------------------------------------------------
    def on_level_price(
        self,
        price: float,
        ts: int,
        estimated: bool,
        symbol: str = "",
        trade_id: int | str | None = None,
    ) -> None:
        """The level symbol's price (points) at ``ts`` (epoch ms), ``estimated`` from an ETF or
        not. The alerts a trade with an id fires (``symbol``'s ``trade_id``) are remembered, so
        that its cancel busts them."""
        # a bar that ended before this price closes first, in the session it was in
        if self.levels.on_bars:
            self._data_lag = max(0, self.clock() - ts)
            self._deliver(self.levels.close_bars(ts))
        self._roll()
        if not self.counts(ts):
            return  # a pre- or post-market print: it moves no level (sessions = "regular")
        fired = self.levels.on_price(price, ts, estimated=estimated)
        if fired and trade_id is not None:
            self._remember(fired, symbol, trade_id)
        self._deliver(fired)

    def on_spread_leg(
        self,
        i: int,
        ts: int,
        estimated: bool,
        symbol: str = "",
        trade_id: int | str | None = None,
    ) -> None:
        """State id ``i`` (a key of :attr:`watched`: one leg of a watched spread) has a new price:
        its spreads are measured again (bp) and their engines fed."""
        if self._levels_session != self.state.session:
            for engine, _a, _b in self.watched[i]:
                self._deliver(engine.close_bars(ts))  # in the session they were built in
            self._roll()
        if not self.counts(ts):
            return
        for engine, a, b in self.watched[i]:
            if engine.on_bars:
                self._data_lag = max(0, self.clock() - ts)
            value = self._spread_bp(a, b)
            if value is not None:
                fired = engine.on_price(value, ts, estimated=estimated)
                if fired:
                    if trade_id is not None:  # its cancel busts them
                        self._remember(fired, symbol, trade_id)
                    self._deliver(fired)

    def counts(self, ts: int) -> bool:
        """Whether a print stamped ``ts`` (epoch ms) may cross a level or a spread threshold:
        in the regular session (NYSE calendar, early closes included), or at any time with
        ``sessions = "extended"``. A few comparisons (the calendar caches the day)."""
        return self.sessions == "extended" or session_phase(ts) == "open"

    def on_clock(self, now_ms: int | None = None) -> None:
        """Close the bars of bar-confirmed levels that ended by the feed's clock (``now_ms``, by
        default ``clock()``), delivering what they confirm: a quiet market does not hold an alert
        back. A bar closes :data:`BAR_GRACE_MS` after its end, later by as much as the prints
        trail the clock (a delayed feed), so a print on its way still counts. Cheap when no bar
        is due; the pipeline's frame calls it, and headless runs call it each second."""
        clock = self.clock() if now_ms is None else now_ms
        now = clock - self._data_lag - BAR_GRACE_MS
        self._deliver(self.levels.close_bars(now))
        for engine in self.spreads.values():
            self._deliver(engine.close_bars(now))

    def _remember(self, fired: list[AlertEvent], symbol: str, trade_id: int | str) -> None:
        """Keep which alerts ``symbol``'s trade ``trade_id`` fired (its cancel busts them)."""
        key = (symbol, trade_id)
        self._fired_by[key] = self._fired_by.get(key, []) + fired
        if len(self._fired_by) > FIRED_MEMORY:
            self._fired_by.popitem(last=False)

    def _deliver(self, alerts: list[AlertEvent]) -> None:
        for alert in alerts:
            if needs_ack(alert) and self._acknowledged(alert_key(alert)):
                # the same event again (a seed-0 sim or a replay played twice) was
                # acknowledged before: it does not wait again (the log keeps it once)
                alert = replace(alert, acknowledged=True)
            self.alerts.appendleft(alert)
            self._pending.append(alert)
            self.fired += 1
            self._fired_keys.add(alert_key(alert))
            self._unacked = None  # count again (the memory may have dropped one)
            for sink in self.sinks:
                sink(alert)

    def take_new(self) -> list[AlertEvent]:
        """The alerts fired since the last call, oldest first (one consumer: the frame)."""
        new, self._pending = self._pending, []
        return new

    # --- cancels and corrections (feeds.market.lastsale) -----------------------------------------
    def on_amend(self, ev: TradeCancel | TradeCorrection, moved: bool, estimated: bool) -> None:
        """A trade reported earlier was cancelled or corrected, and the state has taken it back
        out or re-priced it (``moved``: its last sale changed). The alerts it fired (levels and
        spreads) are busted, unless a correction left its price and eligibility as they were;
        then the engines see the values that stand now."""
        st = self.state
        sym, tid = ev.symbol, ev.trade_id
        alerts = self._fired_by.pop((sym, tid), [])
        if type(ev) is TradeCorrection:
            same = ev.price == ev.original_price and not ev.sale_flags & NOT_LAST
            if same and alerts:  # a size or condition fix: what it fired stands
                self._fired_by[(sym, tid if ev.new_id is None else ev.new_id)] = alerts
                alerts = []
        busted = [b for a in alerts if (b := self._bust(a, ev.ts)) is not None]
        self._deliver(busted)
        if not (busted or moved):
            return
        # the values standing now, kept with the trade that set them: its cancel busts what fires
        last_id = st.busts.last_trade_id(sym)
        price = st.price(self.levels.symbol)
        levels_busted = any(b.symbol == self.levels.symbol for b in busted)
        index = self.proxies.get(sym) if estimated else None
        # whether sym's last sale is what the level engine watches (the index, or its ETF)
        feeds_levels = (index if estimated else sym) == self.levels.symbol
        if price is not None and (levels_busted or feeds_levels):
            self.on_level_price(price, ev.ts, estimated, sym, last_id)
        for name in dict.fromkeys((sym, index or sym)):
            if (i := st.ids.get(name)) in self.watched:
                self.on_spread_leg(i, ev.ts, estimated, sym, last_id)

    def _bust(self, alert: AlertEvent, ts: int) -> AlertEvent | None:
        """Take back an alert whose trade was cancelled (None: its engine forgot it)."""
        engine = self.engine_for(alert.symbol)
        if engine is None:
            return None
        if engine is self.levels:
            now = self.state.price(engine.symbol)
        else:
            now = self.spread_value(alert.symbol)
        return None if now is None else engine.bust(alert, ts, now)

    # --- spreads ---------------------------------------------------------------------------------
    def add_spread_engine(self, pair: str, engine: LevelEngine) -> None:
        """Watch ``pair`` (a key of :data:`feeds.symbols.SPREADS`) with ``engine`` (thresholds
        in bp, an absolute band). Raises KeyError for an unknown pair."""
        small, large = SPREADS[pair]
        engine.symbol = pair
        engine.feed = engine.feed or self.levels.feed
        engine.run = self.run
        self.spreads[pair] = engine
        a, b = self.state.id_of(small), self.state.id_of(large)
        for i in (a, b):
            self.watched.setdefault(i, []).append((engine, a, b))

    def spread_value(self, pair: str) -> float | None:
        """The spread ``pair`` in bp since :attr:`spread_anchor` (what its alerts watch), or
        None while a price or an anchor is missing."""
        small, large = SPREADS[pair]
        st = self.state
        return self._spread_bp(st.ids[small], st.ids[large]) if small in st.ids else None

    def _spread_bp(self, a: int, b: int) -> float | None:
        st = self.state
        anchors = st.anchor_column(self.spread_anchor)
        la, lb, aa, ab = st.last[a], st.last[b], anchors[a], anchors[b]
        if la is None or lb is None or not aa or not ab:
            return None
        # exact: a threshold is tested on the spread itself, never on one rounded for display
        # (102.003 bp is past 100 + 2 bp); screens round when they print it
        return (la / aa - lb / ab) * 10_000.0

    # --- the trader's hand: mutes and acknowledgements -------------------------------------------
    def engine_for(self, symbol: str) -> LevelEngine | None:
        """The engine watching ``symbol`` (``^RUT``, or a spread such as ``RUT-SPX``)."""
        return self.levels if symbol == self.levels.symbol else self.spreads.get(symbol)

    def set_muted(self, symbol: str, level: float, muted: bool) -> bool:
        """Mute or unmute a level (or spread threshold); False if there is no such level.
        Its alerts are still logged and listed, marked muted (see
        feeds.alerting.delivery.notifies)."""
        engine = self.engine_for(symbol)
        found = engine is not None and engine.set_muted(level, muted) is not None
        if found:
            self._unacked = None
        return found

    @staticmethod
    def needs_ack(alert: AlertEvent) -> bool:
        """Whether an alert waits for the trader's acknowledgement: the rule of
        :func:`feeds.alerting.delivery.needs_ack`, which the alert panel's marks use too."""
        return needs_ack(alert)

    def acknowledge(self, key: tuple[object, ...] | None = None) -> int:
        """Acknowledge the alert whose :func:`feeds.alerting.alerts.alert_key` is ``key``, or every
        alert waiting for it when ``key`` is None (``X``). The acknowledgement is appended to the
        durable log (every sink with ``acknowledge()``), so it survives a restart. Returns how
        many alerts were acknowledged (0: none waited, or no such alert)."""
        done: list[AlertEvent] = []
        for n, alert in enumerate(self.alerts):
            if self.needs_ack(alert) and (key is None or alert_key(alert) == key):
                self.alerts[n] = replace(alert, acknowledged=True)
                done.append(alert)
        if done:
            now = int(time.time() * 1000)
            for sink in self.sinks:
                ack = getattr(sink, "acknowledge", None)
                if ack is not None:
                    ack(done, now)
            self._unacked = None
            self._acks += 1
        return len(done)

    def unacknowledged(self) -> int:
        """Alerts in :attr:`alerts` waiting for an acknowledgement (:meth:`needs_ack`), each
        event once (:func:`feeds.alerting.alerts.alert_key`: the log's copy and this run's are one,
        as in the alert panel)."""
        if self._unacked is None:
            self._unacked = len({alert_key(a) for a in self.alerts if self.needs_ack(a)})
        return self._unacked

    def _acknowledged(self, key: tuple[object, ...]) -> bool:
        """Whether an alert with ``key`` in the history is acknowledged (a repeat fires
        acknowledged). A scan of at most ALERT_MEMORY alerts, only when one fires."""
        return any(a.acknowledged and alert_key(a) == key for a in self.alerts)

    # --- what the screen shows -------------------------------------------------------------------
    def _level_view(self, engine: LevelEngine, lv: Any, price: float | None) -> LevelView:
        dist = None if price is None else lv.price - price
        due = engine.dwelling(lv)
        pct = None if dist is None or not price or engine.band is not None else dist / price
        return LevelView(
            lv.price,
            lv.label,
            lv.user,
            lv.state,
            dist,
            pct,
            tuple(lv.crossings),
            confirm=lv.confirm,
            muted=lv.muted,
            awaiting_close=engine.awaiting_close(lv),
            symbol=engine.symbol,
            band=lv.band,
            dwell_ms=lv.dwell_ms,
            dwell_left_ms=None if due is None else max(0, due - self.clock()),
        )

    def level_views(self) -> list[LevelView]:
        """The level ladder: each level with its distance from the level symbol's price."""
        self._roll()
        price = self.state.price(self.levels.symbol)
        return [self._level_view(self.levels, lv, price) for lv in self.levels.levels]

    def spread_alerts(self) -> dict[str, SpreadAlerts]:
        """Each watched spread's thresholds and the value they are measured against."""
        self._roll()
        out = {}
        for pair, engine in self.spreads.items():
            value = self.spread_value(pair)
            views = tuple(self._level_view(engine, lv, value) for lv in engine.levels)
            out[pair] = SpreadAlerts(pair, value, self.spread_anchor, views)
        return out

    def problems(self) -> tuple[str, ...]:
        """What the sinks report as failing, one line each (sinks without ``problem()`` never
        fail)."""
        found = (getattr(sink, "problem", None) for sink in self.sinks)
        return tuple(p for p in (f() for f in found if f is not None) if p)

    def recent_alerts(self) -> Recent:
        """The alert history newest first by the alerts' own time (a replay's alerts are older
        than the log's live ones), each event once (:func:`feeds.alerting.alerts.alert_key`: a
        repeated seed-0 sim or a replay played twice fires what the log has already); the ones
        this run fired (one the log also has counts as this run's); and the ones taken back by a
        later "busted" alert (:func:`feeds.alerting.alerts.busts`: their trade was cancelled).
        Rebuilt only when it changed (a new alert, an acknowledgement, or the clock reaching a
        hidden one).

        On the sim or a replay, an earlier run's alert dated after the feed's clock is not
        listed until the clock gets there: the data's own time, not today's, says what has
        happened (a replay played again listed its later days' alerts at its first tick)."""
        alerts = self.alerts
        key = (
            self.fired,
            self._acks,
            len(alerts),
            alerts[0] if alerts else None,
            alerts[-1] if alerts else None,
        )
        horizon = self.clock() if not is_live(self.levels.feed) else None
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
