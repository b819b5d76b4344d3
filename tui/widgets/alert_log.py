"""The alert log: level crossings and approaches, in time order, newest first.

Seeded at start from the durable log (earlier alerts are dimmed, in any colour depth), then fed
the frame's new alerts. The same event is listed once: a seed-0 sim run again, or a replay played
twice, fires identical alerts. Enter on an alert opens that level's detail. An alert that fired
on a trade later cancelled is marked busted (dimmed, "up, busted"), and the "busted" alert is
listed when it comes.
"""

from __future__ import annotations

import bisect
from typing import ClassVar, NamedTuple

from feeds.alerts import alert_key
from feeds.levels import AlertEvent
from tui import fmt
from tui.widgets.ladder import level_price
from tui.widgets.rowlist import Cells, RowList

KEEP = 500


class Entry(NamedTuple):
    alert: AlertEvent
    earlier: bool  # from the durable log, before this run
    busted: bool = False  # it fired on a trade since cancelled


def describe(alert: AlertEvent) -> tuple[str, str]:
    """(text, style name) of what happened: "▲ crossed up", "◆ approaching" ..."""
    if alert.kind == "cross":
        if alert.direction == "up":
            return "▲ crossed up", "up"
        return "▼ crossed down", "down"
    if alert.kind == "busted":
        return ("✖ busted ▲" if alert.direction == "up" else "✖ busted ▼"), "warn"
    return ("◆ near, below" if alert.direction == "up" else "◆ near, above"), "warn"


def busts(bust: AlertEvent, alert: AlertEvent) -> bool:
    """Whether the "busted" alert ``bust`` takes back ``alert``."""
    return (
        alert.kind != "busted"
        and (alert.symbol, alert.level, alert.direction)
        == (bust.symbol, bust.level, bust.direction)
        and (not bust.original_ts or alert.ts == bust.original_ts)
    )


class AlertLog(RowList):
    COMPONENT_CLASSES: ClassVar[set[str]] = {*RowList.COMPONENT_CLASSES, "rows--earlier"}
    # faint (SGR 2) as well as muted: in 16 colours the muted colour can be the brightest white
    DEFAULT_CSS = """
    AlertLog > .rows--earlier { color: $text-muted; text-style: dim; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[Entry] = []  # newest first (by the alert's own time)
        self._keys: dict[tuple[object, ...], Entry] = {}
        self.session = ""  # ISO date of the data's session: its alerts print without a date
        self._width_key: object = None
        self._width = 8

    def seed(self, alerts: list[AlertEvent]) -> None:
        """Earlier alerts (from the durable log), dimmed."""
        for alert in alerts:
            self._insert(Entry(alert, True))
        self._mark_busted([a for a in alerts if a.kind == "busted"])
        self._moved()

    def add(self, alerts: list[AlertEvent]) -> None:
        """New alerts (any order). One already listed from the log is that same event: it
        stays one row, now shown as this run's."""
        if not alerts:
            return
        for alert in alerts:
            self._insert(Entry(alert, False))
        self._mark_busted([a for a in alerts if a.kind == "busted"])
        self._moved()

    def _insert(self, entry: Entry) -> None:
        key = alert_key(entry.alert)
        old = self._keys.get(key)
        if old is not None:
            if entry.earlier or not old.earlier:
                return  # listed already
            self.entries.remove(old)
        # after any alert of the same time: among equals, the order they came in
        at = bisect.bisect_right(self.entries, -entry.alert.ts, key=lambda e: -e.alert.ts)
        self.entries.insert(at, entry)
        self._keys[key] = entry
        while len(self.entries) > KEEP:
            del self._keys[alert_key(self.entries.pop().alert)]

    def _mark_busted(self, busted: list[AlertEvent]) -> None:
        """Mark, for each "busted" alert, the newest alert it takes back."""
        for bust in busted:
            for k, entry in enumerate(self.entries):
                if not entry.busted and busts(bust, entry.alert):
                    self.entries[k] = self._keys[alert_key(entry.alert)] = entry._replace(
                        busted=True
                    )
                    break

    def _moved(self) -> None:
        # rows moved: the whole visible list changes
        self._cache.clear()
        self._changed()
        self.refresh()

    def _changed(self) -> None:
        self.data_changed()
        self.set_row_count(max(1, len(self.entries)))
        self.refresh_changed()

    def alert_at(self, index: int) -> AlertEvent | None:
        return self.entries[index].alert if 0 <= index < len(self.entries) else None

    def selectable(self, index: int) -> bool:
        return index < len(self.entries)

    def _today(self, ts: int, earlier: bool) -> bool:
        """An alert of this run in the current session (a session's day starts at midnight ET
        of its date and lasts until the next session's: its post-market, a weekend)."""
        return not earlier and bool(self.session) and fmt.iso_day(ts) >= self.session

    def _when(self, ts: int, earlier: bool) -> str:
        """This session's alerts by time; earlier sessions' (the log's, or this run's before a
        rollover) with their date, so an old alert never reads as one that just fired."""
        if self._today(ts, earlier):
            return fmt.clock(ts)
        return fmt.stamp(ts)[:11]

    def set_today(self, now_ms: int, session: str = "") -> None:
        """The data's session (ISO date; else the date of the feed's clock ``now_ms``): its
        alerts print without a date. Redrawn when it turns, so "today" rolls over."""
        day = session or fmt.iso_day(now_ms)
        if day != self.session:
            self.session = day
            self._cache.clear()
            self._changed()
            self.refresh()

    def _when_width(self) -> int:
        """8 for today's HH:MM:SS; 11 when earlier days' alerts ("11-19 15:02") are listed."""
        # per row drawn: worked out again only when the entries or the session changed
        key = (len(self.entries), self.entries[0] if self.entries else None, self.session)
        if key != self._width_key:
            self._width_key = key
            today = all(self._today(e.alert.ts, e.earlier) for e in self.entries)
            self._width = 8 if today else 11
        return self._width

    def row_cells(self, index: int, width: int) -> Cells:
        if not self.entries:
            return (("  no level alerts yet", "flat"),)
        alert, earlier, busted = self.entries[index]
        earlier = not self._today(alert.ts, earlier)  # an earlier session's: dimmed
        what, style = describe(alert)
        if busted:  # taken back: said where even a narrow panel shows it, and dimmed
            what = ("▲ up" if alert.direction == "up" else "▼ down") + ", busted"
        est = " est." if alert.estimated else ""
        label = fmt.clean(alert.label, 30)
        if earlier or busted:
            return (
                (f" {self._when(alert.ts, earlier):<{self._when_width()}} ", "earlier"),
                (f"{what:<14}", "earlier"),
                (f" {level_price(alert.level)}", "earlier"),
                (f" @ {fmt.price(alert.price)}{est}", "earlier"),
                (f"  {label}", "earlier"),
            )
        return (
            (f" {self._when(alert.ts, earlier):<{self._when_width()}} ", "flat"),
            (f"{what:<14}", style),
            (f" {level_price(alert.level)}", "bold"),
            (f" @ {fmt.price(alert.price)}{est}", ""),
            (f"  {label}", "flat"),
        )
