"""Chart series read from the state's history rings (numpy; the app asks at most once a second).

The rings belong to :class:`feeds.market.state.MarketState`; these functions return copies, so a
frame
that carries them never shares market state with a widget.
"""

from __future__ import annotations

import numpy as np

from feeds.frame import EMPTY_SERIES, Series
from feeds.market.state import MarketState


def history(state: MarketState, symbol: str) -> Series:
    """``symbol``'s last sales over the session (one point per bucket, the newest live)."""
    times, prices = state.chart(symbol)
    return Series(times, prices) if len(times) else EMPTY_SERIES


def _aligned(b_times: np.ndarray, b_prices: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``b``'s last price at or before each of ``at`` (NaN before b's first point)."""
    idx = np.searchsorted(b_times, at, side="right") - 1
    out = np.full(len(at), np.nan)
    ok = idx >= 0
    out[ok] = b_prices[idx[ok]]
    return out


def spread(state: MarketState, anchor: str, small: str, large: str) -> Series:
    """The spread in bp over the session: ``(r_small - r_large) * 10,000`` at each of small's
    points, returns measured from the prices of the ``anchor`` mode (the definitions in
    docs/screen-and-keys.md)."""
    a_anchor = state.anchor(small, anchor)
    b_anchor = state.anchor(large, anchor)
    if not a_anchor or not b_anchor:
        return EMPTY_SERIES
    at, ap = state.chart(small)
    bt, bpx = state.chart(large)
    if not len(at) or not len(bt):
        return EMPTY_SERIES
    b_at = _aligned(bt, bpx, at)
    values = ((ap / a_anchor) - (b_at / b_anchor)) * 10_000.0
    ok = ~np.isnan(values)
    return Series(at[ok], values[ok])
