"""The level ladder: technical and user levels, highest on top, with the price placed among them.

A header names the columns and their units. Each level shows how far the index has to go to
reach it (``level − price``, in index points and percent: + the level is above the price, − below,
the one convention of :data:`tui.fmt.DISTANCE_RULE`) and its state (armed, approaching, crossed
up, crossed down). Narrow ladders shorten the label first, then the figures' decimals, and keep
the state and percent columns. The price row is not selectable; Enter on a level opens it.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.binding import BindingType

from feeds.frame import Frame, LevelView
from tui import fmt, keys
from tui.messages import RemoveLevel
from tui.widgets.rowlist import Cells, RowList

# Shorter forms of the shipped labels for narrow ladders, longest first.
SHORT_LABELS = {"critical support": ("crit. support", "critical"), "upside target": ("target",)}


class Row(NamedTuple):
    level: LevelView | None  # None: the price row
    price: float


class Widths(NamedTuple):
    price: int
    dist: int
    pct: int
    decimals: int  # of the points; the percent keeps at least one
    state: int  # 5: the short state words
    label: int


def widths(width: int, price_w: int) -> Widths:
    """The ladder's columns at ``width``: the label gives way first."""
    if width >= 56:
        dist, pct, decimals, state = 10, 9, 2, 15
    elif width >= 36:
        dist, pct, decimals, state = 8, 7, 1, 6
    else:
        dist, pct, decimals, state = 5, 7, 0, 6
    label = max(0, width - price_w - dist - pct - state)
    return Widths(price_w, dist, pct, decimals, state, label)


class LevelLadder(RowList):
    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("ladder")
    HEADER_LINES = 1

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.symbol = "^RUT"
        self.estimated = False

    def show(self, frame: Frame) -> None:
        self.set_levels(
            frame.levels,
            frame.level_price,
            symbol=frame.level_symbol,
            estimated=frame.estimated_indices,
            stale=frame.stale,
        )

    def set_levels(
        self,
        levels: list[LevelView],
        price: float | None,
        *,
        symbol: str = "^RUT",
        estimated: bool = False,
        stale: bool = False,
    ) -> None:
        keep = self.level_at(self.cursor)
        rows = [Row(lv, lv.price) for lv in sorted(levels, key=lambda lv: -lv.price)]
        if price is not None:
            at = next((i for i, r in enumerate(rows) if r.price <= price), len(rows))
            rows.insert(at, Row(None, price))
        self.rows = rows
        self.symbol, self.estimated = symbol, estimated
        self.data_changed()
        self._set_dim(stale)
        self.set_row_count(len(rows))
        # the cursor stays on the same level while the price row moves around it
        if keep is not None:
            for i, r in enumerate(rows):
                if r.level is not None and r.level.price == keep.price:
                    if i != self.cursor:
                        self.cursor = i
                    break
        elif rows and not self.selectable(self.cursor):
            self.cursor = self._step(self.cursor, 1) if self.cursor + 1 < len(rows) else 0
        self.refresh_changed()

    def level_at(self, index: int) -> LevelView | None:
        return self.rows[index].level if 0 <= index < len(self.rows) else None

    def selectable(self, index: int) -> bool:
        return self.level_at(index) is not None

    def _price_width(self) -> int:
        return max((len(fmt.level_price(r.price)) for r in self.rows if r.level), default=5) + 1

    def header_cells(self, width: int) -> Cells:
        w = widths(width, self._price_width())
        return (
            ("Level".rjust(w.price), "header"),
            (" " + "Label".ljust(w.label - 1) if w.label else "", "header"),
            ("To go".rjust(w.dist), "header"),
            ("%".rjust(w.pct), "header"),
            (" " + "State".ljust(w.state - 1), "header"),
        )

    def row_cells(self, index: int, width: int) -> Cells:
        row = self.rows[index]
        lv = row.level
        if lv is None:
            est = " est." if self.estimated else ""
            text = f"▶{fmt.price(row.price)} {self.symbol}{est} "
            return ((text + "─" * max(0, width - len(text)), "accent"),)
        w = widths(width, self._price_width())
        state_long, state_short, style = fmt.LEVEL_STATE[lv.state]
        state = state_long if w.state > 6 else state_short
        label = fmt.clean(lv.label, 40)
        if lv.user:
            label = "✎ " + label
        room = w.label - 1
        for short in SHORT_LABELS.get(label, ()):
            if len(label) <= room:
                break
            label = short
        label = label if len(label) <= room else label[: max(0, room - 1)] + "…"
        return (
            (fmt.level_price(lv.price).rjust(w.price), "bold" if lv.user else ""),
            (" " + label.ljust(room) if w.label else "", "flat"),
            (fmt.signed(lv.distance, w.decimals).rjust(w.dist), ""),
            (fmt.pct(lv.distance_pct, max(1, w.decimals)).rjust(w.pct), ""),
            (" " + state.ljust(w.state - 1), style),
        )

    def action_remove_level(self) -> None:
        lv = self.level_at(self.cursor)
        if lv is None:
            return
        if not lv.user:
            self.notify("Only levels you added can be removed", severity="warning")
            return
        self.post_message(RemoveLevel(lv.price))
