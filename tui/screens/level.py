"""Level drilldown: the level, its state, how far the index has to go, its crossings this session,
and the index over the session against the level's line."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content

from feeds.frame import Charts, Frame, LevelView, View
from tui import fmt, keys
from tui.fmt import SIGN_STYLE
from tui.messages import ToggleMute
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart, nice_decimals
from tui.widgets.text import Line

NEAR_SPANS = 2.0  # the level is drawn in the chart when within this many day ranges of it

LABEL_W = 10


def _row(label: str, *parts: str | tuple[str, str]) -> Content:
    return Content.assemble((f"{label:<{LABEL_W}}", "$text-muted"), *parts)


def level_facts(
    lv: LevelView, price: float | None, symbol: str, estimated: bool, sessions: str = "regular"
) -> Content:
    """The facts block. The distance is "to go" (level − price), as on the ladder; the
    crossings count prints of ``sessions`` (``[alerts] sessions``)."""
    state, _, sign = fmt.level_state(lv)
    est = " est." if estimated else ""
    if lv.distance is None:
        where = ""
    elif lv.distance == 0:
        where = "  at the level"
    else:
        where = f"  {'below' if lv.distance > 0 else 'above'} the level"
    muted: list[str | tuple[str, str]] = []
    if lv.muted:
        muted = [("  ⊘ muted", "bold $text-warning"), (": logged, no toast or bell", "$text-muted")]
    lines = [
        _row(
            "Level",
            (fmt.price(lv.price), "bold"),
            f"  {fmt.clean(lv.label, 40)}",
            ("  (yours)" if lv.user else "  (technical)", "$text-muted"),
        ),
        _row("State", (state, f"bold {SIGN_STYLE[sign]}"), *muted),
        _row("Confirm", fmt.CONFIRM_WORDS.get(lv.confirm, lv.confirm)),
        _row("Hours", fmt.SESSIONS_WORDS[sessions][1]),
        _row("Price", (fmt.price(price), "bold"), f" {symbol}{est}", (where, "$text-muted")),
        _row(
            "To go",
            (f"{fmt.distance(lv.distance)} pts  {fmt.distance_pct(lv.distance_pct, 2, 3)}", "bold"),
        ),
        _row("", (fmt.DISTANCE_RULE, "$text-muted")),
        Content(""),
        Content.styled(f"Crossings this session: {len(lv.crossings)}", "bold"),
    ]
    for alert in reversed(lv.crossings[-8:]):
        what, sign = fmt.describe(alert)
        lines.append(
            Content.assemble(
                f"  {fmt.clock(alert.ts)}  ",
                (f"{what:<15}", SIGN_STYLE[sign]),
                f" at {fmt.price(alert.price)}" + (" est." if alert.estimated else ""),
            )
        )
    if not lv.crossings:
        lines.append(Content.styled("  none yet", "$text-muted"))
    return Content("\n").join(lines)


class LevelScreen(DetailScreen):
    FACTS_INDENT = LABEL_W

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("level")

    def __init__(self, price: float) -> None:
        super().__init__()
        self.price = price

    def wants(self, view: View) -> View:
        return View(level=self.price, paused=view.paused)

    def compose_charts(self) -> ComposeResult:
        # the index itself with the level as its baseline: no second sign convention to read
        yield Line(classes="chart-title", id="chart-title")
        yield Chart(
            unit="", decimals=1, signed=False, steps=True, id="chart", empty_text="no history yet"
        )

    def action_toggle_mute(self) -> None:
        """m: mute or unmute this level (where the trader looks at it)."""
        if self.frame is not None and self._level(self.frame) is not None:
            self.post_message(ToggleMute(self.frame.level_symbol, self.price))

    def _level(self, frame: Frame) -> LevelView | None:
        return next((lv for lv in frame.levels if lv.price == self.price), None)

    def describe(self, frame: Frame) -> tuple[str, Content]:
        lv = self._level(frame)
        if lv is None:
            return (
                f"Level {fmt.price(self.price)} (removed)",
                Content("This level is no longer on the ladder."),
            )
        title = f"Level {fmt.price(lv.price)} · {fmt.clean(lv.label, 40)}"
        facts = level_facts(
            lv, frame.level_price, frame.level_symbol, frame.estimated_indices, frame.alert_sessions
        )
        return title, facts

    def draw(self, frame: Frame, charts: Charts) -> None:
        if charts.level is None or self._level(frame) is None:
            return
        prices = charts.level.values
        chart = self.query_one(Chart)
        level = fmt.level_price(self.price)
        title = f"{frame.level_symbol} over the session against the level's line ({level})"
        if len(prices):
            lo, hi = float(prices.min()), float(prices.max())
            reach = max(hi - lo, hi * 0.001) * NEAR_SPANS
            # a level far from the day's range would flatten the line: scale to the prices
            chart.include_baseline = lo - reach <= self.price <= hi + reach
            if not chart.include_baseline:
                where = "above" if self.price > hi else "below"
                title = f"{frame.level_symbol} over the session; the level {level} is {where}"
        self.query_one("#chart-title", Line).show(Content(title))
        chart.decimals = nice_decimals(prices)
        chart.baseline_label = f"level {level}"
        chart.update(charts.level.times, prices, baseline=self.price, until=frame.as_of)
