"""MarketState: the per-tick facts and the chart history."""

from __future__ import annotations

import math

import pytest

from feeds.events import Bars, DailyCloses, Tick
from feeds.market.history import Ring
from feeds.market.state import MarketState

T0 = 1_763_740_800_000


def test_apply_tracks_last_high_low_count_and_dirty():
    st = MarketState()
    for k, p in enumerate([10.0, 10.5, 9.8, 10.2]):
        st.apply(Tick("AAA", p, T0 + k * 1000, prev_close=10.1 if k == 0 else None))
    i = st.ids["AAA"]
    assert (st.last[i], st.high[i], st.low[i], st.first[i]) == (10.2, 10.5, 9.8, 10.0)
    assert st.count[i] == 4 and st.ts[i] == T0 + 3000
    assert st.prev_close[i] == 10.1
    assert st.take_dirty() == {i}
    assert st.take_dirty() == set()


def test_open_is_the_first_price_at_or_after_the_session_open():
    st = MarketState()
    st.pin_session_open(T0 + 60_000)  # opens fall on a minute mark
    st.apply(Tick("AAA", 9.0, T0))
    st.apply(Tick("AAA", 9.2, T0 + 59_000))
    assert st.anchor("AAA", "open") is None
    st.apply(Tick("AAA", 9.5, T0 + 60_000))
    st.apply(Tick("AAA", 9.7, T0 + 61_000))
    assert st.anchor("AAA", "open") == 9.5
    assert st.anchor("AAA", "first") == 9.0


def test_arrays_have_nan_for_unknowns():
    st = MarketState(["AAA", "BBB"])
    st.apply(Tick("AAA", 11.0, T0, prev_close=10.0))
    last, anchor = st.arrays("prev")
    assert last[0] == 11.0 and anchor[0] == 10.0
    assert math.isnan(last[1]) and math.isnan(anchor[1])
    with pytest.raises(ValueError):
        st.arrays("close")


def test_daily_closes_give_prev_close_and_ytd_base():
    st = MarketState()
    st.daily.apply_daily(
        DailyCloses(
            "^RUT", [("2025-12-30", 2400.0), ("2025-12-31", 2410.0), ("2026-01-02", 2420.0)]
        )
    )
    assert st.anchor("^RUT", "prev") == 2420.0
    assert st.anchor("^RUT", "ytd") == 2410.0


def test_bars_fill_history_without_overtaking_newer_ticks():
    st = MarketState()
    st.apply(Tick("^RUT", 2450.0, T0 + 120_000))
    st.daily.apply_bars(Bars("^RUT", [(T0, 2440.0), (T0 + 60_000, 2445.0)], prev_close=2430.0))
    i = st.ids["^RUT"]
    assert st.last[i] == 2450.0  # the tick is newer than the backfill
    assert st.prev_close[i] == 2430.0
    _times, prices = st.chart("^RUT")
    assert prices.tolist() == [2450.0]  # a chart only moves forward: older bars are dropped


def test_chart_points_are_bucket_closes_from_the_tick_path():
    st = MarketState()
    for ts, p in [(0, 1.0), (400, 2.0), (1000, 3.0), (1500, 3.5), (2100, 4.0)]:
        st.apply(Tick("^RUT", p, T0 + ts))
    times, prices = st.chart("^RUT")
    assert prices.tolist() == [2.0, 3.5, 4.0]  # each second's close; the last is live
    assert times.tolist() == [T0, T0 + 1000, T0 + 2100]


def test_ring_keeps_bucket_closes_and_wraps():
    ring = Ring(bucket_ms=1000, capacity=3)
    for ts, p in [(0, 1.0), (500, 2.0), (1000, 3.0), (2500, 4.0), (3100, 5.0), (4000, 6.0)]:
        ring.add(ts, p)
    times, prices = ring.arrays()
    assert prices.tolist() == [4.0, 5.0, 6.0]
    assert times.tolist() == [2500, 3100, 4000]
    assert len(ring) == 3 and ring.last_price() == 6.0


def test_session_open_comes_from_the_data_day_not_the_wall_clock():
    # 2025-11-21 (a Friday): the regular session opens at 09:30 ET = 14:30 UTC
    open_ms = T0 - 90 * 60_000
    st = MarketState()
    st.apply(Tick("^RUT", 2440.0, open_ms - 60_000))  # pre-market
    st.apply(Tick("AAA", 10.0, open_ms - 60_000))
    assert st.anchor("^RUT", "open") is None
    st.apply(Tick("^RUT", 2441.0, open_ms))
    st.apply(Tick("AAA", 10.2, open_ms + 5_000))
    assert st.session_open_ms == open_ms
    assert st.anchor("^RUT", "open") == 2441.0
    assert st.anchor("AAA", "open") == 10.2


def test_rename_gives_an_untouched_symbols_id_to_its_new_spelling() -> None:
    st = MarketState(["^RUT"])
    i = st.id_of("JWA")
    st.id_of("BE")
    assert st.rename("JWA", "JW-A") and st.ids["JW-A"] == i and st.symbols[i] == "JW-A"
    assert "JWA" not in st.ids
    st.apply(Tick("BE", 25.0, 1))
    assert not st.rename("BE", "B-E")  # it has ticked: its prices are the old spelling's
    assert not st.rename("JW-A", "BE")  # the new spelling is already known
    assert not st.rename("NOPE", "NO-PE")
    assert not st.rename("JW-A", "SPY")  # never into (or out of) the headline's histories
