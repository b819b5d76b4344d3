"""The leaderboard: constituents ranked by contribution (or return, weight, symbol).

``BoardTable`` is a line-API list over the frame's ``Board``: it formats only the visible rows,
refreshes only lines whose text changed, and marks prices that ticked since the last frame with
an arrow (so the mark reads without colour). ``Leaderboard`` adds the breadth line and the filter.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, NamedTuple

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input

from feeds.analytics import Breadth
from feeds.frame import Board
from tui import fmt
from tui.widgets.rowlist import Cells, RowList
from tui.widgets.text import Line

SORT_LABELS = {
    "contribution": "contribution",
    "return": "return",
    "weight": "weight",
    "symbol": "symbol",
}


class Columns(NamedTuple):
    symbol: int
    name: int  # 0 = hidden
    weight: bool
    sector: int  # 0 = hidden


@lru_cache(maxsize=16)
def layout(width: int) -> Columns:
    """Column widths for a board ``width`` cells wide: the name takes what is left."""
    # Real tickers fit 6 cells (MOG-A); wider boards give a 7th so longer ones are not cut.
    symbol = 7 if width >= 90 else 6
    fixed = 5 + symbol + 1 + 10 + 2 + 9 + 8  # rank, symbol, last, mark, return, contribution
    weight = width >= 60
    if weight:
        fixed += 7
    sector = 16 if width >= 110 else 0
    name = width - fixed - sector - 1
    if name < 8:
        name = 0
    return Columns(symbol, name, weight, sector)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class BoardTable(RowList):
    """The ranked rows. Holds the last frame's board (a snapshot), never market state."""

    HEADER_LINES = 1

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board: Board | None = None
        self.sort = "contribution"
        self.descending = True
        self._marks: dict[str, str] = {}
        self._shown_last: dict[str, float] = {}
        self._names: dict[str, str] = {}  # cleaned names, cached by symbol

    # --- data --------------------------------------------------------------------------------
    def set_sort(self, sort: str, descending: bool) -> None:
        """The header marks the sort column, so a new sort repaints the header line."""
        if (sort, descending) != (self.sort, self.descending):
            self.sort, self.descending = sort, descending
            self.refresh(Region(0, 0, self.size.width, self.HEADER_LINES))

    def set_board(self, board: Board, changed: frozenset[str], *, stale: bool = False) -> None:
        self.board = board
        self.data_changed()
        self._set_dim(stale)
        self.set_row_count(len(board))
        self._marks = self._tick_marks(board, changed)
        self.refresh_changed()

    def _tick_marks(self, board: Board, changed: frozenset[str]) -> dict[str, str]:
        """Arrows for visible rows that ticked this frame: up or down against the shown price."""
        marks: dict[str, str] = {}
        if not changed:
            return marks
        order = board.order
        for index in self.visible_range():
            pos = int(order[index])
            symbol = board.symbols[pos]
            if symbol not in changed:
                continue
            last = float(board.last[pos])
            if np.isnan(last):
                continue
            before = self._shown_last.get(symbol)
            self._shown_last[symbol] = last
            if before is None or last == before:
                marks[symbol] = "•"
            else:
                marks[symbol] = fmt.UP if last > before else fmt.DOWN
        return marks

    def symbol_at(self, index: int) -> str | None:
        if self.board is None or not 0 <= index < len(self.board):
            return None
        return self.board.symbols[int(self.board.order[index])]

    def _display_name(self, symbol: str, raw: str) -> str:
        name = self._names.get(symbol)
        if name is None:
            name = self._names[symbol] = fmt.clean(raw, 80)
        return name

    # --- cells -------------------------------------------------------------------------------
    def header_cells(self, width: int) -> Cells:
        cols = layout(width)
        arrow = "▼" if self.descending else "▲"

        def head(label: str, key: str, w: int, left: bool = False) -> tuple[str, str]:
            text = f"{label}{arrow}" if key == self.sort else label
            cell = text.ljust(w) if left else text.rjust(w)
            return (cell, "accent" if key == self.sort else "header")

        cells: list[tuple[str, str]] = [
            ("    # ", "header"),
            head("Symbol", "symbol", cols.symbol, True),
        ]
        if cols.name:
            cells.append((" " + "Name".ljust(cols.name), "header"))
        if cols.sector:
            cells.append((" " + "Sector".ljust(cols.sector - 1), "header"))
        cells.append((" " + "Last".rjust(9) + "  ", "header"))
        cells.append(head("Return", "return", 9))
        if cols.weight:
            cells.append(head("Wt", "weight", 7))
        cells.append(head("Ctb bp", "contribution", 8))
        return tuple(cells)

    def row_cells(self, index: int, width: int) -> Cells:
        board = self.board
        if board is None:
            return ()
        cols = layout(width)
        pos = int(board.order[index])
        symbol = board.symbols[pos]
        last = float(board.last[pos])
        ret = float(board.ret[pos])
        contribution = float(board.contribution[pos])
        mark = self._marks.get(symbol, " ")
        # a symbol the feed sends that is not an index member: greyed, no weight, ranked last
        outsider = board.member is not None and not board.member[pos]
        cells: list[tuple[str, str]] = [
            (f"{index + 1:>5} ", "flat"),
            (_fit(fmt.clean(symbol, 12), cols.symbol).ljust(cols.symbol), ""),
        ]
        if cols.name:
            raw = "not an index member" if outsider else board.names[pos]
            name = _fit(self._display_name(symbol, raw), cols.name)
            cells.append((" " + name.ljust(cols.name), "flat" if outsider else ""))
        if cols.sector:
            sector = _fit(fmt.clean(board.sectors[pos], 40), cols.sector - 1)
            cells.append((" " + sector.ljust(cols.sector - 1), "flat"))
        cells.append((" " + fmt.price(last).rjust(9), "mark" if mark != " " else ""))
        mark_style = "up" if mark == fmt.UP else "down" if mark == fmt.DOWN else "flat"
        cells.append((mark + " ", mark_style))
        cells.append((fmt.pct(ret).rjust(9), fmt.sign_class(ret)))
        if cols.weight:
            weight = "not in" if outsider else fmt.weight_pct(float(board.weight[pos]))
            cells.append((weight.rjust(7), "flat" if outsider else ""))
        cells.append((fmt.signed(contribution).rjust(8), fmt.sign_class(contribution)))
        return tuple(cells)


def board_title(board: Board, width: int = 200) -> str:
    """ "Leaders · 1,924 names · 99.4% of the index", and "· weights as of DATE" when the
    weights could not be moved to the anchor; shortened to fit a panel ``width`` cells wide."""
    if board.coverage is None:  # no holdings: every name the feed sends
        return f"Leaders · {len(board):,} names"
    names = fmt.coverage(board.names_priced, board.coverage)
    asof = board.weights_as_of
    if asof is None:
        options = [f"Leaders · {names}", names]
    else:
        basis = fmt.weights_basis(asof)
        options = [
            f"Leaders · {names} · weights {basis}",
            f"{names} · weights {basis}",
            f"{names.replace(' of the index', ' of index')} · weights as of {asof}",
        ]
    return next((t for t in options if len(t) <= width - 6), options[-1])


def breadth_text(breadth: Breadth, shown: int, total: int, text: str) -> Content:
    pct_up = breadth.pct_up
    parts: list[str | tuple[str, str]] = [
        (f"▲ {breadth.advancers} up", "$text-success"),
        "  ",
        (f"▼ {breadth.decliners} down", "$text-error"),
        f"  = {breadth.unchanged}  ",
        (f"{pct_up * 100:.0f}% up" if pct_up is not None else "— up", "bold"),
    ]
    if text:
        parts.append((f"  · filter “{fmt.clean(text, 30)}”: {shown} of {total}", "italic"))
    return Content.assemble(*parts)


class Leaderboard(Vertical):
    """The board panel: the table, its breadth line and an on-demand filter box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close_filter", "Clear filter", show=False),
    ]
    DEFAULT_CSS = """
    Leaderboard #breadth { height: 1; padding: 0 1; }
    Leaderboard #filter { display: none; height: 1; border: none; padding: 0 1; }
    Leaderboard.-filtering #filter { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield BoardTable(id="board")
        yield Input(placeholder="filter by symbol or name (Enter keeps, Esc clears)", id="filter")
        yield Line(id="breadth")

    @property
    def table(self) -> BoardTable:
        return self.query_one(BoardTable)

    def action_close_filter(self) -> None:
        """Esc: clear the filter (the box's Changed event tells the app) and go back to the rows."""
        self.remove_class("-filtering")
        self.query_one("#filter", Input).value = ""
        self.table.focus()

    def set_breadth(self, breadth: Breadth, shown: int, text: str) -> None:
        self.query_one("#breadth", Line).show(breadth_text(breadth, shown, breadth.total, text))
