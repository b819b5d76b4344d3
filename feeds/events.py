"""Events a feed yields. Plain slotted dataclasses: cheap to build on the hot path."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(slots=True)
class Tick:
    """One trade or price update. ``symbol`` is canonical (Yahoo style: ``^RUT``, ``MOG-A``)."""

    symbol: str
    price: float
    ts: int  # epoch milliseconds
    size: float | None = None
    day_volume: float | None = None
    prev_close: float | None = None


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
    # >>> fail8a (issue 8 §2): counters a script or the feed-status screen reads; plain ints so a
    # relay serialises them like any other field
    malformed: int = 0  # frames skipped as unreadable since the feed started
    reconnects: int = 0  # reconnect attempts since the feed started
    retry_at: int = 0  # epoch ms of the next connection attempt (0 = none pending)
    # <<< fail8a


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


Event = Tick | FeedStatus | Bars | DailyCloses
