"""The leaderboard: constituents ranked by contribution (or return, weight, symbol).

``BoardTable`` is a line-API list over the frame's ``Board``: it formats only the visible rows,
refreshes only lines whose text changed, and marks prices that ticked since the last frame with
an arrow (so the mark reads without colour). Its cursor stays on a name, not a rank: as ranks
change the cursor follows its symbol, so Enter opens the stock the trader selected. Wide boards
add the session's high and low and the tick count rather than padding the name. ``Leaderboard``
adds the breadth line and the filter box.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import ClassVar, NamedTuple

import numpy as np
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input

from feeds.frame import Board, Frame
from feeds.market.scoreboard import HoldingsInfo
from tui import fmt, keys
from tui.messages import CursorMoved, OpenScoreboard
from tui.widgets.download import DownloadProgress
from tui.widgets.rowlist import Cells, RowList
from tui.widgets.text import Line, set_titles

SORT_LABELS = {
    "contribution": "contribution",
    "return": "return",
    "weight": "weight",
    "symbol": "symbol",
}
NAME_MIN = 30  # the name keeps this much before the sector grows past 16
SECTOR_MAX = 24  # "Information Technology" whole


class Columns(NamedTuple):
    symbol: int
    name: int  # 0 = hidden
    weight: bool
    sector: int  # 0 = hidden
    range: bool  # the session's high and low
    ticks: bool
    change: bool  # points since the anchor


@lru_cache(maxsize=16)
def layout(width: int) -> Columns:
    """Column widths for a board ``width`` cells wide: past the fixed figures the name keeps
    NAME_MIN, the sector takes up to SECTOR_MAX, the name the rest; wide boards then add the
    session's range, the tick count and the change in points rather than a blank name."""
    # Real tickers fit 6 cells (MOG-A); wider boards give a 7th so longer ones are not cut.
    symbol = 7 if width >= 90 else 6
    fixed = 6 + symbol + 10 + 2 + 9 + 8  # rank, symbol, last, mark, return, contribution
    weight = width >= 60
    if weight:
        fixed += 7
    wide_range, ticks, change = width >= 125, width >= 135, width >= 145
    fixed += 20 * wide_range + 8 * ticks + 9 * change
    rest = width - fixed - 1
    sector = max(16, min(SECTOR_MAX, rest - NAME_MIN)) if width >= 90 else 0
    name = rest - sector
    if name < 8:
        name = 0
    return Columns(symbol, name, weight, sector, wide_range, ticks, change)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class BoardTable(RowList):
    """The ranked rows. Holds the last frame's board (a snapshot), never market state."""

    HEADER_LINES = 1

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board: Board | None = None
        self.cursor_symbol: str | None = None  # the name the cursor is on (it follows it)
        self._header: tuple[str, bool] = ("contribution", True)
        self._marks: dict[str, str] = {}
        self._shown_last: dict[str, float] = {}
        self._names: dict[str, str] = {}  # cleaned names, cached by symbol

    # --- data --------------------------------------------------------------------------------
    def set_board(self, board: Board, changed: frozenset[str], *, stale: bool = False) -> None:
        self.board = board
        header = (board.sort, board.descending)
        if header != self._header:  # the header marks the sort column
            self._header = header
            self.refresh(Region(0, 0, self.size.width, self.HEADER_LINES))
        self.data_changed()
        self._set_dim(stale)
        # an empty board still has a line: it says why
        self.set_row_count(len(board) or 1)
        self._follow(board)
        self._marks = self._tick_marks(board, changed)
        self.refresh_changed()

    def _follow(self, board: Board) -> None:
        """Keep the cursor on the name the trader put it on as ranks change (until then it stays
        on its rank); a name filtered out hands the cursor to the name now under it."""
        symbol = self.cursor_symbol
        if symbol is None:
            return
        rank = board.cursor_rank if board.cursor == symbol else board.rank_of(symbol)
        if rank is not None:
            if rank != self.cursor:
                self.cursor = rank
        elif len(board):
            self.cursor = min(self.cursor, len(board) - 1)
            self.user_moved(self.cursor)

    def to_top(self) -> None:
        """The first row, following no name until the next frame puts one under it."""
        self.cursor_symbol = None
        self.cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)

    def user_moved(self, index: int) -> None:
        symbol = self.symbol_at(index)
        if symbol is not None and symbol != self.cursor_symbol:
            self.cursor_symbol = symbol
            self.post_message(CursorMoved(symbol))

    def _tick_marks(self, board: Board, changed: frozenset[str]) -> dict[str, str]:
        """Arrows for visible rows that ticked this frame: up or down against the shown price."""
        marks: dict[str, str] = {}
        if not changed or not len(board):
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
        return self.board.symbol_at(index) if self.board is not None else None

    def selectable(self, index: int) -> bool:
        return self.board is not None and index < len(self.board)

    def _display_name(self, symbol: str, raw: str) -> str:
        name = self._names.get(symbol)
        if name is None:
            name = self._names[symbol] = fmt.clean(raw, 80)
        return name

    # --- cells -------------------------------------------------------------------------------
    def header_cells(self, width: int) -> Cells:
        cols = layout(width)
        sort, descending = self._header
        arrow = "▼" if descending else "▲"

        def head(label: str, key: str, w: int, left: bool = False) -> tuple[str, str]:
            text = f"{label}{arrow}" if key == sort else label
            cell = text.ljust(w) if left else text.rjust(w)
            return (cell, "accent" if key == sort else "header")

        cells: list[tuple[str, str]] = [
            ("    # ", "header"),
            head("Symbol", "symbol", cols.symbol, True),
        ]
        if cols.name:
            cells.append((" " + "Name".ljust(cols.name), "header"))
        if cols.sector:
            cells.append((" " + "Sector".ljust(cols.sector - 1), "header"))
        cells.append((" " + "Last".rjust(9) + "  ", "header"))
        if cols.change:
            cells.append(("Chg".rjust(9), "header"))
        cells.append(head("Return", "return", 9))
        if cols.weight:
            cells.append(head("Wt", "weight", 7))
        cells.append(head("Ctb bp", "contribution", 8))
        if cols.range:
            cells.append(("High".rjust(10) + "Low".rjust(10), "header"))
        if cols.ticks:
            cells.append(("Ticks".rjust(8), "header"))
        return tuple(cells)

    def _empty_cells(self, board: Board) -> Cells:
        if board.filter:
            text = f"  no match for “{fmt.clean(board.filter, 30)}” (Esc clears the filter)"
        else:
            text = "  waiting for the first prices"
        return ((text, "flat"),)

    def row_cells(self, index: int, width: int) -> Cells:
        board = self.board
        if board is None:
            return ()
        if not len(board):
            return self._empty_cells(board)
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
            # a filtered row keeps its index-wide rank (board.ranks): "142 CRDO", not "3 CRDO"
            (f"{board.rank_label(index):>5} ", "flat"),
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
        sign = fmt.sign_class(ret * 100, 2)
        if cols.change:
            change = last - last / (1 + ret) if ret > -1 else float("nan")
            cells.append((fmt.signed(change).rjust(9), sign))
        cells.append((fmt.pct(ret).rjust(9), sign))
        if cols.weight:
            weight = "not in" if outsider else fmt.weight_pct(float(board.weight[pos]))
            cells.append((weight.rjust(7), "flat" if outsider else ""))
        cells.append((fmt.signed(contribution).rjust(8), fmt.sign_class(contribution, 2)))
        if cols.range:
            high, low = float(board.high[pos]), float(board.low[pos])
            cells.append((fmt.price(high).rjust(10) + fmt.price(low).rjust(10), "flat"))
        if cols.ticks:
            cells.append((f"{int(board.count[pos]):,}".rjust(8), "flat"))
        return tuple(cells)


def breadth_text(frame: Frame, width: int = 200) -> Content:
    """Breadth of the index members (not only the filtered rows) with what it counts beside it
    while not every member has a return ("· 1,766/1,953 priced", shortened to fit ``width``,
    nothing once all have one: issue 20 §5), what the filter keeps, and while returns are
    year-to-date, how many members have no YTD anchor (their rows read —)."""
    breadth, board = frame.breadth, frame.board
    pct_up = breadth.pct_up
    parts: list[str | tuple[str, str]] = [
        (f"▲ {breadth.advancers:,} up", "$text-success"),
        "  ",
        (f"▼ {breadth.decliners:,} down", "$text-error"),
        f"  = {breadth.unchanged:,}  ",
        (f"{pct_up * 100:.0f}% up" if pct_up is not None else "— up", "bold"),
    ]
    members = board.index_members()
    if breadth.total < members:
        counted = f"{breadth.total:,}/{members:,}"
        used = Content.assemble(*parts).cell_length
        forms = [f"  · {counted} priced", f" · {counted}", f" {counted}"]
        parts.append((next((f for f in forms if used + len(f) <= width), forms[-1]), "italic"))
    if board.filter and board.subtotal is None:
        kept = f"{len(board):,} of {board.universe:,}" if len(board) else "no match"
        parts.append((f"  · filter “{fmt.clean(board.filter, 30)}”: {kept}", "italic"))
    sb = frame.scoreboard
    note = sb.anchor_note() if sb is not None and frame.anchor == "ytd" else None
    if note:  # never a silent board of dashes
        parts.append((f"  · {note}", "$text-warning"))
    return Content.assemble(*parts)


def subtotal_text(board: Board, width: int = 200) -> Content:
    """A filtered board's subtotal line in the words that fit ``width``: "Σ Health Care 395
    names · 16.73% of the index · +6.43 bp, 15.9% of the move · ▲ 244 ▼ 131 · ranks
    index-wide"."""
    s = board.subtotal
    if s is None:
        return Content("")
    what = fmt.clean(board.sector, 30) if board.sector else f"“{fmt.clean(board.filter, 20)}”"
    sign = SIGN[fmt.sign_class(s.contribution_bp, 2)]
    move = f"{fmt.share(s.share, 1)} of the move" if s.share is not None else ""
    if s.share is not None and s.share < 0:
        move = f"−{move}"
    short_share = "" if s.share is None else ("−" if s.share < 0 else "") + fmt.share(s.share, 0)
    forms = [
        (
            f"Σ {what}: {fmt.plural(s.names, 'name')} · {s.weight * 100:.2f}% of the index · ",
            f"{fmt.bp(s.contribution_bp, 2)} bp",
            f"{', ' + move if move else ''} · ",
            f"▲ {s.up:,} ▼ {s.down:,}",
            " · ranks index-wide",
        ),
        (
            f"Σ {what}: {s.names:,} · wt {s.weight * 100:.2f}% · ",
            f"{fmt.bp(s.contribution_bp, 2)} bp",
            f"{' ' + move if move else ''} · ",
            f"▲{s.up:,} ▼{s.down:,}",
            "",
        ),
        (
            f"Σ {fmt.clean(what, 14)} {s.names:,} {s.weight * 100:.1f}% ",
            f"{fmt.bp(s.contribution_bp, 2)}bp",
            f" {short_share} ",
            f"▲{s.up:,} ▼{s.down:,}",
            "",
        ),
        (
            f"Σ {s.names:,} {s.weight * 100:.1f}% ",
            f"{fmt.bp(s.contribution_bp, 2)}bp",
            f" {short_share} ",
            f"▲{s.up:,} ▼{s.down:,}",
            "",
        ),
    ]
    for head, bp_text, mid, counts, tail in forms:
        if len(head + bp_text + mid + counts + tail) <= width:
            break
    return Content.assemble(
        (head, "bold"), (bp_text, sign), mid, (counts, "$text-muted"), (tail, "$text-muted")
    )


SIGN = {"up": "bold $text-success", "down": "bold $text-error", "flat": "bold $text-muted"}


def board_title(board: Board, width: int = 200, holdings: HoldingsInfo | None = None) -> str:
    """ "Leaders · 1,924 names · 99.4% of the index" (the members with a price and the share of
    the index weight they hold), and "· weights as of DATE" when the weights could not be moved
    to the anchor, then the holdings in use (:func:`holdings_tags`); shortened to fit a panel
    ``width`` cells wide, never losing the flag of stale holdings. Without holdings: every name
    the feed sends ("Leaders · 12 names")."""
    if board.coverage is None:
        return f"Leaders · {fmt.plural(len(board), 'name')}"
    tags = holdings_tags(holdings)
    if not board.names_priced:  # a feed that has sent nothing yet (or nothing readable)
        options = [f"Leaders · {fmt.plural(board.universe, 'name')} · no prices yet"]
    else:
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
    # the figures' words first, then the holdings' (long, then short, then only a stale flag)
    order = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (0, 2), (1, 2), (2, 2)]
    titles = [
        " · ".join(p for p in (options[b], tags[t]) if p) for b, t in order if b < len(options)
    ]
    return next((t for t in titles if len(t) <= width - 6), titles[-1])


# the holdings in use, in the board's title
HOLDINGS_WORDS = {"bundled": "bundled", "fetched": "fetched", "given": "--holdings"}


def holdings_tags(h: HoldingsInfo | None) -> tuple[str, str, str]:
    """The holdings in use, long to short: "bundled holdings as of 2025-11-05 ⚠ 387 days old",
    "bundled 2025-11-05 ⚠ 387d old", and "⚠ holdings 387d old" (only when stale; "" else).
    Without holdings: three empty strings."""
    if h is None:
        return "", "", ""
    word = HOLDINGS_WORDS.get(h.origin, h.origin)
    age = h.age_days if h.age_days is not None else 0
    if not h.stale:
        return f"{word} holdings as of {h.as_of}", f"{word} {h.as_of}", ""
    return (
        f"{word} holdings as of {h.as_of} ⚠ {age:,} days old",
        f"{word} {h.as_of} ⚠ {age:,}d old",
        f"⚠ holdings {age:,}d old",
    )


def styled_title(text: str) -> Content:
    """The title with its stale-holdings flag in the warning colour."""
    at = text.find("⚠")
    if at < 0:
        return Content(text)
    return Content.assemble(text[:at], (text[at:], "bold $text-warning"))


def board_titles(
    board: Board, width: int = 200, holdings: HoldingsInfo | None = None
) -> tuple[str, str]:
    """The panel's title (:func:`board_title`) and subtitle (the sort, in words)."""
    order = "largest first" if board.descending else "smallest first"
    if board.sort == "symbol":
        order = "Z-A" if board.descending else "A-Z"
    title = board_title(board, width, holdings)
    return title, f"by {SORT_LABELS.get(board.sort, board.sort)}, {order}"


#: seconds a board title that changed only in its figures (names priced, coverage) waits
TITLE_HOLD_S = 5.0
_FIGURES = re.compile(r"[\d.,%]+")


class Leaderboard(Vertical):
    """The board panel: the table, its breadth line and an on-demand filter box."""

    _stale = False  # whether the board on show is drawn stale (dimmed)
    _title_shape: object = None  # the title on show, figures masked, its view; when it was set
    _title_at = float("-inf")

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("filter")
    DEFAULT_CSS = """
    Leaderboard #breadth { height: 1; padding: 0 1; }
    Leaderboard #subtotal { height: 1; padding: 0 1; display: none; text-wrap: nowrap; }
    Leaderboard.-subtotal #subtotal { display: block; }
    Leaderboard #filter { display: none; height: 1; border: none; padding: 0 1; }
    Leaderboard.-filtering #filter { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield BoardTable(id="board")
        yield Input(
            placeholder="symbol or name, or sector:NAME (Enter keeps, Esc clears)", id="filter"
        )
        yield DownloadProgress(id="board-progress")  # only while history downloads
        yield Line(id="subtotal")  # a filtered board's subtotal
        yield BreadthLine(id="breadth")

    @property
    def table(self) -> BoardTable:
        return self.query_one(BoardTable)

    def action_close_filter(self) -> None:
        """Esc: clear the filter (the box's Changed event says so) and go back to the rows."""
        self.remove_class("-filtering")
        self.query_one("#filter", Input).value = ""
        self.table.focus()

    def show(self, frame: Frame) -> None:
        board = frame.board
        sb = frame.scoreboard
        self.query_one(DownloadProgress).show(sb.progress if sb is not None else None)
        if board is self.table.board and frame.stale == self._stale:
            return  # the board was not ranked again for this frame: nothing on it changed
        self._stale = frame.stale
        self.table.set_board(board, frame.changed, stale=frame.stale)
        self.query_one(BreadthLine).show_breadth(frame)
        self.set_class(board.subtotal is not None, "-subtotal")
        if board.subtotal is not None:
            width = self.query_one("#subtotal").content_region.width or self.size.width - 2
            self.query_one("#subtotal", Line).show(subtotal_text(board, width))
        title, subtitle = board_titles(
            board, self.size.width or 200, sb.holdings if sb is not None else None
        )
        self.set_title(title, time.monotonic(), view=(board.filter, board.sort, board.descending))
        set_titles(self, None, subtitle)

    def set_title(self, title: str, now: float, view: object = None) -> None:
        """Show ``title`` (``now``: monotonic seconds), unless only its figures changed less
        than :data:`TITLE_HOLD_S` ago in the same ``view`` (filter and sort: a trader's own
        change shows at once).

        A new title repaints the whole panel, every row with it, and at the open the count of
        names priced moves at each redraw: that was a third of the bytes to the terminal. Any
        other change (holdings, no prices yet, the sort in the subtitle) shows at once.
        """
        shape = (_FIGURES.sub("#", title), view)
        if shape != self._title_shape or now - self._title_at >= TITLE_HOLD_S:
            self._title_shape, self._title_at = shape, now
            set_titles(self, styled_title(title))


class BreadthLine(Line):
    """The breadth line, ending (when there is room) with the key of the year-to-date
    scoreboard; with ``--mouse`` a click on it opens the scoreboard."""

    key = "Y"  # the scoreboard's key after the user's remaps ([keys] scoreboard = ...)

    def on_mount(self) -> None:
        for active in self.screen.active_bindings.values():
            if active.binding.id == "scoreboard":
                self.key = self.app.get_key_display(active.binding)
                break

    _frame: Frame | None = None

    def show_breadth(self, frame: Frame) -> None:
        """The frame's :func:`breadth_text` in the words that fit, then the scoreboard's key."""
        self._frame = frame
        width = self.content_region.width or 200
        content = breadth_text(frame, width)
        hint = f"{self.key} year to date ›"
        if content.cell_length + len(hint) + 3 <= width:
            gap = " " * (width - content.cell_length - len(hint))
            content = Content.assemble(content, gap, (hint, "$text-muted"))
        self.show(content)

    def on_resize(self) -> None:
        if self._frame is not None:
            self.show_breadth(self._frame)  # the words and the hint follow the width

    def on_click(self) -> None:
        self.post_message(OpenScoreboard())
