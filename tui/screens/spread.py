"""Spread detail: the headline quotes, both spreads, the ratio, the streak, every spread alert
threshold (a ladder per spread, in basis points, where ``m`` mutes one) and larger charts."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.content import Content

from feeds.frame import Charts, Frame, SpreadAlerts, View
from feeds.symbols import MAGS, RUT, SPREADS, SPX
from tui import fmt, keys
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart
from tui.widgets.ladder import LevelLadder
from tui.widgets.spread_card import quote_line, spread_line, streak_text
from tui.widgets.text import Line

TITLE = "Spread · Russell 2000 vs S&P 500 and MAGS"
LADDER_MAX = 9  # lines of a threshold list (header and spread row included); more scroll
NO_THRESHOLDS = (
    "No spread alerts: add [[alerts.spread]] to the config, or run with --spread-level 50"
)


def rule(sa: SpreadAlerts, sessions: str = "regular") -> str:
    """How a threshold fires, in words: past it by its band (the Band column) for the dwell, in
    the hours of ``sessions``."""
    dwells = {lv.dwell_ms for lv in sa.levels}
    hours = fmt.SESSIONS_WORDS[sessions][0]
    if dwells == {0}:
        return f"fires past ±band, {hours}"
    if len(dwells) == 1:
        return f"{dwells.pop() / 1000:g}s past ±band, {hours}"
    return f"its dwell past ±band, {hours}"


def _slug(pair: str) -> str:
    return pair.lower()  # "rut-spx": a valid widget id


class SpreadScreen(DetailScreen):
    # short terminals with thresholds to list: the thresholds and the RUT-SPX chart keep the
    # room, the RUT-MAGS chart gives way (its spread is in the facts)
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-cramped"), (30, "-roomy")]
    DEFAULT_CSS = """
    SpreadScreen .thresholds { height: 3; max-width: 76; margin-bottom: 1; display: none; }
    SpreadScreen .thresholds.-shown { display: block; }
    SpreadScreen .threshold-title { display: none; }
    SpreadScreen .threshold-title.-shown { display: block; }
    SpreadScreen.-cramped.-thresholds #mags-title, SpreadScreen.-cramped.-thresholds #mags-chart {
        display: none;
    }
    """

    def wants(self, view: View) -> View:
        return View(paused=view.paused)

    def compose_charts(self) -> ComposeResult:
        for pair in SPREADS:
            yield Line(classes="chart-title threshold-title", id=f"{_slug(pair)}-title")
            yield LevelLadder(id=f"{_slug(pair)}-levels", classes="thresholds", symbol=pair)
        for pair, name in (("spx", "SPX"), ("mags", "MAGS")):
            title = Line(classes="chart-title", id=f"{pair}-title")
            title.show(Content(f"RUT − {name} spread (bp) since the anchor"))
            yield title
            yield Chart(unit="bp", id=f"{pair}-chart")

    def describe(self, frame: Frame) -> tuple[str, Content]:
        q = frame.quotes
        lines = [quote_line(q[s], wide=True) for s in (RUT, SPX, MAGS) if s in q]
        ratio = fmt.price(frame.ratio) if frame.ratio is not None else fmt.DASH
        lines += [
            Content(""),
            Content.assemble(*spread_line("RUT − SPX ", frame.spread_spx_bp)),
            Content.assemble(*spread_line("RUT − MAGS", frame.spread_mags_bp)),
            Content.assemble(
                ("Ratio RUT/SPX ", "$text-muted"),
                (ratio, "bold"),
                (f"  (100 at {fmt.anchor_name(frame.anchor)})", "$text-muted"),
            ),
            Content.assemble(("Streak ", "$text-muted"), streak_text(frame.streak)),
        ]
        if frame.estimated_indices:
            lines.append(Content.styled("est.: index estimated from its ETF", "$text-warning"))
        if not any(sa.levels for sa in frame.spread_alerts.values()):
            lines += [Content(""), Content.styled(NO_THRESHOLDS, "$text-muted")]
        return TITLE, Content("\n").join(lines)

    def render_frame(self, frame: Frame) -> None:
        super().render_frame(frame)
        self.show_thresholds(frame)

    def show_thresholds(self, frame: Frame) -> None:
        """A ladder per spread with thresholds: each one, the spread placed among them."""
        first: LevelLadder | None = None
        for pair in SPREADS:
            slug = _slug(pair)
            sa = frame.spread_alerts.get(pair)
            shown = sa is not None and bool(sa.levels)
            title = self.query_one(f"#{slug}-title", Line)
            ladder = self.query_one(f"#{slug}-levels", LevelLadder)
            title.set_class(shown, "-shown")
            ladder.set_class(shown, "-shown")
            if sa is None or not shown:
                continue
            anchor = fmt.anchor_name(sa.anchor)
            name, mute = pair.replace("-", " − "), keys.display(self.app, "mute")
            how = rule(sa, frame.alert_sessions)
            title.show(Content(f"{name} alerts (bp vs {anchor}; {how}) · {mute} mutes"))
            ladder.styles.height = min(len(sa.levels) + 2, LADDER_MAX)
            ladder.set_levels(list(sa.levels), sa.value_bp, symbol=pair, stale=frame.stale)
            first = first or ladder
        self.set_class(first is not None, "-thresholds")
        if first is not None and not isinstance(self.focused, LevelLadder):
            first.focus()  # m and the arrows work at once

    def draw(self, frame: Frame, charts: Charts) -> None:
        for pair, line in (("spx", charts.spread_spx), ("mags", charts.spread_mags)):
            self.query_one(f"#{pair}-chart", Chart).update(line.times, line.values)
