"""The pipeline: feed -> MarketState (+ level and spread engines -> alert sinks) -> frames.

One pipeline serves the app and every headless command, so what ``r2k snapshot`` prints is what
the screen shows. ``handle`` is the per-event path; ``frame`` is called at the refresh rate.

Alerts (issue 10): the level engine watches ^RUT; one engine per spread (RUT-SPX, RUT-MAGS)
watches that spread in basis points, evaluated on the ticks of its two indices only (a
constituent's tick costs one comparison more than before: none). Bar-confirmed levels' bars
close on the next price or when the feed's clock passes their end (:meth:`Pipeline.on_clock`,
called by :meth:`frame` and the headless commands). Alerts are acknowledged here
(:meth:`acknowledge`), durably through every sink that can (the log), and muted per level.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from feeds import series
from feeds.alerting.alerts import alert_key, busts
from feeds.alerting.delivery import needs_ack
from feeds.alerting.levels import AlertEvent, LevelEngine
from feeds.events import (
    Bars,
    DailyBars,
    DailyCloses,
    FeedState,
    FeedStatus,
    HistoryProgress,
    MarketReset,
    SessionCloses,
    Tick,
    TradeCancel,
    TradeCorrection,
)
from feeds.feed import Feed, feed_kind, is_live
from feeds.frame import Board, Charts, Frame, LevelView, Quote, SpreadAlerts, View
from feeds.market import analytics
from feeds.market.lastsale import NOT_LAST
from feeds.market.scoreboard import HOLDINGS_STALE_DAYS, HoldingsInfo, Scoreboard, ScoreboardBuilder
from feeds.market.state import MarketState
from feeds.symbols import HEADLINE, IWM, MAGS, RUT, SPREADS, SPX, SPY

if TYPE_CHECKING:
    from feeds.reference.holdings import Holdings
    from feeds.reference.reconcile import Reconciler

AlertSink = Callable[[AlertEvent], None]


@dataclass(slots=True)
class _Universe:
    """Per-constituent columns cached between frames (rebuilt when a symbol is added)."""

    size: int  # len(state.symbols) when built
    ids: np.ndarray
    symbols: list[str]
    names: list[str]
    sectors: list[str]
    w_asof: np.ndarray
    member: np.ndarray  # bool: in the holdings (all True without holdings)
    p_file: np.ndarray  # each holding's price on the holdings' date (the file's Price), or NaN
    haystack: list[str]  # "symbol\nname" lower-cased, for the filter
    # the index members' symbols and names, aligned with ids[member] (the scoreboard)
    member_symbols: list[str] = field(default_factory=list)
    member_names: list[str] = field(default_factory=list)


StatusSink = Callable[[FeedStatus], None]

#: ETF -> (index, fallback index/ETF ratio) used when a feed streams only the ETF.
ETF_PROXIES: dict[str, tuple[str, float]] = {IWM: (RUT, 10.0), SPY: (SPX, 10.03)}
_NEVER_MS = 2**62  # a feed time no clock reaches
ALERT_MEMORY = 500  # alerts kept in memory for the log panel; the durable log keeps all
DEFAULT_VIEW = View()
#: The members' own growth stands for the index's (I_anchor / I_asof) only when the members with
#: both prices hold at least this fraction of the index weight.
MEMBER_COVERAGE = 0.8
#: a bar closes on the clock this long after its end (a print stamped before the end
#: may still be on its way); the first print of a later bar closes it at once
BAR_GRACE_MS = 1_000
STATUS_MEMORY = 200  # status changes kept for the feed-status screen (a run's history)
FIRED_MEMORY = 256  # trades whose alerts a cancel can still bust


class Pipeline:
    def __init__(
        self,
        feed: Feed,
        holdings: Holdings | None = None,
        *,
        anchor: str = "prev",
        levels: LevelEngine | None = None,
        alert_sinks: Iterable[AlertSink] = (),
        status_sinks: Iterable[StatusSink] = (),
        reconciler: Reconciler | None = None,
        spreads: dict[str, LevelEngine] | None = None,
    ) -> None:
        """``spreads``: an engine per spread of :data:`feeds.symbols.SPREADS` with
        thresholds in bp, measured from ``anchor`` (``prev`` when that is ``ytd``) for the whole
        run, whatever anchor the screen picks later."""
        self.feed = feed
        self.holdings = holdings
        #: how the holdings tickers were spelt as the feed spells them (None: as written)
        self.reconciler = reconciler
        self._adopting = reconciler is not None and reconciler.can_adopt
        self.state = MarketState(HEADLINE)
        self.levels = levels if levels is not None else LevelEngine()
        self.levels.feed = self.levels.feed or feed_kind(feed.spec)  # alerts name their feed
        self.alert_sinks = list(alert_sinks)
        self.status_sinks = list(status_sinks)
        self.anchor = anchor
        self.status = FeedStatus(
            FeedState.CONNECTING, f"opening {feed.label}", self._feed_now(feed)
        )
        # the run's status history and whether the feed ever connected (issue 8 §1-2)
        self._opening = self.status
        self.history: deque[FeedStatus] = deque([self.status], maxlen=STATUS_MEMORY)
        self._history_view: tuple[FeedStatus, ...] | None = None
        self.ever_live = False
        # the alert history, newest first: the durable log's tail (build_pipeline), then this run's
        self.alerts: deque[AlertEvent] = deque(maxlen=ALERT_MEMORY)
        self.notes: list[str] = []  # one-line notices for the user at start (feeds.settings.setup)
        self._pending_alerts: list[AlertEvent] = []
        self.fired = 0  # alerts fired by this run
        self._fired_keys: set[tuple[object, ...]] = set()  # their alert_key
        self._acks = 0  # acknowledgements made (the alert history changed in place)
        #: the board last ranked, with the query it answered (View.board=False reuses it)
        self._last_board: tuple[tuple[object, ...], Board, analytics.Breadth] | None = None
        self._recent: tuple[
            tuple[AlertEvent, ...], frozenset[AlertEvent], frozenset[AlertEvent]
        ] = ((), frozenset(), frozenset())
        self._recent_key: tuple[object, ...] = ()
        self._next_reveal = _NEVER_MS  # feed time of the first earlier-run alert not yet listed
        self.estimated = feed.estimates_indices
        self._level_id = self.state.id_of(self.levels.symbol)
        self._proxy_ids = {self.state.id_of(etf): etf for etf in ETF_PROXIES}
        # per-frame rate bookkeeping
        self._rate_ticks = 0
        self._rate_wall = time.monotonic()
        self._rate = 0.0
        # constituents: holdings first (in weight order), then any other symbol the feed sends
        self._weights: dict[str, float] = {}
        if holdings is not None:
            for c in holdings.constituents:
                self.state.id_of(c.symbol)
                self._weights[c.symbol] = c.weight
        self.feed_limit_ms: int | None = None  # set by run(feed_ms=...) at the first event
        self._universe_cache: _Universe | None = None
        self._asof_cache: tuple[tuple[int, int], np.ndarray] | None = None
        self._levels_session = 0  # the state's session the level engine's "today" belongs to
        self._arrival_ticks = 0  # tick count when arrivals were last noticed (per frame)
        self._arrival_wall = 0.0  # monotonic time of the frame that first saw new ticks
        self._streak_cache: tuple[int, tuple[int, str]] | None = None  # (daily_rev, streak)
        #: (symbol, trade id) -> the alerts that trade fired: its cancel busts them
        self._fired_by: OrderedDict[tuple[str, int | str], list[AlertEvent]] = OrderedDict()
        # spread engines, fed by the ticks of their indices only
        self.spreads: dict[str, LevelEngine] = {}
        self.spread_anchor = anchor if anchor != "ytd" else "prev"
        self._spread_watch: dict[int, list[tuple[LevelEngine, int, int]]] = {}
        self._n_headline = len(HEADLINE)  # ids below this are the headline symbols
        self._unacked: int | None = None  # cached count (None: count again)
        self._data_lag = 0  # ms the level symbol's prints trail the feed's clock (a delayed feed)
        for pair, engine in (spreads or {}).items():
            self.add_spread_engine(pair, engine)
        # the scoreboard, and history downloads under way
        self._scoreboard = ScoreboardBuilder()
        self.progress: dict[str, HistoryProgress] = {}  # latest per download ("YTD anchors")
        self._ytd_cache: tuple[tuple[object, ...], np.ndarray] | None = None

    # --- per event -------------------------------------------------------------------------
    def handle(self, ev: object) -> None:
        if type(ev) is Tick:
            self._on_tick(ev)
        elif isinstance(ev, FeedStatus):
            # a relay's terminal learns whether its upstream estimates the indices at run time
            self.estimated = self.feed.estimates_indices
            self._follow_upstream_kind()
            self.set_status(ev)
        elif isinstance(ev, Bars):
            self.state.apply_bars(ev)
        elif isinstance(ev, DailyCloses):
            self.state.apply_daily(ev)
        elif isinstance(ev, DailyBars):
            self.state.apply_daily_bars(ev)
        elif isinstance(ev, SessionCloses):
            self.state.apply_session_closes(ev)
        elif isinstance(ev, HistoryProgress):
            self.progress[ev.what] = ev
        elif isinstance(ev, TradeCancel | TradeCorrection):
            self._on_amend(ev)
        elif isinstance(ev, MarketReset):
            self.reset_market()

    def _follow_upstream_kind(self) -> None:
        """A relay's terminal stamps its alerts with the kind of feed the relay reads, once the
        relay has said (``upstream_kind``): a relay of the sim or a replay fires practice
        alerts, which stay out of the live log, the webhook and the command."""
        kind = getattr(self.feed, "upstream_kind", "")
        if kind and kind != self.levels.feed:
            self.levels.feed = kind
            for engine in self.spreads.values():
                engine.feed = kind

    def reset_market(self) -> None:
        """Start the market afresh (a :class:`~feeds.events.MarketReset`: the upstream's market
        started over at an earlier time, whose prints the old ones would outrank as later).

        A new MarketState with the same symbol ids (ticks counted so far stay counted); the
        levels' and spreads' sides and today's crossings forgotten, so the new run's first price
        only sets them; every cache derived from the old state dropped. The alert history stays.
        """
        self.state = self.state.started_over()
        self._levels_session = self.state.session
        self.levels.new_session(resettle=True)
        for engine in self.spreads.values():
            engine.new_session(resettle=True)
        self._fired_by.clear()
        self._data_lag = 0
        self._universe_cache = None
        self._asof_cache = None
        self._scoreboard = ScoreboardBuilder()

    def handle_batch(self, events: Sequence[object]) -> bool:
        """The events of one provider frame (or one release of the sim), in order: the same
        state, alerts and statuses as :meth:`handle` on each (issue 12 §5). Constituents' ticks
        go through :meth:`MarketState.apply_ticks` in one call; a headline tick (its levels,
        spreads, estimate) and any other event go through :meth:`handle`, then it goes on.
        Returns True when the feed said it ENDED (nothing after that status is handled), as
        :meth:`run` stops there."""
        nh = self._n_headline
        n = len(events)
        k = 0
        while k < n:
            # unknown symbols may be respelt holdings while adopting: then one at a time; the
            # state is looked up again each time (a MarketReset replaces it)
            j = k if self._adopting else self.state.apply_ticks(events, k, nh)
            if j < n:
                ev = events[j]
                self.handle(ev)
                if type(ev) is FeedStatus and ev.state is FeedState.ENDED:
                    return True
                j += 1
            k = j
        return False

    def _on_tick(self, tick: Tick) -> None:
        if self._adopting and tick.symbol not in self.state.ids:
            self._adopt(tick.symbol)
        # apply() gives a negative id for a trade that did not set the last sale: such a trade
        # moves no level and no index estimate
        i = self.state.apply(tick)
        if i >= self._n_headline:  # a constituent, the hot path: nothing more to do
            return
        if i == self._level_id and not self.estimated:
            self._check_levels(tick.price, tick.ts, False, tick.symbol, tick.trade_id)
        elif self.estimated and i in self._proxy_ids:
            self._estimate_index(self._proxy_ids[i], tick)
        if i in self._spread_watch:
            self._check_spreads(i, tick.ts, tick.symbol, tick.trade_id)

    def _adopt(self, symbol: str) -> None:
        """A symbol no holding has: it may be how the feed spells an unmatched ticker."""
        assert self.reconciler is not None
        found = self.reconciler.adopt(symbol)
        self._adopting = self.reconciler.can_adopt
        if found is not None:
            self.respell({found[0]: found[1]})

    def respell(self, spelt: dict[str, str]) -> None:
        """Holdings symbols renamed (``old -> new``): name, sector and weight follow. A symbol
        that has ticked, or a new spelling already seen, is left as it is."""
        from feeds.reference.reconcile import respell

        done = {old: new for old, new in spelt.items() if self.state.rename(old, new)}
        if not done or self.holdings is None:
            return
        self.holdings = respell(self.holdings, done)
        for old, new in done.items():
            if old in self._weights:
                self._weights[new] = self._weights.pop(old)
        # names, sectors, weights and as-of prices are looked up by symbol
        self._universe_cache = None
        self._asof_cache = None

    def _estimate_index(self, etf: str, tick: Tick) -> None:
        index, fallback = ETF_PROXIES[etf]
        k = self.proxy_ratio(etf, fallback)
        est = round(tick.price * k, 2)
        # the estimate carries the ETF trade's id: cancelling the trade takes it back too
        j = self.state.apply(Tick(index, est, tick.ts, trade_id=tick.trade_id))
        if j == self._level_id:
            self._check_levels(est, tick.ts, True, tick.symbol, tick.trade_id)
        if j in self._spread_watch:
            self._check_spreads(j, tick.ts, tick.symbol, tick.trade_id)

    def proxy_ratio(self, etf: str, fallback: float) -> float:
        """``k`` = last known index close / ETF close; the fallback until both are known."""
        index = ETF_PROXIES[etf][0]
        st = self.state
        idx_close = st.daily.get(index, [])[-1:] or []
        etf_close = st.prev_close[st.ids[etf]]
        ic = idx_close[0][1] if idx_close else None
        if ic and etf_close:
            return ic / etf_close
        return fallback

    def _roll_levels(self) -> None:
        """A new session: the levels' crossings today start afresh (checked before each level
        price and each frame, so no crossing of the new session is lost). Spreads are measured
        afresh from the new session's anchor: their next value only sets their sides."""
        if self._levels_session != self.state.session:
            self._levels_session = self.state.session
            self.levels.new_session()
            for engine in self.spreads.values():
                engine.new_session(resettle=True)

    def _check_levels(
        self,
        price: float,
        ts: int,
        estimated: bool,
        symbol: str = "",
        trade_id: int | str | None = None,
    ) -> None:
        """Feed the level engine; the alerts a trade with an id fires (``symbol``'s
        ``trade_id``) are remembered, so that its cancel busts them."""
        # a bar that ended before this price closes first, in the session it was in
        if self.levels.on_bars:
            self._data_lag = max(0, self.feed.now_ms() - ts)
            self._deliver(self.levels.close_bars(ts))
        self._roll_levels()
        fired = self.levels.on_price(price, ts, estimated=estimated)
        if fired and trade_id is not None:
            self._remember(fired, symbol, trade_id)
        self._deliver(fired)

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
            self._pending_alerts.append(alert)
            self.fired += 1
            self._fired_keys.add(alert_key(alert))
            self._unacked = None  # count again (the memory may have dropped one)
            for sink in self.alert_sinks:
                sink(alert)

    # --- cancels and corrections (feeds.market.lastsale)
    # --------------------------------------------
    def _on_amend(self, ev: TradeCancel | TradeCorrection) -> None:
        """A trade reported earlier is cancelled or corrected: the state takes it back out (or
        re-prices it) and an index estimated from it follows. The alerts it fired (levels and
        spreads) are busted, unless a correction left its price and eligibility as they were;
        then the engines see the values that stand now."""
        st = self.state
        sym, tid = ev.symbol, ev.trade_id
        alerts = self._fired_by.pop((sym, tid), [])
        if type(ev) is TradeCancel:
            moved = st.cancel(sym, tid)
            if self.estimated and sym in ETF_PROXIES:
                st.cancel(ETF_PROXIES[sym][0], tid)
        else:
            moved = self._correct(ev)
            same = ev.price == ev.original_price and not ev.sale_flags & NOT_LAST
            if same and alerts:  # a size or condition fix: what it fired stands
                self._fired_by[(sym, tid if ev.new_id is None else ev.new_id)] = alerts
                alerts = []
        busted = [b for a in alerts if (b := self._bust(a, ev.ts)) is not None]
        self._deliver(busted)
        if not (busted or moved):
            return
        # the values standing now, kept with the trade that set them: its cancel busts what fires
        last_id = st.last_trade_id(sym)
        price = st.price(self.levels.symbol)
        levels_busted = any(b.symbol == self.levels.symbol for b in busted)
        if price is not None and (levels_busted or self._feeds_levels(sym)):
            self._check_levels(price, ev.ts, self.estimated, sym, last_id)
        index = ETF_PROXIES[sym][0] if self.estimated and sym in ETF_PROXIES else sym
        for name in dict.fromkeys((sym, index)):
            if (i := st.ids.get(name)) in self._spread_watch:
                self._check_spreads(i, ev.ts, sym, last_id)

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

    def _correct(self, ev: TradeCorrection) -> bool:
        """Re-price the trade (and the index estimated from it); True if ``last`` moved."""
        st = self.state
        moved = st.correct(
            ev.symbol,
            ev.trade_id,
            ev.price,
            sale_flags=ev.sale_flags,
            new_id=ev.new_id,
        )
        if self.estimated and ev.symbol in ETF_PROXIES:
            index, fallback = ETF_PROXIES[ev.symbol]
            est = round(ev.price * self.proxy_ratio(ev.symbol, fallback), 2)
            st.correct(index, ev.trade_id, est, sale_flags=ev.sale_flags, new_id=ev.new_id)
        return moved

    def _feeds_levels(self, symbol: str) -> bool:
        """Whether ``symbol``'s last sale is what the level engine watches: the index itself,
        or the ETF it is estimated from."""
        if not self.estimated:
            return symbol == self.levels.symbol
        return ETF_PROXIES.get(symbol, ("", 0.0))[0] == self.levels.symbol

    # spreads, bar closes, acknowledgements, mutes ----------------------
    def add_spread_engine(self, pair: str, engine: LevelEngine) -> None:
        """Watch ``pair`` (a key of :data:`feeds.symbols.SPREADS`) with ``engine`` (thresholds
        in bp, an absolute band). Raises KeyError for an unknown pair."""
        small, large = SPREADS[pair]
        engine.symbol = pair
        engine.feed = engine.feed or self.levels.feed
        self.spreads[pair] = engine
        a, b = self.state.id_of(small), self.state.id_of(large)
        for i in (a, b):
            self._spread_watch.setdefault(i, []).append((engine, a, b))

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
        return round((la / aa - lb / ab) * 10_000.0, 2)

    def _check_spreads(
        self, i: int, ts: int, symbol: str = "", trade_id: int | str | None = None
    ) -> None:
        if self._levels_session != self.state.session:
            for engine, _a, _b in self._spread_watch[i]:
                self._deliver(engine.close_bars(ts))  # in the session they were built in
            self._roll_levels()
        for engine, a, b in self._spread_watch[i]:
            if engine.on_bars:
                self._data_lag = max(0, self.feed.now_ms() - ts)
            value = self._spread_bp(a, b)
            if value is not None:
                fired = engine.on_price(value, ts, estimated=self.estimated)
                if fired:
                    if trade_id is not None:  # its cancel busts them
                        self._remember(fired, symbol, trade_id)
                    self._deliver(fired)

    def on_clock(self, now_ms: int | None = None) -> None:
        """Close the bars of bar-confirmed levels that ended by the feed's clock (``now_ms``, by
        default ``feed.now_ms()``), delivering what they confirm: a quiet market does not hold an
        alert back. A bar closes :data:`BAR_GRACE_MS` after its end, later by as much as the
        prints trail the clock (a delayed feed), so a print on its way still counts. Cheap when
        no bar is due; :meth:`frame` calls it, and headless runs call it each second."""
        clock = self.feed.now_ms() if now_ms is None else now_ms
        now = clock - self._data_lag - BAR_GRACE_MS
        self._deliver(self.levels.close_bars(now))
        for engine in self.spreads.values():
            self._deliver(engine.close_bars(now))

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
        alert
        waiting for it when ``key`` is None (``X``). The acknowledgement is appended to the
        durable log (every sink with ``acknowledge()``), so it survives a restart. Returns how
        many alerts were acknowledged (0: none waited, or no such alert)."""
        from feeds.alerting.alerts import alert_key

        done: list[AlertEvent] = []
        for n, alert in enumerate(self.alerts):
            if self.needs_ack(alert) and (key is None or alert_key(alert) == key):
                self.alerts[n] = replace(alert, acknowledged=True)
                done.append(alert)
        if done:
            now = int(time.time() * 1000)
            for sink in self.alert_sinks:
                ack = getattr(sink, "acknowledge", None)
                if ack is not None:
                    ack(done, now)
            self._unacked = None
            self._acks += 1
        return len(done)

    def unacknowledged(self) -> int:
        """Alerts in :attr:`alerts` waiting for an acknowledgement (:meth:`needs_ack`), each
        event once (:func:`feeds.alerting.alerts.alert_key`: the log's copy and this run's are one,
        as in
        the alert panel)."""
        if self._unacked is None:
            self._unacked = len({alert_key(a) for a in self.alerts if self.needs_ack(a)})
        return self._unacked

    def _acknowledged(self, key: tuple[object, ...]) -> bool:
        """Whether an alert with ``key`` in the history is acknowledged (a repeat fires
        acknowledged). A scan of at most ALERT_MEMORY alerts, only when one fires."""
        return any(a.acknowledged and alert_key(a) == key for a in self.alerts)

    def _level_view(self, engine: LevelEngine, lv: Any, price: float | None) -> LevelView:
        dist = None if price is None else lv.price - price
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
        )

    def spread_alerts(self) -> dict[str, SpreadAlerts]:
        """Each watched spread's thresholds and the value they are measured against."""
        self._roll_levels()
        out = {}
        for pair, engine in self.spreads.items():
            value = self.spread_value(pair)
            views = tuple(self._level_view(engine, lv, value) for lv in engine.levels)
            out[pair] = SpreadAlerts(pair, value, self.spread_anchor, views)
        return out

    def problems(self) -> tuple[str, ...]:
        """What the alert sinks (and a recording feed) report as failing, one line each.

        Sinks without ``problem()`` never fail."""
        found = (getattr(sink, "problem", None) for sink in [*self.alert_sinks, self.feed])
        return tuple(p for p in (f() for f in found if f is not None) if p)

    @staticmethod
    def _feed_now(feed: Feed) -> int:
        """The feed's clock (epoch ms), which stamps statuses raised without a time: a sim's or
        a replay's day is not today, and the status history reads in one clock."""
        try:
            return int(feed.now_ms())
        except Exception:  # a feed that cannot tell its time yet
            return int(time.time() * 1000)

    def set_status(self, status: FeedStatus) -> None:
        """The feed's latest status; a new state or reason is also kept in :attr:`history`
        (a status that only updates the counters replaces nothing there)."""
        last = self.history[-1] if self.history else None
        if last is None or (last.state, last.detail) != (status.state, status.detail):
            if not status.ts:
                status = replace(status, ts=self._feed_now(self.feed))
            if len(self.history) == 1 and self.history[0] is self._opening:
                # r2k's own "opening" was stamped before the feed had a clock (a sim's or a
                # replay's day starts when it opens): it takes the feed's first time
                self.history[0] = replace(self._opening, ts=min(self._opening.ts, status.ts))
            self.history.append(status)
            self._history_view = None
        if status.state is FeedState.LIVE:
            self.ever_live = True
        self.status = status
        for sink in self.status_sinks:
            sink(status)

    def status_history(self) -> tuple[FeedStatus, ...]:
        """This run's status changes, oldest first (the latest :data:`STATUS_MEMORY`)."""
        if self._history_view is None:
            self._history_view = tuple(self.history)
        return self._history_view

    def feed_error(self) -> str | None:
        """Why the feed failed this run, as one line, or None when it did not.

        A failure is: the feed ended in ERROR (a refused key, plan or symbol); it never reached
        LIVE during the whole run (no network, a wrong URL; the last reason given); or all it
        sent was unreadable (malformed frames and not one tick). A feed that connected and
        stayed quiet (the market is shut) or lost its connection after data came is not; nor is
        one that sent ticks without saying LIVE.
        """
        st = self.status
        if st.state is FeedState.ERROR:
            return st.detail or "the feed stopped on an error"
        # frames came, so it connected: whether it said LIVE before the garbage did depends on
        # timing, and the reason is the same either way
        if st.malformed and self.state.total_ticks == 0 and st.state is not FeedState.LIVE:
            return f"no readable data ({st.malformed:,} malformed frames skipped): {st.detail}"
        if not self.ever_live and self.state.total_ticks == 0:
            reasons = [
                s.detail
                for s in self.history
                if s.state in (FeedState.RECONNECTING, FeedState.STALE) and s.detail
            ]
            why = reasons[-1] if reasons else st.detail or "no reason given"
            return f"never connected: {why}"
        return None

    async def run(self, feed_ms: int | None = None) -> None:
        """Consume the feed until it ends, ``feed_ms`` of feed time pass, or the task is cancelled.

        The feed-time limit starts at the first event: a feed's clock is only its own once it
        has started (the sim picks its session then). A feed with groups (:meth:`Feed.batches`)
        is consumed a group at a time, the limit checked before each.
        """
        # the first calendar call may import exchange_calendars: keep it off the event loop
        await asyncio.to_thread(self._session_phase, self.feed.now_ms())
        self.feed_limit_ms = None
        async with self.feed as feed:
            groups = feed.batches()
            if groups is not None:  # a frame's ticks in one call (issue 12 §5)
                try:
                    async for batch in groups:
                        if feed_ms is not None:  # checked per group: one clock reading each
                            if self.feed_limit_ms is None:
                                self.feed_limit_ms = feed.now_ms() + feed_ms
                            elif feed.now_ms() >= self.feed_limit_ms:
                                break  # a group past the limit is not part of the run
                        if self.handle_batch(batch):
                            break
                finally:
                    await groups.aclose()  # type: ignore[attr-defined]
                return
            events = aiter(feed)
            try:
                async for ev in events:
                    if feed_ms is not None:
                        if self.feed_limit_ms is None:
                            self.feed_limit_ms = feed.now_ms() + feed_ms
                        elif feed.now_ms() >= self.feed_limit_ms:
                            break  # an event past the limit is not part of the run
                    self.handle(ev)
                    if type(ev) is FeedStatus and ev.state is FeedState.ENDED:
                        break
            finally:
                close = getattr(events, "aclose", None)
                if close is not None:
                    await close()  # the feed's own clean-up now, not at garbage collection

    # --- per frame -------------------------------------------------------------------------
    def set_anchor(self, mode: str) -> None:
        self.state.anchor_column(mode)  # validates
        self.anchor = mode

    @staticmethod
    def _session_phase(now_ms: int) -> str:
        from feeds.market import calendar

        return calendar.session_phase(now_ms)

    def quote(self, symbol: str) -> Quote:
        st = self.state
        i = st.ids.get(symbol)
        if i is None:
            return Quote(symbol, None, None, None, None, None, None, 0, 0)
        last, anchor = st.last[i], st.anchor_column(self.anchor)[i]
        r = analytics.ret(last, anchor)
        change = None if last is None or anchor is None else last - anchor
        est = self.estimated and symbol in (RUT, SPX)
        high, low = st.session_range()
        hi, lo, ts, n = _known(high[i]), _known(low[i]), st.ts[i], st.count[i]
        return Quote(
            symbol, last, anchor, r, change, hi, lo, ts, n, est, st.prev_close[i], st.open[i]
        )

    def _universe(self) -> _Universe:
        """The constituent columns that change only when a new symbol appears."""
        st = self.state
        u = self._universe_cache
        if u is not None and u.size == len(st.symbols):
            return u
        ids = [i for i, s in enumerate(st.symbols) if s not in HEADLINE]
        symbols = [st.symbols[i] for i in ids]
        names = [self._name(s) for s in symbols]
        by_symbol = self.holdings.by_symbol if self.holdings is not None else None
        held = [by_symbol.get(s) if by_symbol is not None else None for s in symbols]
        u = _Universe(
            size=len(st.symbols),
            ids=np.array(ids, dtype=np.intp),
            symbols=symbols,
            names=names,
            sectors=[self._sector(s) for s in symbols],
            w_asof=np.array([self._weights.get(s, np.nan) for s in symbols], dtype=np.float64),
            member=np.array([by_symbol is None or c is not None for c in held], dtype=bool),
            p_file=np.array(
                [c.price if c is not None and c.price else np.nan for c in held], dtype=np.float64
            ),
            haystack=[f"{s}\n{n}".lower() for s, n in zip(symbols, names, strict=True)],
        )
        u.member_symbols = [s for s, m in zip(symbols, u.member, strict=True) if m]
        u.member_names = [n for n, m in zip(names, u.member, strict=True) if m]
        self._universe_cache = u
        return u

    def board(self, view: View = DEFAULT_VIEW) -> Board:
        """The constituents ranked and filtered as ``view`` asks."""
        return self._board(view)[0]

    def _board(self, view: View) -> tuple[Board, analytics.Breadth]:
        """The ranked board (filtered by the view's text) and the breadth of the whole universe."""
        sort, descending, text = view.sort, view.descending, view.filter
        st = self.state
        u = self._universe()
        last_all, anchor_all = st.arrays(self.anchor)
        rets_all = analytics.returns(last_all[u.ids], anchor_all[u.ids])
        # breadth, coverage and the contribution sum count index members only
        breadth = analytics.breadth(rets_all[u.member])
        weights_all, converted = self._anchor_weights(u, anchor_all[u.ids])
        priced = u.member & ~np.isnan(last_all[u.ids])
        coverage = float(np.nansum(weights_all[priced])) if self.holdings is not None else None
        if text:
            needle = text.lower()
            keep: list[int] | slice = [k for k, h in enumerate(u.haystack) if needle in h]
        else:
            keep = slice(None)
        idx = u.ids[keep]
        symbols = u.symbols[keep] if isinstance(keep, slice) else [u.symbols[k] for k in keep]
        rets = rets_all[keep]
        weights = weights_all[keep]
        member = u.member[keep]
        contrib = analytics.contributions_bp(weights, rets)
        order = analytics.rank(
            sort,
            contribution=contrib,
            rets=rets,
            weights=weights,
            symbols=symbols,
            descending=descending,
            member=member,
        )

        def pick(column: list[str]) -> list[str]:
            return column[keep] if isinstance(keep, slice) else [column[k] for k in keep]

        high, low = st.session_range()
        board = Board(
            symbols=symbols,
            names=pick(u.names),
            sectors=pick(u.sectors),
            last=last_all[idx],
            ret=rets,
            weight=weights,
            contribution=contrib,
            high=np.array(high, dtype=np.float64)[idx],
            low=np.array(low, dtype=np.float64)[idx],
            count=np.array(st.count, dtype=np.int64)[idx],
            ts=np.array(st.ts, dtype=np.int64)[idx],
            order=order,
            sort=sort,
            descending=descending,
            filter=text,
            universe=len(u.symbols),
            cursor=view.cursor,
            member=member,
            names_priced=int(np.count_nonzero(priced)),
            coverage=coverage,
            weights_as_of=None if converted or self.holdings is None else self._asof(),
        )
        board.cursor_rank = board.rank_of(view.cursor)
        return board, breadth

    def _asof(self) -> str:
        assert self.holdings is not None
        return self.holdings.as_of.isoformat()

    def _anchor_weights(
        self, u: _Universe, anchors: np.ndarray, mode: str | None = None
    ) -> tuple[np.ndarray, bool]:
        """Each universe name's weight at the anchor (``mode``, default the run's), and whether
        any was moved there.

        ``w_anchor = w_asof * (P_anchor / P_asof) / (I_anchor / I_asof)``: in a cap-weighted index
        a member's weight moves with its price against the index's (shares unchanged between
        rebalances; see :func:`feeds.market.analytics.anchor_weights`). ``P_asof`` is the holdings
        file's
        own price (iShares ``Price``), else the name's close on that date, else its price in the
        session of that date. ``I_anchor / I_asof`` comes from the index's close on that date, else
        its price in that date's session, else from the members (``Σ w_asof * P_anchor / P_asof``
        over the members with both prices, when they hold at least MEMBER_COVERAGE of the index
        weight: a cap-weighted index grows as its weighted members do). With no source the weights
        stay as of the holdings' date (the second value is then False). A name lacking a price
        keeps its as-of weight.
        """
        if self.holdings is None:
            return u.w_asof, False
        asof = self._asof()
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = anchors / self._prices_asof(u, asof)
        growth[~np.isfinite(growth) | (growth <= 0)] = np.nan
        index_growth = self._index_growth(asof, mode or self.anchor)
        known = u.member & ~np.isnan(growth) & ~np.isnan(u.w_asof)
        if index_growth is None:
            covered = float(u.w_asof[known].sum())
            if covered >= MEMBER_COVERAGE:
                index_growth = float((u.w_asof[known] * growth[known]).sum()) / covered
        if index_growth is None or not known.any():
            return u.w_asof, False
        return analytics.anchor_weights(u.w_asof, growth, index_growth), True

    def _prices_asof(self, u: _Universe, asof: str) -> np.ndarray:
        """``P_asof`` per universe name (NaN where unknown): the file's, a close, the session's."""
        st = self.state
        key = (u.size, st.daily_rev)
        if self._asof_cache is None or self._asof_cache[0] != key:
            closes = np.array([st.close_on(s, asof) or np.nan for s in u.symbols], dtype=np.float64)
            self._asof_cache = (key, np.where(np.isnan(u.p_file), closes, u.p_file))
        prices = self._asof_cache[1]
        if st.session_date is not None and st.session_date.isoformat() == asof:
            prices = np.where(np.isnan(prices), st.session_prices()[u.ids], prices)
        return prices

    def _index_growth(self, asof: str, mode: str) -> float | None:
        """``I_anchor / I_asof`` (the anchor ``mode``) from the index itself: its close on
        ``asof``, or its price in the session of that date. None when neither is known."""
        st = self.state
        anchor = st.anchor(RUT, mode)
        at = st.close_on(RUT, asof)
        if at is None and st.session_date is not None and st.session_date.isoformat() == asof:
            at = _known(float(st.session_prices()[st.ids[RUT]]))
        if anchor is None or not at:
            return None
        return anchor / at

    def _name(self, symbol: str) -> str:
        c = self.holdings.by_symbol.get(symbol) if self.holdings is not None else None
        return c.name if c else symbol

    def _sector(self, symbol: str) -> str:
        c = self.holdings.by_symbol.get(symbol) if self.holdings is not None else None
        return c.sector if c else ""

    def level_views(self) -> list[LevelView]:
        self._roll_levels()
        price = self.state.price(self.levels.symbol)
        return [self._level_view(self.levels, lv, price) for lv in self.levels.levels]

    def _tick_rate(self, total: int) -> float:
        now = time.monotonic()
        dt = now - self._rate_wall
        if dt >= 0.25:
            inst = (total - self._rate_ticks) / dt
            # smooth over about a second so the figure is readable at 4 Hz
            alpha = min(1.0, dt)
            self._rate = inst if self._rate == 0 else self._rate + alpha * (inst - self._rate)
            self._rate_ticks = total
            self._rate_wall = now
        return self._rate

    def recent_alerts(
        self,
    ) -> tuple[tuple[AlertEvent, ...], frozenset[AlertEvent], frozenset[AlertEvent]]:
        """The alert history newest first by the alerts' own time (a replay's alerts are older
        than the log's live ones), each event once (:func:`feeds.alerting.alerts.alert_key`: a
        repeated
        seed-0 sim or a replay played twice fires what the log has already); the ones this run
        fired (one the log also has counts as this run's); and the ones taken back by a later
        "busted" alert (:func:`feeds.alerting.alerts.busts`: their trade was cancelled). Rebuilt
        only when
        it changed (a new alert, an acknowledgement, or the clock reaching a hidden one).

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
        horizon = self.feed.now_ms() if not is_live(self.levels.feed) else None
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

    def charts(self, view: View) -> Charts:
        """The chart series ``view`` needs: both spreads, its symbol's and its level's prices."""
        st, anchor = self.state, self.anchor
        symbol = level = None
        symbol_anchor = None
        if view.symbol is not None:
            symbol = series.history(st, view.symbol)
            symbol_anchor = st.anchor(view.symbol, anchor)
        if view.level is not None:
            level = series.history(st, self.levels.symbol)
        return Charts(
            spread_spx=series.spread(st, anchor, RUT, SPX),
            spread_mags=series.spread(st, anchor, RUT, MAGS),
            symbol=symbol,
            symbol_anchor=symbol_anchor,
            level=level,
        )

    def frame(self, view: View = DEFAULT_VIEW) -> Frame:
        """Everything a screen shows for ``view``, computed once. Consumes the dirty set and the
        alerts new since the last frame (so one consumer, the app or a headless command, pulls)."""
        st = self.state
        now = self.feed.now_ms()
        session = self._session_phase(now)
        quotes = {s: self.quote(s) for s in HEADLINE}
        rut, spx, mags = quotes[RUT], quotes[SPX], quotes[MAGS]
        query = (view.sort, view.descending, view.filter, view.cursor, self.anchor)
        last = self._last_board
        if view.board or last is None or last[0] != query:
            board, breadth = self._board(view)
            self._last_board = (query, board, breadth)
        else:  # the board last ranked for this query (the app's redraws between re-ranks)
            _, board, breadth = last
        changed = frozenset(st.symbols[i] for i in st.take_dirty())
        self.on_clock(now)  # bars due close now, not at the next print
        new_alerts, self._pending_alerts = self._pending_alerts, []
        alerts, fired, busted = self.recent_alerts()
        total = st.total_ticks
        if total != self._arrival_ticks:
            # ticks arrived since the last frame: their age is under one frame period
            self._arrival_ticks = total
            self._arrival_wall = time.monotonic()
        age = None if not self._arrival_wall else time.monotonic() - self._arrival_wall
        return Frame(
            as_of=now,
            anchor=self.anchor,
            quotes=quotes,
            spread_spx_bp=analytics.spread_bp(rut.ret, spx.ret),
            spread_mags_bp=analytics.spread_bp(rut.ret, mags.ret),
            ratio=analytics.ratio_rebased(rut.last, rut.anchor, spx.last, spx.anchor),
            breadth=breadth,
            board=board,
            levels=self.level_views(),
            level_price=rut.last,
            status=self.status,
            session=session,
            tick_age_s=age,
            ticks_per_s=self._tick_rate(total),
            total_ticks=total,
            streak=self._streak(),
            estimated_indices=self.estimated,
            changed=changed,
            new_alerts=new_alerts,
            problems=self.problems(),
            view=view,
            feed_label=self.feed.label,
            level_symbol=self.levels.symbol,
            alerts=alerts,
            run_alerts=fired,
            busted_alerts=busted,
            charts=self.charts(view) if view.charts else None,
            wall_ms=int(time.time() * 1000),
            session_date=st.session_date.isoformat() if st.session_date else "",
            status_history=self.status_history(),
            spread_alerts=self.spread_alerts(),
            unacknowledged=self.unacknowledged(),
            scoreboard=self.scoreboard(now),
        )

    def _streak(self) -> tuple[int, str]:
        """:func:`feeds.market.analytics.streak` of ^RUT vs ^GSPC, computed again only when the
        daily
        closes changed (it walks every session: a third of a frame's cost, issue 12)."""
        st = self.state
        cached = self._streak_cache
        if cached is None or cached[0] != st.daily_rev:
            value = analytics.streak(st.daily.get(RUT, []), st.daily.get(SPX, []))
            cached = self._streak_cache = (st.daily_rev, value)
        return cached[1]

    def scoreboard(self, now_ms: int | None = None) -> Scoreboard:
        """The year-to-date story at the feed's clock ``now_ms`` (see
        :mod:`feeds.market.scoreboard`):
        returns by period, the streak, record highs, YTD breadth over the index members, the
        holdings in use and any history download under way."""
        now = self.feed.now_ms() if now_ms is None else now_ms
        u = self._universe()
        pending = [p for p in self.progress.values() if p.done < p.total]
        progress = (pending[0].what, pending[0].done, pending[0].total) if pending else None
        members = u.ids[u.member]
        return self._scoreboard.build(
            self.state,
            now,
            members,
            self.holdings_info(now),
            progress,
            self._ytd_weights(u),
            u.member_symbols,
            u.member_names,
        )

    def _ytd_weights(self, u: _Universe) -> np.ndarray | None:
        """The members' weights at the YTD anchor (the scoreboard's movers), moved there
        as the board's are (:meth:`_anchor_weights`); None without holdings. They change only
        with the daily history or the session, so they are kept until one does."""
        if self.holdings is None:
            return None
        st = self.state
        key = (u.size, st.daily_rev, st.session_date)
        if self._ytd_cache is None or self._ytd_cache[0] != key:
            ytd = np.array(st.anchor_column("ytd"), dtype=np.float64)[u.ids]
            self._ytd_cache = (key, self._anchor_weights(u, ytd, "ytd")[0][u.member])
        return self._ytd_cache[1]

    def holdings_info(self, now_ms: int | None = None) -> HoldingsInfo | None:
        """Which holdings are in use, their as-of date and age before the data's session (the
        feed's clock before any tick), flagged stale past HOLDINGS_STALE_DAYS."""
        h = self.holdings
        if h is None:
            return None
        from feeds.market.calendar import et_date

        day = self.state.session_date or et_date(self.feed.now_ms() if now_ms is None else now_ms)
        age = (day - h.as_of).days
        label = h.source or "holdings"
        return HoldingsInfo(
            h.origin or "given", label, h.as_of.isoformat(), age, age > HOLDINGS_STALE_DAYS
        )


def _known(x: float | None) -> float | None:
    """None for an unknown (None or NaN, as a symbol's high before it trades in a session)."""
    return None if x is None or x != x else x
