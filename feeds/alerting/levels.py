"""The level engine: crossing alerts on the Russell 2000 that do not flap.

Each level remembers which side of it the price is on. A crossing fires only when the price goes
past the level by more than the hysteresis band; the opposite crossing needs the price to go back
beyond the band on the other side, so a price whipsawing inside the band fires nothing. The first
price seen only sets the side: a level already passed at start-up never fires.

The same engine watches the RUT-SPX and RUT-MAGS spreads (issue 10): a "level" is then a threshold
in basis points (any sign) and the band an absolute number of basis points (``band=``).

Confirmation (issue 10): a level whose ``confirm`` is ``"1m"`` or ``"5m"`` ignores single prints.
Its side moves only when a bar of that length closes beyond it by more than the band; the alert's
price is the bar's close and its time the bar's end. Bars are built here from the prices fed in,
aligned to the New York clock's minute (New York's UTC offset is a whole number of hours, so a
minute or five-minute boundary of epoch time is one on the New York clock too). A bar closes when
the first price of a later bar arrives, or when :meth:`LevelEngine.close_bars` is told the clock
has passed its end (the frame loop does, so a quiet market does not hold an alert back).

An alert that fired on a trade later cancelled is busted (:meth:`LevelEngine.bust`): the level
goes back to where it stood before that alert, and a ``"busted"`` alert says so.
"""

from __future__ import annotations

import math
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
#: The approach notice's own hysteresis (issue 18 §3): once sent, it is sent again only after
#: the price has gone farther from the level than this multiple of the approach distance
#: (1.5 x 0.25 % = 0.375 %, some 9 points at 2,470), not merely past the distance by the
#: crossing band (0.05 %, ~1.2 points: a price hovering at the edge re-armed it every minute).
APPROACH_REARM = 1.5
#: The spread thresholds' defaults (issue 18 §2), from the default sim's RUT-SPX spread over an
#: hour (seeds 0-2, ``bench/spread_flap.py``): its standard deviation is about 0.7 bp over
#: 10 s and 1.9 bp over 60 s, so the old 2 bp band was inside a minute's noise (42 crossings,
#: 23 reversed within 60 s). A crossing needs the spread past the threshold by the band (about
#: twice a minute's noise) for the dwell (half a minute) of feed time.
DEFAULT_SPREAD_BAND_BP = 4.0
DEFAULT_SPREAD_DWELL_S = 30.0
#: How a level's crossing is confirmed: on the price itself, or on a 1- or 5-minute bar's close.
CONFIRM_MODES: tuple[str, ...] = ("tick", "1m", "5m")
BAR_MS: dict[str, int] = {"1m": 60_000, "5m": 300_000}  # bar length per confirmation mode


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
    # additive fields
    #: how the crossing was confirmed: "tick", or "1m"/"5m" (``price`` is then the bar's close
    #: and ``ts`` the bar's end)
    confirm: str = "tick"
    #: the level was muted: logged and listed, but no toast, bell, notification, hook or command
    muted: bool = False
    #: acknowledged by the user (an "ack" record in the durable log); state, not part of the event
    acknowledged: bool = False
    #: a "busted" alert: the ``ts`` of the alert it busts (epoch ms); 0 otherwise. Its
    #: ``symbol``, ``level``, ``direction`` are that alert's; ``price`` is the price standing now.
    original_ts: int = 0
    #: the practice run that fired it (issue 18 §1): each start of the sim or a replay (and
    #: each restart of its market) is a run of its own, so a run's alerts and their
    #: acknowledgements never stand for another run's; "" on a live feed, whose alerts are
    #: the market's and outlive a restart
    run: str = ""
    #: an earlier run's alert, listed as history: dated, dimmed, never waiting (state, not
    #: part of the event)
    past_run: bool = False

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
            "confirm": self.confirm,
            "muted": self.muted,
        }
        if self.original_ts:
            d["original_ts"] = iso_ms(self.original_ts)
        if self.run:
            d["run"] = self.run
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
    confirm: str = "tick"  # one of CONFIRM_MODES
    muted: bool = False  # alerts still fire and are logged, marked muted
    band: float = 0.0  # the hysteresis band in the level's own units (set by the engine)
    #: ms the value must stay past ``price`` +/- ``band`` before a tick-confirmed crossing
    #: fires (0: at once); a value back inside the band starts the wait afresh
    dwell_ms: int = 0
    #: epoch ms since which the value has stood past the band (a crossing waiting out its
    #: dwell), None when it is not past
    past_since: int | None = None
    #: the band was set for this level (a tighter band per threshold), not the engine's default
    own_band: bool = False


@dataclass(slots=True)
class _Bar:
    """The bar being built for one confirmation mode: [start, end) in epoch ms and its close."""

    start: int
    end: int
    close: float
    estimated: bool


_NO_ALERTS: list[AlertEvent] = []
_NEVER = 2**62  # "no bar open": later than any epoch ms
UNDO_MEMORY = 64  # alerts that can still be busted (a cancel follows its trade within seconds)


@dataclass(slots=True)
class _Undo:
    """What an alert changed on its level: (side, state, near) before and after it fired."""

    alert: AlertEvent
    level: Level
    before: tuple[Side, LevelState, bool]
    after: tuple[Side, LevelState, bool]


class LevelEngine:
    """Tracks each level's side for one watched series and emits AlertEvents on crossings.

    The series is a symbol's price in index points (``symbol="^RUT"``), or a spread in basis
    points (``symbol="RUT-SPX"``, with an absolute ``band`` and no approach notices).
    """

    def __init__(
        self,
        levels: list[tuple[float, str]] | tuple[tuple[float, str], ...] = DEFAULT_LEVELS,
        *,
        symbol: str = "^RUT",
        hysteresis: float = DEFAULT_HYSTERESIS,
        approach: float | None = DEFAULT_APPROACH,
        feed: str = "",
        band: float | None = None,
        confirm: str = "tick",
        dwell_ms: int = 0,
    ) -> None:
        """``hysteresis``: the band as a fraction of each level; ``band``: an absolute
        band in the series' units instead (basis points for a spread), which also lets levels
        be zero or negative. ``dwell_ms``: how long (feed time, ms) a tick-confirmed level's
        value must stay past the band before the crossing fires (the spreads' default is
        :data:`DEFAULT_SPREAD_DWELL_S`; 0: at once). ``approach``: the "approaching" distance
        as a fraction of the level (None: off). ``confirm``: the confirmation of levels added
        without one (CONFIRM_MODES). ``feed``: the spec kind stamped on every alert (see
        :attr:`AlertEvent.feed`).
        Raises ValueError for a negative band or an unknown confirmation mode."""
        if hysteresis < 0 or (band is not None and band < 0):
            raise ValueError("hysteresis must be >= 0")
        if dwell_ms < 0:
            raise ValueError("dwell must be >= 0")
        self.dwell_ms = int(dwell_ms)
        self.symbol = symbol
        self.hysteresis = hysteresis
        self.band = band
        self.approach = approach
        self.feed = feed
        self.run = ""  # the practice run alerts are stamped with (AlertEvent.run)
        self.confirm = check_confirm(confirm)
        self.levels: list[Level] = []
        self.last_price: float | None = None
        self._undo: deque[_Undo] = deque(maxlen=UNDO_MEMORY)
        self._bars: dict[str, _Bar] = {}  # confirmation mode -> the bar being built
        self._closed_until: dict[str, int] = {}  # mode -> end of its last closed bar (ms)
        self._bar_modes: tuple[str, ...] = ()  # the bar-confirmed modes some level uses
        self._next_end = _NEVER  # the earliest end of a bar being built (ms)
        for price, label in levels:
            self.add(price, label, user=False)

    def add(
        self,
        price: float,
        label: str = "user level",
        *,
        user: bool = True,
        confirm: str | None = None,
        muted: bool = False,
        band: float | None = None,
        dwell_ms: int | None = None,
    ) -> Level:
        """Add a level (kept sorted); it takes its side from the last price without firing.

        ``confirm`` (None: the engine's default) is one of :data:`CONFIRM_MODES`. ``band``
        (the level's units) and ``dwell_ms`` set this level's own band and dwell (None: the
        engine's). A level at a price already watched is returned as it is. Raises ValueError
        for a price that is not a positive number (any finite number with an absolute
        ``band``), an unknown mode, or a negative band or dwell.
        """
        if (band is not None and not band >= 0) or (dwell_ms is not None and dwell_ms < 0):
            raise ValueError("a band or a dwell must be >= 0")
        if self.band is None and not price > 0:
            raise ValueError(f"a level must be a positive number of index points, not {price!r}")
        if not math.isfinite(price):
            raise ValueError(f"a level must be a finite number, not {price!r}")
        mode = self.confirm if confirm is None else check_confirm(confirm)
        for lv in self.levels:
            if lv.price == price:
                return lv
        own = band is not None
        if band is None:
            band = self.band if self.band is not None else self.hysteresis * price
        dwell = self.dwell_ms if dwell_ms is None else int(dwell_ms)
        lv = Level(price, label, user=user, confirm=mode, muted=muted, band=band, dwell_ms=dwell)
        lv.own_band = own
        if self.last_price is not None:
            self._settle(lv, self.last_price)
        self.levels.append(lv)
        self.levels.sort(key=lambda x: x.price)
        self._update_modes()
        return lv

    @property
    def on_bars(self) -> bool:
        """Whether some level confirms on a bar's close (then bars are built)."""
        return bool(self._bar_modes)

    def find(self, price: float) -> Level | None:
        """The level at ``price``, or None."""
        return next((lv for lv in self.levels if lv.price == price), None)

    def set_muted(self, price: float, muted: bool) -> Level | None:
        """Mute or unmute the level at ``price`` (its alerts are still logged, marked muted);
        None if there is no such level."""
        lv = self.find(price)
        if lv is not None:
            lv.muted = muted
        return lv

    def set_confirm(self, price: float, confirm: str) -> Level | None:
        """Confirm the level at ``price`` on ``confirm`` (one of :data:`CONFIRM_MODES`) from now
        on; None if there is no such level. Raises ValueError for an unknown mode."""
        mode = check_confirm(confirm)
        lv = self.find(price)
        if lv is not None and lv.confirm != mode:
            lv.confirm = mode
            self._update_modes()
        return lv

    def new_session(self, *, resettle: bool = False) -> None:
        """A new session: crossings today start afresh and crossed levels are armed again. The
        side carries over, so a price that gaps through a level overnight fires at the new
        session's first price (a crossing since the last price seen).

        ``resettle`` (a spread, measured afresh from each session's anchor): the next value only
        sets the sides, as at start-up, and bars being built are dropped."""
        for lv in self.levels:
            lv.crossings.clear()
            if lv.state in (LevelState.CROSSED_UP, LevelState.CROSSED_DOWN):
                lv.state = LevelState.APPROACHING if lv.near else LevelState.ARMED
        if resettle:
            self.last_price = None
            self._bars.clear()
            self._next_end = _NEVER
            for lv in self.levels:
                lv.side = Side.UNKNOWN
                lv.past_since = None

    def remove(self, price: float) -> bool:
        before = len(self.levels)
        self.levels = [lv for lv in self.levels if lv.price != price]
        self._update_modes()
        return len(self.levels) != before

    def _settle(self, lv: Level, price: float) -> None:
        lv.side = Side.ABOVE if price >= lv.price else Side.BELOW
        lv.past_since = None
        if self.approach is not None:
            lv.near = abs(price - lv.price) <= self.approach * abs(lv.price)
            if lv.near and lv.state is LevelState.ARMED:
                lv.state = LevelState.APPROACHING

    @staticmethod
    def _beyond(lv: Level, price: float) -> bool:
        """A bar-confirmed level with ``price`` on its far side: a print jumped past it, so it
        is not approaching; the ladder says it awaits the bar's close, whose crossing (or the
        price coming back within reach on its side) decides what is sent."""
        if lv.confirm == "tick":
            return False
        if lv.side is Side.BELOW:
            return price >= lv.price
        if lv.side is Side.ABOVE:
            return price <= lv.price
        return False

    def awaiting_close(self, lv: Level) -> bool:
        """True when a bar-confirmed level has the price past it by more than the band, but no
        bar has closed there yet (the ladder can say "above, awaiting the 5m close")."""
        price = self.last_price
        if lv.confirm == "tick" or price is None:
            return False
        if lv.side is Side.BELOW:
            return price > lv.price + lv.band
        if lv.side is Side.ABOVE:
            return price < lv.price - lv.band
        return False

    def _cross(
        self,
        out: list[AlertEvent],
        lv: Level,
        ts: int,
        direction: str,
        price: float,
        estimated: bool,
    ) -> list[AlertEvent]:
        """``lv`` crossed in ``direction``: its side and state move and the alert fires."""
        lv.past_since = None
        if direction == "up":
            lv.side, lv.state = Side.ABOVE, LevelState.CROSSED_UP
        else:
            lv.side, lv.state = Side.BELOW, LevelState.CROSSED_DOWN
        return self._fire(out, lv, ts, direction, price, "cross", estimated)

    def dwelling(self, lv: Level) -> int | None:
        """The feed time (epoch ms) at which ``lv``'s crossing fires if the value stays past
        its band, or None when no crossing is waiting out its dwell."""
        return None if lv.past_since is None else lv.past_since + lv.dwell_ms

    def _due(self) -> int:
        """The earliest feed time something is due: a bar's end or a dwell's end (ms)."""
        due = min((b.end for b in self._bars.values()), default=_NEVER)
        for lv in self.levels:
            if lv.past_since is not None:
                due = min(due, lv.past_since + lv.dwell_ms)
        return due

    # --- bars (confirmation on a close) ------------------------------------------------------
    def close_bars(self, now_ms: int) -> list[AlertEvent]:
        """Close every bar that ended at or before ``now_ms`` (epoch ms, the feed's clock) and
        return the crossings their closes confirm, then fire the crossings whose dwell has run
        out by then (at the dwell's end, at the last value). Cheap when nothing is due: call it
        from the frame loop, so a bar closes on time even if no later price comes."""
        if now_ms < self._next_end:  # the per-price path: one comparison
            return _NO_ALERTS
        out = _NO_ALERTS
        for mode, bar in list(self._bars.items()):
            if bar.end <= now_ms:
                del self._bars[mode]
                self._closed_until[mode] = bar.end
                out = self._on_close(out, mode, bar)
        price = self.last_price
        for lv in self.levels:
            due = self.dwelling(lv)
            if due is not None and due <= now_ms and price is not None:
                out = self._cross(
                    out, lv, due, "up" if lv.side is Side.BELOW else "down", price, False
                )
        self._next_end = self._due()
        return out

    def _bar_price(self, price: float, ts: int, estimated: bool) -> None:
        """Put a price into the bar of each confirmation mode in use."""
        for mode in self._bar_modes:
            bar = self._bars.get(mode)
            if bar is None:
                if ts < self._closed_until.get(mode, 0):
                    continue  # a late price of a bar already closed: it stays closed
                n = BAR_MS[mode]
                start = ts - ts % n
                self._bars[mode] = _Bar(start, start + n, price, estimated)
                self._next_end = min(self._next_end, start + n)
            else:
                bar.close = price
                bar.estimated = estimated

    def _update_modes(self) -> None:
        self._bar_modes = tuple(m for m in BAR_MS if any(lv.confirm == m for lv in self.levels))
        for mode in [m for m in self._bars if m not in self._bar_modes]:
            del self._bars[mode]
        self._next_end = self._due()

    def _on_close(self, out: list[AlertEvent], mode: str, bar: _Bar) -> list[AlertEvent]:
        close = bar.close
        for lv in self.levels:
            if lv.confirm != mode:
                continue
            if lv.side is Side.BELOW and close > lv.price + lv.band:
                out = self._cross(out, lv, bar.end, "up", close, bar.estimated)
            elif lv.side is Side.ABOVE and close < lv.price - lv.band:
                out = self._cross(out, lv, bar.end, "down", close, bar.estimated)
        return out

    # --- prices --------------------------------------------------------------------------------
    def on_price(self, price: float, ts: int, *, estimated: bool = False) -> list[AlertEvent]:
        """Feed one value of the watched series (index points, or bp for a spread) at ``ts``
        (epoch ms); returns the alerts it fires (usually none): the bars it closes first, then
        the tick-confirmed crossings and approach notices of the price itself."""
        out = self.close_bars(ts) if ts >= self._next_end else _NO_ALERTS
        first = self.last_price is None
        self.last_price = price
        if self._bar_modes:
            self._bar_price(price, ts, estimated)
        if first:
            for lv in self.levels:
                self._settle(lv, price)
            return out
        for lv in self.levels:
            band = lv.band
            # (side, state, near) before an alert fires: what busting it restores; taken only
            # when one is about to fire (rare), not for every level on every price
            before = None
            if lv.confirm == "tick":
                if lv.side is Side.BELOW and price > lv.price + band:
                    direction: str | None = "up"
                elif lv.side is Side.ABOVE and price < lv.price - band:
                    direction = "down"
                else:
                    direction = lv.past_since = None  # inside the band: any wait starts afresh
                if direction is not None and lv.dwell_ms:
                    if lv.past_since is None:  # past it now: fires if it stays past
                        lv.past_since = ts
                        self._next_end = min(self._next_end, ts + lv.dwell_ms)
                    if ts - lv.past_since < lv.dwell_ms:
                        direction = None
                if direction is not None:
                    before, fired = (lv.side, lv.state, lv.near), len(out)
                    out = self._cross(out, lv, ts, direction, price, estimated)
            if self.approach is not None:
                dist = abs(price - lv.price)
                reach = self.approach * abs(lv.price)
                if not lv.near and dist <= reach and not self._beyond(lv, price):
                    if before is None:
                        before, fired = (lv.side, lv.state, lv.near), len(out)
                    lv.near = True
                    if lv.state is LevelState.ARMED:
                        lv.state = LevelState.APPROACHING
                    direction = "up" if price < lv.price else "down"
                    out = self._fire(out, lv, ts, direction, price, "approach", estimated)
                elif lv.near and dist > reach * APPROACH_REARM:
                    # moved clearly away again (its own hysteresis): the next approach is news
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
            confirm=alert.confirm,
            muted=alert.muted,
            original_ts=alert.ts,
            run=alert.run,
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
        if self.band is not None:  # a spread: tested exact, reported without float noise
            price = round(price, 4)
        ev = AlertEvent(
            ts,
            self.symbol,
            lv.price,
            lv.label,
            direction,
            price,
            kind,
            estimated,
            self.feed,
            confirm=lv.confirm if kind == "cross" else "tick",
            muted=lv.muted,
            run=self.run,
        )
        if kind == "cross":
            lv.crossings.append(ev)
        if out is _NO_ALERTS:
            out = []
        out.append(ev)
        return out


def check_confirm(mode: object) -> str:
    """A confirmation mode, checked: one of :data:`CONFIRM_MODES`. Raises ValueError."""
    if mode not in CONFIRM_MODES:
        raise ValueError(f"confirm must be one of {', '.join(CONFIRM_MODES)}, not {mode!r}")
    return str(mode)
