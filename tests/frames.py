"""Frames built by hand, and an app that shows one screen: screens tested with a frame alone.

No pipeline, no feed, no calendar: every figure is chosen here, so a screen test says exactly what
a trader sees for a given frame, and a snapshot cannot drift with the market code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from textual.app import App
from textual.message import Message
from textual.screen import Screen

import tui
from feeds.alerting.delivery import needs_ack
from feeds.alerting.levels import DEFAULT_LEVELS, AlertEvent, LevelState
from feeds.events import FeedState, FeedStatus
from feeds.frame import Board, Charts, Frame, LevelView, Quote, Series, SpreadAlerts, View
from feeds.market import analytics
from feeds.market.analytics import Breadth
from feeds.market.scoreboard import (
    Adder,
    DailySeries,
    HoldingsInfo,
    RecordHighs,
    Scoreboard,
    Streak,
    YtdMovers,
)
from tests.tui_fakes import ET, HEADLINE_PRICES, NOW_MS, OPEN_MS, UNIVERSE
from tui import keys, messages

DEFAULT = View()
LIVE = FeedStatus(FeedState.LIVE, "test market")
MONDAY_MS = int(dt.datetime(2025, 11, 24, 10, 0, tzinfo=ET).timestamp() * 1000)


def quote(symbol: str, prev: float, last: float, *, estimated: bool = False) -> Quote:
    r = last / prev - 1
    hi, lo = max(prev, last), min(prev, last)
    return Quote(symbol, last, prev, r, last - prev, hi, lo, NOW_MS - 60_000, 120, estimated)


def board(
    view: View = DEFAULT,
    universe: Sequence[tuple[str, str, str, float, float, float]] = UNIVERSE,
    *,
    last: dict[str, float] | None = None,
    outsiders: Sequence[str] = (),
    coverage: float | None = None,
) -> Board:
    """The test universe ranked and filtered as ``view`` asks (as the pipeline would).
    ``outsiders``: symbols the feed sends that are not index members (ranked last);
    ``coverage``: the index weight the priced members hold (None: no holdings)."""
    rows = [
        (s, n, sec, w, prev, (last or {}).get(s, px))
        for s, n, sec, w, prev, px in universe
        if not view.filter or view.filter.lower() in f"{s}\n{n}".lower()
    ]
    symbols = [r[0] for r in rows]
    prices = np.array([r[5] for r in rows], dtype=np.float64)
    prevs = np.array([r[4] for r in rows], dtype=np.float64)
    weights = np.array([r[3] for r in rows], dtype=np.float64)
    rets = analytics.returns(prices, prevs)
    contribution = analytics.contributions_bp(weights, rets)
    member = np.array([s not in outsiders for s in symbols], dtype=bool)
    order = analytics.rank(
        view.sort,
        contribution=contribution,
        rets=rets,
        weights=weights,
        symbols=symbols,
        descending=view.descending,
        member=member,
    )
    b = Board(
        symbols=symbols,
        names=[r[1] for r in rows],
        sectors=[r[2] for r in rows],
        last=prices,
        ret=rets,
        weight=weights,
        contribution=contribution,
        high=np.maximum(prices, prevs),
        low=np.minimum(prices, prevs),
        count=np.arange(10, 10 + len(rows), dtype=np.int64) * 37,
        ts=np.full(len(rows), NOW_MS - 60_000, dtype=np.int64),
        order=order,
        sort=view.sort,
        descending=view.descending,
        filter=view.filter,
        universe=len(universe),
        cursor=view.cursor,
        member=member if outsiders else None,
        names_priced=int(member.sum()),
        coverage=coverage,
        members=sum(1 for s, *_ in universe if s not in outsiders),
    )
    b.cursor_rank = b.rank_of(view.cursor)
    return b


def levels(
    price: float,
    *,
    states: dict[float, LevelState] | None = None,
    alerts: Sequence[AlertEvent] = (),
) -> list[LevelView]:
    """The five shipped levels placed against ``price`` (to go = level − price), each with the
    crossings among ``alerts`` (newest first) in the order they fired."""
    out = []
    for level, label in DEFAULT_LEVELS:
        state = (states or {}).get(level, LevelState.ARMED)
        dist = level - price
        crossed = tuple(a for a in reversed(alerts) if a.level == level and a.kind == "cross")
        out.append(LevelView(level, label, False, state, dist, dist / price, crossed))
    return out


def alert(
    minutes_ago: float, level: float = 2450.0, direction: str = "up", **kw: Any
) -> AlertEvent:
    price = level + (10.0 if direction == "up" else -10.0)
    fields: dict[str, Any] = {"label": "support", "kind": "cross", "price": price}
    fields.update(kw)
    ts = NOW_MS - int(minutes_ago * 60_000)
    return AlertEvent(
        ts, "^RUT", level, fields["label"], direction, fields["price"], fields["kind"]
    )


def series(values: Iterable[float], *, start: int = OPEN_MS, step_ms: int = 60_000) -> Series:
    v = np.array(list(values), dtype=np.float64)
    return Series(start + np.arange(len(v), dtype=np.int64) * step_ms, v)


def charts(view: View = DEFAULT, *, rut: float = 2446.0) -> Charts:
    """A session of minute points: the spread drifting up through zero, the index rising."""
    n = 120
    spread = np.linspace(-8.0, 24.0, n) + np.sin(np.arange(n) / 5.0) * 3.0
    index = np.linspace(2436.0, rut, n) + np.sin(np.arange(n) / 7.0) * 2.0
    # the view's symbol: from its previous close to its last, inside the session's range
    prev, last = next(((u[4], u[5]) for u in UNIVERSE if u[0] == view.symbol), (100.0, 104.0))
    drift = np.linspace(prev, last, n) + np.sin(np.arange(n) / 9.0) * abs(last - prev) * 0.1
    return Charts(
        spread_spx=series(spread),
        spread_mags=series(spread * 0.6 + 4.0),
        symbol=series(np.clip(drift, min(prev, last), max(prev, last))) if view.symbol else None,
        symbol_anchor=prev if view.symbol else None,
        level=series(index) if view.level is not None else None,
    )


# a scoreboard with known numbers
RETURNS = {
    "^RUT": {"1d": 0.0025, "5d": 0.0110, "mtd": -0.0080, "ytd": 0.0950},
    "^GSPC": {"1d": -0.0015, "5d": 0.0040, "mtd": -0.0120, "ytd": 0.1230},
    "MAGS": {"1d": -0.0050, "5d": 0.0020, "mtd": -0.0200, "ytd": 0.1500},
}
BASES = {"1d": "2025-11-19", "5d": "2025-11-12", "mtd": "2025-10-31", "ytd": "2024-12-31"}
YTD_BASE = 2446.0 / 1.095  # ^RUT's close on 2024-12-31: 2446 is +9.50 % on the year
FRESH = HoldingsInfo("bundled", "derived from public iShares IWM holdings", "2025-11-05", 15)
STALE = HoldingsInfo("fetched", "IWM_holdings_2025-09-30.csv", "2025-09-30", 51, True)
MOVERS = YtdMovers(
    adders=tuple(
        Adder(s, n, pts / YTD_BASE * 10_000, pts, r, w)
        for s, n, pts, r, w in (
            ("BE", "Bloom Energy Corp Class A", 6.10, 2.10, 0.0106),
            ("CRDO", "Credo Technology Group", 3.40, 1.20, 0.0090),
            ("FN", "Fabrinet", 2.25, 0.95, 0.0061),
            ("IONQ", "IonQ Inc", 1.80, 0.88, 0.0058),
            ("KTOS", "Kratos Defense & Security", 1.05, 0.60, 0.0050),
            ("RMBS", "Rambus Inc", 0.90, 0.45, 0.0045),
        )
    ),
    detractors=tuple(
        Adder(s, n, pts / YTD_BASE * 10_000, pts, r, w)
        for s, n, pts, r, w in (
            ("HIMS", "Hims & Hers Health", -1.20, -0.30, 0.0044),
            ("GH", "Guardant Health", -0.75, -0.22, 0.0038),
            ("SATS", "EchoStar Corp", -0.30, -0.08, 0.0043),
        )
    ),
    over_a_point=5,
    weight_up=0.812,
    index_points=2446.0 - YTD_BASE,
)


def rut_daily() -> DailySeries:
    """A year of ^RUT sessions (weekdays from 2024-11-20 to 2025-11-19) through the 2024 close
    (``YTD_BASE``), a spring low near 1,960 and up to 2,440; the record high 2,466 on the
    last."""
    days = np.arange(np.datetime64("2024-11-20"), np.datetime64("2025-11-20"))
    days = days[np.is_busday(days)]
    dates = tuple(str(d) for d in days)
    ye, dip = dates.index("2024-12-31"), dates.index("2025-04-08")
    i = np.arange(len(days), dtype=np.float64)
    # through the 2024 close, down to a spring low, up to 2,440; a wiggle that is 0 at the YE
    close = np.interp(i, [0, ye, dip, len(days) - 1], [2180.0, YTD_BASE, 1960.0, 2440.0])
    close += 18.0 * np.sin((i - ye) * np.pi / 7) * (i < len(days) - 1)
    high = close + 6.0
    high[-1] = 2466.0
    return DailySeries("^RUT", dates, close - 2.0, high, close - 8.0, close)


def scoreboard(
    *,
    progress: tuple[str, int, int] | None = None,
    holdings: HoldingsInfo | None = FRESH,
    unknown: int = 0,
    history: bool = True,
) -> Scoreboard:
    """The year-to-date story with every figure chosen here (session 2025-11-20 in progress):
    small caps ahead ten sessions (the longest since 2023-07-28) although behind on the year,
    three record sessions to 2,466 yesterday (^RUT 20 points below now), 1,480 of 1,962
    members up on the year (81.2 % of the index weight), five names adding a point or more."""
    returns: dict[str, dict[str, float | None]] = {k: dict(v) for k, v in RETURNS.items()}
    for name, (a, b) in (("RUT-SPX", ("^RUT", "^GSPC")), ("RUT-MAGS", ("^RUT", "MAGS"))):
        returns[name] = {p: (RETURNS[a][p] - RETURNS[b][p]) * 10_000 for p in BASES}
    return Scoreboard(
        session="2025-11-20",
        complete=False,
        returns=returns,
        bases=dict(BASES),
        streak=Streak("^RUT", 10, 10, "2023-07-28", "2025-11-05", "2025-11-19"),
        record_highs=RecordHighs(
            "^RUT", 3, 2466.0, "2025-11-19", "2020-11-20", 14, 1, HEADLINE_PRICES["^RUT"][1]
        ),
        breadth_ytd=Breadth(1480, 470, 12),
        ytd_anchor_unknown=unknown,
        ytd_anchor_date="2024-12-31",
        holdings=holdings,
        rut_daily=rut_daily() if history else DailySeries("^RUT"),
        rut_today=(2441.0, 2448.0, 2436.0, 2446.0),
        progress=progress,
        movers=MOVERS,
    )


def make_frame(
    view: View = DEFAULT,
    *,
    rut: float = 2446.0,
    status: FeedStatus = LIVE,
    session: str = "open",
    as_of: int = NOW_MS,
    wall_ms: int = NOW_MS,
    alerts: Sequence[AlertEvent] = (),
    run_alerts: Iterable[AlertEvent] | None = None,
    level_states: dict[float, LevelState] | None = None,
    with_charts: bool | None = None,
    estimated: bool = False,
    changed: frozenset[str] = frozenset(),
    last: dict[str, float] | None = None,
    **overrides: Any,
) -> Frame:
    """A frame of the test market for ``view`` (charts when the view asks, or ``with_charts``)."""
    prices = {**HEADLINE_PRICES, "^RUT": (HEADLINE_PRICES["^RUT"][0], rut)}
    quotes = {
        s: quote(s, prev, px, estimated=estimated and s in ("^RUT", "^GSPC"))
        for s, (prev, px) in prices.items()
        if s in ("^RUT", "^GSPC", "MAGS")
    }
    rut_q, spx, mags = quotes["^RUT"], quotes["^GSPC"], quotes["MAGS"]
    b = board(view, last=last)
    rets = analytics.returns(
        np.array([u[5] for u in UNIVERSE], dtype=np.float64),
        np.array([u[4] for u in UNIVERSE], dtype=np.float64),
    )
    draw = view.charts if with_charts is None else with_charts
    frame = Frame(
        as_of=as_of,
        anchor="prev",
        quotes=quotes,
        spread_spx_bp=analytics.spread_bp(rut_q.ret, spx.ret),
        spread_mags_bp=analytics.spread_bp(rut_q.ret, mags.ret),
        ratio=analytics.ratio_rebased(rut_q.last, rut_q.anchor, spx.last, spx.anchor),
        breadth=analytics.breadth(rets),
        board=b,
        levels=levels(rut, states=level_states, alerts=alerts),
        level_price=rut,
        status=status,
        session=session,
        tick_age_s=0.4,
        ticks_per_s=1234.0,
        total_ticks=5_000,
        streak=(2, "small"),
        estimated_indices=estimated,
        changed=changed,
        view=view,
        feed_label="fake",
        alerts=tuple(alerts),
        run_alerts=frozenset(alerts if run_alerts is None else run_alerts),
        charts=charts(view, rut=rut) if draw else None,
        wall_ms=wall_ms,
    )
    return replace(frame, **overrides) if overrides else frame


class ScreenHost(App[None]):
    """Shows one screen and keeps the messages it posts (what R2KApp would act on).

    It answers a screen's ``FrameWanted`` with ``frame`` (built for the screen's view when
    ``frame`` is a function of the view), as the App does.
    """

    CSS_PATH = Path(tui.__file__).parent / "styles" / "app.tcss"
    BINDINGS = keys.bindings("app")  # the footer reads as the app's (the actions are the app's)

    def __init__(self, screen: Screen[Any], frame: Frame | Any = None, *, theme: str = "") -> None:
        super().__init__()
        self.shown = screen
        self.frame_for = frame if callable(frame) else (lambda view: frame)
        self.posted: list[Message] = []
        self.wanted_theme = theme

    def on_mount(self) -> None:
        if self.wanted_theme:
            self.theme = self.wanted_theme
        self.push_screen(self.shown)

    def show(self, frame: Frame) -> None:
        self.shown.show_frame(frame)  # type: ignore[attr-defined]

    def on_frame_wanted(self, message: messages.FrameWanted) -> None:
        view = replace(self.shown.wants(View()), charts=True)  # type: ignore[attr-defined]
        frame = self.frame_for(view)
        if frame is not None:
            self.show(frame)

    def of(self, kind: type[Message]) -> list[Any]:
        return [m for m in self.posted if isinstance(m, kind)]


def _recorder(self: ScreenHost, message: Message) -> None:
    self.posted.append(message)


for _kind in (
    messages.SortChanged,
    messages.FilterChanged,
    messages.CursorMoved,
    messages.AnchorChanged,
    messages.PauseToggled,
    messages.OpenConstituent,
    messages.OpenLevel,
    messages.OpenSpread,
    messages.OpenFeedStatus,
    messages.AddLevel,
    messages.RemoveLevel,
    messages.OpenScoreboard,
    messages.ToggleMute,
    messages.Acknowledge,
):
    setattr(ScreenHost, _kind.handler_name, _recorder)


# levels with confirmation and mutes, spread thresholds, acknowledgements


def alert_levels(price: float = 2446.0) -> list[LevelView]:
    """The shipped levels, 2,300 muted and 2,642 confirmed on a 5m close, and one of the
    trader's: 2,444 on a 1m close with the price already past it (awaiting the bar's close)."""
    confirm = {2642.0: "5m"}
    shipped = [
        replace(lv, muted=lv.price == 2300.0, confirm=confirm.get(lv.price, "tick"))
        for lv in levels(price)
    ]
    dist = 2444.0 - price
    own = LevelView(
        2444.0,
        "reclaim",
        True,
        LevelState.ARMED,
        dist,
        dist / price,
        confirm="1m",
        awaiting_close=True,
    )
    return [*shipped, own]


def spread_alerts(value_bp: float | None, *, pair: str = "RUT-SPX") -> dict[str, SpreadAlerts]:
    """Thresholds at 0, +50 and +100 bp (+100 muted, with its own 1.5 bp band; the others the
    default 4 bp and 30 s) against a spread of ``value_bp`` (None: no spread yet)."""
    views = tuple(
        LevelView(
            bp,
            f"spread {bp:+g} bp",
            False,
            LevelState.ARMED,
            None if value_bp is None else bp - value_bp,
            None,
            muted=bp == 100.0,
            symbol=pair,
            band=1.5 if bp == 100.0 else 4.0,
            dwell_ms=30_000,
        )
        for bp in (0.0, 50.0, 100.0)
    )
    return {pair: SpreadAlerts(pair, value_bp, "prev", views)}


def alert_rows() -> tuple[list[AlertEvent], frozenset[AlertEvent]]:
    """Newest first: a crossing waiting for an acknowledgement, a spread crossing waiting, one
    acknowledged (1m close), an approach notice, a busted alert and the crossing it took back,
    and a muted level's crossing; and the busted set."""
    taken = alert(9, 2450.0, "down", price=2448.0)
    rows = [
        alert(1, 2450.0, "up"),
        replace(alert(2, 50.0, "up", label="small caps lead", price=51.3), symbol="RUT-SPX"),
        replace(
            alert(4, 2444.0, "up", label="reclaim", price=2445.5), confirm="1m", acknowledged=True
        ),
        alert(6, 2450.0, "up", kind="approach", price=2445.1),
        alert(8, 2450.0, "down", kind="busted", price=2451.0),
        taken,
        replace(alert(12, 2300.0, "down", label="critical support", price=2298.0), muted=True),
    ]
    return rows, frozenset({taken})


def alert_frame(view: View = DEFAULT, **kw: Any) -> Frame:
    """The test market with :func:`alert_levels`, :func:`spread_alerts` and :func:`alert_rows`,
    its count of alerts waiting as the pipeline counts them."""
    rows, busted = alert_rows()
    rows = list(kw.pop("alerts", rows))
    frame = make_frame(view, alerts=rows)
    fields: dict[str, Any] = {
        "levels": alert_levels(frame.level_price or 2446.0),
        "spread_alerts": spread_alerts(frame.spread_spx_bp),
        "busted_alerts": busted,
        "unacknowledged": sum(1 for a in rows if needs_ack(a)),
    }
    return make_frame(view, alerts=rows, **{**fields, **kw})
