"""MarketState.apply's shortcuts (a subscript for the id, no high/low compare for a trade at the
last price) against the plain version of the same rules, on random tick streams (trades barred
from the last sale and late prints included)."""

from __future__ import annotations

import math
import random

from feeds.events import Bars, Tick
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, NOT_LAST
from feeds.market.state import MarketState

COLUMNS = ("last", "first", "high", "low", "open", "ts", "count", "prev_close", "day_volume")


def reference_apply(st: MarketState, tick: Tick) -> int:
    """The rules of apply, written the plain way (as before the shortcuts)."""
    i = st.ids.get(tick.symbol)
    if i is None:
        i = st.id_of(tick.symbol)
    p, ts, flags = tick.price, tick.ts, tick.sale_flags
    before = st.last[i]
    # a late print or a barred trade: the high/low unless barred from them, never the last
    sets_last = not flags and ts >= st.ts[i]
    if not flags & NOT_HIGH_LOW:
        hi, lo = st.high[i], st.low[i]
        if hi is None or math.isnan(hi) or p > hi:  # None: never traded; NaN: since a rollover
            st.high[i] = p
        if lo is None or math.isnan(lo) or p < lo:
            st.low[i] = p
    if sets_last:
        if before is None:
            st.first[i] = p
        st.last[i] = p
        if ts >= st.next_bucket[i]:
            st._roll(i, ts, p, before)
        st.ts[i] = ts
    st.count[i] += 1
    if tick.prev_close is not None:
        st.prev_close[i] = tick.prev_close
    if tick.day_volume is not None:
        st.day_volume[i] = tick.day_volume
    return i if sets_last else ~i


def snapshot(st: MarketState) -> list[str]:
    # repr: NaN == NaN and 0.0 vs -0.0 are told apart
    rows = [repr([getattr(st, c)[i] for c in COLUMNS]) for i in range(len(st))]
    return rows + [
        repr(st.chart(s)[0].tolist()) + repr(st.chart(s)[1].tolist()) for s in st.symbols
    ]


def test_apply_matches_the_plain_rules_on_random_streams() -> None:
    rng = random.Random(2026)
    for _ in range(40):
        fast, plain = MarketState(), MarketState()
        for st in (fast, plain):
            st.pin_session_open(1_000_000)
        symbols = [f"S{k}" for k in range(rng.randrange(1, 8))] + ["^RUT", "IWM"]
        prices = {s: rng.uniform(5, 500) for s in symbols}
        ts = 900_000
        for _ in range(600):
            s = rng.choice(symbols)
            roll = rng.random()
            if roll < 0.35:
                p = prices[s]  # a trade at the last price
            elif roll < 0.37:
                p = math.nan
            elif roll < 0.38:
                p = rng.choice((0.0, -0.0, math.inf))
            else:
                p = prices[s] = round(prices[s] * rng.uniform(0.98, 1.02), 2)
            ts += rng.choice((0, 1, 250, 1_000, 61_000))
            tick = Tick(
                s,
                p,
                ts - rng.choice((0,) * 20 + (300,)),  # now and then a late print
                rng.choice((None, 100.0)),
                rng.choice((None, None, float(rng.randrange(10**6)))),
                rng.choice((None, None, round(prices[s] * 0.99, 2))),
                rng.choice((0,) * 12 + (NOT_LAST, NOT_HIGH_LOW, NEITHER)),
            )
            if rng.random() < 0.03:  # a backfill in between (sets high/low/last off the tick path)
                bars = Bars(s, [(ts - 500, prices[s] * 1.05), (ts - 100, prices[s])], None)
                fast.daily.apply_bars(bars)
                plain.daily.apply_bars(bars)
            assert fast.apply(tick) == reference_apply(plain, tick)
        assert snapshot(fast) == snapshot(plain)
        assert fast.take_dirty() == plain.take_dirty()
