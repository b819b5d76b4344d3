"""Analytics as pure functions of the market state: returns, spreads, ratio, breadth, ranking.

Everything here runs once per frame, vectorised over the whole universe; nothing runs per tick.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SORT_KEYS = ("contribution", "return", "weight", "symbol")


def ret(last: float | None, anchor: float | None) -> float | None:
    """Return since the anchor, ``last / anchor - 1``; None when either is unknown."""
    if last is None or anchor is None or anchor == 0 or math.isnan(last) or math.isnan(anchor):
        return None
    return last / anchor - 1.0


def spread_bp(r_small: float | None, r_large: float | None) -> float | None:
    """Spread in basis points: ``(r_small - r_large) * 10_000``."""
    if r_small is None or r_large is None:
        return None
    return (r_small - r_large) * 10_000.0


def ratio_rebased(
    last_a: float | None, anchor_a: float | None, last_b: float | None, anchor_b: float | None
) -> float | None:
    """``A / B`` rebased to 100 at the anchor: ``100 * (1 + r_A) / (1 + r_B)``."""
    ra, rb = ret(last_a, anchor_a), ret(last_b, anchor_b)
    if ra is None or rb is None:
        return None
    return 100.0 * (1.0 + ra) / (1.0 + rb)


def returns(last: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Vectorised ``last / anchor - 1``; NaN where either is unknown or the anchor is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = last / anchor - 1.0
    r[~np.isfinite(r)] = np.nan
    return r


def anchor_weights(
    w_asof: np.ndarray, stock_growth: np.ndarray, index_growth: float | None
) -> np.ndarray:
    """Convert holdings weights from their as-of date to the anchor.

    ``stock_growth`` and ``index_growth`` are price ratios P(anchor) / P(as-of). A stock that fell
    relative to the index between the anchor and the as-of date had a larger weight at the anchor:
    ``w_anchor = w_asof * g_stock / g_index``; for an anchor earlier than the as-of date this
    is the architecture note's ``w_asof * (1 + R) / (1 + r_asof)``. Where a growth is unknown
    (NaN) the as-of weight is used as is.
    """
    if index_growth is None or not math.isfinite(index_growth) or index_growth <= 0:
        return w_asof.copy()
    with np.errstate(invalid="ignore"):
        w = w_asof * stock_growth / index_growth
    return np.where(np.isfinite(w), w, w_asof)


def contributions_bp(weights: np.ndarray, rets: np.ndarray) -> np.ndarray:
    """Contribution of each constituent to the index move, in basis points: ``w * r * 10_000``."""
    return weights * rets * 10_000.0


@dataclass(slots=True, frozen=True)
class Breadth:
    advancers: int
    decliners: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.advancers + self.decliners + self.unchanged

    @property
    def pct_up(self) -> float | None:
        """Share of constituents up since the anchor, as a fraction (0.55 = 55 %)."""
        return self.advancers / self.total if self.total else None


def breadth(rets: np.ndarray) -> Breadth:
    """Advancers, decliners and unchanged among constituents with a known return."""
    known = rets[~np.isnan(rets)]
    return Breadth(
        advancers=int(np.count_nonzero(known > 0)),
        decliners=int(np.count_nonzero(known < 0)),
        unchanged=int(np.count_nonzero(known == 0)),
    )


def rank(
    key: str,
    *,
    contribution: np.ndarray,
    rets: np.ndarray,
    weights: np.ndarray,
    symbols: Sequence[str],
    descending: bool = True,
    member: np.ndarray | None = None,
) -> np.ndarray:
    """Positions ordered by ``key``; unknown values (NaN) always sort last, and names that are
    not index members (``member`` False) after every member.

    ``symbol`` sorts A-Z (Z-A when ``descending``); the numeric keys sort by signed value,
    largest first: by contribution the top contributors lead, and reversed the biggest
    detractors.
    """
    n = len(symbols)
    if key == "symbol":
        order = np.array(
            sorted(range(n), key=symbols.__getitem__, reverse=descending), dtype=np.intp
        )
        return _members_first(order, member)
    if key == "contribution":
        values = contribution
    elif key == "return":
        values = rets
    elif key == "weight":
        values = weights
    else:
        raise ValueError(f"unknown sort {key!r}; use one of {', '.join(SORT_KEYS)}")
    filled = np.where(np.isnan(values), -np.inf if descending else np.inf, values)
    order = np.argsort(-filled if descending else filled, kind="stable")
    return _members_first(order.astype(np.intp), member)


def _members_first(order: np.ndarray, member: np.ndarray | None) -> np.ndarray:
    """``order`` with the non-members moved after the members, each keeping its order."""
    if member is None or member.all():
        return order
    ranked = member[order]
    return np.concatenate([order[ranked], order[~ranked]])


def streak(
    small: Sequence[tuple[str, float]], large: Sequence[tuple[str, float]]
) -> tuple[int, str]:
    """Consecutive completed sessions, newest backwards, in which one index beat the other.

    Takes daily closes (date ISO, close), oldest first, and compares daily returns on the sessions
    both have. Returns (length, "small" | "large" | "") — who has been winning, and for how long.
    """
    a: Mapping[str, float] = dict(small)
    b: Mapping[str, float] = dict(large)
    dates = sorted(set(a) & set(b))
    winners: list[str] = []
    for prev, cur in itertools.pairwise(dates):
        ra = a[cur] / a[prev] - 1.0
        rb = b[cur] / b[prev] - 1.0
        winners.append("small" if ra > rb else "large" if rb > ra else "")
    if not winners or not winners[-1]:
        return 0, ""
    who = winners[-1]
    n = 0
    for w in reversed(winners):
        if w != who:
            break
        n += 1
    return n, who
