"""The spread card: the three headline quotes, the RUT-SPX spread (large, in solid block
figures), RUT-MAGS, the ratio, the outperformance streak, the nearest spread alert thresholds
and an intraday chart of the spread with its zero line.

The thresholds line names, per spread with alert thresholds (``[[alerts.spread]]``,
``--spread-level``), the nearest one below the spread and the nearest above it, in basis points,
each with its "to go" (threshold − spread, the ladder's convention): ``alerts ▼ 0 (−11)
▲ +50 (+39) bp``. The spread drilldown (Enter, ``d``) lists them all and mutes them (``m``)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content

from feeds.events import FeedState
from feeds.frame import Charts, Frame, LevelView, Quote, SpreadAlerts
from feeds.symbols import MAGS, RUT, SPX
from tui import fmt, keys
from tui.fmt import SIGN_STYLE
from tui.messages import OpenSpread, ToggleMute
from tui.widgets.chart import Chart
from tui.widgets.figure import big as big_figure
from tui.widgets.text import Line

NAMES = {RUT: "Russell 2000", SPX: "S&P 500", MAGS: "Magnificent 7"}
QUOTE_W = 31  # symbol, last, change, return: narrower cards drop the change in points


def quote_line(q: Quote, *, wide: bool = False, width: int = 80) -> Content:
    style = SIGN_STYLE[fmt.sign_class(q.ret * 100 if q.ret is not None else None, 2)]
    parts: list[str | tuple[str, str]] = [
        (f"{q.symbol:<6}", "bold"),
        ("est " if q.estimated else "", "$text-warning"),
        f"{fmt.price(q.last):>9}",
    ]
    if width >= QUOTE_W + (4 if q.estimated else 0):
        parts.append((f" {fmt.signed(q.change):>7}", style))
    parts.append((f" {fmt.pct(q.ret):>7}", style))
    if wide:
        parts.append((f"  {NAMES.get(q.symbol, '')}", "$text-muted"))
    return Content.assemble(*parts)


def streak_text(streak: tuple[int, str], *, width: int = 80, waiting: str = "") -> str:
    """The outperformance streak in the words that fit ``width``; ``waiting`` names what the
    screen waits for before it can know one ("the relay", "the feed"; "" = nothing)."""
    n, who = streak
    if waiting and not (n and who):
        return f"waiting for {waiting}" if width >= 13 + len(waiting) else "waiting…"
    if not n or not who:
        return "no streak yet" if width < 36 else "no streak data (needs daily closes)"
    sessions = "session" if n == 1 else "sessions"
    if width < 15:
        return f"{who} {n}d"
    if width <= 20:
        return f"{who} {n}d streak"
    if width < 33:
        return f"{who} caps {n}d streak"
    if width < 45:
        return f"{who} caps won {n} {sessions} running"
    if who == "small":
        return f"small caps beat large caps {n} {sessions} running"
    return f"large caps beat small caps {n} {sessions} running"


def waiting_for(frame: Frame) -> str:
    """What a card with no data yet waits for: "the relay" (a ``nats://`` or ``tls://`` feed
    whose relay has sent nothing), "the feed" (connecting), or "" (it has data, or gave up)."""
    if frame.total_ticks or frame.status.state not in (
        FeedState.CONNECTING,
        FeedState.RECONNECTING,
    ):
        return ""
    relay = frame.feed_label.startswith(("nats://", "tls://", "relay ")) or " via " in (
        frame.feed_label
    )
    return "the relay" if relay else "the feed"


def spread_line(label: str, value: float | None) -> list[str | tuple[str, str]]:
    sign = fmt.sign_class(value, 0)
    arrow = fmt.arrow(value) if sign != "flat" else fmt.FLAT
    return [(f"{label} ", "$text-muted"), (f"{fmt.bp(value)} bp {arrow}", SIGN_STYLE[sign])]


PAIR_NAMES = {"RUT-SPX": "SPX", "RUT-MAGS": "MAGS"}  # the pair by its large-cap side
MUTED = "⊘"  # as on the ladder


def _threshold(arrow: str, lv: LevelView) -> list[str | tuple[str, str]]:
    value = fmt.bp(lv.price, 0 if lv.price == int(lv.price) else 1)
    return [
        (f"{MUTED if lv.muted else ''}{arrow} {value}", "bold"),
        (f" ({fmt.distance(lv.distance, 0)})", "$text-muted"),
    ]


def threshold_line(
    sa: SpreadAlerts, width: int = 80, *, named: bool = False, anchor: str = ""
) -> Content:
    """The nearest thresholds of one spread, below then above its value (``named``: say which
    spread, when the card lists both); ``anchor``: the card's, named when the thresholds are
    measured from another (the run's day anchor while the card shows YTD)."""
    parts: list[str | tuple[str, str]] = []
    name = PAIR_NAMES.get(sa.pair, sa.pair)
    if named:
        parts.append((f"{name} alerts " if width >= 36 else f"{name} ", "$text-muted"))
    elif width >= 30:
        parts.append(("alerts ", "$text-muted"))
    below, above = sa.nearest()
    if sa.value_bp is None:
        levels = ", ".join(fmt.bp(lv.price, 1).replace(".0", "") for lv in sa.levels)
        parts += [(f"{levels} bp", "bold"), (" · no spread yet", "$text-muted")]
        return Content.assemble(*parts)
    if below is not None:
        parts += _threshold(fmt.DOWN, below)
    if above is not None:
        parts += ["  " if below is not None else "", *_threshold(fmt.UP, above)]
    parts.append((" bp", "$text-muted"))
    if anchor and anchor != sa.anchor:
        parts.append((f" vs {fmt.anchor_name(sa.anchor)}", "$text-muted"))
    return Content.assemble(*parts)


def nearest_thresholds(frame: Frame) -> list[LevelView]:
    """The thresholds the card shows: the nearest below and above each watched spread."""
    out: list[LevelView] = []
    for sa in frame.spread_alerts.values():
        out += [lv for lv in sa.nearest() if lv is not None]
    return out


def thresholds_content(frame: Frame, width: int = 80) -> Content | None:
    """One line per spread with thresholds (None: no spread alerts are set)."""
    watched = [sa for sa in frame.spread_alerts.values() if sa.levels]
    if not watched:
        return None
    named = len(watched) > 1 or watched[0].pair != "RUT-SPX"
    lines = [threshold_line(sa, width, named=named, anchor=frame.anchor) for sa in watched]
    return Content("\n").join(lines)


class SpreadCard(Vertical, can_focus=True):
    """Focusable: Enter opens the spread detail."""

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("card")
    DEFAULT_CSS = """
    SpreadCard #quotes { height: 3; text-wrap: nowrap; text-overflow: ellipsis; }
    SpreadCard #compact { text-wrap: nowrap; text-overflow: ellipsis; }
    SpreadCard #big-row { height: 3; display: none; }
    SpreadCard #big { width: 11; text-wrap: nowrap; }
    SpreadCard #big-side { width: 1fr; height: 3; padding-left: 1; }
    SpreadCard #compact { height: 1; }
    SpreadCard #streak, SpreadCard #ratio-streak {
        height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    SpreadCard #streak { display: none; color: $text-muted; }
    SpreadCard #thresholds {
        height: auto; display: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    SpreadCard #thresholds.-shown { display: block; }
    SpreadCard #big.-up { color: $text-success; }
    SpreadCard #big.-down { color: $text-error; }
    SpreadCard #big.-flat { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Line(id="quotes")
        with Horizontal(id="big-row"):
            yield Line(id="big")
            yield Line(id="big-side")
        yield Line(id="compact")
        yield Line(id="ratio-streak")
        yield Line(id="streak")
        yield Line(id="thresholds")
        yield Chart(unit="bp", id="spread-chart", empty_text="spread chart: waiting for ticks")

    @property
    def chart(self) -> Chart:
        return self.query_one("#spread-chart", Chart)

    _shown: tuple[Frame, bool] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:  # the same frame in the words that fit the new width
            self.show(*self._shown)

    def show(self, frame: Frame, wide: bool = False) -> None:
        self._shown = (frame, wide)
        q = frame.quotes
        width = self.content_region.width
        lines = [quote_line(q[s], wide=wide, width=width) for s in (RUT, SPX, MAGS) if s in q]
        self.query_one("#quotes", Line).show(Content("\n").join(lines))
        spx, mags = frame.spread_spx_bp, frame.spread_mags_bp
        big = self.query_one("#big", Line)
        # solid block figures (tui.widgets.figure): read at a glance, with or without colour
        figure = big_figure(fmt.bp(spx) if fmt.known(spx) else "-")
        cells = len(figure.split("\n", 1)[0])
        if big.styles.width is None or big.styles.width.value != cells:
            big.styles.width = cells  # a figure of another width lays the row out again
        big.show(Content(figure))
        sign = fmt.sign_class(spx, 0)
        big.set_class(sign == "up", "-up")
        big.set_class(sign == "down", "-down")
        big.set_class(sign == "flat", "-flat")
        ratio = fmt.price(frame.ratio) if frame.ratio is not None else fmt.DASH
        side = Content.assemble(
            ("bp  RUT − SPX ", "bold"),
            (fmt.arrow(spx), SIGN_STYLE[sign]),
            "\n",
            *spread_line("RUT − MAGS", mags),
            "\n",
            ("ratio ", "$text-muted"),
            (ratio, "bold"),
        )
        self.query_one("#big-side", Line).show(side)
        if width >= 32:
            compact = Content.assemble(
                *spread_line("RUT−SPX", spx), "  ", *spread_line("−MAGS", mags)
            )
        else:  # a slim card: the pair names only, the unit once, the signs say the direction
            compact = Content.assemble(
                ("SPX ", "$text-muted"),
                (fmt.bp(spx), SIGN_STYLE[sign]),
                ("  MAGS ", "$text-muted"),
                (fmt.bp(mags), SIGN_STYLE[fmt.sign_class(mags, 0)]),
                (" bp", "$text-muted"),
            )
        self.query_one("#compact", Line).show(compact)
        waiting = waiting_for(frame)
        streak = streak_text(frame.streak, width=width, waiting=waiting)
        self.query_one("#ratio-streak", Line).show(
            Content.assemble(
                ("ratio ", "$text-muted"),
                (ratio, "bold"),
                " · ",
                streak_text(frame.streak, width=32 if width >= 36 else width - 15, waiting=waiting),
            )
        )
        self.query_one("#streak", Line).show(Content(streak))
        thresholds = self.query_one("#thresholds", Line)
        content = thresholds_content(frame, width)
        thresholds.set_class(content is not None, "-shown")
        if content is not None:
            thresholds.show(content)
        self.set_class(frame.stale, "-stale")

    def draw(self, charts: Charts) -> None:
        self.chart.update(charts.spread_spx.times, charts.spread_spx.values)

    def action_open(self) -> None:
        self.post_message(OpenSpread())

    def action_toggle_mute(self) -> None:
        """m: mute the nearest thresholds the card shows (those not muted yet), or unmute them
        when all are; without thresholds, say where they are set."""
        frame = self._shown[0] if self._shown is not None else None
        shown = nearest_thresholds(frame) if frame is not None else []
        if not shown:
            self.notify(
                "No spread thresholds to mute: set them with [[alerts.spread]] or --spread-level",
                timeout=4,
                markup=False,
            )
            return
        loud = [lv for lv in shown if not lv.muted]
        for lv in loud or shown:
            self.post_message(ToggleMute(lv.symbol, lv.price))
