"""The scoreboard: the year-to-date story of the rotation on one screen (``Y``).

From ``frame.scoreboard`` alone: 1-day, 5-day, month-to-date and year-to-date returns of ^RUT,
^GSPC and MAGS with the RUT−SPX and RUT−MAGS spreads (%, bp) and the closes they are measured
from; the outperformance streak and what it stands against; ^RUT's record highs (in a row, this
year, sessions since, the distance to the record in points and %); YTD breadth over the index
members (and the share of the index weight up on the year); the members adding most to the
index's YTD move, in index points; the holdings in use; and ^RUT's daily closes over the past
year with the levels (technical and yours) and the record high drawn across as dotted lines.

Every figure is computed in :mod:`feeds.market.scoreboard`; this module only lays the figures out
for
the terminal's size: side by side on wide terminals, one line per fact on short ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from textual import events
from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Size

from feeds.frame import Frame, LevelView, View
from feeds.market.scoreboard import (
    MAGS,
    PERIODS,
    RUT,
    SPX,
    Adder,
    HoldingsInfo,
    Scoreboard,
)
from tui import fmt
from tui.fmt import SIGN_STYLE
from tui.screens.base import DetailScreen
from tui.widgets.chart import Chart, Guide
from tui.widgets.download import DownloadProgress
from tui.widgets.text import Line

TITLE = "Scoreboard · year to date"
LABEL_W = 10  # the story's labels (Streak, Records, ...)
ROW_W = 9  # the returns table's row names (RUT−MAGS)
COL_W = 11  # each period's column
NAMES = {RUT: "Russell 2000", SPX: "S&P 500", MAGS: "Magnificent 7"}
SPREAD_NAMES = {"RUT-SPX": "RUT−SPX", "RUT-MAGS": "RUT−MAGS"}
PERIOD_HEADS = {"1d": "1D", "5d": "5D", "mtd": "MTD", "ytd": "YTD"}
SIDE_MIN = 90  # content width from which the movers stand beside the returns table
VAST_MIN = 150  # ... and the detractors beside them
TALL_MIN = 40  # terminal height from which a fact may take two lines
NEAR = 0.15  # a level is drawn when within this share of the chart's range beyond it
ORIGINS = {"bundled": "bundled", "fetched": "fetched", "given": "--holdings"}
MUTED = "$text-muted"
WARN = "$text-warning"

Part = str | tuple[str, str]


def pct_cell(x: float | None) -> tuple[str, str]:
    return (fmt.pct(x), SIGN_STYLE[fmt.sign_class(x * 100 if x is not None else None, 2)])


def bp_cell(x: float | None) -> tuple[str, str]:
    text = f"{fmt.bp(x)} bp" if fmt.known(x) else fmt.DASH
    return (text, SIGN_STYLE[fmt.sign_class(x, 0)])


def short_date(day: str | None, session: str | None) -> str:
    """ "Nov 25" in the session's year, else the ISO date (another year must say so)."""
    if not day:
        return fmt.DASH
    if session and day[:4] == session[:4]:
        return dt.date.fromisoformat(day).strftime("%b %d")
    return day


def returns_table(sb: Scoreboard, names: bool = False) -> list[Content]:
    """The returns (%) and spreads (bp) by period, and the close each period is measured from."""
    head = "".join(f"{PERIOD_HEADS[p]:>{COL_W}}" for p in PERIODS)
    lines = [Content.styled(f"{'':<{ROW_W}}{head}", f"bold {MUTED}")]
    for name, periods in sb.returns.items():
        spread = name in SPREAD_NAMES
        cell = bp_cell if spread else pct_cell
        parts: list[Part] = [(f"{SPREAD_NAMES.get(name, name):<{ROW_W}}", "bold")]
        for p in PERIODS:
            text, style = cell(periods.get(p))
            parts.append((f"{text:>{COL_W}}", style))
        if names and name in NAMES:
            parts.append((f"  {NAMES[name]}", MUTED))
        lines.append(Content.assemble(*parts))
    bases = "".join(f"{short_date(sb.bases.get(p), sb.session):>{COL_W}}" for p in PERIODS)
    lines.append(Content.styled(f"{'from':<{ROW_W}}{bases}", MUTED))
    return lines


#: one fact in words that fit: its forms, the fullest first (each form a styled line part)
Fact = tuple[Content, ...]


def fact(*forms: Content | str) -> Fact:
    return tuple(Content(f) if isinstance(f, str) else f for f in forms)


def _join(head: Content, parts: Sequence[Content]) -> Content:
    out: list[Content | str] = [head]
    for k, part in enumerate(parts):
        out += [" · ", part] if k else [part]
    return Content.assemble(*out)


def pack(label: str, facts: Sequence[Fact], width: int, max_lines: int) -> list[Content]:
    """``facts`` after ``label``, joined by " · ", in at most ``max_lines`` lines of ``width``
    cells. On one line: as many facts as fit (the first ones), each in the fullest form that
    lets them fit; on more: line by line, each fact in the fullest form that fits the line.
    A fact is never cut mid-word (only a first one wider than the line is cut, by CSS)."""
    head = Content.styled(f"{label:<{LABEL_W}}" if label else "", MUTED)
    if not facts:
        return [head]
    if max_lines == 1:
        for k in range(len(facts), 0, -1):
            depth = max(len(f) for f in facts[:k])
            for level in range(depth):
                line = _join(head, [f[min(level, len(f) - 1)] for f in facts[:k]])
                if line.cell_length <= width:
                    return [line]
        return [_join(head, [facts[0][-1]])]
    lines: list[Content] = []
    chosen: list[Content] = []
    for forms in facts:
        fits = [f for f in forms if _join(head, [*chosen, f]).cell_length <= width]
        if fits or not chosen:
            chosen.append(fits[0] if fits else forms[-1])
            continue
        lines.append(_join(head, chosen))
        if len(lines) >= max_lines:
            return lines
        head = Content(" " * LABEL_W)
        fits = [f for f in forms if _join(head, [f]).cell_length <= width]
        chosen = [fits[0] if fits else forms[-1]]
    lines.append(_join(head, chosen))
    return lines


def streak_facts(sb: Scoreboard) -> list[Fact]:
    """Who leads and for how long, what it stands against, and the leader's best this year."""
    s = sb.streak
    if s.leader is None or not s.sessions:
        tie = "no streak: the last session was a tie"
        none = "no streak yet: needs closes of ^RUT and ^GSPC for two sessions"
        return [fact(Content.styled(tie if s.end else none, MUTED))]
    small = s.leader == RUT
    style = SIGN_STYLE["up" if small else "down"]
    runs = fmt.plural(s.sessions, "session")
    facts = [
        fact(
            Content.assemble(
                (
                    "▲ small caps beat large caps" if small else "▼ large caps beat small caps",
                    style,
                ),
                f" {runs} running",
            ),
            Content.assemble(
                ("▲ small caps lead" if small else "▼ large caps lead", style), f" {runs}"
            ),
        )
    ]
    context = sb.streak_context(lambda d: short_date(d, sb.session))
    if context:
        brief = context.removeprefix("the ").split(" (")[0]
        facts.append(fact(Content.styled(context, "bold"), Content.styled(brief, "bold")))
    if s.end:
        year = s.end[:4]
        best = s.longest_this_year
        text = f"the longest of {year}" if best == s.sessions else f"{year}'s longest: {best}"
        facts.append(fact(Content.styled(text, MUTED)))
    return facts


def record_facts(sb: Scoreboard) -> list[Fact]:
    """The record and when it was set, how far the index is from it, the sessions in a row
    that set one, and how many this year (the first ones kept when room is short)."""
    r = sb.record_highs
    if r.high is None:
        return [fact(Content.styled("no daily highs yet", MUTED))]
    day = short_date(r.date, sb.session)
    ago = ""
    if r.sessions_since:
        ago = f", {fmt.plural(r.sessions_since, 'session')} ago"
    # a history shorter than a year has a high, not a record worth the name: say from when
    year = (sb.session or r.date or "")[:4]
    full = r.since is not None and r.since[:4] < year
    what = "record" if full else "high"
    since = "" if full or r.since is None else f" (history from {short_date(r.since, sb.session)})"
    facts = [
        fact(
            Content.assemble(
                f"{r.symbol} {what} ", (fmt.price(r.high), "bold"), f" on {day}{ago}{since}"
            ),
            Content.assemble(f"{what} ", (fmt.price(r.high), "bold"), f" {day}"),
        )
    ]
    distance, pct = r.distance, r.distance_pct
    if distance is not None and pct is not None:
        if distance >= 0:
            facts.append(fact(Content.styled("at the record now", SIGN_STYLE["up"])))
        else:
            share = fmt.pct(pct) if round(pct * 100, 2) else "<0.01%"
            where = f"{fmt.signed(distance)} pts ({share}) below"
            facts.append(fact(Content.styled(where, SIGN_STYLE["down"])))
    if r.sessions:
        facts.append(
            fact(
                Content.styled(f"{fmt.plural(r.sessions, 'session')} in a row", "bold"),
                Content.styled(f"{r.sessions} in a row", "bold"),
            )
        )
    if full:
        facts.append(fact(Content.styled(f"{r.this_year} this year", MUTED)))
    return facts


def breadth_facts(sb: Scoreboard) -> list[Fact]:
    """Members up and down on the year, the names without a YTD anchor, the share up (by count
    and by index weight)."""
    b, m = sb.breadth_ytd, sb.movers
    up, down = SIGN_STYLE["up"], SIGN_STYLE["down"]
    facts = [
        fact(
            Content.assemble(
                (f"▲ {b.advancers:,} up", up),
                "  ",
                (f"▼ {b.decliners:,} down", down),
                f"  = {b.unchanged:,}",
            ),
            Content.assemble(
                (f"▲ {b.advancers:,}", up), " ", (f"▼ {b.decliners:,}", down), f" = {b.unchanged:,}"
            ),
        )
    ]
    note = sb.anchor_note()
    if note:  # before the shares: they count only the names with an anchor
        lack = f"{sb.ytd_anchor_unknown:,} lack a YTD anchor"
        facts.append(fact(Content.styled(note, WARN), Content.styled(lack, WARN)))
    if b.pct_up is not None:
        up = f"{b.pct_up * 100:.1f}%"
        facts.append(
            fact(Content.styled(f"{up} of members up", "bold"), Content.styled(f"{up} up", "bold"))
        )
    if m.weight_up is not None:
        weight = f"{m.weight_up * 100:.1f}%"
        facts.append(fact(f"{weight} of the index weight", f"{weight} of weight"))
    return facts


def holdings_facts(h: HoldingsInfo | None) -> list[Fact]:
    """Which holdings, as of when, and (first, when they are stale) how old."""
    if h is None:
        return [fact(Content.styled("none: every name the feed sends", MUTED))]
    word = ORIGINS.get(h.origin, h.origin)
    label = f" {fmt.clean(h.label, 40)}" if h.origin != "bundled" else ""
    long, short = f"{word}{label}, as of {h.as_of}", f"{word}, as of {h.as_of}"
    if h.stale and h.age_days is not None:
        flag = (f"⚠ {h.age_days:,} days old", f"bold {WARN}")
        return [
            fact(Content.assemble(long, " ", flag), Content.assemble(short, " ", flag)),
            fact(Content.styled("r2k holdings fetch gets the current file", WARN)),
        ]
    age = [fact(f"{fmt.plural(h.age_days, 'day')} old")] if h.age_days is not None else []
    return [fact(long, short), *age]


def mover_points(a: Adder) -> str:
    """ "+5.98 pts", or the contribution in bp when the index's YTD base is unknown."""
    return f"{fmt.signed(a.points)} pts" if a.points is not None else f"{fmt.bp(a.bp, 1)} bp"


def movers_table(title: str, movers: Sequence[Adder], rows: int, width: int) -> list[Content]:
    """A titled column of movers: symbol, name, index points, YTD return."""
    name_w = max(0, width - 7 - 12 - 9 - 2)
    lines = [Content.styled(f"{title:<{width}}"[:width], f"bold {MUTED}")]
    for a in movers[:rows]:
        sign = SIGN_STYLE[fmt.sign_class(a.bp, 2)]
        name = fmt.clean(a.name, 60)
        name = name if len(name) <= name_w else name[: max(0, name_w - 1)] + "…"
        lines.append(
            Content.assemble(
                (f"{fmt.clean(a.symbol, 6):<7}", "bold"),
                (f"{name:<{name_w}} " if name_w else "", MUTED),
                (f"{mover_points(a):>12}", sign),
                (f"{fmt.pct(a.ret):>9}", sign),
            )
        )
    if not movers:
        lines.append(Content.styled("none yet (no YTD returns)", MUTED))
    return lines


def movers_line(sb: Scoreboard, width: int) -> Content:
    """The adders on one line: "Adding    CRDO +5.98 · STRL +2.94 … pts" (as many as fit)."""
    m = sb.movers
    parts: list[Content] = []
    for a in m.adders:
        value = fmt.signed(a.points) if a.points is not None else f"{fmt.bp(a.bp, 1)} bp"
        parts.append(
            Content.assemble(
                (fmt.clean(a.symbol, 6), "bold"), " ", (value, SIGN_STYLE[fmt.sign_class(a.bp, 2)])
            )
        )
    unit = " pts" if m.adders and m.adders[0].points is not None else ""
    if not parts:
        return Content.assemble(
            (f"{'Adding':<{LABEL_W}}", MUTED), ("none yet (no YTD returns)", MUTED)
        )
    line = pack("Adding", [fact(p) for p in parts], width - len(unit), 1)[0]
    return Content.assemble(line, (unit, MUTED))


def movers_note(sb: Scoreboard) -> str:
    """ "^RUT +128.59 pts YTD · 9 add ≥1 pt": the index's move and the names adding a point."""
    m = sb.movers
    parts = []
    if m.index_points is not None:
        parts.append(f"{RUT} {fmt.signed(m.index_points)} pts YTD")
    if m.over_a_point is not None:
        parts.append(f"{m.over_a_point:,} add ≥1 pt")
    return " · ".join(parts)


def side_by_side(columns: Sequence[tuple[list[Content], int]], gap: int = 3) -> list[Content]:
    """Blocks of lines next to each other, each block padded to its width plus ``gap``."""
    height = max(len(lines) for lines, _ in columns)
    out = []
    for row in range(height):
        parts: list[Content | str] = []
        for k, (lines, width) in enumerate(columns):
            cell = lines[row] if row < len(lines) else Content("")
            parts.append(cell)
            if k < len(columns) - 1:
                parts.append(" " * (max(0, width - cell.cell_length) + gap))
        out.append(Content.assemble(*parts))
    return out


def facts(sb: Scoreboard, width: int, height: int) -> Content:
    """The scoreboard's figures for a panel ``width`` cells wide on a terminal ``height`` tall."""
    tall = height >= TALL_MIN
    lines_per_fact = 2 if tall else 1
    table = returns_table(sb, names=width >= SIDE_MIN + 46)
    if width >= SIDE_MIN:
        table_w = ROW_W + 4 * COL_W + (16 if width >= SIDE_MIN + 46 else 0)
        columns: list[tuple[list[Content], int]] = [(table, table_w)]
        vast = width >= VAST_MIN + (16 if width >= SIDE_MIN + 46 else 0)
        n_cols = 2 if vast else 1
        col_w = min(52, (width - table_w - 3 * n_cols) // n_cols)
        rows = len(table) - 2  # a title above, the note below
        adders = movers_table("Adding most YTD", sb.movers.adders, rows, col_w)
        adders += [Content("")] * (rows + 1 - len(adders))
        adders.append(Content.styled(movers_note(sb)[:col_w], MUTED))
        columns.append((adders, col_w))
        if vast:
            taking = movers_table("Taking most YTD", sb.movers.detractors, rows, col_w)
            columns.append((taking, col_w))
        lines = side_by_side(columns)
    else:
        lines = [*table, movers_line(sb, width)]
    if height >= TALL_MIN - 10:
        lines.append(Content(""))
    for label, facts_ in (
        ("Streak", streak_facts(sb)),
        ("Records", record_facts(sb)),
        ("Breadth", breadth_facts(sb)),
        ("Holdings", holdings_facts(sb.holdings)),
    ):
        lines += pack(label, facts_, width, lines_per_fact)
    return Content("\n").join(lines)


def title(sb: Scoreboard | None, width: int = 200) -> str:
    """The panel's title, shortened to fit ``width``."""
    if sb is None or sb.session is None:
        return f"{TITLE} · waiting for data"
    state = "closed" if sb.complete else "in progress"
    long = f"{TITLE} · session {sb.session} {state}"
    return long if len(long) + 6 <= width else f"Scoreboard · {sb.session} {state}"


# --- the daily chart ---------------------------------------------------------------------------


def daily_points(sb: Scoreboard) -> tuple[list[str], np.ndarray]:
    """^RUT's completed sessions' closes and, while the session is not complete, its last."""
    d = sb.rut_daily
    dates, closes = list(d.dates), d.close
    today = sb.rut_today
    if today is not None and today[3] is not None and sb.session and sb.session not in d.dates:
        dates.append(sb.session)
        closes = np.append(closes, today[3])
    return dates, np.asarray(closes, dtype=np.float64)


def level_guides(
    levels: Sequence[LevelView], lo: float, hi: float, wide: bool
) -> tuple[list[Guide], list[LevelView], list[LevelView]]:
    """The levels near the chart's range as guides; those above and below it, left out."""
    reach = (hi - lo) * NEAR
    guides, above, below = [], [], []
    for lv in levels:
        if lv.price > hi + reach:
            above.append(lv)
        elif lv.price < lo - reach:
            below.append(lv)
        else:
            value = f"{fmt.level_price(lv.price)}{'✎' if lv.user else ''}"
            name = f" {fmt.clean(lv.label, 16)}" if wide else ""
            guides.append(Guide(lv.price, f"{value}{name}", short=value))
    return guides, above, below


class ScoreboardScreen(DetailScreen):
    """The year-to-date scoreboard; Escape goes back to where you were."""

    # under 20 lines the facts take the room (a daily chart of two rows says nothing); short
    # terminals keep only the panel's title line (app.tcss), as the monitor does
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-tiny"),
        (20, "-short"),
        (30, "-tall"),
    ]

    def wants(self, view: View) -> View:
        return View(paused=view.paused)

    def compose_charts(self) -> ComposeResult:
        yield DownloadProgress(id="sb-progress")
        yield Line(classes="chart-title", id="sb-chart-title")
        yield Chart(
            unit="",
            decimals=0,
            signed=False,
            include_baseline=False,
            id="sb-chart",
            empty_text="no daily history yet",
        )

    def on_resize(self, event: events.Resize) -> None:
        if self.frame is not None and not self.frame.view.paused:
            self.render_frame(self.frame)  # the same figures laid out for the new size

    def describe(self, frame: Frame) -> tuple[str, Content]:
        sb = frame.scoreboard
        if sb is None:
            return title(None), Content("No scoreboard: this frame has no daily history.")
        width = max(20, self.size.width - 4)  # the panel's border and padding
        return title(sb, self.size.width), facts(sb, width, self.size.height)

    def render_frame(self, frame: Frame) -> None:
        super().render_frame(frame)
        sb = frame.scoreboard
        self.query_one(DownloadProgress).show(sb.progress if sb is not None else None)
        # the daily chart changes with the session's last price: with the other charts, at
        # most once a second, and at once when the screen appears or is resized
        chart = self.query_one("#sb-chart", Chart)
        if frame.charts is not None or chart.point_count == 0 or chart.size != self._drawn:
            self.draw_daily(frame)

    _drawn: Size | None = None  # the chart's size when last drawn

    def draw_daily(self, frame: Frame) -> None:
        sb = frame.scoreboard
        chart = self.query_one("#sb-chart", Chart)
        self._drawn = chart.size
        heading = self.query_one("#sb-chart-title", Line)
        if sb is None:
            return
        dates, closes = daily_points(sb)
        if not len(sb.rut_daily):  # today's price alone is no daily chart
            if sb.progress is not None:
                what, done, total = sb.progress
                chart.empty_text = f"daily history downloading: {what} {done:,}/{total:,}"
            heading.show(Content.styled(f"{RUT} daily closes", MUTED))
            chart.update(np.zeros(0, dtype=np.int64), np.zeros(0))
            return
        wide = chart.size.width >= 90
        known = closes[np.isfinite(closes)]
        lo, hi = float(known.min()), float(known.max())
        r = sb.record_highs
        guides: list[Guide] = []
        if r.high is not None:
            hi = max(hi, r.high)
            value = fmt.price(r.high, 0)
            name = f" record {short_date(r.date, sb.session)}" if wide else " record"
            guides.append(Guide(r.high, f"{value}{name}", "chart--mark", value))
        levels = frame.levels if frame.level_symbol == RUT else []
        near, above, below = level_guides(levels, lo, hi, wide)
        guides += near
        extent_lo = min([lo, *(g.value for g in near)])
        extent_hi = max([hi, *(g.value for g in near)])
        base_day = sb.bases.get("ytd")
        base = None
        if base_day in sb.rut_daily.dates:
            base = float(sb.rut_daily.close[sb.rut_daily.dates.index(base_day)])
        chart.baseline_label = (
            f"{fmt.price(base, 0)} {base_day[:4]} close" if base and base_day and wide else None
        )
        chart.x_labels = lambda a, b: (_day(dates, a), _day(dates, b))
        chart.update(
            np.arange(len(closes), dtype=np.int64),
            closes,
            baseline=base if base else float(closes[0]),
            extent=(extent_lo, extent_hi),
            guides=guides,
        )
        heading.show(chart_heading(dates, above, below, base_day, chart.size.width))


def _day(dates: Sequence[str], i: int) -> str:
    return dt.date.fromisoformat(dates[i]).strftime("%b %d %Y") if 0 <= i < len(dates) else ""


def chart_heading(
    dates: Sequence[str],
    above: Sequence[LevelView],
    below: Sequence[LevelView],
    base_day: str | None,
    width: int,
) -> Content:
    """What the daily chart shows, the levels left off it, and a legend (as room allows)."""
    first, last = _day(dates, 0), _day(dates, len(dates) - 1)
    facts = [
        fact(
            Content.styled(f"{RUT} daily closes, {first} – {last}", "bold"),
            Content.styled(f"{RUT} daily, {first} – {last}", "bold"),
        )
    ]
    off = []
    for arrow, levels in (("▲", above), ("▼", below)):
        if levels:
            off.append(f"{arrow} {' '.join(fmt.level_price(lv.price) for lv in levels)}")
    if off:
        facts.append(fact(Content.styled(f"off the chart {' '.join(off)}", MUTED)))
    facts.append(fact(Content.styled("dotted: levels (✎ yours), the record", MUTED)))
    if base_day:
        facts.append(fact(Content.styled(f"solid: the {base_day[:4]} close", MUTED)))
    return pack("", facts, width, 1)[0]
