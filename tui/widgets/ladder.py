"""The level ladder: technical and user levels, highest on top, with the price placed among them.

A header names the columns and their units. Each level shows what confirms a crossing (``On``:
``tick``, or the close of a ``1m``/``5m`` bar), how far the index has to go to reach it
(``level − price``, in index points and percent: + the level is above the price, − below, the
one convention of :data:`tui.fmt.DISTANCE_RULE`) and its state (armed, approaching, crossed up,
crossed down, or awaiting the close of the bar that would confirm a crossing). A muted level is
marked ``⊘`` in its first column (a glyph: it reads in 16 colours and with none). Narrow ladders
shorten the label first, then the figures' decimals, and keep the state and percent columns.

The same widget lists a spread's thresholds (symbol ``RUT-SPX``) in the spread drilldown: values
in basis points, no percent column. The price row is not selectable; Enter on a level opens it,
``m`` mutes or unmutes it (:class:`~tui.messages.ToggleMute`).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.binding import BindingType

from feeds.alerting.delivery import is_spread
from feeds.frame import Frame, LevelView
from tui import fmt, keys
from tui.messages import RemoveLevel, ToggleMute
from tui.widgets.rowlist import Cells, RowList

# Shorter forms of the shipped labels for narrow ladders, longest first.
SHORT_LABELS = {"critical support": ("crit. support", "critical"), "upside target": ("target",)}


class Row(NamedTuple):
    level: LevelView | None  # None: the price row
    price: float


class Widths(NamedTuple):
    price: int  # its first cell is the muted mark
    on: int  # the confirmation: 5 spells "tick", 3 shows it as "·"
    dist: int
    pct: int  # the percent column; a spread's thresholds show their band (± bp) there
    decimals: int  # of the points; the percent keeps at least one
    state: int  # 6: the short state words
    label: int


MUTED = "⊘"  # in the level's first column: logged and listed, no toast, bell or notification


def widths(width: int, price_w: int, *, spread: bool = False) -> Widths:
    """The ladder's columns at ``width``: the label gives way first."""
    if width >= 56:
        on, dist, pct, decimals, state = 5, 10, 8, 2, 15
    elif width >= 36:
        on, dist, pct, decimals, state = 3, 8, 7, 1, 6
    else:
        on, dist, pct, decimals, state = 3, 5, 7, 0, 6
    if spread:  # basis points: one decimal at most; a percent of a spread means nothing, the
        # band each threshold needs the spread past it by does (issue 18 §2)
        pct, decimals = 6, min(decimals, 1)
    label = max(0, width - price_w - on - dist - pct - state)
    return Widths(price_w, on, dist, pct, decimals, state, label)


def confirm_text(confirm: str, width: int) -> str:
    """The ``On`` cell: ``tick``/``1m``/``5m``, right-aligned; ``·`` for tick when narrow."""
    text = "·" if confirm == "tick" and width < 5 else confirm
    return text.rjust(width)


class LevelLadder(RowList):
    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("ladder")
    HEADER_LINES = 1

    def __init__(
        self, *, id: str | None = None, classes: str | None = None, symbol: str = "^RUT"
    ) -> None:
        """``symbol``: the series listed (``^RUT``, or a spread such as ``RUT-SPX``)."""
        super().__init__(id=id, classes=classes)
        self.rows: list[Row] = []
        self.symbol = symbol
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
        had = any(r.level for r in self.rows)
        self.rows = rows
        self.symbol, self.estimated = symbol, estimated
        if had != bool(levels):
            self.refresh_bindings()  # the footer's Open, Remove and Mute follow (check_action)
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

    @property
    def spread(self) -> bool:
        """Whether the rows are a spread's thresholds (basis points)."""
        return is_spread(self.symbol)

    def level_text(self, value: float) -> str:
        return (
            fmt.bp(value, 0 if value == int(value) else 1)
            if self.spread
            else fmt.level_price(value)
        )

    def _price_width(self) -> int:
        widest = max((len(self.level_text(r.price)) for r in self.rows if r.level), default=5)
        return max(widest, 5) + 1

    def _widths(self, width: int) -> Widths:
        return widths(width, self._price_width(), spread=self.spread)

    def header_cells(self, width: int) -> Cells:
        w = self._widths(width)
        return (
            ("Level".rjust(w.price), "header"),
            ("On".rjust(w.on), "header"),
            ((" " + ("Label" if w.label > 6 else "Lbl")).ljust(w.label)[: w.label], "header"),
            ("To go".rjust(w.dist), "header"),
            (("Band" if self.spread else "%").rjust(w.pct) if w.pct else "", "header"),
            (" " + "State".ljust(w.state - 1), "header"),
        )

    def row_cells(self, index: int, width: int) -> Cells:
        row = self.rows[index]
        lv = row.level
        if lv is None:
            est = " est." if self.estimated else ""
            value = f"{fmt.bp(row.price, 1)} bp" if self.spread else fmt.price(row.price)
            text = f"▶{value} {self.symbol}{est} "
            return ((text + "─" * max(0, width - len(text)), "accent"),)
        w = self._widths(width)
        state_long, state_short, style = fmt.level_state(lv)
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
            (MUTED if lv.muted else " ", "warn"),
            (self.level_text(lv.price).rjust(w.price - 1), "bold" if lv.user else ""),
            (confirm_text(lv.confirm, w.on), "" if lv.confirm == "tick" else "bold"),
            (" " + label.ljust(room) if w.label else "", "flat"),
            (fmt.signed(lv.distance, w.decimals).rjust(w.dist), ""),
            (self._last_cell(lv, w), "flat" if self.spread else ""),
            (" " + state.ljust(w.state - 1), style),
        )

    def _last_cell(self, lv: LevelView, w: Widths) -> str:
        """The percent to go, or a spread threshold's band (``±4``: the spread must go past the
        threshold by that many bp)."""
        if not w.pct:
            return ""
        if self.spread:
            return f"±{lv.band:.{0 if lv.band == int(lv.band) else 1}f}".rjust(w.pct)
        return fmt.pct(lv.distance_pct, max(1, w.decimals)).rjust(w.pct)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a spread's thresholds come from the config or --spread-level and have no drilldown of
        # their own: no Remove or Open in the footer; m mutes them, once there is one to mute
        if self.spread:
            return action not in ("remove_level", "select") and (
                action != "toggle_mute" or any(r.level for r in self.rows)
            )
        return True

    def action_remove_level(self) -> None:
        lv = self.level_at(self.cursor)
        if lv is None:
            return
        if not lv.user:
            self.notify("Only levels you added can be removed", severity="warning")
            return
        self.post_message(RemoveLevel(lv.price))

    def action_toggle_mute(self) -> None:
        lv = self.level_at(self.cursor)
        if lv is not None:
            self.post_message(ToggleMute(lv.symbol, lv.price))
