"""The app left running across a session boundary (Pilot, the feed's clock injected), and the
constituent chart ending at the live last price with the session's high and low in range."""

from __future__ import annotations

import datetime as dt

from feeds import series
from feeds.alerting.levels import LevelState
from feeds.events import Tick
from feeds.symbols import RUT
from tests.test_app import make_app, running
from tests.tui_fakes import ET, NOW_MS, FakeFeed
from tui.messages import OpenConstituent
from tui.screens.constituent import ConstituentScreen
from tui.widgets.chart import Chart

# Friday 21 Nov 2025: the session after the test market's Thursday
NEXT_OPEN = int(dt.datetime(2025, 11, 21, 9, 30, tzinfo=ET).timestamp() * 1000)


def cells_text(cells: tuple[tuple[str, str], ...]) -> str:
    return "".join(text for text, _ in cells)


async def test_an_app_left_running_rolls_over_at_the_next_session() -> None:
    app = make_app()
    feed = app.pipeline.feed
    assert isinstance(feed, FakeFeed)
    async with running(app, (100, 30)) as pilot:
        pipeline = app.pipeline
        pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 1000))  # up through 2,450 on Thursday
        pipeline.handle(Tick("BE", 105.0, NOW_MS + 2000))
        frame = app.show_now()
        await pilot.pause()
        assert frame is not None
        lv = next(v for v in frame.levels if v.price == 2450.0)
        assert lv.state is LevelState.CROSSED_UP and len(lv.crossings) == 1
        assert app.main.alerts.session == "2025-11-20"

        # overnight: the feed's clock moves on to Friday's open, where ticks resume
        pipeline.handle(Tick("^RUT", 2470.0, NEXT_OPEN))  # still above 2,450: no crossing
        pipeline.handle(Tick("BE", 103.0, NEXT_OPEN))
        feed.clock_ms = NEXT_OPEN + 60_000
        frame = app.show_now(charts=True)
        await pilot.pause()

        assert frame is not None and frame.session_date == "2025-11-21"
        rut = frame.quotes["^RUT"]
        assert rut.prev_close == 2460.0  # Thursday's last price (no daily close for it yet)
        assert (rut.open, rut.high, rut.low, rut.count) == (2470.0, 2470.0, 2470.0, 1)
        assert rut.ret == 2470.0 / 2460.0 - 1
        # the ladder's "today": the level is armed again, with no crossings this session
        lv = next(v for v in frame.levels if v.price == 2450.0)
        assert lv.state is LevelState.ARMED and lv.crossings == ()
        row = next(r for r in app.main.ladder.rows if r.level and r.level.price == 2450.0)
        assert row.level is not None and row.level.state is LevelState.ARMED
        # the alert panel's "today": Thursday's crossing is dated and dimmed now
        log = app.main.alerts
        assert log.session == "2025-11-21"
        k = next(k for k, a in enumerate(log.alerts) if a.kind == "cross")
        cells = log.row_cells(k, 60)
        assert cells_text(cells).startswith("● 11-20 11:30")  # dated, still waiting for an ack
        assert cells[2][1] == "earlier"  # not the "up" style of a crossing this session
        # the board: returns against each name's own previous close
        board = frame.board
        assert board.find("BE").ret == 103.0 / 105.0 - 1  # type: ignore[union-attr]
        assert board.find("BE").count == 1  # type: ignore[union-attr]
        crdo = board.find("CRDO")  # has not traded today
        assert crdo is not None and crdo.ret == 0.0 and crdo.count == 0 and crdo.high is None
        assert (frame.breadth.advancers, frame.breadth.decliners) == (0, 1)
        # the intraday chart holds Friday only
        assert frame.charts is not None
        assert len(frame.charts.spread_spx) == 0  # ^GSPC has not traded on Friday: no points
        points = series.history(pipeline.state, RUT)
        assert points.times.tolist() == [NEXT_OPEN] and points.values.tolist() == [2470.0]


async def test_constituent_chart_ends_at_the_live_last_with_the_session_range() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.post_message(OpenConstituent("BE"))
        await pilot.pause()
        assert isinstance(app.screen, ConstituentScreen)
        t = NOW_MS + 60_000  # a minute mark: one constituent chart bucket from here
        for dt_ms, price in ((0, 105.0), (10_000, 107.0), (20_000, 104.0), (30_000, 105.5)):
            app.pipeline.handle(Tick("BE", price, t + dt_ms))
        app.show_now(charts=True)
        await pilot.pause()
        chart = app.screen.query_one(Chart)
        assert chart._values[-1] == 105.5 and chart._times[-1] == t + 30_000  # live
        # opened at 100 (the test market's open), 107 between chart points
        assert chart._extent == (100.0, 107.0)
        assert chart.render_line(0).text.lstrip().startswith("107")  # the top label
