"""The level ladder: technical and user levels, highest on top, with the price placed among them.

Each level shows its distance from the price in points and percent and its state (armed,
approaching, crossed up, crossed down). The price row is not selectable; Enter on a level opens
its detail.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.binding import Binding, BindingType
from textual.message import Message

from feeds.frame import LevelView
from feeds.levels import LevelState
from tui import fmt
from tui.widgets.rowlist import Cells, RowList

STATE_TEXT = {
    LevelState.ARMED: ("armed", "armed", "flat"),
    LevelState.APPROACHING: ("approaching", "near", "warn"),
    LevelState.CROSSED_UP: ("▲ crossed up", "▲ up", "up"),
    LevelState.CROSSED_DOWN: ("▼ crossed down", "▼ dn", "down"),
}


# Shorter forms of the shipped labels for narrow ladders (80 columns).
SHORT_LABELS = {"critical support": "crit. support", "upside target": "target"}


def level_price(price: float) -> str:
    """Levels are usually round numbers: no decimals unless the level has them."""
    return fmt.price(price, 0 if price == int(price) else 2)


class Row(NamedTuple):
    level: LevelView | None  # None: the price row
    price: float


class LevelLadder(RowList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete,x", "remove_level", "Remove level", tooltip="one you added"),
    ]

    class RemoveRequested(Message):
        def __init__(self, price: float) -> None:
            super().__init__()
            self.price = price

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.symbol = "^RUT"
        self.estimated = False
        self._selected_price: float | None = None

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
        return max((len(level_price(r.price)) for r in self.rows if r.level), default=8)

    def row_cells(self, index: int, width: int) -> Cells:
        row = self.rows[index]
        narrow = width < 56
        lv = row.level
        price_w = self._price_width() + 1
        if lv is None:
            est = " est." if self.estimated else ""
            text = f"▶{fmt.price(row.price)} {self.symbol}{est} "
            return ((text + "─" * max(0, width - len(text)), "accent"),)
        state_long, state_short, style = STATE_TEXT[lv.state]
        state = state_short.ljust(5) if narrow else state_long.ljust(14)
        pct = fmt.pct(lv.distance_pct, 1 if narrow else 2)
        dist = fmt.signed(lv.distance, 1 if narrow else 2)
        dist_w, pct_w = (8, 7) if narrow else (10, 9)
        fixed = price_w + 1 + dist_w + pct_w + 1 + len(state)
        label_w = max(0, width - fixed)
        label = fmt.clean(lv.label, 40)
        if lv.user:
            label = "✎ " + label
        if len(label) > label_w:
            label = SHORT_LABELS.get(label, label)
        label = label if len(label) <= label_w else label[: max(0, label_w - 1)] + "…"
        return (
            (level_price(lv.price).rjust(price_w), "bold" if lv.user else ""),
            (" " + label.ljust(label_w), "flat"),
            (dist.rjust(dist_w), ""),
            (pct.rjust(pct_w), ""),
            (" " + state, style),
        )

    def action_remove_level(self) -> None:
        lv = self.level_at(self.cursor)
        if lv is None:
            return
        if not lv.user:
            self.notify("Only levels you added can be removed", severity="warning")
            return
        self.post_message(self.RemoveRequested(lv.price))
