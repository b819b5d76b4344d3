"""What outlives the app: levels added with ``+`` (saved, loaded at the next start) and webhook
alerts still queued at quit (delivered before the app exits, within a bounded wait)."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tui.app
import tui.controller
from feeds.alertctl import UNDO_S
from feeds.alerting.alerts import WebhookSink
from feeds.alerting.levelinput import LevelInput
from feeds.events import Tick
from feeds.pipeline import Pipeline
from feeds.settings.config import Settings, load_settings, parse_level
from feeds.settings.setup import level_engine
from tests.conftest import Received
from tests.test_app import make_app, running
from tests.tui_fakes import NOW_MS, load, make_pipeline
from tui.app import R2KApp
from tui.screens.main import MainScreen


def app_for(settings: Settings) -> R2KApp:
    """The app as ``r2k`` builds it from settings: the configured levels in the engine."""
    pipeline = make_pipeline()
    pipeline.desk.levels = level_engine(settings)
    app = make_app(pipeline, settings=settings)
    load(pipeline)
    return app


def user_levels(app: R2KApp) -> list[tuple[float, str]]:
    return [(lv.price, lv.label) for lv in app.pipeline.levels.levels if lv.user]


def ladder_text(app: R2KApp, price: float) -> str:
    ladder = app.main.ladder
    i = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.price == price)
    return "".join(text for text, _ in ladder.row_cells(i, 60))


def messages(app: R2KApp) -> list[str]:
    return [n.message for n in app._notifications]


# --- levels added in the app survive a restart ----------------------------------------------


async def test_keys_typed_in_one_burst_after_plus_reach_the_dialog() -> None:
    """A trader types "+2500 jump⏎" faster than the dialog mounts: the keys go into its box in
    order, none reaches the board behind it ("j" would move its cursor), and Enter adds it."""
    from textual import events

    app = app_for(load_settings())
    async with running(app, (100, 30)) as pilot:
        board_cursor = app.main.board.cursor
        for key, char in [("plus", "+"), *((c, c) for c in "2500"), ("space", " ")]:
            app.post_message(events.Key(key, char))
        for c in "jump":
            app.post_message(events.Key(c, c))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert user_levels(app) == [(2500.0, "jump")]
        assert app.main.board.cursor == board_cursor


async def test_a_level_added_with_plus_is_there_after_a_restart() -> None:
    settings = load_settings()  # the state dir is a fresh temporary one (conftest)
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        await pilot.press("plus", *"2,475 my breakout", "enter")
        assert isinstance(app.screen, MainScreen)
        assert user_levels(app) == [(2475.0, "my breakout")]
    assert settings.levels_file.is_file()

    restarted = app_for(settings)  # a new process: a fresh pipeline, same state dir
    async with running(restarted, (100, 30)) as pilot:
        restarted.show_now()
        await pilot.pause()
        assert user_levels(restarted) == [(2475.0, "my breakout")]
        assert "✎ my breakout" in ladder_text(restarted, 2475.0)  # marked as the user's own
        assert "✎" not in ladder_text(restarted, 2450.0)  # a technical level is not

        ladder = restarted.main.ladder
        ladder.focus()
        ladder.cursor = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.user)
        await pilot.press("x")
        assert user_levels(restarted) == []
        assert "Level 2,475 removed · u undoes" in messages(restarted)

    again = app_for(settings)
    async with running(again, (100, 30)):
        assert user_levels(again) == []  # the removal stuck


async def test_saved_levels_come_after_the_configured_ones() -> None:
    settings = load_settings()
    first = app_for(settings)
    async with running(first, (100, 30)):
        first.controller.add_level(LevelInput(2475.0, "from the app"))
        first.controller.add_level(LevelInput(2600.0, "also from the app"))
    # the next start also has a --level at 2,475: the flag's label wins, the other is added
    flagged = load_settings(extra_levels=(parse_level("2475:from the flag"),))
    app = app_for(flagged)
    async with running(app, (100, 30)):
        assert user_levels(app) == [(2475.0, "from the flag"), (2600.0, "also from the app")]


async def test_removing_a_configured_level_lasts_until_restart_and_says_so() -> None:
    settings = load_settings(extra_levels=(parse_level("2600:from the config"),))
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        app.show_now()
        ladder = app.main.ladder
        ladder.focus()
        ladder.cursor = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.user)
        await pilot.press("x")
        assert user_levels(app) == []
        assert any("removed until restart" in m and "--level" in m for m in messages(app))
    assert not settings.levels_file.exists()  # the config file is the place to drop it


async def test_adding_a_level_already_on_the_ladder_says_so() -> None:
    settings = load_settings()
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        await pilot.press("plus", *"2450 dup", "enter")
        assert user_levels(app) == []
        assert "Level 2,450 is already on the ladder" in messages(app)
    assert not settings.levels_file.exists()


async def test_a_corrupt_levels_file_is_a_warning_and_the_app_starts() -> None:
    settings = load_settings()
    settings.levels_file.parent.mkdir(parents=True)
    settings.levels_file.write_text('{"levels": [{"price": 2475, "label": "half a wri')
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        assert isinstance(app.screen, MainScreen)
        warnings = [m for m in messages(app) if "unreadable" in m]
        assert len(warnings) == 1 and "\n" not in warnings[0]
        assert f"saved levels '{settings.levels_file}' unreadable (not JSON" in warnings[0]
        assert user_levels(app) == []
        await pilot.press("plus", *"2500", "enter")  # and saving works again
    assert settings.levels_file.with_name("levels.json.bad").exists()
    check = app_for(settings)
    async with running(check, (100, 30)):
        assert user_levels(check) == [(2500.0, "user level")]
        assert not any("unreadable" in m for m in messages(check))


async def test_without_settings_nothing_is_saved(isolated_env: Path) -> None:
    app = make_app()  # tests and embedders: no settings, no levels file
    assert app.controller.alerts.store is None
    async with running(app, (100, 30)):
        app.controller.add_level(LevelInput(2475.0, "session only"))
        assert user_levels(app) == [(2475.0, "session only")]
    assert not (isolated_env / "state" / "r2k" / "levels.json").exists()


def test_settings_name_the_levels_file() -> None:
    assert Settings().levels_file.name == "levels.json"


# --- queued webhook alerts are delivered at quit ----------------------------------------------


def webhook_pipeline(url: str) -> tuple[Pipeline, WebhookSink]:
    """The test market (loaded first: its opening approach notice is not the webhook's)."""
    pipeline = load(make_pipeline())
    sink = WebhookSink(url, trust_env=False)
    pipeline.desk.sinks.append(sink)
    return pipeline, sink


def cross_2450(app: R2KApp) -> None:
    """^RUT from 2,446 to 2,460: up through 2,450 by more than the band (one alert)."""
    app.pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 1000))


async def wait_for_exit_worker(app: R2KApp) -> None:
    assert app.exit_worker is not None
    await app.exit_worker.wait()


async def test_quit_delivers_a_crossing_fired_just_before(
    hook_server: tuple[str, Received],
) -> None:
    url, received = hook_server
    pipeline, sink = webhook_pipeline(url + "/hold")  # the post stays in flight until released
    app = make_app(pipeline)
    async with running(app, (100, 30)) as pilot:
        cross_2450(app)
        assert sink.pending == 1  # queued, not yet delivered
        await pilot.press("q")
        assert any("Sending 1 queued alert to the webhook" in m for m in messages(app))
        received.release.set()
        await wait_for_exit_worker(app)
    assert [(a["level"], a["direction"], a["kind"]) for a in received] == [(2450.0, "up", "cross")]
    assert sink.sent == 1 and app.return_code == 0


async def test_the_terminal_watchdog_delivers_them_too(
    hook_server: tuple[str, list[dict[str, object]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Gone:
        closed = False

        def isatty(self) -> bool:
            return False

    url, received = hook_server
    pipeline, _ = webhook_pipeline(url + "/hook")
    app = make_app(pipeline)
    async with running(app, (100, 30)):
        cross_2450(app)
        monkeypatch.setattr(sys, "stdin", Gone())
        app._watchdog()
        app._watchdog()  # the next second's check while delivering: not a second exit
        await wait_for_exit_worker(app)
    assert len(received) == 1 and received[0]["level"] == 2450.0
    assert app.return_code == 1


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung webhook)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"


async def test_a_hung_webhook_never_holds_the_exit(
    silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tui.controller, "EXIT_DRAIN_S", 0.05)
    pipeline, sink = webhook_pipeline(silent_endpoint)
    app = make_app(pipeline)
    async with running(app, (100, 30)) as pilot:
        cross_2450(app)
        await pilot.press("q")
        await wait_for_exit_worker(app)
    assert app.return_code == 0 and sink.sent == 0 and sink.pending == 0


async def test_a_second_q_exits_at_once(
    silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tui.controller, "EXIT_DRAIN_S", 600.0)
    pipeline, _ = webhook_pipeline(silent_endpoint)
    app = make_app(pipeline)
    async with running(app, (100, 30)) as pilot:
        cross_2450(app)
        await pilot.press("q")
        assert app.return_code is None  # still delivering
        await pilot.press("q")
        assert app.return_code == 0


async def test_quit_without_a_webhook_exits_straight_away() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("q")
        assert app.return_code == 0
        assert app.exit_worker is None


# --- issue 18 §5: a removal can be undone, and takes its mute with it ---------------------------
async def test_x_on_a_level_can_be_undone_with_u_and_a_removed_levels_mute_is_dropped() -> None:
    settings = load_settings()
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        await pilot.press("plus", *"2,475 my breakout", "enter")
        ladder = app.main.ladder
        ladder.focus()
        ladder.cursor = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.user)
        await pilot.press("m")  # muted: saved in levels.json
        assert '"muted"' in settings.levels_file.read_text()
        await pilot.press("x")
        assert user_levels(app) == []
        assert "Level 2,475 removed · u undoes" in messages(app)
        saved = json.loads(settings.levels_file.read_text())
        assert saved["levels"] == [] and "muted" not in saved  # the mute went with it
        await pilot.press("u")
        await pilot.pause()
        assert user_levels(app) == [(2475.0, "my breakout")]
        back = app.pipeline.desk.levels.find(2475.0)
        assert back is not None and back.muted  # put back as it was, mute and all
        saved = json.loads(settings.levels_file.read_text())
        assert [lv["price"] for lv in saved["levels"]] == [2475.0]
        assert saved["muted"] == [{"symbol": "^RUT", "level": 2475.0}]
        await pilot.press("u")  # nothing more to undo
        assert user_levels(app) == [(2475.0, "my breakout")]


async def test_the_undo_lasts_a_few_seconds_only() -> None:
    settings = load_settings()
    app = app_for(settings)
    async with running(app, (100, 30)) as pilot:
        app.controller.add_level(LevelInput(2475.0, "mine"))
        app.controller.remove_level(2475.0)
        assert app.controller.alerts.can_undo()
        app.controller.alerts.clock.t += UNDO_S  # type: ignore[attr-defined]
        assert not app.controller.alerts.can_undo()
        await pilot.press("u")
        assert user_levels(app) == []
