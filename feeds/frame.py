"""The frame: an immutable view of the market that the app and headless commands render.

Built once per frame by :meth:`feeds.pipeline.Pipeline.frame` for a :class:`View` (what the
screen asked to see: the board's sort, direction, filter and cursor symbol, a drilldown's symbol
or level, whether chart series are due). A frame is the only thing a screen reads; widgets keep
nothing of the market between frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from feeds.alerting.levels import AlertEvent, LevelState
from feeds.events import FeedState, FeedStatus
from feeds.market.analytics import Breadth
from feeds.market.scoreboard import Scoreboard
from feeds.market.sectors import Movers, SectorTable, Subtotal


@dataclass(slots=True, frozen=True)
class View:
    """What a screen asks a frame for. Every field has the default a headless caller wants.

    ``sort`` is one of :data:`feeds.market.analytics.SORT_KEYS`; ``filter`` keeps the constituents
    whose
    symbol or name contains it (case-insensitive); ``cursor`` is the symbol under the board's
    cursor (the frame says where it ranks now); ``symbol`` and ``level`` name a drilldown's subject
    (its chart series come with ``charts``); ``charts`` asks for chart series (the app asks at
    most once a second); ``paused`` is echoed for the status bar. ``board`` asks for the board to
    be ranked again; False lets the frame carry the board last ranked for the same query (sort,
    direction, filter, cursor), as the app does between its leaderboard redraws. A ``filter`` of
    ``sector:NAME`` keeps one sector's members (``sector:health``: a word start will do).
    ``sectors`` asks for the sector tables and the movers (the sector screen, the scoreboard,
    ``r2k snapshot``).
    """

    sort: str = "contribution"
    descending: bool = True
    filter: str = ""
    cursor: str | None = None
    symbol: str | None = None
    level: float | None = None
    charts: bool = False
    paused: bool = False
    board: bool = True
    sectors: bool = False


@dataclass(slots=True, frozen=True, eq=False)
class Series:
    """A chart line: ``times`` (epoch ms, ascending) and ``values`` of the same length."""

    times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


EMPTY_SERIES = Series(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


@dataclass(slots=True, frozen=True, eq=False)
class Charts:
    """Chart series of one frame (only when the view asked for them).

    Spreads are in basis points since the anchor; prices in index or share points.
    """

    spread_spx: Series = EMPTY_SERIES  # (r RUT - r SPX) * 10,000 at each ^RUT point
    spread_mags: Series = EMPTY_SERIES  # (r RUT - r MAGS) * 10,000
    symbol: Series | None = None  # the view's symbol: its last sales over the session
    symbol_anchor: float | None = None  # that symbol's anchor price (None: unknown)
    level: Series | None = None  # the level symbol's last sales, when the view names a level


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
    descending: bool = True
    filter: str = ""  # the view's filter text ("" = every constituent)
    universe: int = 0  # constituents before the filter
    cursor: str | None = None  # the view's cursor symbol
    cursor_rank: int | None = None  # where it ranks in this board (None: not in it)
    member: np.ndarray | None = None  # bool per position (None: no holdings, all members)
    names_priced: int = 0
    coverage: float | None = None
    #: index members in the whole universe, like ``names_priced`` (0: not counted; then every
    #: name the board holds, or its ``member`` ones)
    members: int = 0
    weights_as_of: str | None = None
    #: filtered boards only: each position's rank in the whole (unfiltered) board under the same
    #: sort (0 = first), so a filtered row keeps its index-wide rank; None when not filtered
    ranks: np.ndarray | None = None
    #: filtered boards only: the members kept, their weight, summed contribution and share of
    #: the index move, up and down (None when not filtered)
    subtotal: Subtotal | None = None
    sector: str | None = None  # the sector a ``sector:NAME`` filter named (None: a text filter)

    def __len__(self) -> int:
        return len(self.order)

    def index_members(self) -> int:
        """The index members in the whole universe (what breadth counts are out of): every
        name without holdings."""
        if self.members:
            return self.members
        return int(self.member.sum()) if self.member is not None else self.universe

    def rank_label(self, rank: int) -> int:
        """The rank (1 = first) shown for the row ranked ``rank`` here: its index-wide rank when
        the board is filtered."""
        if self.ranks is None or not 0 <= rank < len(self.order):
            return rank + 1
        return int(self.ranks[int(self.order[rank])]) + 1

    def rank_of(self, symbol: str | None) -> int | None:
        """The rank (0 = first row) of ``symbol`` in this board, or None if it is not in it."""
        if symbol is None:
            return None
        try:
            pos = self.symbols.index(symbol)
        except ValueError:
            return None
        hits = np.flatnonzero(self.order == pos)
        return int(hits[0]) if len(hits) else None

    def symbol_at(self, rank: int) -> str | None:
        """The symbol ranked ``rank`` (0 = first row), or None past the end."""
        if not 0 <= rank < len(self.order):
            return None
        return self.symbols[int(self.order[rank])]

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
class Sectors:
    """The sector tables (:mod:`feeds.market.sectors`) for the day (since the previous close)
    and year to date, and the movers by period ("1d", "5d", "ytd", in that order)."""

    day: SectorTable
    ytd: SectorTable
    movers: tuple[Movers, ...] = ()

    def table(self, period: str) -> SectorTable:
        return self.ytd if period == "ytd" else self.day


@dataclass(slots=True, frozen=True)
class LevelView:
    price: float
    label: str
    user: bool
    state: LevelState
    # "to go": level - price, in index points (positive: the level is above the price, the index
    # must rise to reach it); one convention on the ladder, the level detail and in JSON
    distance: float | None
    distance_pct: float | None  # distance as a fraction of the price
    crossings: tuple[AlertEvent, ...] = ()
    confirm: str = "tick"  # "tick" | "1m" | "5m": what confirms a crossing (the ladder shows it)
    muted: bool = False  # crossings are logged and listed, no toast, bell or notification
    #: a bar-confirmed level with the price past it by more than the band, its bar not closed yet
    awaiting_close: bool = False
    symbol: str = "^RUT"  # the series watched: "^RUT", or a spread ("RUT-SPX"; then bp)
    #: the hysteresis band in the level's units (index points; bp for a spread): a crossing
    #: needs the value past ``price`` +/- ``band``
    band: float = 0.0
    #: ms the value must stay past the band before a crossing fires (0: at once)
    dwell_ms: int = 0
    #: a crossing waiting out its dwell: ms of feed time left before it fires (None: none)
    dwell_left_ms: int | None = None


@dataclass(slots=True, frozen=True)
class SpreadAlerts:
    """One spread's thresholds (``levels``: LevelView in basis points, ``distance``
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
    new_alerts: list[AlertEvent] = field(default_factory=list)  # fired since the last frame
    problems: tuple[str, ...] = ()  # alert sinks that are failing (a full disk, a dead webhook)
    view: View = View()  # what this frame was built for
    feed_label: str = ""  # the feed's label (its spec, keys masked)
    level_symbol: str = "^RUT"  # the symbol the levels watch
    #: when crossings fire ([alerts] sessions): "regular" (09:30-16:00 ET) or "extended"
    alert_sessions: str = "regular"
    # recent alerts, newest first by their own time, each event once (the pipeline's history)
    alerts: tuple[AlertEvent, ...] = ()
    run_alerts: frozenset[AlertEvent] = frozenset()  # those of ``alerts`` fired in this run
    busted_alerts: frozenset[AlertEvent] = frozenset()  # those of ``alerts`` taken back
    charts: Charts | None = None  # chart series, when the view asked for them
    wall_ms: int = 0  # the machine's clock when built (epoch ms): is the feed's day today?
    session_date: str = ""  # ISO date of the session the data is in ("" before any tick)
    # the feed-status screen: this run's status changes, oldest first (``status`` has the counts)
    status_history: tuple[FeedStatus, ...] = ()
    spread_alerts: dict[str, SpreadAlerts] = field(default_factory=dict)  # by pair, with levels
    unacknowledged: int = 0  # crossings of unmuted levels not yet acknowledged (status bar)
    # the year-to-date story (returns by period, streaks, YTD breadth, the holdings in use,
    # ^RUT's daily bars); None only for frames built without a pipeline
    scoreboard: Scoreboard | None = None
    # where the move comes from (when the view asked: View.sectors): the sectors since the day's
    # anchor (the previous close) and year to date, and the members that moved most over 1 day,
    # 5 days and the year
    sectors: Sectors | None = None

    @property
    def stale(self) -> bool:
        return self.status.state in (FeedState.STALE, FeedState.ERROR, FeedState.RECONNECTING)
