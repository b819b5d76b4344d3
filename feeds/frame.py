"""The frame: an immutable view of the market that the app and headless commands render.

Built once per frame by :class:`feeds.pipeline.Pipeline`; widgets read it and keep nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from feeds.analytics import Breadth
from feeds.events import FeedState, FeedStatus
from feeds.levels import AlertEvent, LevelState
from feeds.scoreboard import Scoreboard


@dataclass(slots=True, frozen=True)
class Quote:
    symbol: str
    last: float | None
    anchor: float | None
    ret: float | None  # fraction since the anchor
    change: float | None  # points since the anchor
    high: float | None  # of the current session (regular hours once it opened)
    low: float | None
    ts: int
    count: int  # ticks this session
    estimated: bool = False  # derived from an ETF, not streamed
    prev_close: float | None = None  # the last session's close
    open: float | None = None  # the session's first regular-hours price


@dataclass(slots=True, frozen=True)
class BoardRow:
    symbol: str
    name: str
    sector: str
    last: float | None
    ret: float | None
    weight: float | None  # fraction of the index at the anchor
    contribution_bp: float | None
    high: float | None
    low: float | None
    count: int
    ts: int
    member: bool = True  # in the holdings (False: a symbol the feed sends that is not)


def _opt(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


@dataclass(slots=True)
class Board:
    """The ranked constituents. Arrays are position-aligned; ``order`` lists positions by rank,
    index members first. ``member`` is all True without holdings.

    ``names_priced`` and ``coverage`` (the fraction of the index weight they hold) count the
    members with a price in the whole universe, like breadth, even while the board is filtered;
    ``weights_as_of`` is the holdings' date (ISO) when no source could move the weights to the
    anchor (they are shown as of that date), None when they are at the anchor.
    """

    symbols: list[str]
    names: list[str]
    sectors: list[str]
    last: np.ndarray
    ret: np.ndarray
    weight: np.ndarray
    contribution: np.ndarray
    high: np.ndarray
    low: np.ndarray
    count: np.ndarray
    ts: np.ndarray
    order: np.ndarray
    sort: str = "contribution"
    member: np.ndarray | None = None
    names_priced: int = 0
    coverage: float | None = None
    weights_as_of: str | None = None

    def __len__(self) -> int:
        return len(self.order)

    def row_at(self, pos: int) -> BoardRow:
        """The row at array position ``pos`` (not rank)."""
        return BoardRow(
            symbol=self.symbols[pos],
            name=self.names[pos],
            sector=self.sectors[pos],
            last=_opt(self.last[pos]),
            ret=_opt(self.ret[pos]),
            weight=_opt(self.weight[pos]),
            contribution_bp=_opt(self.contribution[pos]),
            high=_opt(self.high[pos]),
            low=_opt(self.low[pos]),
            count=int(self.count[pos]),
            ts=int(self.ts[pos]),
            member=True if self.member is None else bool(self.member[pos]),
        )

    def rows(self, start: int = 0, stop: int | None = None) -> list[BoardRow]:
        """Rows ranked ``start`` to ``stop`` (only these are materialised)."""
        return [self.row_at(int(p)) for p in self.order[start:stop]]

    def find(self, symbol: str) -> BoardRow | None:
        try:
            return self.row_at(self.symbols.index(symbol))
        except ValueError:
            return None


@dataclass(slots=True, frozen=True)
class LevelView:
    price: float
    label: str
    user: bool
    state: LevelState
    distance: float | None  # level - price, in points (positive: the level is above)
    distance_pct: float | None  # as a fraction of the price
    crossings: tuple[AlertEvent, ...] = ()
    # >>> alerts10 (issue 10)
    confirm: str = "tick"  # "tick" | "1m" | "5m": what confirms a crossing (the ladder shows it)
    muted: bool = False  # crossings are logged and listed, no toast, bell or notification
    #: a bar-confirmed level with the price past it by more than the band, its bar not closed yet
    awaiting_close: bool = False
    symbol: str = "^RUT"  # the series watched: "^RUT", or a spread ("RUT-SPX"; then bp)
    # <<< alerts10


@dataclass(slots=True, frozen=True)
class SpreadAlerts:
    """alerts10: one spread's thresholds (``levels``: LevelView in basis points, ``distance``
    = threshold - value) and the value they are measured against (``value_bp``: the spread since
    ``anchor``, the run's day anchor, which the card's own anchor may differ from)."""

    pair: str  # "RUT-SPX" | "RUT-MAGS"
    value_bp: float | None
    anchor: str
    levels: tuple[LevelView, ...] = ()

    def nearest(self) -> tuple[LevelView | None, LevelView | None]:
        """The nearest threshold below the value and the nearest above it (None: none, or no
        value yet): what the spread card shows."""
        if self.value_bp is None:
            return None, None
        below = [lv for lv in self.levels if lv.price <= self.value_bp]
        above = [lv for lv in self.levels if lv.price > self.value_bp]
        return (below[-1] if below else None), (above[0] if above else None)


@dataclass(slots=True)
class Frame:
    as_of: int  # the feed's clock, epoch ms
    anchor: str
    quotes: dict[str, Quote]
    spread_spx_bp: float | None
    spread_mags_bp: float | None
    ratio: float | None  # RUT/SPX rebased to 100 at the anchor
    breadth: Breadth
    board: Board
    levels: list[LevelView]
    level_price: float | None  # the price the ladder is placed against (^RUT or its estimate)
    status: FeedStatus
    session: str  # pre | open | post | closed
    tick_age_s: float | None  # wall seconds since the newest tick
    ticks_per_s: float
    total_ticks: int
    streak: tuple[int, str]  # (sessions, "small" | "large" | "")
    estimated_indices: bool
    changed: frozenset[str] = frozenset()
    new_alerts: list[AlertEvent] = field(default_factory=list)
    problems: tuple[str, ...] = ()  # alert sinks that are failing (a full disk, a dead webhook)
    session_date: str = ""  # ISO date of the session the data is in ("" before any tick)
    # >>> fail8a (issue 8 §2): what the feed-status screen shows; ``status`` carries the counts
    feed: str = ""  # the feed's label (its spec)
    status_history: tuple[FeedStatus, ...] = ()  # this run's status changes, oldest first
    # <<< fail8a
    # >>> alerts10 (issue 10)
    spread_alerts: dict[str, SpreadAlerts] = field(default_factory=dict)  # by pair, with levels
    unacknowledged: int = 0  # crossings of unmuted levels not yet acknowledged (status bar)
    # <<< alerts10
    # ytd11 (issue 11): the year-to-date story (returns by period, streaks, YTD breadth, the
    # holdings in use, ^RUT's daily bars); None only for frames built without a pipeline
    scoreboard: Scoreboard | None = None

    @property
    def stale(self) -> bool:
        return self.status.state in (FeedState.STALE, FeedState.ERROR, FeedState.RECONNECTING)
