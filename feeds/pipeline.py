"""The pipeline: feed -> MarketState (+ the alert desk -> alert sinks) -> frames.

One pipeline serves the app and every headless command, so what ``r2k snapshot`` prints is what
the screen shows. ``handle`` routes each event; ``frame`` composes a frame at the refresh rate.
Its jobs live in rooms of their own (issue 17): ``pipeline.desk``
(:class:`~feeds.alertdesk.AlertDesk`: levels, spreads, busts, acknowledgements, mutes, the alert
history), ``pipeline.health`` (:class:`~feeds.health.FeedHealth`: the status and its history,
the exit error, the tick rate) and ``pipeline.universe`` (:class:`~feeds.universe.IndexUniverse`:
members, weights at the anchor, the ranked board, coverage). A constituent's tick is applied to
the state and costs nothing more; a headline tick costs the desk a price.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from feeds import series
from feeds.alertdesk import AlertDesk, AlertSink
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
    SessionRange,
    Tick,
    TradeCancel,
    TradeCorrection,
)
from feeds.feed import Feed, feed_kind
from feeds.frame import Board, Charts, Frame, Quote, View
from feeds.health import FeedHealth, StatusSink
from feeds.market import analytics
from feeds.market.scoreboard import Scoreboard, ScoreboardBuilder
from feeds.market.state import MarketState
from feeds.symbols import HEADLINE, IWM, MAGS, RUT, SPX, SPY
from feeds.universe import IndexUniverse, known

if TYPE_CHECKING:
    from feeds.reference.holdings import Holdings
    from feeds.reference.reconcile import Reconciler


#: ETF -> (index, fallback index/ETF ratio) used when a feed streams only the ETF.
ETF_PROXIES: dict[str, tuple[str, float]] = {IWM: (RUT, 10.0), SPY: (SPX, 10.03)}
DEFAULT_VIEW = View()


class Pipeline:
    """One feed's events applied to one :class:`MarketState`, routed to the alert desk, the
    feed's health and the index universe, and composed into a :class:`Frame` per refresh."""

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
        sessions: str = "regular",
    ) -> None:
        """``spreads``: an engine per spread of :data:`feeds.symbols.SPREADS` with
        thresholds in bp, measured from ``anchor`` (``prev`` when that is ``ytd``) for the whole
        run, whatever anchor the screen picks later. ``sessions``: when crossings fire
        (:class:`~feeds.alertdesk.AlertDesk`)."""
        self.feed = feed
        #: how the holdings tickers were spelt as the feed spells them (None: as written)
        self.reconciler = reconciler
        self._adopting = reconciler is not None and reconciler.can_adopt
        self.state = MarketState(HEADLINE)
        #: the alert desk: levels, spreads, busts, acknowledgements, mutes, the alert history
        self.desk = AlertDesk(
            self.state,
            feed.now_ms,
            levels=levels,
            spreads=spreads,
            sinks=alert_sinks,
            anchor=anchor,
            proxies={etf: index for etf, (index, _k) in ETF_PROXIES.items()},
            feed=feed_kind(feed.spec),
            sessions=sessions,
        )
        self.anchor = anchor
        #: the feed's health: its status, the run's history, ever-live, the rates
        self.health = FeedHealth(feed.label, feed.now_ms, status_sinks)
        self.notes: list[str] = []  # one-line notices for the user at start (feeds.settings.setup)
        self.estimated = feed.estimates_indices
        self._level_id = self.state.id_of(self.desk.levels.symbol)
        self._proxy_ids = {self.state.id_of(etf): etf for etf in ETF_PROXIES}
        #: the index universe and board: members, weights at the anchor, ranking, coverage
        self.universe = IndexUniverse(self.state, holdings)
        self.feed_limit_ms: int | None = None  # set by run(feed_ms=...) at the first event
        self._streak_cache: tuple[int, tuple[int, str]] | None = None  # (daily_rev, streak)
        self._n_headline = len(HEADLINE)  # ids below this are the headline symbols
        # the scoreboard, and history downloads under way
        self._scoreboard = ScoreboardBuilder()
        self.progress: dict[str, HistoryProgress] = {}  # latest per download ("YTD anchors")

    # --- per event -------------------------------------------------------------------------
    def handle(self, ev: object) -> None:
        if type(ev) is Tick:
            self._on_tick(ev)
        elif isinstance(ev, FeedStatus):
            # a relay's terminal learns whether its upstream estimates the indices at run time
            self.estimated = self.feed.estimates_indices
            self._follow_upstream_kind()
            self.health.set_status(ev)
        elif isinstance(ev, Bars):
            self.state.daily.apply_bars(ev)
        elif isinstance(ev, DailyCloses):
            self.state.daily.apply_daily(ev)
        elif isinstance(ev, DailyBars):
            self.state.daily.apply_daily_bars(ev)
        elif isinstance(ev, SessionCloses):
            self.state.daily.apply_session_closes(ev)
        elif isinstance(ev, HistoryProgress):
            self.progress[ev.what] = ev
        elif isinstance(ev, TradeCancel | TradeCorrection):
            self._on_amend(ev)
        elif isinstance(ev, MarketReset):
            self.reset_market()
        elif isinstance(ev, SessionRange):
            self.state.apply_range(ev)

    def _follow_upstream_kind(self) -> None:
        """A relay's terminal stamps its alerts with the kind of feed the relay reads, once the
        relay has said (``upstream_kind``): a relay of the sim or a replay fires practice
        alerts, which stay out of the live log, the webhook and the command."""
        self.desk.follow_kind(getattr(self.feed, "upstream_kind", ""))

    def reset_market(self) -> None:
        """Start the market afresh (a :class:`~feeds.events.MarketReset`: the upstream's market
        started over at an earlier time, whose prints the old ones would outrank as later).

        A new MarketState with the same symbol ids (ticks counted so far stay counted); the
        levels' and spreads' sides and today's crossings forgotten, so the new run's first price
        only sets them; every cache derived from the old state dropped. The alert history stays.
        """
        self.state = self.state.started_over()
        self.desk.reset(self.state)
        self.universe.reset(self.state)
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
        desk = self.desk
        if i == self._level_id and not self.estimated:
            desk.on_level_price(tick.price, tick.ts, False, tick.symbol, tick.trade_id)
        elif self.estimated and i in self._proxy_ids:
            self._estimate_index(self._proxy_ids[i], tick)
        if i in desk.watched:
            desk.on_spread_leg(i, tick.ts, self.estimated, tick.symbol, tick.trade_id)

    def _adopt(self, symbol: str) -> None:
        """A symbol no holding has: it may be how the feed spells an unmatched ticker."""
        assert self.reconciler is not None
        found = self.reconciler.adopt(symbol)
        self._adopting = self.reconciler.can_adopt
        if found is not None:
            self.universe.respell({found[0]: found[1]})

    def _estimate_index(self, etf: str, tick: Tick) -> None:
        index, fallback = ETF_PROXIES[etf]
        k = self.proxy_ratio(etf, fallback)
        est = round(tick.price * k, 2)
        # the estimate carries the ETF trade's id: cancelling the trade takes it back too
        j = self.state.apply(Tick(index, est, tick.ts, trade_id=tick.trade_id))
        if j == self._level_id:
            self.desk.on_level_price(est, tick.ts, True, tick.symbol, tick.trade_id)
        if j in self.desk.watched:
            self.desk.on_spread_leg(j, tick.ts, True, tick.symbol, tick.trade_id)

    def proxy_ratio(self, etf: str, fallback: float) -> float:
        """``k`` = last known index close / ETF close; the fallback until both are known."""
        index = ETF_PROXIES[etf][0]
        st = self.state
        idx_close = st.daily.closes.get(index, [])[-1:] or []
        etf_close = st.prev_close[st.ids[etf]]
        ic = idx_close[0][1] if idx_close else None
        if ic and etf_close:
            return ic / etf_close
        return fallback

    # --- cancels and corrections (feeds.market.lastsale) -----------------------------------------
    def _on_amend(self, ev: TradeCancel | TradeCorrection) -> None:
        """A trade reported earlier is cancelled or corrected: the state takes it back out (or
        re-prices it) and an index estimated from it follows; then the alert desk busts what it
        fired (:meth:`AlertDesk.on_amend`)."""
        if type(ev) is TradeCancel:
            moved = self.state.busts.cancel(ev.symbol, ev.trade_id)
            if self.estimated and ev.symbol in ETF_PROXIES:
                self.state.busts.cancel(ETF_PROXIES[ev.symbol][0], ev.trade_id)
        else:
            moved = self._correct(ev)
        self.desk.on_amend(ev, moved, self.estimated)

    def _correct(self, ev: TradeCorrection) -> bool:
        """Re-price the trade (and the index estimated from it); True if ``last`` moved."""
        st = self.state
        moved = st.busts.correct(
            ev.symbol,
            ev.trade_id,
            ev.price,
            sale_flags=ev.sale_flags,
            new_id=ev.new_id,
        )
        if self.estimated and ev.symbol in ETF_PROXIES:
            index, fallback = ETF_PROXIES[ev.symbol]
            est = round(ev.price * self.proxy_ratio(ev.symbol, fallback), 2)
            st.busts.correct(index, ev.trade_id, est, sale_flags=ev.sale_flags, new_id=ev.new_id)
        return moved

    @property
    def alerts(self) -> deque[AlertEvent]:
        """The alert history, newest first (:attr:`AlertDesk.alerts`)."""
        return self.desk.history.alerts

    @property
    def levels(self) -> LevelEngine:
        """^RUT's level engine (:attr:`AlertDesk.levels`)."""
        return self.desk.levels

    def problems(self) -> tuple[str, ...]:
        """What the alert sinks (and a recording feed) report as failing, one line each."""
        found = getattr(self.feed, "problem", None)
        problem = found() if found is not None else None
        return (*self.desk.problems(), *((problem,) if problem else ()))

    def feed_error(self) -> str | None:
        """Why the feed failed this run, as one line, or None (:meth:`FeedHealth.feed_error`)."""
        return self.health.feed_error(self.state.total_ticks)

    @property
    def status(self) -> FeedStatus:
        """The feed's latest status (:attr:`FeedHealth.status`)."""
        return self.health.status

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
                    async for batch in groups:  # the limit checked per group: one clock reading
                        if self._past_limit(feed_ms) or self.handle_batch(batch):
                            break  # a group past the limit is not part of the run
                finally:
                    await groups.aclose()  # type: ignore[attr-defined]
                return
            events = aiter(feed)
            try:
                async for ev in events:
                    if self._past_limit(feed_ms):
                        break  # an event past the limit is not part of the run
                    self.handle(ev)
                    if type(ev) is FeedStatus and ev.state is FeedState.ENDED:
                        break
            finally:
                close = getattr(events, "aclose", None)
                if close is not None:
                    await close()  # the feed's own clean-up now, not at garbage collection

    def _past_limit(self, feed_ms: int | None) -> bool:
        """Whether ``feed_ms`` of feed time passed since the first event (the limit starts at
        the first call, which is never past it)."""
        if feed_ms is None:
            return False
        if self.feed_limit_ms is None:
            self.feed_limit_ms = self.feed.now_ms() + feed_ms
            return False
        return self.feed.now_ms() >= self.feed_limit_ms

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
        high, low = st.daily.session_range()
        hi, lo, ts, n = known(high[i]), known(low[i]), st.ts[i], st.count[i]
        return Quote(
            symbol, last, anchor, r, change, hi, lo, ts, n, est, st.prev_close[i], st.open[i]
        )

    def board(self, view: View = DEFAULT_VIEW) -> Board:
        """The constituents ranked and filtered as ``view`` asks (:meth:`IndexUniverse.board`)."""
        return self.universe.board(view, self.anchor)[0]

    @property
    def holdings(self) -> Holdings | None:
        """The holdings in use, as the feed spells them (:attr:`IndexUniverse.holdings`)."""
        return self.universe.holdings

    def charts(self, view: View) -> Charts:
        """The chart series ``view`` needs: both spreads, its symbol's and its level's prices."""
        st, anchor = self.state, self.anchor
        symbol = level = None
        symbol_anchor = None
        if view.symbol is not None:
            symbol = series.history(st, view.symbol)
            symbol_anchor = st.anchor(view.symbol, anchor)
        if view.level is not None:
            level = series.history(st, self.desk.levels.symbol)
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
        quotes = {s: self.quote(s) for s in HEADLINE}
        rut, spx, mags = quotes[RUT], quotes[SPX], quotes[MAGS]
        board, breadth = self.universe.ranked(view, self.anchor)
        changed = frozenset(st.symbols[i] for i in st.take_dirty())
        desk = self.desk
        desk.on_clock(now)  # bars due close now, not at the next print
        alerts, fired, busted = desk.recent_alerts()
        total, health = st.total_ticks, self.health
        scoreboard = self.scoreboard(now)
        return Frame(
            as_of=now,
            anchor=self.anchor,
            quotes=quotes,
            spread_spx_bp=analytics.spread_bp(rut.ret, spx.ret),
            spread_mags_bp=analytics.spread_bp(rut.ret, mags.ret),
            ratio=analytics.ratio_rebased(rut.last, rut.anchor, spx.last, spx.anchor),
            breadth=breadth,
            board=board,
            levels=desk.level_views(),
            level_price=rut.last,
            status=health.status,
            session=self._session_phase(now),
            tick_age_s=health.tick_age(total),
            ticks_per_s=health.tick_rate(total),
            total_ticks=total,
            streak=self._streak(),
            estimated_indices=self.estimated,
            changed=changed,
            new_alerts=desk.history.take_new(),
            problems=self.problems(),
            view=view,
            feed_label=self.feed.label,
            level_symbol=desk.levels.symbol,
            alert_sessions=desk.sessions,
            alerts=alerts,
            run_alerts=fired,
            busted_alerts=busted,
            charts=self.charts(view) if view.charts else None,
            wall_ms=int(time.time() * 1000),
            session_date=st.session_date.isoformat() if st.session_date else "",
            status_history=health.status_history(),
            spread_alerts=desk.spread_alerts(),
            unacknowledged=desk.unacknowledged(),
            scoreboard=scoreboard,
            sectors=self.universe.sectors(scoreboard.bases.get("5d")) if view.sectors else None,
        )

    def _streak(self) -> tuple[int, str]:
        """:func:`feeds.market.analytics.streak` of ^RUT vs ^GSPC, computed again only when the
        daily closes changed (it walks every session: a third of a frame's cost, issue 12)."""
        st = self.state
        cached = self._streak_cache
        if cached is None or cached[0] != st.daily.rev:
            value = analytics.streak(st.daily.closes.get(RUT, []), st.daily.closes.get(SPX, []))
            cached = self._streak_cache = (st.daily.rev, value)
        return cached[1]

    def scoreboard(self, now_ms: int | None = None) -> Scoreboard:
        """The year-to-date story at the feed's clock ``now_ms`` (see
        :mod:`feeds.market.scoreboard`): returns by period, the streak, record highs, YTD breadth
        over the index members, the holdings in use and any history download under way."""
        now = self.feed.now_ms() if now_ms is None else now_ms
        universe = self.universe
        u = universe.columns()
        pending = [p for p in self.progress.values() if p.done < p.total]
        progress = (pending[0].what, pending[0].done, pending[0].total) if pending else None
        return self._scoreboard.build(
            self.state,
            now,
            u.ids[u.member],
            universe.holdings_info(now),
            progress,
            universe.ytd_weights(u),
            u.member_symbols,
            u.member_names,
        )
