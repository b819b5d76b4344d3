"""Events a feed yields. Plain slotted dataclasses, cheap to build on the hot path; the
:class:`Tick`, built once per trade, is a msgspec ``Struct``: the cheapest Python object to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import msgspec


class Tick(msgspec.Struct, gc=False):
    """One trade or price update. ``symbol`` is canonical (Yahoo style: ``^RUT``, ``MOG-A``).

    ``sale_flags`` says what the trade may not update, from its condition codes under the
    consolidated tape's rules (:mod:`feeds.market.lastsale`: ``NOT_LAST``, ``NOT_HIGH_LOW``); 0 is a
    regular sale, as every price update without conditions is. ``trade_id`` is the provider's
    id for a trade that a later :class:`TradeCancel` or :class:`TradeCorrection` may name
    (Alpaca's ``i``); None where the provider sends neither.

    A msgspec ``Struct`` rather than a slotted dataclass (issue 22): built in C, ~40 ns against
    ~115 ns for the dataclass's ``__init__`` (a third of what a provider's decode adds to its bare
    JSON parse, and most of a relay batch's decode), with the same fields, positional and keyword
    construction, equality, ``repr`` and attribute reads. ``gc=False``: a tick holds only strings
    and numbers, so it can never be part of a reference cycle and the cyclic collector need not
    track the millions built a session. Its fields are ``msgspec.structs.fields(Tick)``.
    """

    symbol: str
    price: float
    ts: int  # epoch milliseconds
    size: float | None = None
    day_volume: float | None = None
    prev_close: float | None = None
    sale_flags: int = 0
    trade_id: int | str | None = None


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    ERROR = "error"
    ENDED = "ended"


@dataclass(slots=True)
class FeedStatus:
    """A change in the feed's health. ``detail`` is human-readable and safe to show (keys
    masked, one line): the full reason, which the screen's feed-status view shows uncut."""

    state: FeedState
    detail: str = ""
    ts: int = 0  # epoch ms when the status was raised (0 = unknown)
    # counters a script or the feed-status screen reads; plain ints so a
    # relay serialises them like any other field
    malformed: int = 0  # frames skipped as unreadable since the feed started
    reconnects: int = 0  # reconnect attempts since the feed started
    retry_at: int = 0  # epoch ms of the next connection attempt (0 = none pending)
    #: the provider's progress notes ("previous closes 2/3", "symbol list: ... unavailable"),
    #: the end of ``detail`` after "; " where the screen and the status history show them; never
    #: part of the reason a failed run gives (:meth:`reason`; issue 19 §3)
    note: str = ""

    def reason(self) -> str:
        """``detail`` without the provider's notes: why the feed is in its state, short."""
        if self.note and self.detail.endswith(f"; {self.note}"):
            return self.detail[: -len(self.note) - 2]
        return self.detail


@dataclass(slots=True)
class Bars:
    """Intraday backfill for one symbol: (ts_ms, close) points in time order.

    Fills chart history (and ``last`` when newer than what the state holds) without running the
    level engine, so a backfill never fires historical alerts.
    """

    symbol: str
    points: list[tuple[int, float]]
    prev_close: float | None = None


@dataclass(slots=True)
class DailyCloses:
    """Completed sessions' closes for one symbol, oldest first: (session date ISO, close).

    Feeds the outperformance streak and the year-to-date anchor.
    """

    symbol: str
    closes: list[tuple[str, float]] = field(default_factory=list)


@dataclass(slots=True)
class TradeCancel:
    """A trade reported earlier is cancelled (or was an error): it is removed from the tape.

    ``trade_id`` names the trade as its :class:`Tick` did; ``price`` is the price it was
    reported at; ``ts`` (epoch ms) is when the cancel was sent. ``error`` tells an error
    (Alpaca ``a: "E"``) from a cancel (``"C"``); both remove the trade.
    """

    symbol: str
    trade_id: int | str
    price: float
    ts: int
    error: bool = False


@dataclass(slots=True)
class TradeCorrection:
    """A trade reported earlier is corrected: its price (and conditions) are replaced.

    ``trade_id`` names the original trade; ``price``, ``size`` and ``sale_flags`` are the
    corrected trade's (``sale_flags`` as on :class:`Tick`); ``new_id`` is the id the corrected
    trade carries from now on (Alpaca ``ci``), None if it keeps the original's;
    ``original_price`` is the price first reported (Alpaca ``op``), None if not sent; ``ts``
    (epoch ms) is when the correction was sent.
    """

    symbol: str
    trade_id: int | str
    price: float
    ts: int
    size: float | None = None
    sale_flags: int = 0
    new_id: int | str | None = None
    original_price: float | None = None


# daily OHLC history, one session's closes of many symbols, progress
#: A daily bar: (session date ISO, open, high, low, close); open/high/low None where unknown.
DailyBar = tuple[str, float | None, float | None, float | None, float]


@dataclass(slots=True)
class DailyBars:
    """Completed sessions' bars for one symbol, oldest first (index points or dollars).

    Everything :class:`DailyCloses` feeds comes from the closes (previous close, YTD anchor,
    streak); the highs give the record-high streak and the daily chart. ``open``, ``high`` and
    ``low`` are None where the source gives only the close (a replay sidecar without them).
    """

    symbol: str
    bars: list[DailyBar] = field(default_factory=list)

    def closes(self) -> list[tuple[str, float]]:
        """The (date, close) pairs, oldest first."""
        return [(b[0], b[4]) for b in self.bars]


@dataclass(slots=True)
class SessionCloses:
    """Many symbols' closes of one completed session (``date`` ISO): what a provider's batch
    endpoint returns (Polygon's grouped daily, Alpaca's multi-symbol bars, Yahoo's spark).

    Used for the members' YTD anchor (the previous year's last session) and the closes on the
    holdings' as-of date that move weights to the anchor. It never sets a previous close
    unless ``date`` is the session right before the one the data is in.
    """

    date: str
    closes: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class HistoryProgress:
    """How far a background history download has got: ``done`` of ``total`` steps of ``what``
    (``"daily history"``, ``"YTD anchors"``); ``done == total`` when it is over. ``detail``:
    one line on what failed, if anything (safe to show)."""

    what: str
    done: int
    total: int
    detail: str = ""


@dataclass(slots=True)
class MarketReset:
    """The feed's market started over at an earlier time: a relay restarted on the sim or a
    replay (``feeds.sources.relay.consumer``). Every price, session, chart and level side seen so
    far
    belongs to a run that is gone, and the new run's prints are stamped before them; the
    pipeline starts its market afresh. ``ts``: the new run's clock (epoch ms); ``detail``: one
    line on why, safe to show."""

    ts: int
    detail: str = ""


@dataclass(slots=True)
class SessionRange:
    """A symbol's session open, high and low (points) as a relay's board holds them, carried by
    its snapshot so a terminal that joins mid-session has the session's real figures, not the
    range of the ticks it happened to see (``feeds.sources.relay.sync``). ``ts``: the time
    (epoch ms) of the symbol's last sale on that board; a terminal already in a later session
    ignores it. ``None``: no figure yet (not traded since the open, or since the rollover)."""

    symbol: str
    ts: int
    open: float | None = None
    high: float | None = None
    low: float | None = None


Event = (
    Tick
    | FeedStatus
    | Bars
    | DailyCloses
    | DailyBars
    | SessionCloses
    | HistoryProgress
    | TradeCancel
    | TradeCorrection
    | MarketReset
    | SessionRange
)
