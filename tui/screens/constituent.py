"""Constituent drilldown: one name's stats, its weight in the index move and its intraday chart."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer

from feeds.frame import BoardRow, Frame
from feeds.symbols import RUT
from tui import fmt, series
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart, nice_decimals
from tui.widgets.spread_card import SIGN_STYLE
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import Line, set_titles

LABEL_W = 14


def _row(label: str, *parts: str | tuple[str, str]) -> Content:
    return Content.assemble((f"{label:<{LABEL_W}}", "$text-muted"), *parts)


def facts(row: BoardRow, index_ret: float | None, anchor: str) -> Content:
    style = SIGN_STYLE[fmt.sign_class(row.ret)]
    anchor_px = row.last / (1 + row.ret) if fmt.known(row.last) and fmt.known(row.ret) else None
    change = row.last - anchor_px if anchor_px is not None and row.last is not None else None
    index_bp = index_ret * 10_000 if index_ret is not None else None
    share = (
        row.contribution_bp / index_bp
        if fmt.known(row.contribution_bp) and index_bp is not None and abs(index_bp) >= 0.5
        else None
    )
    lines = [
        _row("Sector", fmt.clean(row.sector or "—", 60)),
        _row(
            "Last",
            (fmt.price(row.last), "bold"),
            (f"  {fmt.arrow(row.ret)} {fmt.signed(change)}  {fmt.pct(row.ret)}", style),
            (f"  vs {fmt.anchor_name(anchor)} {fmt.price(anchor_px)}", "$text-muted"),
        ),
        _row("Weight", fmt.weight_pct(row.weight), ("  of the index at the anchor", "$text-muted")),
        _row(
            "Contribution",
            (
                f"{fmt.bp(row.contribution_bp, 2)} bp",
                SIGN_STYLE[fmt.sign_class(row.contribution_bp)],
            ),
            (
                f"  {share * 100:+.1f}% of the index move ({fmt.bp(index_bp, 1)} bp)"
                if share is not None
                else f"  index move {fmt.bp(index_bp, 1)} bp",
                "$text-muted",
            ),
        ),
        _row("Session", f"high {fmt.price(row.high)}   low {fmt.price(row.low)}"),
        _row("Ticks", f"{row.count:,}", (f"   last at {fmt.clock(row.ts)} ET", "$text-muted")),
    ]
    return Content("\n").join(lines)


class ConstituentScreen(DetailScreen):
    DEFAULT_CSS = """
    ConstituentScreen #facts { height: auto; margin-bottom: 1; }
    """

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="detail", classes="panel"):
            yield Line(id="facts")
            yield Chart(
                unit="",
                decimals=2,
                signed=False,
                include_baseline=False,
                id="chart",
                empty_text="no history yet",
            )
        yield Footer()

    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        row = frame.board.find(self.symbol)
        panel = self.query_one("#detail")
        if row is None:
            set_titles(panel, fmt.clean(self.symbol, 12), "Esc back")
            self.query_one("#facts", Line).show(Content("No data for this symbol in the frame."))
            return
        set_titles(panel, f"{fmt.clean(row.symbol, 12)} · {fmt.clean(row.name, 60)}", "Esc back")
        rut = frame.quotes.get(RUT)
        self.query_one("#facts", Line).show(facts(row, rut.ret if rut else None, frame.anchor))
        if charts:
            app = self.r2k
            times, prices = series.history(app.pipeline, self.symbol)
            anchor = app.pipeline.state.anchor(self.symbol, app.pipeline.anchor)
            chart = self.query_one(Chart)
            chart.decimals = nice_decimals(prices)
            chart.baseline_label = fmt.anchor_name(frame.anchor) if anchor else None
            base = anchor if anchor else (float(prices[0]) if len(prices) else 0.0)
            # the range holds the session's high and low, which fall between chart points
            chart.update(times, prices, baseline=base, extent=(row.low, row.high))
