"""Spread detail: the headline quotes, both spreads, the ratio, the streak and larger charts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer

from feeds.frame import Frame
from feeds.symbols import MAGS, RUT, SPX
from tui import fmt, series
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart
from tui.widgets.spread_card import quote_line, spread_line, streak_text
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import Line, set_titles


class SpreadScreen(DetailScreen):
    DEFAULT_CSS = """
    SpreadScreen #facts { height: auto; margin-bottom: 1; }
    SpreadScreen .chart-title { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="detail", classes="panel"):
            yield Line(id="facts")
            yield Line(classes="chart-title", id="spx-title")
            yield Chart(unit="bp", id="spx-chart")
            yield Line(classes="chart-title", id="mags-title")
            yield Chart(unit="bp", id="mags-chart")
        yield Footer()

    def screen_ready(self) -> None:
        set_titles(
            self.query_one("#detail"), "Spread · Russell 2000 vs S&P 500 and MAGS", "Esc back"
        )
        self.query_one("#spx-title", Line).show(Content("RUT − SPX spread (bp) since the anchor"))
        self.query_one("#mags-title", Line).show(Content("RUT − MAGS spread (bp) since the anchor"))

    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        q = frame.quotes
        lines = [quote_line(q[s], wide=True) for s in (RUT, SPX, MAGS) if s in q]
        ratio = fmt.price(frame.ratio) if frame.ratio is not None else fmt.DASH
        lines += [
            Content(""),
            Content.assemble(*spread_line("RUT − SPX ", frame.spread_spx_bp)),
            Content.assemble(*spread_line("RUT − MAGS", frame.spread_mags_bp)),
            Content.assemble(
                ("Ratio RUT/SPX ", "$text-muted"),
                (ratio, "bold"),
                (f"  (100 at {fmt.anchor_name(frame.anchor)})", "$text-muted"),
            ),
            Content.assemble(("Streak ", "$text-muted"), streak_text(frame.streak)),
        ]
        if frame.estimated_indices:
            lines.append(Content.styled("est.: index estimated from its ETF", "$text-warning"))
        self.query_one("#facts", Line).show(Content("\n").join(lines))
        if charts:
            pipeline = self.r2k.pipeline
            self.query_one("#spx-chart", Chart).update(*series.spread(pipeline, RUT, SPX))
            self.query_one("#mags-chart", Chart).update(*series.spread(pipeline, RUT, MAGS))
