"""The alert panel: level crossings and approaches, newest first, from the frame's recent alerts.

Every row is drawn from the alert's own fields (time, kind, direction, level, price, estimated,
label), so a field added to :class:`~feeds.levels.AlertEvent` is one cell more here. Alerts from
before this run (the durable log's tail) are dimmed and dated, so an earlier session's alert never
reads as one that just fired. The cursor stays on its alert as new ones arrive; Enter opens that
level's detail.
"""

from __future__ import annotations

from feeds.frame import Frame
from feeds.levels import AlertEvent
from tui import fmt
from tui.widgets.rowlist import Cells, RowList

WHAT_IN_FULL = 70  # narrower panels say "▲ up" for "▲ crossed up"


class AlertLog(RowList):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alerts: tuple[AlertEvent, ...] = ()
        self.session = 0  # the first ``session`` alerts fired in this run
        self.today_ms = 0  # the feed's clock: today's alerts print without a date

    def show(self, frame: Frame) -> None:
        """The frame's recent alerts (a no-op unless they or the feed's day changed)."""
        day_turned = not fmt.same_day(frame.as_of, self.today_ms)
        self.today_ms = frame.as_of
        if frame.alerts is self.alerts and frame.session_alerts == self.session and not day_turned:
            return
        keep = self.alert_at(self.cursor)
        self.alerts, self.session = frame.alerts, frame.session_alerts
        self._cache.clear()  # rows moved down, dates may have changed: every line is new
        self.data_changed()
        self.set_row_count(max(1, len(self.alerts)))
        if keep is not None and self.alerts and self.alerts[self.cursor] is not keep:
            for i, alert in enumerate(self.alerts):
                if alert is keep:
                    self.cursor = i
                    break
        self.refresh()

    def alert_at(self, index: int) -> AlertEvent | None:
        return self.alerts[index] if 0 <= index < len(self.alerts) else None

    def selectable(self, index: int) -> bool:
        return index < len(self.alerts)

    def earlier(self, index: int) -> bool:
        return index >= self.session

    def _when(self, ts: int, earlier: bool) -> str:
        """This session's alerts by time; earlier ones (and other days') with their date."""
        if not earlier and fmt.same_day(ts, self.today_ms):
            return fmt.clock(ts)
        return fmt.stamp(ts)[:11]

    def _when_width(self) -> int:
        """8 for today's HH:MM:SS; 11 when earlier days' alerts ("11-19 15:02") are listed."""
        return 11 if len(self.alerts) > self.session else 8

    def row_cells(self, index: int, width: int) -> Cells:
        if not self.alerts:
            return (("  no level alerts yet", "flat"),)
        alert = self.alerts[index]
        earlier = self.earlier(index)
        what, style = fmt.describe(alert)
        if width < WHAT_IN_FULL:  # "▲ up", "◆ near": the label keeps its room
            what = what.split(",")[0].replace("crossed ", "")
        est = " est." if alert.estimated else ""
        dim = "flat" if earlier else ""
        return (
            (f" {self._when(alert.ts, earlier):<{self._when_width()}} ", "flat"),
            (
                f"{what:<14}" if width >= WHAT_IN_FULL else f"{what:<7}",
                "flat" if earlier else style,
            ),
            (f" {fmt.level_price(alert.level)}", "flat" if earlier else "bold"),
            (f" @ {fmt.price(alert.price)}{est}", dim),
            (f"  {fmt.clean(alert.label, 30)}", "flat"),
        )
