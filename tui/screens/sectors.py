"""The sector view: where the index move comes from, sector by sector (issue 20 §1).

One row per sector of the holdings, largest contribution first: its weight in the index, its
contribution (bp) and share of the index move, breadth by count (up/down, % up) and by weight,
and its best and worst member. It follows the app's anchor: since the previous close (the day)
or, after ``y``, year to date. Enter on a sector filters the board to it (``sector:NAME``) and
goes back to the monitor, where the filtered board keeps index-wide ranks and a subtotal line.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content

from feeds.frame import Frame, View
from feeds.market.sectors import Mover, SectorRow, SectorTable
from tui import fmt, keys
from tui.messages import FilterChanged
from tui.screens.base import FrameScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.rowlist import Cells, RowList
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import Line, set_titles
from tui.widgets.too_small import TooSmall

TITLE = "Sectors · where the move comes from"


class Cols(NamedTuple):
    sector: int
    weight: bool
    names: bool
    counts: bool  # up / down
    weight_up: bool
    best: int  # 0: hidden
    worst: int
    other: int = 0  # the other period's block (contribution, share, %up, best, worst); 0: hidden


MOVER = 18  # "VTEX +3.2%"
MOVER_BP = 26  # "VTEX    +3.2%    +0.12": with its contribution (bp)
OTHER = 3 + 9 + 8 + 6 + 2 * MOVER  # " │ " then the other period's figures


def layout(width: int, both: bool = False) -> Cols:
    """The columns a table ``width`` cells wide shows: the sector, its contribution, its share
    of the move and % of its members up always; then its weight, names, up/down counts, the
    share of its weight up, the best and the worst member, with their contributions; with
    ``both`` and the room (about 190 cells), the other period's figures beside them (the
    year to date beside the day's, or the day's beside the year's)."""
    fixed = 9 + 8 + 6  # contribution, share, % up
    weight, names, counts = width >= 56, width >= 64, width >= 76
    weight_up = width >= 84
    fixed += 8 * weight + 6 * names + 10 * counts + 7 * weight_up
    rest = width - fixed - 1 - 24  # what the widest sector name leaves
    mover = MOVER_BP if rest >= 2 * MOVER_BP else MOVER
    best = mover if rest >= mover else 0
    worst = mover if rest >= 2 * mover else 0
    other = OTHER if both and rest - best - worst >= OTHER else 0
    sector = max(10, min(24, width - fixed - best - worst - other - 1))
    return Cols(sector, weight, names, counts, weight_up, best, worst, other)


def counts_cell(up: str, down: str) -> str:
    """ "418 / 137" in 10 cells with the slash in one column on every row (the up count
    right-aligned before it, the down count left-aligned after), so the column reads down."""
    return f"{up:>4} / {down:<3}"


def mover_cell(m: Mover | None, w: int) -> str:
    """ "VTEX +3.2%", and its contribution in bp ("VTEX    +3.2%    +0.12") in a cell of
    :data:`MOVER_BP`; fitted to ``w`` cells."""
    if m is None or not w:
        return ""
    text = f" {fmt.clean(m.symbol, 7)} {fmt.pct(m.ret, 1)}"
    if w >= MOVER_BP:
        bp = fmt.bp(m.contribution_bp, 2)
        text = f" {fmt.clean(m.symbol, 7):<7}{fmt.pct(m.ret, 1):>8} {bp:>8}"
    return text[:w].ljust(w)


class SectorList(RowList):
    """The sector rows (a frame's table; no market state of its own)."""

    HEADER_LINES = 1

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = SectorTable()
        self.other: dict[str, SectorRow] = {}  # the other period's rows, by sector
        self.other_label = "YTD"

    def set_table(
        self,
        table: SectorTable,
        *,
        stale: bool = False,
        other: SectorTable | None = None,
        other_label: str = "YTD",
    ) -> None:
        """Show ``table``; ``other`` (the other period's table, ``other_label`` "YTD" or
        "Day") fills the columns beside it where the width allows (:func:`layout`)."""
        keep = self.sector_at(self.cursor)
        self.table = table
        self.other = {r.sector: r for r in other.rows} if other is not None else {}
        self.other_label = other_label
        self.data_changed()
        self._set_dim(stale)
        self.set_row_count(max(1, len(table.rows)))
        names = [r.sector for r in table.rows]
        if keep is not None and keep.sector in names and names.index(keep.sector) != self.cursor:
            self.cursor = names.index(keep.sector)  # the cursor stays on its sector
        self.refresh_changed()

    def sector_at(self, index: int) -> SectorRow | None:
        rows = self.table.rows
        return rows[index] if 0 <= index < len(rows) else None

    def selectable(self, index: int) -> bool:
        return self.sector_at(index) is not None

    def header_cells(self, width: int) -> Cells:
        c = layout(width, bool(self.other))
        cells = [(" " + "Sector".ljust(c.sector - 1), "header")]
        if c.names:
            cells.append(("Names".rjust(6), "header"))
        if c.weight:
            cells.append(("Wt".rjust(8), "header"))
        cells += [("Ctb bp▼".rjust(9), "accent"), ("Share".rjust(8), "header")]
        if c.counts:
            cells.append((counts_cell("▲", "▼"), "header"))
        cells.append(("%up".rjust(6), "header"))
        if c.weight_up:
            cells.append(("wt up".rjust(7), "header"))
        for width_, word in ((c.best, "Best"), (c.worst, "Worst")):
            if width_ >= MOVER_BP:
                cells.append((f" {word:<7}{'ret':>8} {'ctb bp':>8}".ljust(width_), "header"))
            elif width_:
                cells.append((f" {word}".ljust(width_), "header"))
        if c.other:
            label = self.other_label
            cells += [
                (" │ ", "flat"),
                (f"{label} bp".rjust(9), "header"),
                ("Share".rjust(8), "header"),
                ("%up".rjust(6), "header"),
                (f" Best {label}".ljust(MOVER), "header"),
                (f" Worst {label}".ljust(MOVER), "header"),
            ]
        return tuple(cells)

    def row_cells(self, index: int, width: int) -> Cells:
        row = self.sector_at(index)
        if row is None:
            return (("  no sectors: the holdings name none, or no member has a price yet", "flat"),)
        c = layout(width, bool(self.other))
        t = row.total
        name = fmt.clean(row.sector, 40)
        name = name if len(name) <= c.sector - 1 else name[: c.sector - 2] + "…"
        cells: list[tuple[str, str]] = [(" " + name.ljust(c.sector - 1), "bold")]
        if c.names:
            cells.append((f"{t.names:,}".rjust(6), "flat"))
        if c.weight:
            cells.append((fmt.weight_pct(t.weight).rjust(8), ""))
        cells += move_cells(row)
        if c.counts:
            cells.insert(-1, (counts_cell(f"{t.up:,}", f"{t.down:,}"), "flat"))
        if c.weight_up:
            wup = f"{t.weight_up * 100:.0f}%" if t.weight_up is not None else fmt.DASH
            cells.append((wup.rjust(7), "flat"))
        if c.best:
            cells.append((mover_cell(row.best, c.best), "up"))
        if c.worst:
            cells.append((mover_cell(row.worst, c.worst), "down"))
        if c.other:
            other = self.other.get(row.sector)
            cells.append((" │ ", "flat"))
            if other is None or not other.total.priced:  # no member has a return over it
                cells.append((fmt.DASH.rjust(9 + 8 + 6).ljust(OTHER - 3), "flat"))
            else:
                cells += move_cells(other)
                cells.append((mover_cell(other.best, MOVER), "up"))
                cells.append((mover_cell(other.worst, MOVER), "down"))
        return tuple(cells)


def move_cells(row: SectorRow) -> list[tuple[str, str]]:
    """A sector's contribution (bp), share of the index move and % of its members up."""
    t = row.total
    sign = fmt.sign_class(t.contribution_bp, 2)
    share = fmt.pct(t.share, 0).replace("+", "") if t.share is not None else fmt.DASH
    up = f"{t.pct_up * 100:.0f}%" if t.pct_up is not None else fmt.DASH
    return [
        (fmt.bp(t.contribution_bp, 2).rjust(9), sign),
        (share.rjust(8), sign),
        (up.rjust(6), ""),
    ]


def sector_note(table: SectorTable, period: str, anchor: str, width: int = 200) -> Content:
    """What the table adds up to and how to use it, in the words that fit ``width``."""
    since = "year to date" if period == "ytd" else f"since {fmt.anchor_name(anchor)}"
    move = f"{fmt.bp(table.index_bp, 1)} bp"
    tails = [
        f" {since} · share: of the index move · %up: members up · ⏎ filters the board to it",
        f" {since} · ⏎ filters the board to the sector",
        " · ⏎ filters the board",
    ]
    tail = next((t for t in tails if len("index move " + move + t) <= width), tails[-1])
    return Content.assemble(("index move ", "$text-muted"), (move, "bold"), (tail, "$text-muted"))


class SectorScreen(FrameScreen):
    """The sector table; Enter filters the board to a sector, Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("detail")
    DEFAULT_CSS = """
    SectorScreen #sector-panel { height: 1fr; padding: 0 1; }
    SectorScreen #sector-list { height: 1fr; }
    SectorScreen #sector-note { height: 1; color: $text-muted; text-wrap: nowrap; }
    """

    def wants(self, view: View) -> View:
        return View(sectors=True, paused=view.paused)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="sector-panel", classes="panel"):
            yield SectorList(id="sector-list")
            yield Line(id="sector-note")
        yield TooSmall()
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(SectorList).focus()

    def render_frame(self, frame: Frame) -> None:
        sectors = frame.sectors
        if sectors is None:
            return
        period = "ytd" if frame.anchor == "ytd" else "day"
        table = sectors.table(period)
        since = "year to date" if period == "ytd" else f"since {fmt.anchor_name('prev')}"
        panel = self.query_one("#sector-panel")
        set_titles(panel, f"{TITLE} · {since}", "⏎ filter the board · y day/YTD · Esc back")
        other = sectors.table("day" if period == "ytd" else "ytd")
        self.query_one(SectorList).set_table(
            table, stale=frame.stale, other=other, other_label="Day" if period == "ytd" else "YTD"
        )
        note = self.query_one("#sector-note", Line)
        note.show(sector_note(table, period, "prev", note.content_region.width or 200))

    def render_paused(self, frame: Frame) -> None:
        if not self.query_one(SectorList).table.rows:
            self.render_frame(frame)

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        row = self.query_one(SectorList).sector_at(event.index)
        if row is not None:
            event.stop()
            self.post_message(FilterChanged(f"sector:{row.sector}"))
            self.dismiss()

    def action_dismiss_screen(self) -> None:
        self.dismiss()
