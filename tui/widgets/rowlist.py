"""A keyboard-driven list of rows on the line API, the base of the board, ladder and alert log.

Why not ``DataTable``: any ``update_cell`` invalidates the render cache of the whole visible
table, so a ticking board re-renders every visible cell each frame. Here each row's text is
compared with what is on screen and only lines whose text changed are refreshed; a row's
rendered ``Strip`` is cached by (text, cursor, width). Only visible rows are ever formatted, so a
ranking of 2,000 names costs what the 30 visible ones cost. The scrollbar's gutter is always
reserved, so a header line does not shift when the scrollbar appears.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui import keys

Cells = tuple[tuple[str, str], ...]  # ((text, style name), ...) already padded to width


def _changed_span(old: Cells, new: Cells) -> tuple[int, int] | None:
    """The x range covering the cells that differ, when the layout is the same; else None."""
    if len(old) != len(new):
        return None
    x = 0
    first = last = -1
    for (old_text, old_style), (text, style) in zip(old, new, strict=True):
        w = cell_len(text)
        if cell_len(old_text) != w:
            return None
        if old_text != text or old_style != style:
            if first < 0:
                first = x
            last = x + w
        x += w
    return None if first < 0 else (first, last)


class RowList(ScrollView, can_focus=True):
    """Rows with a cursor; subclasses say how many rows there are and what each one says."""

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("rows")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rows--header",
        "rows--cursor",
        "rows--up",
        "rows--down",
        "rows--flat",
        "rows--dim",
        "rows--mark",
        "rows--accent",
        "rows--warn",
        "rows--bold",
    }
    DEFAULT_CSS = """
    RowList {
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        overflow-x: hidden;
        background: transparent;
    }
    RowList > .rows--header { text-style: bold; color: $text-muted; }
    RowList > .rows--cursor { background: $surface-lighten-1; }
    /* the theme's own cursor pair: black on white in 16 colours, never text on a pale fill */
    RowList:focus > .rows--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: bold;
    }
    RowList > .rows--up { color: $text-success; }
    RowList > .rows--down { color: $text-error; }
    RowList > .rows--flat { color: $text-muted; }
    RowList > .rows--dim { color: $text-muted; }
    RowList > .rows--mark { text-style: bold; }
    RowList > .rows--accent { color: $text-accent; text-style: bold; }
    RowList > .rows--warn { color: $text-warning; text-style: bold; }
    RowList > .rows--bold { text-style: bold; }
    """

    #: lines fixed at the top (a column header) that do not scroll
    HEADER_LINES = 0

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, rows: RowList, index: int) -> None:
            super().__init__()
            self.rows = rows
            self.index = index

        @property
        def control(self) -> RowList:
            return self.rows

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._row_count = 0
        self._cache: dict[int, tuple[Hashable, Strip]] = {}
        self._styles: dict[tuple[str, bool, bool], Style] = {}
        self._memo: dict[tuple[int, int], Cells] = {}  # row cells of the current data
        self.dim = False  # stale data: every row drawn dimmed

    # --- what subclasses provide ---------------------------------------------------------------
    def row_cells(self, index: int, width: int) -> Cells:
        """The cells of row ``index`` laid out for ``width`` (text already padded)."""
        raise NotImplementedError

    def header_cells(self, width: int) -> Cells:
        return ()

    def selectable(self, index: int) -> bool:
        return True

    # --- data ------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return self._row_count

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - self.HEADER_LINES)

    @property
    def row_width(self) -> int:
        return self.scrollable_content_region.width

    def visible_range(self) -> range:
        top = int(self.scroll_y)
        return range(top, min(self._row_count, top + self.page_height))

    def cells(self, index: int, width: int) -> Cells:
        """Row cells, formatted once per data update however often they are compared or drawn."""
        key = (index, width)
        cells = self._memo.get(key)
        if cells is None:
            cells = self._memo[key] = self.row_cells(index, width)
        return cells

    def data_changed(self) -> None:
        """Subclasses call this when the data behind the rows changes (once per frame)."""
        self._memo.clear()

    def set_row_count(self, count: int) -> None:
        """Resize the list; lines whose text changes are refreshed by :meth:`refresh_changed`."""
        if count != self._row_count:
            self._row_count = count
            self.virtual_size = Size(self.row_width, count + self.HEADER_LINES)
            if self.cursor >= count and count:
                self.cursor = count - 1
            self.refresh()

    def refresh_changed(self) -> None:
        """Refresh only the visible rows whose text differs from the cached strip."""
        width = self.row_width
        if width <= 0:
            return
        cursor = self.cursor
        top = int(self.scroll_y)
        for index in self.visible_range():
            cells = self.cells(index, width)
            key = (cells, index == cursor, self.dim)
            cached = self._cache.get(index)
            if cached is None:
                self._refresh_row(index, top)
            elif cached[0] != key:
                old_cells, old_cursor, old_dim = cached[0]  # type: ignore[misc]
                span = None
                if (old_cursor, old_dim) == key[1:]:
                    span = _changed_span(old_cells, cells)
                self._refresh_row(index, top, span)

    def _refresh_row(self, index: int, top: int, span: tuple[int, int] | None = None) -> None:
        """Repaint one row; only the ``span`` of cells that changed when given (a ticking price
        rewrites its few cells, not the whole line: less output over SSH)."""
        y = index - top + self.HEADER_LINES
        x0, x1 = span if span is not None else (0, self.size.width)
        self.refresh(Region(x0, y, x1 - x0, 1))
        self._cache.pop(index, None)

    def _set_dim(self, dim: bool) -> None:
        if dim != self.dim:
            self.dim = dim
            self._cache.clear()
            self.refresh()

    # --- rendering -------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def style_of(self, name: str, cursor: bool = False) -> Style:
        """The full style of a cell: widget base + the named component (+ cursor, + dim)."""
        key = (name, cursor, self.dim)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            if name:
                style += self.get_component_rich_style(f"rows--{name}", partial=True)
            if cursor:
                style += self.get_component_rich_style("rows--cursor", partial=True)
            if self.dim:
                style += self.get_component_rich_style("rows--dim", partial=True) + Style(dim=True)
            self._styles[key] = style
        return style

    def _strip(self, cells: Cells, width: int, cursor: bool) -> Strip:
        style_of = self.style_of
        # neighbouring cells of one style as one segment: each segment costs the terminal a
        # style sequence and a reset, which were 60 % of the board's bytes
        segments = Segment.simplify(Segment(text, style_of(name, cursor)) for text, name in cells)
        strip = Strip(segments)
        if strip.cell_length != width:
            strip = strip.crop(0, width).adjust_cell_length(width, style_of("", cursor))
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        if y < self.HEADER_LINES:
            return self._strip(self.header_cells(width), width, False)
        index = int(self.scroll_y) + y - self.HEADER_LINES
        if index >= self._row_count:
            return Strip.blank(width, self.rich_style)
        cells = self.cells(index, width)
        is_cursor = index == self.cursor
        key = (cells, is_cursor, self.dim)
        cached = self._cache.get(index)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self._strip(cells, width, is_cursor)
        self._cache[index] = (key, strip)
        return strip

    def on_resize(self, event: Resize) -> None:
        self._cache.clear()
        self._memo.clear()
        self.virtual_size = Size(self.row_width, self._row_count + self.HEADER_LINES)
        self.scroll_to_cursor()

    # --- cursor ----------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        for index in (old, new):
            if 0 <= index < self._row_count:
                self._refresh_row(index, top)
        self.scroll_to_cursor()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self._row_count - 1)) if self._row_count else 0

    def scroll_to_cursor(self) -> None:
        page = self.page_height
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def _step(self, start: int, delta: int) -> int:
        """The next selectable row from ``start`` going ``delta`` (skips e.g. the price row)."""
        index = start
        while 0 <= index < self._row_count:
            if self.selectable(index):
                return index
            index += 1 if delta >= 0 else -1
        return self.cursor

    def _move(self, index: int) -> None:
        """The user moved the cursor (keys, click): subclasses hear it in :meth:`user_moved`."""
        self.cursor = index
        self.user_moved(self.cursor)

    def user_moved(self, index: int) -> None:
        """Hook: the user put the cursor on row ``index`` (not a data update moving it)."""

    def action_cursor(self, delta: int) -> None:
        self._move(self._step(self.cursor + delta, delta))

    def action_page(self, direction: int) -> None:
        self._move(self._step(self.cursor + direction * self.page_height, direction))

    def action_edge(self, end: int) -> None:
        self._move(self._step(self._row_count - 1, -1) if end else self._step(0, 1))

    def on_click(self, event: Click) -> None:
        index = int(self.scroll_y) + event.y - self.HEADER_LINES
        if event.y >= self.HEADER_LINES and 0 <= index < self._row_count and self.selectable(index):
            self._move(index)
            if event.chain == 2:
                self.action_select()

    def action_select(self) -> None:
        if 0 <= self.cursor < self._row_count and self.selectable(self.cursor):
            self.post_message(self.Selected(self, self.cursor))
