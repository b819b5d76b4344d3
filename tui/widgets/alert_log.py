"""The alert panel: level crossings and approaches in time order, newest first, from the frame.

Every row is drawn from the alert's own fields (time, kind, direction, level, price, estimated,
label, feed), so a field added to :class:`~feeds.alerting.levels.AlertEvent` is one cell more here.
The
frame lists each event once (a seed-0 sim run again, or a replay played twice, fires what the
durable log already has) and says which fired in this run. Alerts from before this run (the
log's) and this run's from before the current session (the app left running overnight) are
dimmed and dated, in any colour depth (the ``rows--earlier`` component class), so an earlier
alert never reads as one that just fired; "today" rolls over with the data's session. The cursor
stays on its alert as new ones arrive while the panel has the focus (unfocused, the newest stays
in sight); Enter opens that level's detail (a spread's: the spread drilldown).

Each row starts with its mark (glyphs, so they read in 16 colours and with no colour): ``●`` the
alert waits for the trader's acknowledgement (``x``; ``X`` all), ``✓`` acknowledged, ``⊘`` its
level was muted (no toast or bell; it waits for nobody). Spread alerts name their pair and read
in basis points.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType

from feeds.alerting.alerts import alert_key
from feeds.alerting.delivery import is_spread, needs_ack
from feeds.alerting.levels import AlertEvent
from feeds.frame import Frame
from tui import fmt, keys
from tui.messages import Acknowledge, ToggleMute
from tui.widgets.rowlist import Cells, RowList

WHAT_IN_FULL = 70  # narrower panels say "▲ up" for "▲ crossed up"
WAITS, ACKED, MUTED = "●", "✓", "⊘"  # the row's first cell


def mark(alert: AlertEvent) -> tuple[str, str]:
    """(glyph, style name) of an alert's first cell: waits for an acknowledgement, acknowledged,
    muted, or nothing (approach notices and busted alerts wait for nobody)."""
    if needs_ack(alert):
        return WAITS, "warn"
    if alert.acknowledged:
        return ACKED, "flat"
    if alert.muted:
        return MUTED, "flat"
    return " ", ""


class AlertLog(RowList):
    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("alerts")
    COMPONENT_CLASSES: ClassVar[set[str]] = {*RowList.COMPONENT_CLASSES, "rows--earlier"}
    # faint (SGR 2) as well as muted: in 16 colours the muted colour can be the brightest white
    DEFAULT_CSS = """
    AlertLog > .rows--earlier { color: $text-muted; text-style: dim; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.alerts: tuple[AlertEvent, ...] = ()
        self.run_alerts: frozenset[AlertEvent] = frozenset()  # fired in this run
        self.busted: frozenset[AlertEvent] = frozenset()  # taken back: their trade was cancelled
        self.session = ""  # ISO date of the data's session: its alerts print without a date
        self._width = 8

    def show(self, frame: Frame) -> None:
        """The frame's recent alerts (a no-op unless they or the data's session changed)."""
        session = frame.session_date or fmt.iso_day(frame.as_of)
        if frame.alerts is self.alerts and session == self.session:
            return
        keep = self.alert_at(self.cursor)
        self.alerts, self.run_alerts, self.session = frame.alerts, frame.run_alerts, session
        self.busted = frame.busted_alerts
        today = all(not self.earlier(i) for i in range(len(self.alerts)))
        self._width = 8 if today else 11  # "HH:MM:SS", or "11-19 15:02" when one is dated
        self._cache.clear()  # rows moved down, dates may have changed: every line is new
        self.data_changed()
        self.set_row_count(max(1, len(self.alerts)))
        if not self.has_focus:
            # nobody is reading a row: the newest alert stays in sight (a 2-row panel at 80x24
            # would otherwise scroll it away to keep the cursor on an older one)
            keep = None
            if self.cursor:
                self.cursor = 0
        # the same event, even when acknowledging it made a new object of it
        if keep is not None and self.alerts and self.alerts[self.cursor] is not keep:
            key = alert_key(keep)
            for i, alert in enumerate(self.alerts):
                if alert_key(alert) == key:
                    self.cursor = i
                    break
        self.refresh()

    def alert_at(self, index: int) -> AlertEvent | None:
        return self.alerts[index] if 0 <= index < len(self.alerts) else None

    def selectable(self, index: int) -> bool:
        return index < len(self.alerts)

    def earlier(self, index: int) -> bool:
        """Dimmed and dated: from before this run, or from before the data's session (a
        session's day starts at midnight ET of its date and lasts until the next session's)."""
        alert = self.alerts[index]
        return (
            alert not in self.run_alerts or not self.session or fmt.iso_day(alert.ts) < self.session
        )

    def _when(self, ts: int, earlier: bool) -> str:
        """This session's alerts by time; earlier ones with their date."""
        return fmt.stamp(ts)[:11] if earlier else fmt.clock(ts)

    def row_cells(self, index: int, width: int) -> Cells:
        if not self.alerts:
            return (("  no alerts yet", "flat"),)
        alert = self.alerts[index]
        earlier = self.earlier(index)
        what, style = fmt.describe(alert)
        full = width >= WHAT_IN_FULL
        busted = alert in self.busted
        if busted:  # taken back: said where even a narrow panel shows it, and dimmed
            what = ("▲ up" if alert.direction == "up" else "▼ down") + ", busted"
        elif not full:  # "▲ up", "◆ near": the label keeps its room
            what = what.split(",")[0].replace("crossed ", "")
        est = " est." if alert.estimated else ""
        muted = " (muted)" if alert.muted else ""
        pair = f" {fmt.clean(alert.symbol, 12)}" if is_spread(alert.symbol) else ""
        glyph, glyph_style = mark(alert)
        cells = (
            (f"{self._when(alert.ts, earlier):<{self._width}} ", "flat"),
            (f"{what:<14}" if full or busted else f"{what:<7}", style),
            (f"{pair} {fmt.alert_level(alert)}", "bold"),
            (f" @ {fmt.alert_price(alert)}{est}", ""),
            (f"  {fmt.clean(alert.label, 30)}{muted}", "flat"),
        )
        if earlier or busted:
            cells = tuple((text, "earlier") for text, _ in cells)
        # the mark keeps its style on a dimmed row: an old alert may still wait for you
        return ((f"{glyph} ", glyph_style), *cells)

    def action_acknowledge(self) -> None:
        alert = self.alert_at(self.cursor)
        if alert is not None:
            self.post_message(Acknowledge(alert))

    def action_mute_alert(self) -> None:
        alert = self.alert_at(self.cursor)
        if alert is not None:
            self.post_message(ToggleMute(alert.symbol, alert.level))
