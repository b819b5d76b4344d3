"""The index universe and board on their own (issue 17): a MarketState, holdings and a few
ticks; no feed, no pipeline."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.events import Tick
from feeds.frame import View
from feeds.market.scoreboard import HOLDINGS_STALE_DAYS
from feeds.market.state import MarketState
from feeds.reference.holdings import Constituent, Holdings
from feeds.symbols import HEADLINE
from feeds.universe import MEMBER_COVERAGE, IndexUniverse

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC (09:30 ET), a regular open
AS_OF = dt.date(2025, 11, 5)


def holdings(*members: Constituent, as_of: dt.date = AS_OF) -> Holdings:
    return Holdings(as_of, list(members), "test.csv", origin="given")


def universe(h: Holdings | None, *ticks: Tick) -> IndexUniverse:
    u = IndexUniverse(MarketState(HEADLINE), h)
    for t in ticks:
        u.state.apply(t)
    return u


AAA = Constituent("AAA", "Alpha Inc", "Energy", 0.6, price=10.0)
BBB = Constituent("BBB", "Beta Corp", "Utilities", 0.4, price=20.0)


def test_members_come_first_in_weight_order_and_a_stray_symbol_is_no_member() -> None:
    u = universe(holdings(AAA, BBB), Tick("ZZZ", 5.0, T0, prev_close=5.0))
    cols = u.columns()
    assert cols.symbols == ["AAA", "BBB", "ZZZ"]
    assert cols.names == ["Alpha Inc", "Beta Corp", "ZZZ"] and cols.sectors[2] == ""
    assert cols.member.tolist() == [True, True, False]
    assert cols.member_symbols == ["AAA", "BBB"]
    assert u.columns() is cols  # kept until a new symbol appears
    u.state.apply(Tick("YYY", 1.0, T0))
    assert u.columns().symbols[-1] == "YYY"


def test_weights_move_to_the_anchor_with_the_members_growth() -> None:
    # no index value: the members (all of the index weight) stand for it
    u = universe(
        holdings(AAA, BBB),
        Tick("AAA", 9.5, T0, prev_close=9.0),
        Tick("BBB", 21.0, T0, prev_close=20.0),
    )
    board, breadth = u.board(View(), "prev")
    growth = {"AAA": 0.9, "BBB": 1.0}  # P_prev / P_asof (the file's prices)
    index = 0.6 * 0.9 + 0.4 * 1.0
    for k, s in enumerate(board.symbols):
        w = {"AAA": 0.6, "BBB": 0.4}[s] * growth[s] / index
        assert board.weight[k] == pytest.approx(w)
    assert board.weights_as_of is None  # moved to the anchor
    assert board.coverage == pytest.approx(1.0)  # every member is priced
    assert (breadth.advancers, breadth.decliners) == (2, 0)


def test_weights_stay_as_of_the_holdings_date_without_a_source_for_the_index() -> None:
    thin = Constituent("CCC", "Gamma", "Energy", 0.3, price=10.0)  # 30 % of the index only
    assert MEMBER_COVERAGE > 0.3
    u = universe(holdings(thin), Tick("CCC", 9.0, T0, prev_close=9.0))
    board, _ = u.board(View(), "prev")
    assert board.weight.tolist() == [0.3] and board.weights_as_of == "2025-11-05"


def test_the_filter_narrows_the_rows_but_not_the_breadth_and_the_board_ranks() -> None:
    u = universe(
        holdings(AAA, BBB),
        Tick("AAA", 9.0, T0, prev_close=10.0),
        Tick("BBB", 22.0, T0, prev_close=20.0),
    )
    board, _ = u.board(View(sort="return"), "prev")
    assert [board.symbols[k] for k in board.order] == ["BBB", "AAA"]
    narrowed, breadth = u.board(View(filter="alpha"), "prev")
    assert narrowed.symbols == ["AAA"] and narrowed.universe == 2
    assert (breadth.advancers, breadth.decliners) == (1, 1)


def test_a_frame_reuses_the_board_last_ranked_for_the_same_query() -> None:
    u = universe(holdings(AAA, BBB), Tick("AAA", 9.0, T0, prev_close=10.0))
    first, _ = u.ranked(View(), "prev")
    assert u.ranked(View(board=False), "prev")[0] is first
    assert u.ranked(View(), "prev")[0] is not first  # asked again
    assert u.ranked(View(board=False, sort="return"), "prev")[0].sort == "return"  # a new query


def test_a_respelt_holding_keeps_its_name_and_weight_and_a_traded_symbol_stays() -> None:
    moga = Constituent("MOGA", "Moog", "Industrials", 0.2)
    u = universe(holdings(AAA, moga))
    u.respell({"MOGA": "MOG-A"})
    u.state.apply(Tick("AAA", 10.0, T0))
    assert u.holdings is not None and "MOG-A" in u.holdings.by_symbol
    cols = u.columns()
    k = cols.symbols.index("MOG-A")
    assert cols.names[k] == "Moog" and cols.w_asof[k] == 0.2
    u.respell({"AAA": "AAA.Y"})  # AAA has traded: left as it is
    assert "AAA" in u.columns().symbols and "AAA.Y" not in u.columns().symbols
    assert u.holdings.by_symbol["AAA"].weight == 0.6


def test_the_holdings_age_before_the_session_and_staleness() -> None:
    u = universe(holdings(AAA, as_of=AS_OF - dt.timedelta(days=HOLDINGS_STALE_DAYS + 1)))
    info = u.holdings_info(T0)  # before any tick: the clock's day
    assert info is not None and info.age_days == HOLDINGS_STALE_DAYS + 1 and info.stale
    assert (info.origin, info.label) == ("given", "test.csv")
    assert universe(None).holdings_info(T0) is None


def test_ytd_weights_are_the_members_only_and_none_without_holdings() -> None:
    u = universe(holdings(AAA, BBB), Tick("ZZZ", 5.0, T0))
    weights = u.ytd_weights(u.columns())
    assert weights is not None and weights.tolist() == [0.6, 0.4]  # no YTD anchor: as of
    assert universe(None).ytd_weights(universe(None).columns()) is None


def test_a_reset_rebuilds_the_columns_on_the_new_state() -> None:
    u = universe(holdings(AAA))
    before = u.columns()
    u.reset(u.state.started_over())
    assert u.columns() is not before and u.columns().symbols == before.symbols
