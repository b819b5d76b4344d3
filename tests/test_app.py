"""The whole app over a pipeline, driven through Pilot with a fake feed and a fixed clock: keys
become messages, messages change the view, and the next frame shows it (no sleeps, no wall time).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from feeds.alerting.levels import AlertEvent, LevelState
from feeds.events import FeedState, FeedStatus, Tick
from feeds.pipeline import Pipeline
from feeds.settings.config import Settings
from tests.tui_fakes import NOW_MS, FakeFeed, holdings, load, make_pipeline, opening_ticks
from tui import fmt, keys
from tui.app import R2KApp
from tui.controller import TOAST_GAP_S
from tui.screens.add_level import AddLevelScreen
from tui.screens.base import toast_racks
from tui.screens.constituent import ConstituentScreen
from tui.screens.help import HelpScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.screens.spread import SpreadScreen
from tui.widgets.chart import Chart
from tui.widgets.status_bar import StatusBar


class Clock:
    """A monotonic clock the test moves by hand (chart cadence, toast throttling)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_app(pipeline: Pipeline | None = None, **kw: Any) -> R2KApp:
    """An app over the test market. The market is fed after the app is built, as a feed would
    be: what is in ``pipeline.alerts`` when the app starts is the durable log's history."""
    fresh = pipeline is None
    pipeline = pipeline or make_pipeline()
    # 0.01 Hz: the timer never fires during a test; frames are pulled explicitly
    app = R2KApp(pipeline, refresh_hz=0.01, run_feed=False, clock=Clock(), **kw)
    if fresh:
        load(pipeline)
    return app


@asynccontextmanager
async def running(app: R2KApp, size: tuple[int, int]) -> AsyncIterator[Pilot[None]]:
    """run_test, then wait until the app has shown its first frame (calendar warmed)."""
    async with app.run_test(size=size) as pilot:
        await app.started.wait()
        await pilot.pause()
        yield pilot


def board_symbols(app: R2KApp) -> list[str]:
    table = app.main.board
    return [table.symbol_at(i) or "" for i in range(table.row_count)]


def status_text(app: R2KApp) -> str:
    return app.screen.query_one(StatusBar)._key[0]  # type: ignore[index]


def messages(app: R2KApp) -> list[str]:
    return [n.message for n in app._notifications]


def rut(pipeline: Pipeline, price: float, ts: int = NOW_MS) -> None:
    pipeline.handle(Tick("^RUT", price, ts))


async def test_start_up_held_collections_back_then_freezes_and_collects() -> None:
    """tui.cli.run turns the cyclic collector off for the start-up; the first frame turns it
    back on, with what start-up built frozen (later full collections do not walk it)."""
    gc.disable()
    try:
        app = make_app()
        async with running(app, (80, 24)):
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


async def test_an_app_not_started_by_the_command_line_freezes_nothing() -> None:
    app = make_app()
    async with running(app, (80, 24)):
        assert gc.isenabled() and gc.get_freeze_count() == 0


async def test_layout_fits_80x24() -> None:
    app = make_app()
    async with running(app, (80, 24)) as pilot:
        app.show_now(charts=True)
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
        assert app.main.board.page_height >= 6
        assert regions["card"].height >= 8
        assert app.main.ladder.row_count == 6  # five levels and the price row


async def test_layout_wide_puts_board_right() -> None:
    app = make_app()
    async with running(app, (120, 40)) as pilot:
        await pilot.pause()
        card = app.screen.query_one("#card").region
        board = app.screen.query_one("#leaders").region
        assert board.x > card.right - 1
        assert app.main.board.page_height >= 30


async def test_a_crossing_reaches_the_panel_the_ladder_and_the_bell_not_a_toast_over_it() -> None:
    # issue 18 §5: on the monitor the panel lists the crossing at its top; a toast there hid
    # the very alert it announced. Elsewhere (a drilldown) the crossing is toasted.
    app = make_app()
    rang: list[bool] = []
    app.controller.notices.bell = lambda: rang.append(True)
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)  # through 2,450 by more than the band
        app.show_now()
        await pilot.pause()
        crosses = [a for a in app.main.alerts.alerts if a.kind == "cross"]
        assert [(a.level, a.direction) for a in crosses] == [(2450.0, "up")]
        row = next(r for r in app.main.ladder.rows if r.level and r.level.price == 2450.0)
        assert row.level is not None and row.level.state is LevelState.CROSSED_UP
        assert rang == [True]
        assert not any("crossed" in m for m in messages(app))  # folded into the panel
        assert app.main.alerts.render_line(0).text.startswith("● ")  # its newest row
        await pilot.press("d")  # the spread drilldown: the panel is not on screen
        await pilot.pause()
        app.controller.clock.t += TOAST_GAP_S  # type: ignore[attr-defined]
        rut(app.pipeline, 2440.0, NOW_MS + 2000)  # back down through 2,450
        app.show_now()
        await pilot.pause()
        assert any(m.startswith("Level crossed: ▼ crossed down ^RUT 2,450") for m in messages(app))


async def test_alerts_reach_the_panel_while_the_figures_are_paused() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        board = app.main.board.board
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app._on_timer()  # ticks arrived: a frame is due, paused or not
        await pilot.pause()
        assert app.main.board.board is board  # the figures stayed as they were
        assert any(a.kind == "cross" for a in app.main.alerts.alerts)  # the panel moved on


async def test_the_bell_can_be_turned_off() -> None:
    app = make_app(settings=Settings(bell=False))
    rang: list[bool] = []
    app.controller.notices.bell = lambda: rang.append(True)
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app.show_now()
        await pilot.pause()
        assert rang == [] and any(a.kind == "cross" for a in app.main.alerts.alerts)
        await pilot.press("b")
        assert app.controller.notices.bell_on


async def test_enter_opens_the_constituent_and_escape_restores_the_cursor() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        assert app.focused is app.main.board
        await pilot.press("j", "j")
        expected = app.main.board.symbol_at(2)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConstituentScreen)
        assert app.screen.symbol == expected
        assert app.screen.query_one(Chart).point_count > 0  # its series came with the frame
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.main.board.cursor == 2
        assert app.focused is app.main.board


async def test_the_cursor_follows_its_name_through_the_pipeline() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("j", "j")
        chosen = app.main.board.symbol_at(2)
        assert chosen is not None and app.controller.view.cursor == chosen
        prev = app.pipeline.state.prev_close[app.pipeline.state.ids[chosen]]
        app.pipeline.handle(Tick(chosen, prev, NOW_MS + 1000))  # back to flat: last rank
        app.show_now()
        await pilot.pause()
        board = app.main.board
        assert board.cursor != 2 and board.symbol_at(board.cursor) == chosen
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConstituentScreen) and app.screen.symbol == chosen


async def test_enter_on_a_level_opens_it() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.ladder.focus()
        await pilot.pause()
        level = app.main.ladder.level_at(app.main.ladder.cursor)
        assert level is not None
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen) and app.screen.price == level.price
        assert app.screen.query_one(Chart).point_count > 0
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_ladder_cursor_skips_the_price_row() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.ladder.focus()
        for _ in range(6):
            await pilot.press("j")
            assert app.main.ladder.selectable(app.main.ladder.cursor)


async def test_s_changes_the_order_and_the_header() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        by_contribution = board_symbols(app)
        await pilot.press("s")
        assert app.controller.view.sort == "return"
        by_return = board_symbols(app)
        assert by_return != by_contribution
        board = app.main.board.board
        assert board is not None
        rets = [board.ret[board.symbols.index(s)] for s in by_return]
        assert rets == sorted(rets, reverse=True)
        await pilot.pause()
        screen = app.export_screenshot()
        assert "Return▼" in screen and "Ctb&#160;bp▼" not in screen
        await pilot.press("s", "s")
        assert app.controller.view.sort == "symbol"
        assert board_symbols(app) == sorted(by_contribution)
        await pilot.press("S")
        assert board_symbols(app) == sorted(by_contribution, reverse=True)


async def test_slash_filters_the_board() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"ionq")
        await pilot.pause()
        assert board_symbols(app) == ["IONQ"]
        await pilot.press("enter")
        assert app.focused is app.main.board
        assert board_symbols(app) == ["IONQ"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.controller.view.filter == ""
        assert len(board_symbols(app)) == len(holdings().constituents)


async def test_a_filter_typed_in_one_burst_lands_in_the_box() -> None:
    from textual import events

    app = make_app()
    async with running(app, (100, 30)) as pilot:
        # as a fast typist's keys arrive: all queued before the first is handled
        for key, char in (("slash", "/"), ("i", "i"), ("o", "o"), ("slash", "/"), ("n", "n")):
            app.post_message(events.Key(key, char))
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.value == "io/n"


async def test_the_filter_matches_names_too() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("slash", *"health")
        await pilot.pause()
        assert sorted(board_symbols(app)) == ["GH", "HIMS"]


async def test_p_pauses_the_figures_but_not_the_pipeline() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert app.controller.view.paused and "PAUSED" in status_text(app)
        app.pipeline.handle(Tick("BE", 120.0, NOW_MS + 1000))
        app._on_timer()
        assert app.pipeline.state.price("BE") == 120.0  # the pipeline kept consuming
        assert app.main.board.board.find("BE").last == 104.0  # type: ignore[union-attr]
        await pilot.press("p")
        await pilot.pause()
        assert not app.controller.view.paused
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
        assert "[red]X" in line and "[bold red]Markup Corp[/]" in line
        await pilot.press("enter")
        await pilot.pause()
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
        app.show_now()
        assert app.pipeline.status.state is FeedState.ERROR
        text = status_text(app)
        assert "ERROR" in text and "RuntimeError: socket closed [31m[red]boom[/]" in text
        assert "\x1b" not in text and "\x07" not in text
        assert app.is_running


async def test_a_stale_feed_is_dimmed_and_said() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.pipeline.health.set_status(FeedStatus(FeedState.STALE, "no ticks for 20s"))
        app.show_now()
        await pilot.pause()
        assert "STALE" in status_text(app)
        assert app.main.board.dim and app.main.ladder.dim
        assert app.main.card.has_class("-stale")


async def test_anchor_keys_and_y_goes_back_to_the_day_anchor_it_came_from() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("a")
        assert app.pipeline.anchor == "open"
        await pilot.press("y")
        assert app.pipeline.anchor == "ytd"
        await pilot.press("y")
        assert app.pipeline.anchor == "open"  # not the previous close
        await pilot.press("y", "y")
        assert app.pipeline.anchor == "open"
        assert "Returns since today's open" in messages(app)
        assert "today's open" in status_text(app)


async def test_add_level_validates_then_adds() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("plus")
        assert isinstance(app.screen, AddLevelScreen)
        await pilot.press(*"abc", "enter")
        assert isinstance(app.screen, AddLevelScreen)
        assert "not a number" in str(app.screen.query_one("#error").render())
        await pilot.press(*["backspace"] * 3, *"2,500 my stop", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        added = [lv for lv in app.pipeline.levels.levels if lv.user]
        assert [(lv.price, lv.label) for lv in added] == [(2500.0, "my stop")]
        assert any(r.level and r.level.price == 2500.0 for r in app.main.ladder.rows)


async def test_charts_redraw_at_most_once_a_second() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        clock: Clock = app.controller.clock  # type: ignore[assignment]
        clock.t += 1
        app.show_now()
        await pilot.pause()
        chart = app.main.card.chart
        before = chart.redraws
        for _ in range(4):
            clock.t += 0.25
            app.show_now()
        assert chart.redraws - before == 1  # one second of 4 Hz frames: one redraw
        assert chart.point_count > 0


async def test_resize_keeps_cursor_sort_and_filter() -> None:
    app = make_app()
    async with running(app, (80, 24)) as pilot:
        await pilot.press("s", "j", "j", "j")
        chosen = app.main.board.symbol_at(3)
        await pilot.resize_terminal(120, 40)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        assert app.screen.has_class("-wide")
        assert app.main.board.symbol_at(app.main.board.cursor) == chosen
        assert app.controller.view.sort == "return"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.main.board.cursor == 3


async def test_the_watchdog_exits_when_the_terminal_goes_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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


async def test_earlier_alerts_come_from_the_pipelines_history() -> None:
    pipeline = make_pipeline()
    old = AlertEvent(NOW_MS - 86_400_000, "^RUT", 2450.0, "support", "down", 2440.0, "cross")
    pipeline.alerts.appendleft(old)  # as build_pipeline does from the durable log
    app = make_app(pipeline)
    load(pipeline)  # then the feed: ^RUT opens 4 points under 2,450 (an approach notice)
    async with running(app, (100, 30)) as pilot:
        await pilot.pause()
        panel = app.main.alerts
        assert [a.kind for a in panel.alerts] == ["approach", "cross"]
        assert [panel.earlier(i) for i in range(2)] == [False, True]
        assert panel.alerts[-1] == old


async def test_the_palette_reaches_every_action() -> None:
    app = make_app()
    async with running(app, (100, 30)):
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
    wanted = {k.palette for _, k in keys.all_keys() if k.palette}
    wanted |= {"Quit", "Clear filter", "Sort by symbol", "Anchor: year start", "Focus levels"}
    assert wanted <= set(commands)
    # the help line is the table's, with the key in effect: never retyped by hand
    sort = next(k for k in keys.TABLE["main"] if k.id == "sort")
    assert commands["Cycle sort"].help == f"{sort.help} (s)"
    assert commands["Anchor: today's open"].help == "Measure returns since today's open"


async def test_palette_commands_post_the_same_messages_as_keys() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Sort by weight"].callback()
        commands["Anchor: first price"].callback()
        await pilot.pause()
        assert app.controller.view.sort == "weight" and app.pipeline.anchor == "first"
        await commands["Pause / resume"].callback()  # type: ignore[misc]
        await pilot.pause()
        assert app.controller.view.paused


async def test_enter_on_the_spread_card_opens_the_spread_detail() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.card.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SpreadScreen)
        assert all(c.point_count > 0 for c in app.screen.query(Chart))
        await pilot.press("escape")
        await pilot.press("d")
        assert isinstance(app.screen, SpreadScreen)


async def test_tab_moves_between_panels() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert set(seen) >= {"card", "ladder", "alerts", "board"}


async def test_idle_moves_the_clock_without_frames_busy_shows_every_tick() -> None:
    app = make_app()
    async with running(app, (100, 30)):
        clock: Clock = app.controller.clock  # type: ignore[assignment]
        feed = app.pipeline.feed
        assert isinstance(feed, FakeFeed)
        frames = app.controller.frames
        feed.clock_ms += 1000
        for _ in range(4):  # one second of refresh ticks, nothing happened
            clock.t += 0.25
            app._on_timer()
        assert app.controller.frames == frames  # no frame built...
        assert "11:30:01 ET" in status_text(app)  # ...but the clock moved on
        for _ in range(16):  # a full frame every five idle seconds
            clock.t += 0.25
            app._on_timer()
        assert app.controller.frames - frames == 1
        frames = app.controller.frames
        for i in range(4):  # ticks arriving: every refresh tick shows a frame
            app.pipeline.handle(Tick("BE", 105.0 + i, NOW_MS + 1000 * (i + 1)))
            clock.t += 0.25
            app._on_timer()
        assert app.controller.frames - frames == 4


async def test_a_whipsaw_rings_once_but_logs_every_crossing() -> None:
    app = make_app()
    rang: list[bool] = []
    app.controller.notices.bell = lambda: rang.append(True)
    async with running(app, (100, 30)):
        for i, price in enumerate((2460.0, 2440.0, 2460.0)):
            rut(app.pipeline, price, NOW_MS + 1000 * (i + 1))
        app.show_now()
        assert len([a for a in app.main.alerts.alerts if a.kind == "cross"]) == 3
        assert rang == [True]
        clock: Clock = app.controller.clock  # type: ignore[assignment]
        clock.t += 10
        rut(app.pipeline, 2440.0, NOW_MS + 5000)
        app.show_now()
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
    pipeline.desk.sinks.append(sink)
    app = make_app(pipeline)
    async with running(app, (100, 30)) as pilot:
        assert not [
            n for n in app._notifications if n.message.startswith("Not written or delivered: ")
        ]
        pipeline.handle(Tick("^RUT", 2440.0, NOW_MS + 1000))
        pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 2000))  # crosses 2,450
        assert sink.lost >= 1
        app.show_now()
        await pilot.pause()
        shown = [
            n.message
            for n in app._notifications
            if n.message.startswith("Not written or delivered: ")
        ]
        assert shown and "not written" in shown[0]
        app.show_now()  # the same problem is not announced twice
        assert (
            len(
                [
                    n
                    for n in app._notifications
                    if n.message.startswith("Not written or delivered: ")
                ]
            )
            == 1
        )


# --- keys: one table, remapped by [keys] ----------------------------------------------------------


async def test_a_remapped_key_works_and_the_footer_says_so() -> None:
    app = make_app(settings=Settings(keys={"pause": "space"}))
    async with running(app, (100, 30)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert not app.controller.view.paused  # p is no longer bound
        await pilot.press("space")
        await pilot.pause()
        assert app.controller.view.paused
        footer = app.screen.query_one("Footer")
        shown = {k.description: k.key_display for k in footer.query("FooterKey")}  # type: ignore[attr-defined]
        assert shown["Pause"] == "space"


async def test_the_footer_shows_every_word_at_100_columns() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()  # the footer lays its keys out after the bindings settle
        last = app.screen._compositor.render_strips()[-1].text
        for key in keys.TABLE["app"] + keys.TABLE["main"] + keys.TABLE["rows"]:
            if key.show:
                assert key.description in last, (key.description, last)


async def test_mouse_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tui import cli

    seen: list[bool] = []

    def run(self: R2KApp, *, mouse: bool = True, **_: Any) -> None:
        seen.append(mouse)

    monkeypatch.setattr(R2KApp, "run", run)
    assert cli.main(["--feed", "sim"]) == 0
    assert cli.main(["--feed", "sim", "--mouse"]) == 0
    config = tmp_path / "r2k.toml"
    config.write_text("mouse = true\n")
    assert cli.main(["--config", str(config)]) == 0
    assert seen == [False, True, True]


async def test_an_unknown_key_id_is_one_line_before_the_app_starts(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui import cli

    config = tmp_path / "r2k.toml"
    config.write_text('[keys]\npuase = "space"\n')
    assert cli.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"r2k: error: config file '{config}': [keys] has no binding id 'puase'")
    assert err.count("\n") == 1


def test_settings_default_to_no_mouse_and_no_remaps() -> None:
    assert replace(Settings()).mouse is False and dict(Settings().keys) == {}


async def test_under_a_dialog_the_monitors_toasts_show_no_second_copy() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await app.started.wait()
        app.notify("Returns since today's open", timeout=30)
        await pilot.pause()
        await pilot.press("plus")  # the add-level dialog over the monitor
        await pilot.pause()
        assert app.screen is not app.main
        (rack,) = toast_racks(app.main)
        assert not rack.display
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main and rack.display


async def test_a_new_sort_or_its_reverse_starts_at_the_top() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("j", "j")
        chosen = app.main.board.symbol_at(2)
        assert app.controller.view.cursor == chosen
        await pilot.press("S")  # the biggest detractors first, the cursor on the first of them
        board = app.main.board
        assert board.cursor == 0 and board.scroll_y == 0
        assert board.cursor_symbol == board.symbol_at(0) != chosen
        await pilot.press("j", "s")
        assert app.controller.view.sort == "return"
        assert board.cursor == 0 and board.symbol_at(0) == board.cursor_symbol


@pytest.mark.parametrize("width", [60, 66, 72, 80, 88])
async def test_the_footer_drops_whole_keys_never_half_a_word(width: int) -> None:
    # issue 20 §4: "a Anc▏^p palette" at 80 and "p Pau" at 60 read as other keys
    app = make_app()
    async with running(app, (width, 24)) as pilot:
        app.main.ladder.focus()  # its keys come first: the app's run past the edge
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        await pilot.pause()
        last = app.screen._compositor.render_strips()[-1].text
        words = {k.description for _, k in keys.all_keys() if k.show}
        shown = {k.key_display for k in app.screen.query("FooterKey")}  # type: ignore[attr-defined]
        for chunk in last.replace("▏", " ").split():
            # every word on the footer is a whole key's word, a key, or "palette"
            assert any(chunk in w.split() for w in words) or chunk in shown | {"palette"}, (
                chunk,
                last,
            )


async def test_a_key_that_does_nothing_where_the_focus_is_says_where_it_works() -> None:
    # issue 20 §2: Home and End with the spread card focused did nothing, silently
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.card.focus()
        await pilot.pause()
        await pilot.press("home")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any(
            m.startswith("home goes to the first row")
            and "not on the spread card" in m
            and "Tab" in m
            for m in said
        ), said
        app.main.board.focus()
        await pilot.press("j", "home")  # the board answers it: no hint
        assert app.main.board.cursor == 0
        assert len(app._notifications) == len(said)


async def test_m_mutes_where_a_trader_looks_at_a_threshold() -> None:
    # issue 20 §2: the spread card and the level drilldown mute too
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        from tui.messages import OpenLevel

        app.post_message(OpenLevel(2450.0))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LevelScreen)
        await pilot.press("m")
        await pilot.pause()
        lv = next(lv for lv in app.pipeline.desk.level_views() if lv.price == 2450.0)
        assert lv.muted
        await pilot.press("m")
        await pilot.pause()
        lv = next(lv for lv in app.pipeline.desk.level_views() if lv.price == 2450.0)
        assert not lv.muted


async def test_g_opens_the_sectors_and_enter_filters_the_board_to_one() -> None:
    # issue 20 §1: a sector view, and Enter on a sector filters the board with its subtotal
    from tui.screens.sectors import SectorList, SectorScreen

    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, SectorScreen)
        rows = app.screen.query_one(SectorList).table.rows
        assert [r.sector for r in rows][:1] == ["Industrials"]  # the largest contribution
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.controller.view.filter == "sector:Industrials"
        board = app.main.board.board
        assert board is not None and board.sector == "Industrials" and board.subtotal is not None
        assert "Σ Industrials" in app.export_screenshot().replace("&#160;", " ")


def test_the_sector_up_down_counts_keep_their_slash_in_one_column() -> None:
    # tryout2: "104 / 71" over "189 / 137" right-aligned as a whole put each row's slash in a
    # different column (and the header's elsewhere again), so the counts did not read down
    import numpy as np

    from feeds.market.sectors import sector_codes, sector_table
    from tui.screens.sectors import SectorList

    # Energy: 120 up, 9 down; Financials: 3 up, 140 down; Utilities: 1 up, 1 down
    sectors = ["Energy"] * 129 + ["Financials"] * 143 + ["Utilities"] * 2
    rets = np.array([0.01] * 120 + [-0.01] * 9 + [0.01] * 3 + [-0.01] * 140 + [0.01, -0.01])
    names, codes = sector_codes(sectors)
    symbols = [f"S{i}" for i in range(len(sectors))]
    weights = np.full(len(sectors), 1 / len(sectors))
    rows = SectorList()
    rows.table = sector_table(names, codes, symbols, symbols, weights, rets)
    lines = ["".join(t for t, _ in rows.header_cells(96))]
    lines += ["".join(t for t, _ in rows.row_cells(i, 96)) for i in range(3)]
    assert {line.index(" / ") for line in lines} == {lines[0].index(" / ")}, lines
    assert "120 / 9" in lines[1] and "  3 / 140" in "".join(lines)


@pytest.mark.parametrize("anchor_key", ["", "y"])
async def test_at_200_columns_the_sectors_use_the_width(anchor_key: str) -> None:
    # issue 20 §1: at 200 columns the table stopped at Best/Worst with half the width empty;
    # the movers now carry their contributions and the other period sits beside the day's
    from feeds.events import SessionCloses
    from tui.screens.sectors import SectorList, SectorScreen

    pipeline = make_pipeline()
    load(pipeline)
    assert pipeline.holdings is not None
    # the members' closes of the year's anchor: every sector has a year-to-date move
    pipeline.handle(SessionCloses("2024-12-31", dict.fromkeys(pipeline.holdings.symbols, 50.0)))
    app = make_app(pipeline)
    async with running(app, (200, 50)) as pilot:
        if anchor_key:
            await pilot.press(anchor_key)  # year to date: the day's figures beside them
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, SectorScreen)
        listing = app.screen.query_one(SectorList)
        other = "Day" if anchor_key else "YTD"
        header = listing.render_line(0).text
        assert "ret   ctb bp" in header and f"│    {other} bp   Share   %up Best {other}" in header
        row = listing.table.rows[0]
        line = listing.render_line(1).text
        assert line.startswith(f" {row.sector}") and "│" in line
        best = row.best
        assert best is not None and best.contribution_bp is not None
        assert f"{best.symbol:<7}" in line and fmt.bp(best.contribution_bp, 2) in line
        twin = listing.other[row.sector]  # the same sector, the other period
        after = line.split("│")[1]
        assert fmt.bp(twin.total.contribution_bp, 2) in after
        used = len(line.rstrip())
        assert used > 0.9 * listing.size.width, (used, listing.size.width)  # 114 of 198 before


async def test_m_on_the_spread_card_mutes_the_thresholds_it_shows() -> None:
    from tests.frames import ScreenHost, alert_frame
    from tui.messages import ToggleMute

    host = ScreenHost(MainScreen(), lambda view: alert_frame(view))
    async with host.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        host.screen.query_one("#card").focus()
        await pilot.press("m")
        await pilot.pause()
        muted = host.of(ToggleMute)
        assert muted and all(m.symbol == "RUT-SPX" for m in muted)
