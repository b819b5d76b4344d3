"""Constituent drilldown: one name's stats, its share of the index move and its intraday chart."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content

from feeds.frame import BoardRow, Charts, Frame, View
from feeds.symbols import RUT
from tui import fmt
from tui.fmt import SIGN_STYLE
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart, nice_decimals

LABEL_W = 14


def _row(label: str, *parts: str | tuple[str, str]) -> Content:
    return Content.assemble((f"{label:<{LABEL_W}}", "$text-muted"), *parts)


def _row_with_note(label: str, head: list[tuple[str, str]], note: str, width: int) -> list[Content]:
    """A row and its muted note: on one line when it fits in ``width`` cells, else the note on
    the next line under the figures (a hanging indent), never wrapped mid-figure."""
    if LABEL_W + sum(len(t) for t, _ in head) + len(note) <= width:
        return [_row(label, *head, (note, "$text-muted"))]
    return [_row(label, *head), _row("", (note.lstrip(), "$text-muted"))]


def facts(row: BoardRow, index_ret: float | None, anchor: str, width: int = 200) -> Content:
    """The facts block: last and change since the anchor, weight, contribution, range, ticks,
    laid out for ``width`` cells (a note that does not fit goes under its figures)."""
    style = SIGN_STYLE[fmt.sign_class(row.ret * 100 if row.ret is not None else None, 2)]
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
        *_row_with_note(
            "Last",
            [
                (fmt.price(row.last), "bold"),
                (f"  {fmt.arrow(row.ret)} {fmt.signed(change)}  {fmt.pct(row.ret)}", style),
            ],
            f"  since {fmt.anchor_name(anchor)} {fmt.price(anchor_px)}",
            width,
        ),
        _row("Weight", fmt.weight_pct(row.weight), ("  of the index at the anchor", "$text-muted")),
        *_row_with_note(
            "Contribution",
            [
                (
                    f"{fmt.bp(row.contribution_bp, 2)} bp",
                    SIGN_STYLE[fmt.sign_class(row.contribution_bp, 2)],
                )
            ],
            f"  {fmt.pct(share, 1)} of the index move ({fmt.bp(index_bp, 1)} bp)"
            if share is not None
            else f"  index move {fmt.bp(index_bp, 1)} bp",
            width,
        ),
        _row("Session", f"high {fmt.price(row.high)}   low {fmt.price(row.low)}"),
        _row("Ticks", f"{row.count:,}", (f"   last at {fmt.clock(row.ts)} ET", "$text-muted")),
    ]
    return Content("\n").join(lines)


class ConstituentScreen(DetailScreen):
    FACTS_INDENT = LABEL_W

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol

    def wants(self, view: View) -> View:
        # the whole universe, whatever the board's filter: this name is in it
        return View(symbol=self.symbol, paused=view.paused)

    def compose_charts(self) -> ComposeResult:
        yield Chart(
            unit="",
            decimals=2,
            signed=False,
            include_baseline=False,
            steps=True,  # last sales: flat until the next print
            id="chart",
            empty_text="no history yet",
        )

    def describe(self, frame: Frame) -> tuple[str, Content]:
        row = frame.board.find(self.symbol)
        if row is None:
            return fmt.clean(self.symbol, 12), Content("No data for this symbol yet.")
        title = f"{fmt.clean(row.symbol, 12)} · {fmt.clean(row.name, 60)}"
        rut = frame.quotes.get(RUT)
        # the facts line's width once laid out (the screen's less the panel's border and
        # padding before the first layout)
        width = self.query_one("#facts").size.width or max(0, self.size.width - 4)
        return title, facts(row, rut.ret if rut else None, frame.anchor, width or 200)

    def draw(self, frame: Frame, charts: Charts) -> None:
        prices = charts.symbol
        if prices is None:
            return
        chart = self.query_one(Chart)
        chart.decimals = nice_decimals(prices.values)
        anchor = charts.symbol_anchor
        chart.baseline_label = fmt.anchor_name(frame.anchor) if anchor else None
        base = anchor if anchor else (float(prices.values[0]) if len(prices) else 0.0)
        row = frame.board.find(self.symbol)
        # the range holds the session's high and low, which fall between chart points
        extent = (row.low, row.high) if row is not None else None
        # an intraday anchor (the previous close by default) is always a line on the chart
        chart.include_baseline = anchor is not None and frame.anchor != "ytd"
        chart.update(prices.times, prices.values, baseline=base, extent=extent, until=frame.as_of)
