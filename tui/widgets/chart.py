"""A small braille line chart with a baseline (zero line), drawn with the line API.

Built-in ``Sparkline`` scales between min and max, so a spread's sign is lost. This chart always
includes the baseline in its range and draws it, colours the line above it as "up" and below as
"down", and labels the top, the baseline and the bottom, so the sign reads without colour too.
Strips are built once per :meth:`Chart.update` (the app calls it at most once a second) and on
resize; ``render_line`` only returns cached strips. The time axis is as precise as the span needs
(HH:MM:SS under an hour, the day across midnight), so its two ends never read the same; a chart
of daily bars passes its own labels (the first and last session's dates).

Guides are horizontal lines at given values (price levels, a record high), dotted so they never
read as the solid baseline, named on the value axis (one value per row: the first guide of a
row names it); the data's dots draw over them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.strip import Strip
from textual.widget import Widget

from tui import fmt

# Braille dot bits by (row 0-3, column 0-1) inside one cell.
_DOTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)


class Guide(NamedTuple):
    """A horizontal line at ``value`` named ``label`` on the value axis (``short`` when it
    shares its row with another guide or would take more than a quarter of the width); ``style``
    is one of the chart's component classes (``chart--guide``, ``chart--mark``)."""

    value: float
    label: str
    style: str = "chart--guide"
    short: str = ""


def _label(value: float, decimals: int, unit: str, signed: bool) -> str:
    text = f"{value:+,.{decimals}f}" if signed and value != 0 else f"{value:,.{decimals}f}"
    return f"{text}{unit}"


class Chart(Widget):
    """Line chart of ``values`` over ``times`` with a horizontal baseline."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart--up",
        "chart--down",
        "chart--base",
        "chart--axis",
        "chart--guide",
        "chart--mark",
    }
    DEFAULT_CSS = """
    Chart {
        height: 1fr;
        min-height: 2;
    }
    Chart > .chart--up { color: $text-success; }
    Chart > .chart--down { color: $text-error; }
    Chart > .chart--base { color: $text-muted; }
    Chart > .chart--axis { color: $text-muted; }
    Chart > .chart--guide { color: $text-warning; }
    Chart > .chart--mark { color: $text-accent; }
    """

    def __init__(
        self,
        *,
        unit: str = "",
        decimals: int = 0,
        signed: bool = True,
        baseline_label: str | None = None,
        empty_text: str = "waiting for data",
        include_baseline: bool = True,
        steps: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.unit = unit
        self.decimals = decimals
        self.signed = signed
        self.baseline_label = baseline_label
        self.empty_text = empty_text
        # False: scale to the data (a price's intraday moves), drawing the baseline only when it
        # falls inside; True: the baseline is always in range (a spread's sign is the point)
        self.include_baseline = include_baseline
        # True: last-sale steps (a price holds until the next print: flat, then a jump), never
        # a slope between two prints that no trade was made on
        self.steps = steps
        self._times: np.ndarray = np.zeros(0, dtype=np.int64)
        self._values: np.ndarray = np.zeros(0)
        self._baseline = 0.0
        self._extent: tuple[float, float] | None = None
        self._guides: tuple[Guide, ...] = ()
        #: the time axis's two labels from the first and last time (default: exchange times)
        self.x_labels: Callable[[int, int], tuple[str, str]] = fmt.time_labels
        self._strips: list[Strip] = []
        #: guides drawn on a row another one names (the screen says them in its heading)
        self.unnamed: list[Guide] = []
        #: called after each redraw (a heading that says :attr:`unnamed` follows a resize)
        self.on_drawn: Callable[[], None] | None = None
        self.redraws = 0  # for tests: how often strips were rebuilt

    def update(
        self,
        times: np.ndarray,
        values: np.ndarray,
        baseline: float = 0.0,
        extent: tuple[float | None, float | None] | None = None,
        guides: Sequence[Guide] = (),
        until: int | None = None,
    ) -> None:
        """Draw ``values`` over ``times``; ``extent`` (low, high) widens the range to include
        values the points may miss (a session's high and low between chart points);
        ``guides`` are drawn where they fall inside the range (widen it with ``extent`` to
        keep one in); ``until`` (epoch ms, a step chart) holds the last value up to then (the
        feed's clock: a name that printed once a minute ago is a flat line, not one dot)."""
        if self.steps and until is not None and len(times) and until > int(times[-1]):
            times = np.r_[times, np.int64(until)]
            values = np.r_[values, values[-1]]
        self._times, self._values, self._baseline = times, values, baseline
        self._guides = tuple(guides)
        lo, hi = extent if extent is not None else (None, None)
        self._extent = (lo, hi) if fmt.known(lo) and fmt.known(hi) else None  # type: ignore[assignment]
        self._rebuild()

    @property
    def point_count(self) -> int:
        return len(self._values)

    def on_resize(self, event: Resize) -> None:
        self._rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._rebuild()

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    # --- drawing -----------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.redraws += 1
        width, height = self.size
        if width <= 0 or height <= 0:
            self._strips = []
            return
        base_style = self.rich_style
        axis = self.get_component_rich_style("chart--axis")
        times, values = self._times, self._values
        ok = np.isfinite(values)
        times, values = times[ok], values[ok]
        if not len(values):
            message = Strip([Segment(self.empty_text.center(width)[:width], axis)])
            blank = Strip.blank(width, base_style)
            mid = (height - 1) // 2
            self._strips = [message if y == mid else blank for y in range(height)]
            self.refresh()
            return
        with_x_axis = height >= 5
        rows = height - 1 if with_x_axis else height
        base = self._baseline
        lo, hi = float(values.min()), float(values.max())
        if self._extent is not None:
            lo, hi = min(lo, self._extent[0]), max(hi, self._extent[1])
        if self.include_baseline:
            lo, hi = min(lo, base), max(hi, base)
        if hi - lo < 1e-9:
            pad = max(abs(hi) * 0.001, 1.0)
            lo, hi = lo - pad, hi + pad
        px_h = rows * 4

        def to_py(v: np.ndarray | float) -> np.ndarray:
            return np.rint((hi - np.asarray(v)) / (hi - lo) * (px_h - 1)).astype(np.int64)

        zero_py = int(to_py(base))
        if not 0 <= zero_py < px_h:
            zero_py = -4  # outside the range: no baseline row
        zero_row = zero_py // 4
        # the baseline's label wins a row it shares with the top or bottom label
        labels = {
            0: _label(hi, self.decimals, self.unit, self.signed),
            rows - 1: _label(lo, self.decimals, self.unit, self.signed),
        }
        if zero_row >= 0:
            labels[zero_row] = self.baseline_label or _label(base, self.decimals, self.unit, False)
        # guides: (bits, style) by row; their names win the rows they share with other labels
        guide_rows: dict[int, tuple[int, Style]] = {}
        named: dict[int, list[Guide]] = {}
        self.unnamed = []  # guides drawn on a row another guide names
        for guide in self._guides:
            py = int(to_py(guide.value))
            if not 0 <= py < px_h:
                continue
            row = py // 4
            bits = guide_rows.get(row, (0, axis))[0] | int(_DOTS[py % 4, 0] | _DOTS[py % 4, 1])
            guide_rows.setdefault(row, (0, self.get_component_rich_style(guide.style)))
            guide_rows[row] = (bits, guide_rows[row][1])  # the first guide's colour
            named.setdefault(row, []).append(guide)
        longest = max(12, width // 4)
        for row, guides in named.items():
            # one value per row: values joined on one label ("2,300·2,302") read as one number
            # or a range; the first guide (the record, then the levels) names its row, the
            # others are still drawn there and said in the chart's heading
            text = guides[0].label if row != zero_row else ""
            if not text or len(text) > longest:
                text = guides[0].short or guides[0].label
            self.unnamed += guides[1:]
            labels[row] = text if len(text) <= longest else text[: longest - 1] + "…"
        label_w = max(len(s) for s in labels.values()) + 1
        plot_w = max(1, width - label_w)
        cells = self._plot(times, values, plot_w, rows, plot_w * 2, to_py)
        base_bits = int(_DOTS[zero_py % 4, 0] | _DOTS[zero_py % 4, 1]) if zero_row >= 0 else 0
        up = self.get_component_rich_style("chart--up")
        down = self.get_component_rich_style("chart--down")
        base_style_dim = self.get_component_rich_style("chart--base")
        last_sign = np.sign(values[-1] - base)
        strips: list[Strip] = []
        for row in range(rows):
            segs = [Segment(labels.get(row, "").rjust(label_w - 1) + " ", axis)]
            if zero_row < 0:  # the whole range is above (or below) the baseline
                line_style = up if base < lo else down
            else:
                line_style = up if row < zero_row else down if row > zero_row else None
            guide_bits, guide_style = guide_rows.get(row, (0, axis))
            for cx in range(plot_w):
                bits = int(cells[row, cx])
                if guide_bits and row != zero_row and (bits or cx % 2 == 0):
                    # dotted: every other cell, so a guide never reads as the baseline
                    if bits:
                        segs.append(Segment(chr(0x2800 + (bits | guide_bits)), line_style))
                    else:
                        segs.append(Segment(chr(0x2800 + guide_bits), guide_style))
                    continue
                if row == zero_row:
                    if bits:
                        style = up if last_sign >= 0 else down
                        segs.append(Segment(chr(0x2800 + (bits | base_bits)), style))
                    else:
                        segs.append(Segment(chr(0x2800 + base_bits), base_style_dim))
                elif bits:
                    segs.append(Segment(chr(0x2800 + bits), line_style))
                else:
                    segs.append(Segment(" ", base_style))
            strips.append(Strip(segs).simplify().adjust_cell_length(width, base_style))
        if with_x_axis:
            strips.append(self._x_axis(times, width, label_w, plot_w, axis, base_style))
        self._strips = strips
        self.refresh()
        if self.on_drawn is not None:
            self.on_drawn()

    def _plot(
        self,
        times: np.ndarray,
        values: np.ndarray,
        plot_w: int,
        rows: int,
        px_w: int,
        to_py: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """Braille bits per cell: each pixel column spans its min..max and joins the previous."""
        t0, t1 = int(times[0]), int(times[-1])
        if t1 > t0:
            px = ((times - t0) / (t1 - t0) * (px_w - 1)).astype(np.int64)
        else:
            px = np.full(len(times), px_w - 1, dtype=np.int64)
        py = to_py(values)
        # group points by pixel column (times are ordered, so columns are non-decreasing)
        starts = np.flatnonzero(np.r_[True, px[1:] != px[:-1]])
        cols = px[starts]
        col_min = np.minimum.reduceat(py, starts)
        col_max = np.maximum.reduceat(py, starts)
        ends = np.r_[starts[1:], len(px)] - 1
        col_first = py[starts]
        col_last = py[ends]
        cells = np.zeros((rows, plot_w), dtype=np.uint8)
        prev: int | None = None
        prev_col: int | None = None
        for k in range(len(cols)):
            c = int(cols[k])
            lo_py, hi_py = int(col_min[k]), int(col_max[k])
            if prev is not None and prev_col is not None and c - prev_col > 1:
                # a gap between sparse points: held flat (steps), or interpolated
                first = int(col_first[k])
                for gc in range(prev_col + 1, c):
                    f = (gc - prev_col) / (c - prev_col)
                    gy = prev if self.steps else round(prev + (first - prev) * f)
                    self._set(cells, gc, gy, gy)
                    prev = gy
            if prev is not None:
                lo_py, hi_py = min(lo_py, prev), max(hi_py, prev)
            self._set(cells, c, lo_py, hi_py)
            prev, prev_col = int(col_last[k]), c
        return cells

    @staticmethod
    def _set(cells: np.ndarray, px: int, y0: int, y1: int) -> None:
        cx, dx = divmod(px, 2)
        if cx >= cells.shape[1]:
            return
        ys = np.arange(max(0, y0), min(cells.shape[0] * 4 - 1, y1) + 1)
        if not len(ys):
            return
        np.bitwise_or.at(cells[:, cx], ys // 4, _DOTS[ys % 4, dx])

    def _x_axis(
        self,
        times: np.ndarray,
        width: int,
        label_w: int,
        plot_w: int,
        axis: Style,
        base_style: Style,
    ) -> Strip:
        left, right = self.x_labels(int(times[0]), int(times[-1]))
        gap = plot_w - len(left) - len(right)
        text = " " * label_w + (left + " " * gap + right if gap >= 1 else right.rjust(plot_w))
        return Strip([Segment(text[:width], axis)]).adjust_cell_length(width, base_style)


def nice_decimals(values: np.ndarray) -> int:
    """Decimals for axis labels: none for large ranges, two for small ones."""
    if not len(values):
        return 0
    span = float(np.nanmax(values) - np.nanmin(values))
    return 0 if span >= 20 or not math.isfinite(span) else 1 if span >= 2 else 2
