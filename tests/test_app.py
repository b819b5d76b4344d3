"""The app driven through Pilot with a fake feed and a fixed clock (no sleeps, no wall time)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from feeds.events import FeedState, FeedStatus, Tick
from feeds.levels import LevelState
from feeds.pipeline import Pipeline
from tests.tui_fakes import NOW_MS, FakeFeed, holdings, load, make_pipeline, opening_ticks
from tui.app import R2KApp
from tui.screens.add_level import AddLevelScreen
from tui.screens.constituent import ConstituentScreen
from tui.screens.help import HelpScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.widgets.status_bar import StatusBar


class Clock:
    """A monotonic clock the test moves by hand (chart cadence)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_app(pipeline: Pipeline | None = None, **kw: object) -> R2KApp:
    """An app over the test market. The market is fed after the app is built, as a feed would
    be: what is in ``pipeline.alerts`` when the app starts is the durable log's history."""
    fresh = pipeline is None
    pipeline = pipeline or make_pipeline()
    # 0.01 Hz: the timer never fires during a test; frames are pulled explicitly
    app = R2KApp(pipeline, refresh_hz=0.01, run_feed=False, clock=Clock(), **kw)  # type: ignore[arg-type]
    if fresh:
        load(pipeline)
    return app


@asynccontextmanager
async def running(app: R2KApp, size: tuple[int, int]) -> AsyncIterator[Pilot[None]]:
    """run_test, then wait until the app has pulled its first frame (calendar warmed)."""
    async with app.run_test(size=size) as pilot:
        await app.started.wait()
        await pilot.pause()
        yield pilot


def board_symbols(app: R2KApp) -> list[str]:
    table = app.main.board
    return [table.symbol_at(i) or "" for i in range(table.row_count)]


def status_text(app: R2KApp) -> str:
    return app.screen.query_one(StatusBar)._key[0]  # type: ignore[index]


def rut(pipeline: Pipeline, price: float, ts: int = NOW_MS) -> None:
    pipeline.handle(Tick("^RUT", price, ts))


async def test_layout_fits_80x24() -> None:
    app = make_app()
    async with running(app, (80, 24)) as pilot:
        app.pull_frame(charts=True)
        await pilot.pause()
        screen = app.screen.region
        ids = ["status", "card", "ladder", "alerts", "leaders"]
        regions = {i: app.screen.query_one(f"#{i}").region for i in ids}
        for name, region in regions.items():
            assert region.area > 0, name
            assert screen.contains_region(region), name
        panels = [regions[i] for i in ids]
        for i, a in enumerate(panels):
            for b in panels[i + 1 :]:
                assert not a.overlaps(b), (a, b)
        # the board keeps real rows, the card its three quotes and the spread line
        assert app.main.board.page_height >= 6
        assert regions["card"].height >= 8
        assert app.main.ladder.row_count == 6  # five levels and the price row


async def test_layout_wide_puts_board_right() -> None:
    app = make_app()
    async with running(app, (120, 40)) as pilot:
        app.pull_frame(charts=True)
        await pilot.pause()
        card = app.screen.query_one("#card").region
        board = app.screen.query_one("#leaders").region
        assert board.x > card.right - 1
        assert app.main.board.page_height >= 30


async def test_level_crossing_reaches_log_ladder_toast_and_bell() -> None:
    app = make_app()
    rang: list[bool] = []
    app.bell = lambda: rang.append(True)  # type: ignore[method-assign]
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        rut(app.pipeline, 2460.0, NOW_MS + 1000)  # through 2,450 by more than the band
        app.pull_frame()
        await pilot.pause()
        crosses = [e.alert for e in app.main.alerts.entries if e.alert.kind == "cross"]
        assert [(a.level, a.direction) for a in crosses] == [(2450.0, "up")]
        row = next(r for r in app.main.ladder.rows if r.level and r.level.price == 2450.0)
        assert row.level is not None and row.level.state is LevelState.CROSSED_UP
        assert rang == [True]
        assert any("crossed up through 2,450.00" in n.message for n in app._notifications)


async def test_bell_can_be_turned_off() -> None:
    class Settings:
        bell = False

    app = make_app(settings=Settings())
    rang: list[bool] = []
    app.bell = lambda: rang.append(True)  # type: ignore[method-assign]
    async with running(app, (100, 30)):
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        assert rang == []


async def test_enter_opens_constituent_and_escape_restores_cursor() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        await pilot.pause()
        assert app.focused is app.main.board
        await pilot.press("j", "j")
        expected = app.main.board.symbol_at(2)
        await pilot.press("enter")
        assert isinstance(app.screen, ConstituentScreen)
        assert app.screen.symbol == expected
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert app.main.board.cursor == 2
        assert app.focused is app.main.board


async def test_enter_on_level_opens_level_detail() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        app.main.ladder.focus()
        await pilot.pause()
        assert app.main.ladder.level_at(app.main.ladder.cursor) is not None
        price = app.main.ladder.level_at(app.main.ladder.cursor).price  # type: ignore[union-attr]
        await pilot.press("enter")
        assert isinstance(app.screen, LevelScreen)
        assert app.screen.price == price
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_ladder_cursor_skips_the_price_row() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        app.main.ladder.focus()
        for _ in range(6):
            await pilot.press("j")
            assert app.main.ladder.selectable(app.main.ladder.cursor)


async def test_s_changes_the_order() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        by_contribution = board_symbols(app)
        await pilot.press("s")
        assert app.sort == "return"
        by_return = board_symbols(app)
        assert by_return != by_contribution
        rets = [
            app.main.board.board.row_at(app.main.board.board.symbols.index(s)).ret
            for s in by_return
        ]  # type: ignore[union-attr]
        assert rets == sorted(rets, reverse=True)
        await pilot.pause()
        # what the terminal shows: the header's arrow moved to the sorted column
        screen = app.export_screenshot()
        assert "Return▼" in screen and "Ctb&#160;bp▼" not in screen
        await pilot.press("s", "s")
        assert app.sort == "symbol"
        assert board_symbols(app) == sorted(by_contribution)


async def test_slash_filters_the_board() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"ionq")
        assert board_symbols(app) == ["IONQ"]
        await pilot.press("enter")
        assert app.focused is app.main.board
        assert board_symbols(app) == ["IONQ"]
        await pilot.press("escape")
        assert app.filter_text == ""
        assert len(board_symbols(app)) == len(holdings().constituents)


async def test_filter_matches_names_too() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        await pilot.press("slash", *"health")
        assert sorted(board_symbols(app)) == ["GH", "HIMS"]


async def test_p_pauses_the_display_but_not_the_pipeline() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        assert app.paused
        assert "PAUSED" in status_text(app)
        frames = app.frames
        app.pipeline.handle(Tick("BE", 120.0, NOW_MS + 1000))
        app._on_timer()  # a refresh tick while paused pulls nothing
        assert app.frames == frames
        assert app.pipeline.state.price("BE") == 120.0  # the pipeline kept consuming
        assert app.main.board.board.find("BE").last == 104.0  # type: ignore[union-attr]
        await pilot.press("p")
        assert not app.paused
        assert app.main.board.board.find("BE").last == 120.0  # type: ignore[union-attr]
        assert "PAUSED" not in status_text(app)


async def test_help_opens_and_closes() -> None:
    app = make_app()
    async with running(app, (80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_markup_in_feed_text_renders_literally() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("slash", *"markup")
        await pilot.press("enter")
        await pilot.pause()
        table = app.main.board
        assert board_symbols(app) == ["[red]X"]
        line = table.render_line(table.HEADER_LINES).text
        assert "[red]X" in line
        assert "[bold red]Markup Corp[/]" in line
        await pilot.press("enter")
        assert isinstance(app.screen, ConstituentScreen)
        title = app.screen.query_one("#detail")._border_title
        assert title is not None and "[red]X · [bold red]Markup Corp[/]" in title.plain


async def test_control_characters_are_stripped_from_feed_errors() -> None:
    feed = FakeFeed(opening_ticks())
    feed.fail = RuntimeError("socket closed \x1b[31m[red]boom[/]\x07")
    app = R2KApp(Pipeline(feed, holdings()), refresh_hz=0.01, clock=Clock())
    async with running(app, (120, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.pull_frame()
        assert app.pipeline.status.state is FeedState.ERROR
        text = status_text(app)
        assert "ERROR" in text
        assert "RuntimeError: socket closed [31m[red]boom[/]" in text
        assert "\x1b" not in text and "\x07" not in text
        assert app.is_running


async def test_stale_feed_is_dimmed_and_said() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pipeline.set_status(FeedStatus(FeedState.STALE, "no ticks for 20s"))
        app.pull_frame()
        await pilot.pause()
        assert "STALE" in status_text(app)
        assert app.main.board.dim and app.main.ladder.dim
        assert app.main.card.has_class("-stale")


async def test_anchor_keys() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("a")
        assert app.pipeline.anchor == "open"
        await pilot.press("y")
        assert app.pipeline.anchor == "ytd"
        await pilot.press("y")
        assert app.pipeline.anchor == "prev"
        assert "prev close" in status_text(app)


async def test_add_level_validates_then_adds() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        await pilot.press("plus")
        assert isinstance(app.screen, AddLevelScreen)
        await pilot.press(*"abc", "enter")
        assert isinstance(app.screen, AddLevelScreen)
        error = app.screen.query_one("#error")
        assert "not a number" in str(error.render())
        await pilot.press(*["backspace"] * 3, *"2,500 my stop", "enter")
        assert isinstance(app.screen, MainScreen)
        added = [lv for lv in app.pipeline.levels.levels if lv.user]
        assert [(lv.price, lv.label) for lv in added] == [(2500.0, "my stop")]
        assert any(r.level and r.level.price == 2500.0 for r in app.main.ladder.rows)


async def test_charts_redraw_at_most_once_a_second() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        clock: Clock = app.clock  # type: ignore[assignment]
        app.pull_frame()
        await pilot.pause()
        chart = app.main.card.chart
        before = chart.redraws
        for _ in range(4):
            clock.t += 0.25
            app.pull_frame()
        assert chart.redraws - before == 1  # one second of 4 Hz frames: one redraw
        assert chart.point_count > 0


async def test_resize_keeps_cursor_sort_and_filter() -> None:
    app = make_app()
    async with running(app, (80, 24)) as pilot:
        app.pull_frame()
        await pilot.press("s", "j", "j", "j")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.has_class("-wide")
        assert app.main.board.cursor == 3 and app.sort == "return"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.main.board.cursor == 3


async def test_watchdog_exits_when_the_terminal_goes_away(monkeypatch: pytest.MonkeyPatch) -> None:
    class Gone:
        closed = False

        def isatty(self) -> bool:
            return False

    app = make_app()
    async with running(app, (80, 24)) as pilot:
        monkeypatch.setattr(sys, "stdin", Gone())
        app._watchdog()
        await pilot.pause()
    assert app.return_code == 1


async def test_earlier_alerts_are_seeded_from_the_pipeline() -> None:
    from feeds.levels import AlertEvent

    pipeline = make_pipeline()
    old = AlertEvent(NOW_MS - 86_400_000, "^RUT", 2450.0, "support", "down", 2440.0, "cross")
    pipeline.alerts.appendleft(old)  # as build_pipeline does from the durable log
    app = make_app(pipeline)
    load(pipeline)  # then the feed: ^RUT opens 4 points under 2,450 (an approach notice)
    async with running(app, (100, 30)) as pilot:
        await pilot.pause()
        entries = [(e.alert.kind, e.earlier) for e in app.main.alerts.entries]
        assert entries == [("approach", False), ("cross", True)]
        assert app.main.alerts.entries[-1].alert == old


def test_bindings_are_described_and_unique() -> None:
    app = make_app()
    groups = app.key_groups()
    seen: dict[str, str] = {}
    for _title, bindings in groups:
        for b in bindings:
            assert b.description, b  # type: ignore[union-attr]
            for key in b.key.split(","):  # type: ignore[union-attr]
                # the same key in two groups must be the same action (enter opens, everywhere)
                action = b.action  # type: ignore[union-attr]
                if key in seen and key != "escape":
                    assert seen[key] == action or key == "enter", (key, seen[key], action)
                seen.setdefault(key, action)


async def test_command_palette_reaches_every_action() -> None:
    app = make_app()
    async with running(app, (100, 30)):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for needed in (
        "Quit",
        "Help",
        "Pause / resume",
        "Cycle anchor",
        "Day / YTD",
        "Cycle sort",
        "Reverse sort",
        "Filter",
        "Clear filter",
        "Add level",
        "Spread detail",
        "Bell on/off",
        "Sort by symbol",
        "Anchor: year start",
    ):
        assert needed in titles


async def test_enter_on_the_spread_card_opens_spread_detail() -> None:
    from tui.screens.spread import SpreadScreen
    from tui.widgets.chart import Chart

    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.card.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, SpreadScreen)
        await pilot.pause()
        assert all(c.point_count > 0 for c in app.screen.query(Chart))
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_tab_moves_between_panels() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert set(seen) >= {"card", "ladder", "alerts", "board"}


async def test_remove_a_user_level_from_the_ladder() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pipeline.levels.add(2600.0, "mine")
        app.pull_frame()
        ladder = app.main.ladder
        ladder.focus()
        ladder.cursor = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.user)
        await pilot.press("x")
        assert not any(lv.user for lv in app.pipeline.levels.levels)


async def test_idle_moves_the_clock_without_frames_busy_pulls_every_tick() -> None:
    app = make_app()
    async with running(app, (100, 30)):
        clock: Clock = app.clock  # type: ignore[assignment]
        feed = app.pipeline.feed
        assert isinstance(feed, FakeFeed)
        frames = app.frames
        feed.clock_ms += 1000
        for _ in range(4):  # one second of refresh ticks, nothing happened
            clock.t += 0.25
            app._on_timer()
        assert app.frames == frames  # no frame built...
        assert "11:30:01 ET" in status_text(app)  # ...but the clock moved on
        for _ in range(16):  # a full frame every five idle seconds
            clock.t += 0.25
            app._on_timer()
        assert app.frames - frames == 1
        frames = app.frames
        for i in range(4):  # ticks arriving: every refresh tick shows a frame
            app.pipeline.handle(Tick("BE", 105.0 + i, NOW_MS + 1000 * (i + 1)))
            clock.t += 0.25
            app._on_timer()
        assert app.frames - frames == 4


async def test_a_whipsaw_rings_once_but_logs_every_crossing() -> None:
    app = make_app()
    rang: list[bool] = []
    app.bell = lambda: rang.append(True)  # type: ignore[method-assign]
    async with running(app, (100, 30)):
        for i, price in enumerate((2460.0, 2440.0, 2460.0)):
            rut(app.pipeline, price, NOW_MS + 1000 * (i + 1))
        app.pull_frame()
        crosses = [e for e in app.main.alerts.entries if e.alert.kind == "cross"]
        assert len(crosses) == 3
        assert rang == [True]
        clock: Clock = app.clock  # type: ignore[assignment]
        clock.t += 10
        rut(app.pipeline, 2440.0, NOW_MS + 5000)
        assert rang == [True, True]


class FailingSink:
    """An alert sink whose deliveries fail, like a log on a full disk."""

    def __init__(self) -> None:
        self.lost = 0

    def __call__(self, alert: object) -> None:
        self.lost += 1

    def problem(self) -> str | None:
        return f"alert log: {self.lost} alert(s) not written (disk full)" if self.lost else None


async def test_a_failing_alert_sink_is_shown_to_the_trader() -> None:
    pipeline = make_pipeline()
    sink = FailingSink()
    pipeline.alert_sinks.append(sink)
    app = make_app(pipeline)
    async with running(app, (100, 30)) as pilot:
        app.pull_frame()
        assert not [n for n in app._notifications if n.title == "Not written or delivered"]
        pipeline.handle(Tick("^RUT", 2440.0, NOW_MS + 1000))
        pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 2000))  # crosses 2,450
        assert sink.lost >= 1
        app.pull_frame()
        await pilot.pause()
        shown = [n.message for n in app._notifications if n.title == "Not written or delivered"]
        assert shown and "not written" in shown[0]
        app.pull_frame()  # the same problem is not announced twice
        count = len([n for n in app._notifications if n.title == "Not written or delivered"])
        assert count == 1
