"""The status says what is happening, at any width (issue 8 §2): the status bar, and the
feed-status screen that shows the whole reason and the run's history from the frame alone."""

from __future__ import annotations

import inspect
import re
import time

import pytest
from textual.widgets import Static

from feeds.events import FeedState, FeedStatus
from feeds.frame import View
from feeds.pipeline import Pipeline
from tests.frames import ScreenHost, make_frame
from tests.test_app import make_app, running, status_text
from tests.tui_fakes import NOW_MS, load, make_pipeline
from tui.screens.feed_status import HEADING, FeedStatusScreen, history_lines, status_facts
from tui.screens.main import MainScreen
from tui.widgets.status_bar import status_content

LONG = (
    "cannot connect to streamer.finance.yahoo.com:443: name lookup failed (Temporary failure "
    "in name resolution); no intraday history: ConnectError from https://query2.finance."
    "yahoo.com (+2 more); no daily history: ConnectError from https://query2.finance.yahoo.com "
    "(+2 more); this reason goes on past any status bar so that only a screen of its own can "
    "show all of it, which is the point of this test: THE-END"
)


def troubled(pipeline: Pipeline, retry_in_s: float = 30.0) -> FeedStatus:
    """A run that went live, then lost its connection: the latest status has every counter."""
    wall = int(time.time() * 1000)
    pipeline.health.set_status(FeedStatus(FeedState.LIVE, "yahoo streaming", NOW_MS - 60_000))
    status = FeedStatus(
        FeedState.RECONNECTING, LONG, NOW_MS, 1024, 3, wall + int(retry_in_s * 1000)
    )
    pipeline.health.set_status(status)
    return status


def squeezed(text: str) -> str:
    """``text`` without white space: wrapping may break a line anywhere."""
    return "".join(text.split())


def plain(screen: FeedStatusScreen) -> tuple[str, str]:
    """The screen's facts and its history, as shown."""
    rendered = screen.query_one("#facts", Static).render()
    text = str(getattr(rendered, "plain", rendered))
    facts, _, history = text.partition(HEADING)
    return facts, history.strip("\n")


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (200, 50)])
async def test_f_opens_the_whole_reason_and_the_history(size: tuple[int, int]) -> None:
    app = make_app()
    troubled(app.pipeline)
    async with running(app, size) as pilot:
        app.show_now()
        await pilot.press("f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FeedStatusScreen)
        facts, history_text = plain(screen)
        assert squeezed(LONG) in squeezed(facts)  # uncut, at every width
        assert max(len(line) for line in facts.splitlines()) <= size[0] - 6  # wrapped to fit
        facts = " ".join(facts.split())
        assert "1,024 frames skipped as unreadable" in facts
        assert "3 attempts this run" in facts
        assert re.search(r"Next retry in .* \(\d\d:\d\d:\d\d ET wall clock\)", facts)
        assert max(len(line) for line in history_text.splitlines()) <= size[0] - 6
        history = history_text.split("\n")
        entries = [line for line in history if line[:1] != " "]  # continuations are indented
        assert entries[0].split()[2:4] == ["↻", "reconnecting"]
        newest = squeezed("".join(history[: history.index(entries[1])]))
        assert newest.endswith(squeezed(LONG))
        assert entries[1].split()[3:5] == ["live", "yahoo"]
        assert entries[-1].split()[3:5] == ["connecting", "opening"]  # oldest last
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_palette_reaches_the_feed_status() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        done = commands["Feed status"].callback()
        if inspect.isawaitable(done):  # an action of the binding table: the palette awaits it
            await done
        await pilot.pause()
        assert isinstance(app.screen, FeedStatusScreen)


def test_the_screen_reads_only_the_frame() -> None:
    """The facts and the history are functions of the frame: no pipeline, no feed."""
    pipeline = load(make_pipeline())
    status = troubled(pipeline)
    frame = pipeline.frame()
    facts = status_facts(frame).plain
    assert "fake" in facts and LONG in facts and "1,024" in facts
    lines = history_lines(frame.status_history).plain.splitlines()
    assert len(lines) == len(frame.status_history) and LONG in lines[0]
    assert frame.status is status


def bar(status: FeedStatus, *, wall_ms: int = NOW_MS, width: int = 100, key: str = "f") -> str:
    """The status line of a frame of the test market with ``status`` from feed "yahoo"."""
    frame = make_frame(status=status, wall_ms=wall_ms, feed_label="yahoo")
    return status_content(frame, width, key).plain


def test_the_status_bar_counts_malformed_frames_when_live() -> None:
    status = FeedStatus(FeedState.LIVE, "yahoo streaming", malformed=1024)
    assert "yahoo ● live · 1,024 malformed frames skipped │" in bar(status)
    one = FeedStatus(FeedState.LIVE, "yahoo streaming", malformed=1)
    assert "● live · 1 malformed frame skipped" in bar(one)


def test_the_reason_comes_right_after_the_state_with_the_retry_time() -> None:
    retry_at = NOW_MS + 31_000
    status = FeedStatus(FeedState.RECONNECTING, "cannot connect to h:443", 0, 0, 2, retry_at)
    line = bar(status, wall_ms=NOW_MS + 1_000)
    assert line.startswith(
        "11:30:00 ET │ yahoo ↻ reconnecting (f) · retry in 30 s · cannot connect to h:443 │"
    )
    assert "reconnecting (f) · retrying · cannot connect" in bar(status, wall_ms=NOW_MS + 40_000)
    # the key that opens the feed status, as the user remapped it
    assert "↻ reconnecting (F2) · retry" in bar(status, key="F2")


async def test_at_80_columns_the_bar_shows_the_reason_not_the_anchor() -> None:
    app = make_app()
    troubled(app.pipeline, retry_in_s=30.0)
    async with running(app, (80, 24)) as pilot:
        app.show_now()
        await pilot.pause()
        text = status_text(app)
        head = text.split(" · ")
        assert head[0].endswith("↻ reconnecting (f)")
        assert re.fullmatch(r"retry in \d+ s", head[1])
        assert head[2] == "1,024 malformed frames skipped"
        assert head[3].startswith("cannot connect to streamer.finance.yahoo.com:443")


async def test_the_feed_status_moves_on_while_the_figures_are_paused() -> None:
    """Pausing freezes the figures, never what the feed is doing: a new status and the retry
    countdown still reach the screen."""
    host = ScreenHost(FeedStatusScreen(), make_frame(View(paused=True)))
    async with host.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = FeedStatus(
            FeedState.RECONNECTING, "connection reset", NOW_MS, 0, 1, NOW_MS + 9_000
        )
        host.show(make_frame(View(paused=True), status=status, status_history=(status,)))
        await pilot.pause()
        facts, _ = plain(host.screen)  # type: ignore[arg-type]
        assert "connection reset" in facts and "in 9 s (" in facts
        host.screen.show_status(  # type: ignore[attr-defined]
            make_frame(View(paused=True), status=status, wall_ms=NOW_MS + 5_000)
        )
        await pilot.pause()
        assert "in 4 s (" in plain(host.screen)[0]  # type: ignore[arg-type]


async def test_a_click_on_the_status_bar_opens_the_feed_status() -> None:
    """With --mouse, the line that says what is wrong is also the way to all of it."""
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.click("#status")
        await pilot.pause()
        assert isinstance(app.screen, FeedStatusScreen)
        await pilot.press("f")  # already there: f does not stack a second one
        assert len([s for s in app.screen_stack if isinstance(s, FeedStatusScreen)]) == 1
