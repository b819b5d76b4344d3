"""Chart series read from the pipeline's history rings (numpy, once a second at most).

The rings belong to :class:`feeds.state.MarketState`; these functions only read copies, so a
widget never holds market state of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from feeds.symbols import RUT, SPX

if TYPE_CHECKING:
    from feeds.pipeline import Pipeline

Series = tuple[np.ndarray, np.ndarray]  # (times_ms, values)
EMPTY: Series = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def history(pipeline: Pipeline, symbol: str) -> Series:
    """``symbol``'s points this session, the last one at its live last price and time (a
    bucket's stored price is its first tick's until the next bucket closes it)."""
    return pipeline.state.chart(symbol)


def _aligned(b_times: np.ndarray, b_prices: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``b``'s last price at or before each of ``at`` (NaN before b's first point)."""
    idx = np.searchsorted(b_times, at, side="right") - 1
    out = np.full(len(at), np.nan)
    ok = idx >= 0
    out[ok] = b_prices[idx[ok]]
    return out


def spread(pipeline: Pipeline, small: str = RUT, large: str = SPX) -> Series:
    """The spread in bp over the day: (r_small - r_large) * 10,000 at each of small's points."""
    a_anchor = pipeline.state.anchor(small, pipeline.anchor)
    b_anchor = pipeline.state.anchor(large, pipeline.anchor)
    if not a_anchor or not b_anchor:
        return EMPTY
    at, ap = history(pipeline, small)
    bt, bpx = history(pipeline, large)
    if not len(at) or not len(bt):
        return EMPTY
    b_at = _aligned(bt, bpx, at)
    values = ((ap / a_anchor) - (b_at / b_anchor)) * 10_000.0
    ok = ~np.isnan(values)
    return at[ok], values[ok]


def distance(pipeline: Pipeline, level: float) -> Series:
    """The watched index minus a level, in points, over the day."""
    t, p = history(pipeline, pipeline.levels.symbol)
    return t, p - level
