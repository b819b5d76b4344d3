"""The status says what is happening, at any width (issue 8 §2): the status bar, and the
feed-status screen that shows the whole reason and the run's history from the frame alone."""

from __future__ import annotations

import re
import time

import pytest
from textual.widgets import Static

from feeds.events import FeedState, FeedStatus
from feeds.pipeline import Pipeline
from tests.test_app import make_app, running, status_text
from tests.tui_fakes import NOW_MS, load, make_pipeline
from tui.screens.feed_status import FeedStatusScreen, history_lines, status_facts
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
    pipeline.set_status(FeedStatus(FeedState.LIVE, "yahoo streaming", NOW_MS - 60_000))
    status = FeedStatus(
        FeedState.RECONNECTING, LONG, NOW_MS, 1024, 3, wall + int(retry_in_s * 1000)
    )
    pipeline.set_status(status)
    return status


def squeezed(text: str) -> str:
    """``text`` without white space: wrapping may break a line anywhere."""
    return "".join(text.split())


def plain(screen: FeedStatusScreen, widget_id: str) -> str:
    rendered = screen.query_one(f"#{widget_id}", Static).render()
    return str(getattr(rendered, "plain", rendered))


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (200, 50)])
async def test_f_opens_the_whole_reason_and_the_history(size: tuple[int, int]) -> None:
    app = make_app()
    troubled(app.pipeline)
    async with running(app, size) as pilot:
        app.pull_frame()
        await pilot.press("f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FeedStatusScreen)
        facts = plain(screen, "facts")
        assert squeezed(LONG) in squeezed(facts)  # uncut, at every width
        assert max(len(line) for line in facts.splitlines()) <= size[0] - 6  # wrapped to fit
        facts = " ".join(facts.split())
        assert "1,024 frames skipped as unreadable" in facts
        assert "3 attempts this run" in facts
        assert re.search(r"Next retry \d\d:\d\d:\d\d ET", facts)
        history = plain(screen, "history").split("\n")
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
        commands["Feed status"].callback()
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


def test_the_status_bar_counts_malformed_frames_when_live() -> None:
    status = FeedStatus(FeedState.LIVE, "yahoo streaming", malformed=1024)
    line = status_content(None, feed_label="yahoo", status=status, anchor="prev", paused=False)
    assert "yahoo ● live · 1,024 malformed frames skipped │" in line.plain
    one = FeedStatus(FeedState.LIVE, "yahoo streaming", malformed=1)
    line = status_content(None, feed_label="yahoo", status=one, anchor="prev", paused=False)
    assert "● live · 1 malformed frame skipped" in line.plain


def test_the_reason_comes_right_after_the_state_with_the_retry_time() -> None:
    status = FeedStatus(FeedState.RECONNECTING, "cannot connect to h:443", 0, 0, 2, 31_000)
    line = status_content(
        None, feed_label="yahoo", status=status, anchor="prev", paused=False, now_ms=1_000
    ).plain
    assert line.startswith(
        "--:--:-- ET │ yahoo ↻ reconnecting (f) · retry in 30 s · cannot connect to h:443 │"
    )
    later = status_content(
        None, feed_label="yahoo", status=status, anchor="prev", paused=False, now_ms=40_000
    ).plain
    assert "reconnecting (f) · retrying · cannot connect" in later


async def test_at_80_columns_the_bar_shows_the_reason_not_the_anchor() -> None:
    app = make_app()
    troubled(app.pipeline, retry_in_s=30.0)
    async with running(app, (80, 24)) as pilot:
        app.pull_frame()
        await pilot.pause()
        text = status_text(app)
        head = text.split(" · ")
        assert head[0].endswith("↻ reconnecting (f)")
        assert re.fullmatch(r"retry in \d+ s", head[1])
        assert head[2] == "1,024 malformed frames skipped"
        assert head[3].startswith("cannot connect to streamer.finance.yahoo.com:443")


def test_snapshot_feed_status_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    from collections import deque

    from tests.test_snapshots import fresh_app, two_frames

    app = fresh_app()
    history = [
        FeedStatus(FeedState.CONNECTING, "connecting to stream.data.alpaca.markets:443", NOW_MS),
        FeedStatus(FeedState.LIVE, "alpaca streaming; iex: trades for 30 symbols", NOW_MS + 900),
        FeedStatus(
            FeedState.ERROR,
            "alpaca rejected the key (402 auth failed): check R2K_ALPACA_KEY and "
            "R2K_ALPACA_SECRET; the server said the credentials in the request (***) were not "
            "accepted",
            NOW_MS + 61_000,
            1024,
            2,
        ),
    ]
    app.pipeline.history = deque(history)
    app.pipeline._history_view = None
    app.pipeline.status = history[-1]

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await two_frames(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
