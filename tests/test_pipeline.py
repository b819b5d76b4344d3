"""The pipeline: ticks in, levels and alerts, a frame out, with hand-computed numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from feeds.events import DailyCloses, Event, FeedState, FeedStatus, Tick
from feeds.feed import Feed, FeedOptions
from feeds.holdings import Constituent, Holdings
from feeds.levels import AlertEvent
from feeds.pipeline import Pipeline

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
    by_return = [r.symbol for r in p.frame(sort="return").board.rows()]
    assert by_return == ["AAA", "CCC", "BBB", "ZZZ"]  # ZZZ (+10 %) is not a member: last
    assert [r.symbol for r in p.frame(text="beta").board.rows()] == ["BBB"]
    # breadth is for the whole universe even while the board is filtered
    assert p.frame(text="beta").breadth.advancers == 1  # AAA (ZZZ is not a member)


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
