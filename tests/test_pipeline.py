"""The pipeline: ticks in, levels and alerts, a frame out, with hand-computed numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from feeds.alerting.levels import AlertEvent
from feeds.events import DailyCloses, Event, FeedState, FeedStatus, MarketReset, Tick
from feeds.feed import Feed, FeedOptions
from feeds.frame import View
from feeds.pipeline import Pipeline
from feeds.reference.holdings import Constituent, Holdings

T0 = 1_763_740_800_000  # 2025-11-21 16:00 UTC, a Friday in session


class ListFeed(Feed):
    """A feed that yields a fixed list of events, then ends."""

    def __init__(self, events: list[Event], *, estimates: bool = False) -> None:
        super().__init__("list", FeedOptions())
        self.events = events
        self.estimates_indices = estimates

    def now_ms(self) -> int:
        return T0 + 60_000

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        for ev in self.events:
            yield ev


HOLDINGS = Holdings(
    as_of=dt.date(2025, 11, 5),
    constituents=[
        Constituent("AAA", "Alpha Corp", "Industrials", 0.02),
        Constituent("BBB", "Beta Inc", "Health Care", 0.01),
        Constituent("CCC", "Gamma Co", "Financials", 0.005),
    ],
    source="test",
)


def ticks() -> list[Event]:
    return [
        FeedStatus(FeedState.LIVE, "test"),
        Tick("^RUT", 2440.0, T0, prev_close=2440.0),
        Tick("^GSPC", 6700.0, T0, prev_close=6700.0),
        Tick("MAGS", 65.0, T0, prev_close=65.0),
        Tick("AAA", 10.0, T0, prev_close=10.0),
        Tick("BBB", 20.0, T0, prev_close=20.0),
        Tick("CCC", 30.0, T0, prev_close=30.0),
        Tick("ZZZ", 5.0, T0, prev_close=5.0),  # not in the holdings
        Tick("^RUT", 2464.4, T0 + 1000),  # +1 %, crosses 2,450
        Tick("^GSPC", 6666.5, T0 + 1000),  # -0.5 %
        Tick("MAGS", 65.65, T0 + 1000),  # +1 %
        Tick("AAA", 10.3, T0 + 1000),  # +3 %
        Tick("BBB", 19.6, T0 + 1000),  # -2 %
        Tick("ZZZ", 5.5, T0 + 1000),  # +10 %
    ]


async def run(events: list[Event], **kw: object) -> tuple[Pipeline, list[AlertEvent]]:
    seen: list[AlertEvent] = []
    p = Pipeline(ListFeed(events), HOLDINGS, alert_sinks=[seen.append], **kw)  # type: ignore[arg-type]
    await p.run()
    return p, seen


async def test_frame_numbers_match_a_hand_calculation():
    p, alerts = await run(ticks())
    f = p.frame()
    assert f.quotes["^RUT"].ret == pytest.approx(0.01)
    assert f.quotes["^GSPC"].ret == pytest.approx(-0.005)
    assert f.spread_spx_bp == pytest.approx(150.0)
    assert f.spread_mags_bp == pytest.approx(0.0, abs=1e-9)
    assert f.ratio == pytest.approx(100 * 1.01 / 0.995)
    # AAA 0.02*3% = 6 bp, BBB 0.01*-2% = -2 bp, CCC 0, ZZZ unknown weight
    rows = {r.symbol: r for r in f.board.rows()}
    assert rows["AAA"].contribution_bp == pytest.approx(6.0)
    assert rows["BBB"].contribution_bp == pytest.approx(-2.0)
    assert rows["CCC"].contribution_bp == pytest.approx(0.0)
    assert rows["ZZZ"].weight is None and rows["ZZZ"].ret == pytest.approx(0.1)
    # signed: the top contributor first, the detractor last among members, the non-member after
    assert [r.symbol for r in f.board.rows()] == ["AAA", "CCC", "BBB", "ZZZ"]
    assert not rows["ZZZ"].member and rows["AAA"].member
    # breadth counts members only: ZZZ's +10 % is not an advancer of the index
    assert (f.breadth.advancers, f.breadth.decliners, f.breadth.unchanged) == (1, 1, 1)
    assert [a.direction for a in alerts if a.kind == "cross"] == ["up"]
    assert f.new_alerts == alerts
    assert p.frame().new_alerts == []  # consumed by the previous frame


async def test_sort_and_filter():
    p, _ = await run(ticks())
    by_return = [r.symbol for r in p.frame(View(sort="return")).board.rows()]
    assert by_return == ["AAA", "CCC", "BBB", "ZZZ"]  # ZZZ (+10 %) is not a member: last
    beta = p.frame(View(filter="beta"))
    assert [r.symbol for r in beta.board.rows()] == ["BBB"]
    assert (beta.board.filter, beta.board.universe) == ("beta", 4)
    # breadth is for the whole universe even while the board is filtered
    assert beta.breadth.advancers == 1  # AAA (ZZZ is not a member)
    nothing = p.frame(View(filter="no such name")).board
    assert len(nothing) == 0 and nothing.universe == 4


async def test_the_frame_says_where_the_cursor_symbol_ranks():
    p, _ = await run(ticks())
    # members by signed contribution and by return: AAA, CCC, BBB; then ZZZ (not a member)
    by_contribution = p.frame(View(cursor="BBB")).board
    by_return = p.frame(View(sort="return", cursor="BBB")).board
    assert (by_contribution.cursor, by_contribution.cursor_rank) == ("BBB", 2)
    assert by_return.cursor_rank == 2 and by_return.symbol_at(2) == "BBB"
    assert p.frame(View(sort="return", descending=False, cursor="BBB")).board.cursor_rank == 0
    gone = p.frame(View(filter="beta", cursor="CCC")).board
    assert gone.cursor_rank is None and gone.rank_of("BBB") == 0


async def test_chart_series_come_only_when_the_view_asks():
    p, _ = await run(ticks())
    assert p.frame().charts is None
    charts = p.frame(View(charts=True, symbol="AAA", level=2450.0)).charts
    assert charts is not None
    assert len(charts.spread_spx) == len(charts.spread_spx.times) > 0
    assert charts.symbol is not None and charts.symbol.values[-1] == pytest.approx(10.3)
    assert charts.symbol_anchor == pytest.approx(10.0)
    assert charts.level is not None and charts.level.values[-1] == pytest.approx(2464.4)
    plain = p.frame(View(charts=True)).charts
    assert plain is not None and plain.symbol is None and plain.level is None


async def test_the_frame_carries_the_alert_history_newest_first():
    earlier = AlertEvent(
        T0 - 86_400_000, "^RUT", 2300.0, "critical support", "down", 2290.0, "cross"
    )
    p = Pipeline(ListFeed(ticks()), HOLDINGS)
    p.alerts.append(earlier)  # the durable log's tail, as build_pipeline loads it
    await p.run()
    f = p.frame(View(paused=True))
    assert f.alerts[-1] is earlier and f.alerts[0].kind == "cross"
    assert f.run_alerts == frozenset(f.alerts[:-1])  # all but the log's one fired in this run
    assert p.frame().alerts is f.alerts  # unchanged history: the same tuple, nothing to redraw
    assert f.view.paused and f.feed_label == "list" and f.level_symbol == "^RUT"


async def test_the_alert_history_is_in_time_order_and_lists_each_event_once():
    """A replay played again fires what the durable log already has: one row, this run's; a
    log entry newer than this run's alerts (a replay of an older day) stays above them."""
    first = Pipeline(ListFeed(ticks()), HOLDINGS)
    await first.run()
    fired = list(first.alerts)
    assert fired and all(a.feed == "list" for a in fired)
    newer = AlertEvent(T0 + 86_400_000, "^RUT", 2642.0, "upside target", "up", 2650.0, "cross")
    again = Pipeline(ListFeed(ticks()), HOLDINGS)
    again.alerts.extend([newer, *fired])  # the log's tail, newest first
    await again.run()
    f = again.frame()
    assert f.alerts == (newer, *fired)  # by event time; each event once
    assert f.run_alerts == frozenset(fired) and newer not in f.run_alerts


async def test_changed_symbols_are_reported_once():
    p, _ = await run(ticks())
    assert {"AAA", "^RUT", "ZZZ"} <= p.frame().changed
    assert p.frame().changed == frozenset()


async def test_anchor_first_and_ytd():
    events = [
        DailyCloses("^RUT", [("2024-12-31", 2200.0), ("2025-11-20", 2440.0)]),
        *ticks(),
    ]
    p, _ = await run(events)
    p.set_anchor("ytd")
    assert p.frame().quotes["^RUT"].ret == pytest.approx(2464.4 / 2200.0 - 1)
    p.set_anchor("first")
    assert p.frame().quotes["^RUT"].anchor == 2440.0


async def test_estimated_index_from_the_etf_fires_levels_marked_estimated():
    events: list[Event] = [
        DailyCloses("^RUT", [("2025-11-20", 2440.0)]),
        Tick("IWM", 244.0, T0, prev_close=244.0),  # k = 2440 / 244 = 10
        Tick("IWM", 246.0, T0 + 1000),  # estimate 2460 -> crosses 2,450
    ]
    seen: list[AlertEvent] = []
    p = Pipeline(ListFeed(events, estimates=True), HOLDINGS, alert_sinks=[seen.append])
    await p.run()
    f = p.frame()
    assert f.quotes["^RUT"].last == pytest.approx(2460.0)
    assert f.quotes["^RUT"].estimated and f.estimated_indices
    crosses = [a for a in seen if a.kind == "cross"]
    assert len(crosses) == 1 and crosses[0].estimated and crosses[0].price == pytest.approx(2460.0)


async def test_level_views_place_the_price():
    p, _ = await run(ticks())
    views = {v.price: v for v in p.frame().levels}
    assert views[2450.0].distance == pytest.approx(2450.0 - 2464.4)
    assert views[2642.0].distance_pct == pytest.approx((2642.0 - 2464.4) / 2464.4)


def test_the_status_history_reads_in_the_feeds_clock() -> None:
    """r2k's own "opening" is stamped before a sim or a replay has a clock (their day is not
    today): it takes the feed's first time, so the history never goes back in time."""
    from feeds.sources.sim import SimFeed

    pipeline = Pipeline(SimFeed("sim"))
    friday_open = 1_764_253_800_000  # 2025-11-27 14:30 UTC: the sim's day, not the wall's
    pipeline.health.set_status(FeedStatus(FeedState.LIVE, "simulated market", friday_open))
    opening, live = pipeline.health.status_history()
    assert (opening.state, live.state) == (FeedState.CONNECTING, FeedState.LIVE)
    assert opening.ts == live.ts == friday_open


async def test_a_market_that_starts_over_resets_the_state_not_the_alerts():
    """MarketReset (a relay restarted on the sim or a replay): the new run's earlier prints set
    the board; the level's side is settled afresh by the first price (no alert for the jump
    back), the alerts already fired stay in the history and the tick count keeps growing."""
    later = T0 + 600_000
    events: list[Event] = [
        *ticks(),
        Tick("AAA", 11.0, later, prev_close=10.0),
        MarketReset(T0, "started over"),
        Tick("^RUT", 2440.0, T0, prev_close=2430.0),
        Tick("AAA", 9.9, T0, prev_close=9.5),
    ]
    p, alerts = await run(events)
    f = p.frame()
    assert f.quotes["^RUT"].last == 2440.0 and f.quotes["^RUT"].prev_close == 2430.0
    rows = {r.symbol: r for r in f.board.rows()}
    assert rows["AAA"].last == 9.9  # not the old run's 11.0, stamped later
    assert rows["BBB"].last is None  # no price in the new run yet
    assert [a.direction for a in alerts if a.kind == "cross"] == ["up"]  # none for the jump back
    assert [a.direction for a in f.alerts if a.kind == "cross"] == ["up"]
    assert p.state.total_ticks == len(events) - 2  # the statuses and the reset are no ticks


class ReplayLike(Feed):
    """A replay's clock: the data time of the last event released."""

    def __init__(self) -> None:
        super().__init__("replay:day.csv", FeedOptions())
        self.clock = T0

    def now_ms(self) -> int:
        return self.clock

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        return
        yield


def test_a_replay_lists_an_earlier_runs_alerts_only_once_its_clock_gets_there():
    """A replay played again: its later days' alerts (logged by the last run) are not on the
    screen at its first tick, and come back as the replay's clock reaches them."""
    feed = ReplayLike()
    p = Pipeline(feed, HOLDINGS)
    before = AlertEvent(T0 - 86_400_000, "^RUT", 2450.0, "support", "up", 2452.0, "cross")
    after = AlertEvent(T0 + 3_600_000, "^RUT", 2642.0, "upside target", "up", 2643.0, "cross")
    p.alerts.extend([after, before])  # the log's tail, newest first (feeds.settings.setup)
    assert p.frame().alerts == (before,)
    feed.clock = T0 + 3_600_000
    assert p.frame().alerts == (after, before)
    live = Pipeline(ListFeed([]), HOLDINGS)  # a live feed's log holds nothing of the future
    live.alerts.extend([after, before])
    assert live.frame().alerts == (after, before)
