"""The level engine: crossing alerts on the Russell 2000 that do not flap.

Each level remembers which side of it the price is on. A crossing fires only when the price goes
past the level by more than the hysteresis band; the opposite crossing needs the price to go back
beyond the band on the other side, so a price whipsawing inside the band fires nothing. The first
price seen only sets the side: a level already passed at start-up never fires.

An alert that fired on a trade later cancelled is busted (:meth:`LevelEngine.bust`): the level
goes back to where it stood before that alert, and a ``"busted"`` alert says so.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

#: The technical levels the product ships with (index points, label).
DEFAULT_LEVELS: tuple[tuple[float, str], ...] = (
    (2300.0, "critical support"),
    (2450.0, "support"),
    (2642.0, "upside target"),
    (2861.0, "upside target"),
    (3000.0, "upside target"),
)
DEFAULT_HYSTERESIS = 0.0005  # 0.05 % of the level
DEFAULT_APPROACH = 0.0025  # "approaching" within 0.25 % of the level


class Side(StrEnum):
    UNKNOWN = "unknown"
    ABOVE = "above"
    BELOW = "below"


class LevelState(StrEnum):
    ARMED = "armed"
    APPROACHING = "approaching"
    CROSSED_UP = "crossed up"
    CROSSED_DOWN = "crossed down"


@dataclass(slots=True, frozen=True)
class AlertEvent:
    ts: int  # epoch ms (the tick's data time)
    symbol: str
    level: float
    label: str
    direction: str  # "up" | "down"
    price: float
    kind: str  # "cross" | "approach" | "busted"
    estimated: bool = False  # the index value was estimated from its ETF
    # the feed's spec kind ("sim", "replay", "yahoo", ...): sim and replay alerts never mix with
    # live ones (feeds.feed.is_live); "" when unknown (a log written before the field existed)
    feed: str = ""
    #: a "busted" alert: the ``ts`` of the alert it busts (epoch ms); 0 otherwise. Its
    #: ``symbol``, ``level``, ``direction`` are that alert's; ``price`` is the price standing now.
    original_ts: int = 0

    def to_dict(self) -> dict[str, object]:
        from feeds.timefmt import iso_ms

        d: dict[str, object] = {
            "ts": iso_ms(self.ts),
            "symbol": self.symbol,
            "level": self.level,
            "label": self.label,
            "direction": self.direction,
            "price": self.price,
            "kind": self.kind,
            "estimated": self.estimated,
            "feed": self.feed,
        }
        if self.original_ts:
            d["original_ts"] = iso_ms(self.original_ts)
        return d


@dataclass(slots=True)
class Level:
    price: float
    label: str
    user: bool = False
    side: Side = Side.UNKNOWN
    state: LevelState = LevelState.ARMED
    near: bool = False  # inside the approach distance (the notice has fired or was pre-set)
    crossings: list[AlertEvent] = field(default_factory=list)


_NO_ALERTS: list[AlertEvent] = []
UNDO_MEMORY = 64  # alerts that can still be busted (a cancel follows its trade within seconds)


@dataclass(slots=True)
class _Undo:
    """What an alert changed on its level: (side, state, near) before and after it fired."""

    alert: AlertEvent
    level: Level
    before: tuple[Side, LevelState, bool]
    after: tuple[Side, LevelState, bool]


class LevelEngine:
    """Tracks each level's side for one symbol and emits AlertEvents on crossings."""

    def __init__(
        self,
        levels: list[tuple[float, str]] | tuple[tuple[float, str], ...] = DEFAULT_LEVELS,
        *,
        symbol: str = "^RUT",
        hysteresis: float = DEFAULT_HYSTERESIS,
        approach: float | None = DEFAULT_APPROACH,
        feed: str = "",
    ) -> None:
        """``feed``: the spec kind stamped on every alert (see :attr:`AlertEvent.feed`)."""
        if hysteresis < 0:
            raise ValueError("hysteresis must be >= 0")
        self.symbol = symbol
        self.hysteresis = hysteresis
        self.approach = approach
        self.feed = feed
        self.levels: list[Level] = []
        self.last_price: float | None = None
        self._undo: deque[_Undo] = deque(maxlen=UNDO_MEMORY)
        for price, label in levels:
            self.add(price, label, user=False)

    def add(self, price: float, label: str = "user level", *, user: bool = True) -> Level:
        """Add a level (kept sorted); it takes its side from the last price without firing."""
        if not price > 0:
            raise ValueError(f"a level must be a positive number of index points, not {price!r}")
        for lv in self.levels:
            if lv.price == price:
                return lv
        lv = Level(price, label, user=user)
        if self.last_price is not None:
            self._settle(lv, self.last_price)
        self.levels.append(lv)
        self.levels.sort(key=lambda x: x.price)
        return lv

    def new_session(self) -> None:
        """A new session: crossings today start afresh and crossed levels are armed again. The
        side carries over, so a price that gaps through a level overnight fires at the new
        session's first price (a crossing since the last price seen)."""
        for lv in self.levels:
            lv.crossings.clear()
            if lv.state in (LevelState.CROSSED_UP, LevelState.CROSSED_DOWN):
                lv.state = LevelState.APPROACHING if lv.near else LevelState.ARMED

    def remove(self, price: float) -> bool:
        before = len(self.levels)
        self.levels = [lv for lv in self.levels if lv.price != price]
        return len(self.levels) != before

    def _settle(self, lv: Level, price: float) -> None:
        lv.side = Side.ABOVE if price >= lv.price else Side.BELOW
        if self.approach is not None:
            lv.near = abs(price - lv.price) <= self.approach * lv.price
            if lv.near and lv.state is LevelState.ARMED:
                lv.state = LevelState.APPROACHING

    def on_price(self, price: float, ts: int, *, estimated: bool = False) -> list[AlertEvent]:
        """Feed one price of the watched symbol; returns the alerts it fires (usually none)."""
        first = self.last_price is None
        self.last_price = price
        if first:
            for lv in self.levels:
                self._settle(lv, price)
            return _NO_ALERTS
        out = _NO_ALERTS
        for lv in self.levels:
            band = self.hysteresis * lv.price
            # (side, state, near) before an alert fires: what busting it restores; taken only
            # when one is about to fire (rare), not for every level on every price
            before = None
            if lv.side is Side.BELOW and price > lv.price + band:
                before, fired = (lv.side, lv.state, lv.near), len(out)
                lv.side = Side.ABOVE
                lv.state = LevelState.CROSSED_UP
                out = self._fire(out, lv, ts, "up", price, "cross", estimated)
            elif lv.side is Side.ABOVE and price < lv.price - band:
                before, fired = (lv.side, lv.state, lv.near), len(out)
                lv.side = Side.BELOW
                lv.state = LevelState.CROSSED_DOWN
                out = self._fire(out, lv, ts, "down", price, "cross", estimated)
            if self.approach is not None:
                dist = abs(price - lv.price)
                reach = self.approach * lv.price
                if not lv.near and dist <= reach:
                    if before is None:
                        before, fired = (lv.side, lv.state, lv.near), len(out)
                    lv.near = True
                    if lv.state is LevelState.ARMED:
                        lv.state = LevelState.APPROACHING
                    direction = "up" if price < lv.price else "down"
                    out = self._fire(out, lv, ts, direction, price, "approach", estimated)
                elif lv.near and dist > reach + band:
                    # moved clearly away again: the next approach is news
                    lv.near = False
                    if lv.state is LevelState.APPROACHING:
                        lv.state = LevelState.ARMED
            if before is not None:  # remember how to take these alerts back
                after = (lv.side, lv.state, lv.near)
                for alert in out[fired:]:
                    self._undo.append(_Undo(alert, lv, before, after))
        return out

    def bust(self, alert: AlertEvent, ts: int, price: float) -> AlertEvent | None:
        """Take back ``alert`` (it fired on a trade since cancelled): its level returns to its
        side and state before the alert, unless a later alert has moved it since, and a
        crossing leaves the level's crossings. Returns the ``"busted"`` alert to deliver
        (``ts`` epoch ms of the cancel, ``price`` the price standing now, index points), or
        None for an alert this engine no longer remembers (:data:`UNDO_MEMORY`) or a level
        since removed.
        """
        undo = next((u for u in self._undo if u.alert is alert), None)
        if undo is None:
            return None
        self._undo.remove(undo)
        lv = undo.level
        if not any(x is lv for x in self.levels):
            return None
        if (lv.side, lv.state, lv.near) == undo.after:
            lv.side, lv.state, lv.near = undo.before
        if alert.kind == "cross":
            lv.crossings = [c for c in lv.crossings if c is not alert]
        return AlertEvent(
            ts,
            alert.symbol,
            alert.level,
            alert.label,
            alert.direction,
            price,
            "busted",
            alert.estimated,
            feed=alert.feed,
            original_ts=alert.ts,
        )

    def _fire(
        self,
        out: list[AlertEvent],
        lv: Level,
        ts: int,
        direction: str,
        price: float,
        kind: str,
        estimated: bool,
    ) -> list[AlertEvent]:
        ev = AlertEvent(
            ts, self.symbol, lv.price, lv.label, direction, price, kind, estimated, self.feed
        )
        if kind == "cross":
            lv.crossings.append(ev)
        if out is _NO_ALERTS:
            out = []
        out.append(ev)
        return out
