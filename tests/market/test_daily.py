"""DailyRecord: the session rollover and the completed sessions' record, fed plain ticks and
history events (no feed, no pipeline).

Dates: Wed 26 Nov 2025 is a full session (09:30-16:00 ET), Thu 27 Nov is Thanksgiving (shut),
Fri 28 Nov closes at 13:00; 31 Dec 2025 is the year's last session.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import weakref
from zoneinfo import ZoneInfo

from feeds.events import Bars, DailyBars, DailyCloses, SessionCloses, Tick
from feeds.market.daily import DailyRecord
from feeds.market.state import MarketState

ET = ZoneInfo("America/New_York")


def et(day: str, hhmm: str) -> int:
    """Epoch ms of an ET wall time."""
    h, m = (int(x) for x in hhmm.split(":"))
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=ET).timestamp() * 1000)


def test_the_state_composes_one_record_and_a_fresh_state_a_fresh_one() -> None:
    st = MarketState(["AAA"])
    assert isinstance(st.daily, DailyRecord)
    st.daily.apply_daily(DailyCloses("AAA", [("2025-11-25", 10.0)]))
    assert st.started_over().daily.closes == {}
    assert st.daily.closes == {"AAA": [("2025-11-25", 10.0)]}


def test_cross_gives_the_next_boundary_the_close_then_the_end_of_the_day() -> None:
    st = MarketState()
    record = st.daily
    assert record.cross(et("2025-11-26", "10:00")) == et("2025-11-26", "16:00") + 1
    assert st.session_date == dt.date(2025, 11, 26) and st.session == 1
    # past the close: the next boundary is Wednesday's end (midnight ET), not Friday's open
    assert record.cross(et("2025-11-26", "16:01")) == et("2025-11-27", "00:00")
    assert st.session == 1  # no new session on the holiday
    assert record.cross(et("2025-11-27", "10:00")) == et("2025-11-28", "00:00")
    assert st.session_date == dt.date(2025, 11, 26)
    # Friday's early close
    assert record.cross(et("2025-11-28", "09:00")) == et("2025-11-28", "13:00") + 1
    assert st.session == 2 and st.session_date == dt.date(2025, 11, 28)


def test_the_close_freezes_the_session_range_and_prices() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 50.0, et("2025-11-26", "09:30")))
    st.apply(Tick("AAA", 51.0, et("2025-11-26", "16:00")))  # the close
    st.apply(Tick("AAA", 55.0, et("2025-11-26", "17:30")))  # post-market
    i = st.ids["AAA"]
    high, low = st.daily.session_range()
    assert (high[i], low[i]) == (51.0, 50.0)
    assert st.high[i] == 55.0  # the live column still moves
    assert st.daily.session_prices()[i] == 51.0
    st.apply(Tick("NEW", 9.0, et("2025-11-26", "18:00")))  # first seen after the close
    high, low = st.daily.session_range()
    assert high[st.ids["NEW"]] is None and low[st.ids["NEW"]] is None
    assert st.daily.session_prices()[st.ids["NEW"]] == 9.0


def test_a_new_session_records_closes_and_ranges_and_rolls_every_symbol() -> None:
    st = MarketState()
    st.apply(Tick("^RUT", 2400.0, et("2025-11-26", "09:30")))
    st.apply(Tick("^RUT", 2420.0, et("2025-11-26", "12:00")))
    st.apply(Tick("^RUT", 2410.0, et("2025-11-26", "16:00")))
    st.apply(Tick("PRE", 5.0, et("2025-11-26", "08:00")))  # pre-market only: no close recorded
    rev = st.daily.rev
    st.apply(Tick("^RUT", 2415.0, et("2025-11-28", "09:30")))
    assert st.daily.closes["^RUT"] == [("2025-11-26", 2410.0)]
    assert "PRE" not in st.daily.closes
    assert st.daily.ohlc["^RUT"] == {"2025-11-26": (2400.0, 2420.0, 2400.0)}
    assert st.daily.rev > rev
    i, k = st.ids["^RUT"], st.ids["PRE"]
    assert st.prev_close[i] == 2410.0 and st.prev_close[k] == 5.0  # its last price
    assert st.open[k] is None and math.isnan(st.high[k])  # type: ignore[arg-type]
    assert st.count[k] == 0 and st.total_ticks == 5  # the rolled-over ticks still counted


def test_a_feed_bar_wins_over_the_sessions_own_range() -> None:
    st = MarketState()
    st.daily.apply_daily_bars(DailyBars("^RUT", [("2025-11-26", 2399.0, 2425.0, 2395.0, 2411.0)]))
    st.apply(Tick("^RUT", 2400.0, et("2025-11-26", "09:30")))
    st.apply(Tick("^RUT", 2415.0, et("2025-11-28", "09:30")))
    assert st.daily.ohlc["^RUT"]["2025-11-26"] == (2399.0, 2425.0, 2395.0)
    assert st.daily.closes["^RUT"] == [("2025-11-26", 2411.0)]  # the feed's close wins too
    assert st.anchor("^RUT", "prev") == 2411.0


def test_close_on_finds_only_the_exact_date() -> None:
    st = MarketState()
    st.daily.apply_daily(DailyCloses("AAA", [("2025-11-26", 51.0), ("2025-11-24", 49.0)]))
    assert st.daily.closes["AAA"] == [("2025-11-24", 49.0), ("2025-11-26", 51.0)]  # sorted
    assert st.daily.close_on("AAA", "2025-11-26") == 51.0
    assert st.daily.close_on("AAA", "2025-11-25") is None
    assert st.daily.close_on("ZZZ", "2025-11-26") is None


def test_session_closes_set_a_previous_close_only_from_the_session_before() -> None:
    st = MarketState()
    st.apply(Tick("^RUT", 2415.0, et("2025-11-28", "09:30")))  # the session is Fri 28 Nov
    st.daily.apply_session_closes(SessionCloses("2025-11-25", {"AAA": 10.0}))
    assert st.anchor("AAA", "prev") is None  # Tuesday's close is not Friday's previous close
    st.daily.apply_session_closes(SessionCloses("2025-11-26", {"AAA": 11.0, "BBB": 20.0}))
    assert (st.anchor("AAA", "prev"), st.anchor("BBB", "prev")) == (11.0, 20.0)
    st.daily.apply_session_closes(SessionCloses("2025-11-26", {"AAA": 11.5}))  # a revision
    assert st.daily.closes["AAA"] == [("2025-11-25", 10.0), ("2025-11-26", 11.5)]
    assert st.anchor("AAA", "prev") == 11.0  # a known previous close is kept


def test_the_ytd_base_is_only_the_previous_years_last_session() -> None:
    st = MarketState()
    st.apply(Tick("^RUT", 2500.0, et("2026-01-05", "10:00")))
    st.daily.apply_session_closes(SessionCloses("2025-11-26", {"AAA": 10.0}))
    assert st.anchor("AAA", "ytd") is None  # a November close is no year-end close
    st.daily.apply_session_closes(SessionCloses("2025-12-31", {"AAA": 12.0}))
    assert st.anchor("AAA", "ytd") == 12.0


def test_backfilled_bars_of_an_earlier_session_are_skipped() -> None:
    st = MarketState()
    st.apply(Tick("^RUT", 2415.0, et("2025-11-28", "09:31")))
    wed, fri = et("2025-11-26", "10:00"), et("2025-11-28", "09:30")
    st.daily.apply_bars(Bars("^RUT", [(wed, 2300.0), (fri, 2410.0)], prev_close=2411.0))
    i = st.ids["^RUT"]
    high, low = st.daily.session_range()
    assert (high[i], low[i]) == (2415.0, 2410.0)  # Wednesday's 2300 is not today's low
    assert st.open[i] == 2415.0  # the tick set it first
    assert st.prev_close[i] == 2411.0
    assert st.last[i] == 2415.0  # the tick is newer than the backfill


def test_a_state_that_started_over_is_freed_without_the_cyclic_collector() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 50.0, et("2025-11-26", "09:30"), trade_id=1))  # a tape, a chart
    st.busts.cancel("AAA", 1)
    gone = weakref.ref(st)
    gc.disable()
    try:
        fresh = st.started_over()
        del st
        assert gone() is None  # its parts hold it weakly: no cycle keeps its charts alive
    finally:
        gc.enable()
    assert fresh.total_ticks == 1
