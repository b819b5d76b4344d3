"""Spread detail: the headline quotes, both spreads, the ratio, the streak and larger charts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content

from feeds.frame import Charts, Frame, View
from feeds.symbols import MAGS, RUT, SPX
from tui import fmt
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart
from tui.widgets.spread_card import quote_line, spread_line, streak_text
from tui.widgets.text import Line

TITLE = "Spread · Russell 2000 vs S&P 500 and MAGS"


class SpreadScreen(DetailScreen):
    def wants(self, view: View) -> View:
        return View(paused=view.paused)

    def compose_charts(self) -> ComposeResult:
        for pair, name in (("spx", "SPX"), ("mags", "MAGS")):
            title = Line(classes="chart-title", id=f"{pair}-title")
            title.show(Content(f"RUT − {name} spread (bp) since the anchor"))
            yield title
            yield Chart(unit="bp", id=f"{pair}-chart")

    def describe(self, frame: Frame) -> tuple[str, Content]:
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
        return TITLE, Content("\n").join(lines)

    def draw(self, frame: Frame, charts: Charts) -> None:
        for pair, line in (("spx", charts.spread_spx), ("mags", charts.spread_mags)):
            self.query_one(f"#{pair}-chart", Chart).update(line.times, line.values)
