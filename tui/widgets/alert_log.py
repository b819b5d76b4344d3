"""The alert log: level crossings and approaches, newest first.

Seeded at start from the durable log (earlier alerts are dimmed), then fed the frame's new
alerts. Enter on an alert opens that level's detail. An alert that fired on a trade later
cancelled is marked busted, and the "busted" alert is listed when it comes.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

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
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: deque[Entry] = deque(maxlen=KEEP)
        self.today_ms = 0  # the feed's clock, to print today's alerts without a date

    def seed(self, alerts: list[AlertEvent]) -> None:
        """Earlier alerts, newest first, shown below anything this run raises."""
        for alert in alerts:
            self.entries.append(Entry(alert, True))
        for k, entry in enumerate(self.entries):
            if entry.alert.kind == "busted":
                self._mark_busted(entry.alert, start=k + 1)
        self._changed()

    def add(self, alerts: list[AlertEvent]) -> None:
        """New alerts in the order they fired (oldest first)."""
        if not alerts:
            return
        for alert in alerts:
            self.entries.appendleft(Entry(alert, False))
            if alert.kind == "busted":
                self._mark_busted(alert, start=1)
        # everything moved down a line: the whole visible list changes
        self._cache.clear()
        self._changed()
        self.refresh()

    def _mark_busted(self, bust: AlertEvent, start: int) -> None:
        """Mark the newest alert from ``start`` on that ``bust`` takes back."""
        for k in range(start, len(self.entries)):
            entry = self.entries[k]
            if not entry.busted and busts(bust, entry.alert):
                self.entries[k] = entry._replace(busted=True)
                return

    def _changed(self) -> None:
        self.data_changed()
        self.set_row_count(max(1, len(self.entries)))
        self.refresh_changed()

    def alert_at(self, index: int) -> AlertEvent | None:
        return self.entries[index].alert if 0 <= index < len(self.entries) else None

    def selectable(self, index: int) -> bool:
        return index < len(self.entries)

    def _when(self, ts: int, earlier: bool) -> str:
        """This session's alerts by time; the log's earlier ones with their date, so a replayed
        or earlier run's alert never reads as one that just fired."""
        if not earlier and self.today_ms and fmt.day(ts) == fmt.day(self.today_ms):
            return fmt.clock(ts)
        return fmt.stamp(ts)[:11]

    def set_today(self, now_ms: int) -> None:
        """The feed's clock: today's alerts print without a date (redrawn when the day turns)."""
        if fmt.day(now_ms) != fmt.day(self.today_ms):
            self.today_ms = now_ms
            self._cache.clear()
            self._changed()
            self.refresh()
        else:
            self.today_ms = now_ms

    def _when_width(self) -> int:
        """8 for today's HH:MM:SS; 11 when earlier days' alerts ("11-19 15:02") are listed."""
        return 11 if any(e.earlier for e in self.entries) else 8

    def row_cells(self, index: int, width: int) -> Cells:
        if not self.entries:
            return (("  no level alerts yet", "flat"),)
        alert, earlier, busted = self.entries[index]
        what, style = describe(alert)
        if busted:  # taken back: said where even a narrow panel shows it, and dimmed
            what = ("▲ up" if alert.direction == "up" else "▼ down") + ", busted"
        est = " est." if alert.estimated else ""
        label = fmt.clean(alert.label, 30)
        faded = earlier or busted
        return (
            (f" {self._when(alert.ts, earlier):<{self._when_width()}} ", "flat"),
            (f"{what:<14}", "flat" if faded else style),
            (f" {level_price(alert.level)}", "flat" if faded else "bold"),
            (f" @ {fmt.price(alert.price)}{est}", "flat" if faded else ""),
            (f"  {label}", "flat"),
        )
