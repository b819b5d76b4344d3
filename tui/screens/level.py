"""Level drilldown: the level, its state, its crossings this session and the distance over time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer

from feeds.frame import Frame, LevelView
from tui import fmt, series
from tui.screens.base import DetailScreen
from tui.widgets.alert_log import describe
from tui.widgets.chart import Chart
from tui.widgets.ladder import STATE_TEXT
from tui.widgets.spread_card import SIGN_STYLE
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import Line, set_titles


def level_facts(lv: LevelView, price: float | None, symbol: str, estimated: bool) -> Content:
    state, _, style = STATE_TEXT[lv.state]
    state_style = {"up": "$text-success", "down": "$text-error", "warn": "$text-warning"}.get(
        style, ""
    )
    est = " est." if estimated else ""
    side = "above" if lv.distance is not None and lv.distance < 0 else "below"
    lines = [
        Content.assemble(
            ("Level     ", "$text-muted"),
            (fmt.price(lv.price), "bold"),
            f"  {fmt.clean(lv.label, 40)}",
            ("  (yours)" if lv.user else "  (technical)", "$text-muted"),
        ),
        Content.assemble(("State     ", "$text-muted"), (state, f"bold {state_style}")),
        Content.assemble(
            ("Price     ", "$text-muted"),
            (fmt.price(price), "bold"),
            f" {symbol}{est}",
            (f"  {side} the level", "$text-muted") if price is not None else "",
        ),
        Content.assemble(
            ("Distance  ", "$text-muted"),
            (f"{fmt.signed(lv.distance)} pts  {fmt.pct(lv.distance_pct)}", ""),
            ("  (level − price)", "$text-muted"),
        ),
        Content(""),
        Content.styled(f"Crossings this session: {len(lv.crossings)}", "bold"),
    ]
    for alert in reversed(lv.crossings[-8:]):
        what, sign = describe(alert)
        lines.append(
            Content.assemble(
                f"  {fmt.clock(alert.ts)}  ",
                (f"{what:<15}", SIGN_STYLE.get(sign, "")),
                f" at {fmt.price(alert.price)}" + (" est." if alert.estimated else ""),
            )
        )
    if not lv.crossings:
        lines.append(Content.styled("  none yet", "$text-muted"))
    return Content("\n").join(lines)


class LevelScreen(DetailScreen):
    DEFAULT_CSS = """
    LevelScreen #facts { height: auto; margin-bottom: 1; }
    """

    def __init__(self, price: float) -> None:
        super().__init__()
        self.price = price

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="detail", classes="panel"):
            yield Line(id="facts")
            yield Chart(unit="", decimals=1, baseline_label="level", id="chart")
        yield Footer()

    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        lv = next((lv for lv in frame.levels if lv.price == self.price), None)
        panel = self.query_one("#detail")
        if lv is None:
            set_titles(panel, f"Level {fmt.price(self.price)} (removed)", "Esc back")
            return
        symbol = self.r2k.pipeline.levels.symbol
        set_titles(panel, f"Level {fmt.price(lv.price)} · {fmt.clean(lv.label, 40)}", "Esc back")
        self.query_one("#facts", Line).show(
            level_facts(lv, frame.level_price, symbol, frame.estimated_indices)
        )
        if charts:
            chart = self.query_one(Chart)
            chart.unit = " pts"
            chart.update(*series.distance(self.r2k.pipeline, lv.price), baseline=0.0)
