"""Where the index move comes from, as pure functions over position-aligned arrays: by sector,
for any subset of the members (a filtered board's subtotal), and the members that moved most.

The story traders follow is "broad-based or a few names?". Per sector (the holdings' own
sector names, iShares ``Sector``): its weight in the index, its contribution in basis points
(``Σ w_i r_i × 10,000`` over its members, the README's contribution), its share of the index move
(its contribution over the sum over all members), breadth by count (up, down, unchanged) and by
weight (the share of its weight held by members up), and its best and worst member by return.
A subtotal says the same of any set of members; movers are the members with the largest and
smallest returns over a period, each with its contribution over that period.

Inputs are numpy arrays aligned by position (weights and returns are fractions, NaN where
unknown) and ``member`` (bool: index members only count; None = all). Nothing here reads a
clock or the market state: :class:`feeds.universe.IndexUniverse` hands the arrays over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feeds.market.analytics import breadth, contributions_bp

#: a share of the index move is not said when the move is smaller than this (bp): 3 bp out of
#: 0.2 bp would read as 1,500 %
SHARE_MIN_BP = 0.5
#: movers kept per period and side
MOVERS = 5
#: the sector of a member whose holdings row names none
UNKNOWN_SECTOR = "Other"


@dataclass(frozen=True, slots=True)
class Mover:
    """One member: its ``ret`` over the period (fraction), ``contribution_bp`` (its weight at
    the period's start × ``ret`` × 10,000; None without a weight) and that ``weight``."""

    symbol: str
    name: str
    ret: float
    contribution_bp: float | None
    weight: float | None


@dataclass(frozen=True, slots=True)
class Subtotal:
    """A set of members: ``names`` in it, ``priced`` with a return, their summed ``weight``
    (fraction of the index), ``contribution_bp``, its ``share`` of the index move (fraction;
    None when the move is under :data:`SHARE_MIN_BP`), breadth by count and ``weight_up`` (the
    share of the set's weight, among members with a return, held by those up; None: none)."""

    names: int
    priced: int
    weight: float
    contribution_bp: float
    share: float | None
    up: int
    down: int
    unchanged: int
    weight_up: float | None

    @property
    def pct_up(self) -> float | None:
        """The share of the members with a return that are up (fraction; None: none)."""
        return self.up / self.priced if self.priced else None


@dataclass(frozen=True, slots=True)
class SectorRow:
    """One sector: its :class:`Subtotal` and its best and worst member by return."""

    sector: str
    total: Subtotal
    best: Mover | None
    worst: Mover | None


@dataclass(frozen=True, slots=True)
class SectorTable:
    """Every sector of the members, largest contribution first; ``index_bp`` the index move
    they add up to (bp, the sum over every member with a weight and a return)."""

    rows: tuple[SectorRow, ...] = ()
    index_bp: float = 0.0

    def find(self, name: str) -> SectorRow | None:
        """The sector named ``name`` (case-insensitive; a unique prefix or word start will do:
        "health" finds "Health Care"), or None."""
        k = match_sector([r.sector for r in self.rows], name)
        return None if k is None else self.rows[k]


@dataclass(frozen=True, slots=True)
class Movers:
    """The biggest gainers and losers over one period (``"1d"``, ``"5d"``, ``"ytd"``), largest
    move first; ``names`` members had a return over it (0: the period's base is unknown)."""

    period: str
    up: tuple[Mover, ...] = ()
    down: tuple[Mover, ...] = ()
    names: int = 0


def _contributions(weights: np.ndarray, rets: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # a weight or return unknown (NaN) stays unknown
        return contributions_bp(weights, rets)


def index_move_bp(weights: np.ndarray, rets: np.ndarray, member: np.ndarray | None) -> float:
    """The index move (bp): the summed contribution of the members with a weight and a return."""
    bp = _contributions(weights, rets)
    if member is not None:
        bp = bp[member]
    return float(np.nansum(bp))


def share_of(part_bp: float, index_bp: float) -> float | None:
    """``part_bp / index_bp``, or None when the index moved less than SHARE_MIN_BP."""
    return part_bp / index_bp if abs(index_bp) >= SHARE_MIN_BP else None


def subtotal(
    weights: np.ndarray,
    rets: np.ndarray,
    member: np.ndarray | None,
    keep: np.ndarray,
    index_bp: float,
) -> Subtotal:
    """The :class:`Subtotal` of the members where ``keep`` (bool, position-aligned) is True;
    ``index_bp`` the whole index's move (:func:`index_move_bp`) its share is of."""
    sel = keep if member is None else keep & member
    w, r = weights[sel], rets[sel]
    has_r = ~np.isnan(r)
    bp = _contributions(w, r)
    w_known = np.where(np.isnan(w), 0.0, w)
    up = has_r & (r > 0)
    weighted = float(w_known[has_r].sum())
    contribution = float(np.nansum(bp))
    counts = breadth(r)
    return Subtotal(
        names=int(sel.sum()),
        priced=counts.total,
        weight=float(w_known.sum()),
        contribution_bp=contribution,
        share=share_of(contribution, index_bp),
        up=counts.advancers,
        down=counts.decliners,
        unchanged=counts.unchanged,
        weight_up=float(w_known[up].sum()) / weighted if weighted > 0 else None,
    )


def _mover(
    i: int, symbols: Sequence[str], names: Sequence[str], w: np.ndarray, r: np.ndarray
) -> Mover:
    weight = None if np.isnan(w[i]) else float(w[i])
    bp = None if weight is None else weight * float(r[i]) * 10_000.0
    return Mover(symbols[i], names[i], float(r[i]), bp, weight)


def sector_codes(sectors: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct sector names (sorted; "" becomes :data:`UNKNOWN_SECTOR`) and each
    position's code into them: computed once per universe, reused every frame."""
    named = [s.strip() or UNKNOWN_SECTOR for s in sectors]
    names = sorted(set(named))
    index = {s: k for k, s in enumerate(names)}
    return names, np.fromiter((index[s] for s in named), dtype=np.intp, count=len(named))


def sector_table(
    sector_names: Sequence[str],
    codes: np.ndarray,
    symbols: Sequence[str],
    names: Sequence[str],
    weights: np.ndarray,
    rets: np.ndarray,
    member: np.ndarray | None = None,
) -> SectorTable:
    """Every sector's :class:`SectorRow` (see the module docstring), largest contribution
    first (ties by name). ``sector_names`` and ``codes`` come from :func:`sector_codes`."""
    index_bp = index_move_bp(weights, rets, member)
    rows = []
    for k, sector in enumerate(sector_names):
        keep = codes == k
        if member is not None:
            keep &= member
        if not keep.any():
            continue
        total = subtotal(weights, rets, None, keep, index_bp)
        idx = np.flatnonzero(keep & ~np.isnan(rets))
        best = worst = None
        if len(idx):
            order = idx[np.argsort(-rets[idx], kind="stable")]
            best = _mover(int(order[0]), symbols, names, weights, rets)
            worst = _mover(int(order[-1]), symbols, names, weights, rets)
        rows.append(SectorRow(sector, total, best, worst))
    rows.sort(key=lambda row: (-row.total.contribution_bp, row.sector))
    return SectorTable(tuple(rows), index_bp)


def top_movers(
    period: str,
    symbols: Sequence[str],
    names: Sequence[str],
    weights: np.ndarray,
    rets: np.ndarray,
    member: np.ndarray | None = None,
    n: int = MOVERS,
) -> Movers:
    """The ``n`` members with the largest returns over ``period`` and the ``n`` with the
    smallest (only negative ones count as losers, only positive as gainers)."""
    ok = ~np.isnan(rets)
    if member is not None:
        ok &= member
    idx = np.flatnonzero(ok)
    if not len(idx):
        return Movers(period)
    order = idx[np.argsort(-rets[idx], kind="stable")]
    up = tuple(_mover(int(i), symbols, names, weights, rets) for i in order[:n] if rets[i] > 0)
    down = tuple(
        _mover(int(i), symbols, names, weights, rets) for i in order[::-1][:n] if rets[i] < 0
    )
    return Movers(period, up, down, len(idx))


def match_sector(candidates: Sequence[str], text: str) -> int | None:
    """The position of the sector name ``text`` names: exactly (case-insensitive), else the
    only one that starts with it or has a word starting with it ("health" -> "Health Care",
    "tech" -> "Information Technology"); None if none or several."""
    want = text.strip().lower()
    if not want:
        return None
    lowered = [c.lower() for c in candidates]
    if want in lowered:
        return lowered.index(want)
    hits = [
        k
        for k, c in enumerate(lowered)
        if c.startswith(want) or any(w.startswith(want) for w in c.replace("&", " ").split())
    ]
    return hits[0] if len(hits) == 1 else None
