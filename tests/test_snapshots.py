"""Snapshots of every screen, grouped by feature, each at an explicit terminal size.

Most show one screen with a hand-built frame (tests/frames.py: no pipeline, nothing that moves);
the last group drives the real app over a pipeline. Plain ``def`` tests: ``snap_compare`` runs the
app itself. Update with ``--snapshot-update`` and look at the SVGs in ``tests/__snapshots__``
before accepting them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from feeds.alerting.levels import LevelState
from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame, View
from tests.frames import (
    MONDAY_MS,
    STALE,
    ScreenHost,
    alert,
    alert_frame,
    board,
    make_frame,
    scoreboard,
)
from tests.tui_fakes import NOW_MS, load, make_pipeline
from tui.app import R2KApp
from tui.screens.add_level import AddLevelScreen
from tui.screens.constituent import ConstituentScreen
from tui.screens.feed_status import FeedStatusScreen
from tui.screens.help import HelpScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.screens.scoreboard import ScoreboardScreen
from tui.screens.spread import SpreadScreen
from tui.widgets.alert_log import AlertLog

Snap = Callable[..., bool]
T0 = NOW_MS - 61_000  # the feed-status history's first change
ALERTS = [
    alert(1, 2450.0, "up"),
    alert(6, 2450.0, "down", price=2448.2),
    alert(9, 2450.0, "up", kind="approach", price=2445.1),
]


def main_host(**frame_kw: Any) -> ScreenHost:
    return ScreenHost(MainScreen(), lambda view: make_frame(view, **frame_kw))


def showing(frame: Frame) -> Callable[[Pilot[None]], Any]:
    """run_before: after the first frame, show ``frame`` (a later state of the same screen)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.show(frame)  # type: ignore[attr-defined]
        await pilot.pause()

    return run_before


class TestMonitorLayout:
    """The monitor at every size a trader uses: the panels share the room, nothing is cut."""

    def test_80x24(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(alerts=ALERTS), terminal_size=(80, 24))

    def test_100x30(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(alerts=ALERTS), terminal_size=(100, 30))

    def test_120x40(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(alerts=ALERTS), terminal_size=(120, 40))

    def test_60x20_keeps_state_and_percent(self, snap_compare: Snap) -> None:
        states = {2450.0: LevelState.APPROACHING}
        assert snap_compare(main_host(level_states=states), terminal_size=(60, 20))

    def test_200x50_uses_the_room(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(alerts=ALERTS), terminal_size=(200, 50))

    def test_40x12_says_too_small(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(), terminal_size=(40, 12))


class TestMonitorStates:
    """Paused, stale, error, another day's data, an empty filter, 16 colours."""

    def test_paused_100x30(self, snap_compare: Snap) -> None:
        frame = make_frame(View(paused=True), alerts=ALERTS, tick_age_s=12.0)
        assert snap_compare(main_host(), terminal_size=(100, 30), run_before=showing(frame))

    def test_stale_100x30(self, snap_compare: Snap) -> None:
        stale = FeedStatus(FeedState.STALE, "no ticks for 20s")
        assert snap_compare(main_host(status=stale, tick_age_s=20.0), terminal_size=(100, 30))

    def test_error_100x30(self, snap_compare: Snap) -> None:
        error = FeedStatus(FeedState.ERROR, "HTTP 401: check the API key in [feeds.alpaca]")
        assert snap_compare(main_host(status=error), terminal_size=(100, 30))

    def test_another_days_data_shows_its_date_80x24(self, snap_compare: Snap) -> None:
        assert snap_compare(main_host(wall_ms=MONDAY_MS), terminal_size=(80, 24))

    def test_no_match_100x30(self, snap_compare: Snap) -> None:
        frame = make_frame(View(filter="zzz"))
        assert snap_compare(main_host(), terminal_size=(100, 30), run_before=showing(frame))

    def test_16_colours_80x24(self, snap_compare: Snap) -> None:
        host = ScreenHost(MainScreen(), lambda view: make_frame(view), theme="ansi-dark")
        assert snap_compare(host, terminal_size=(80, 24))


class TestDrilldowns:
    """Enter on a name, a level, the spread card: one skeleton, three subjects."""

    def test_constituent_80x24(self, snap_compare: Snap) -> None:
        host = ScreenHost(ConstituentScreen("BE"), lambda view: make_frame(view))
        assert snap_compare(host, terminal_size=(80, 24))

    def test_constituent_120x40(self, snap_compare: Snap) -> None:
        host = ScreenHost(ConstituentScreen("IONQ"), lambda view: make_frame(view))
        assert snap_compare(host, terminal_size=(120, 40))

    def test_level_100x30(self, snap_compare: Snap) -> None:
        host = ScreenHost(LevelScreen(2450.0), lambda view: make_frame(view, alerts=ALERTS))
        assert snap_compare(host, terminal_size=(100, 30))

    def test_spread_100x40(self, snap_compare: Snap) -> None:
        host = ScreenHost(SpreadScreen(), lambda view: make_frame(view))
        assert snap_compare(host, terminal_size=(100, 40))

    def test_feed_status_80x24(self, snap_compare: Snap) -> None:
        """f: the whole reason wrapped under its column, the counters, the run's history."""
        history = (
            FeedStatus(FeedState.CONNECTING, "connecting to stream.data.alpaca.markets:443", T0),
            FeedStatus(FeedState.LIVE, "alpaca streaming; iex: trades for 30 symbols", T0 + 900),
            FeedStatus(
                FeedState.ERROR,
                "alpaca rejected the key (402 auth failed): check R2K_ALPACA_KEY and "
                "R2K_ALPACA_SECRET; the server said the credentials in the request (***) were "
                "not accepted",
                T0 + 61_000,
                1024,
                2,
            ),
        )
        frame = make_frame(status=history[-1], status_history=history, feed_label="alpaca:iex")
        host = ScreenHost(FeedStatusScreen(), lambda view: replace(frame, view=view))
        assert snap_compare(host, terminal_size=(80, 24))


class TestDialogs:
    def test_help_100x40(self, snap_compare: Snap) -> None:
        assert snap_compare(ScreenHost(HelpScreen({})), terminal_size=(100, 40))

    def test_add_level_error_80x24(self, snap_compare: Snap) -> None:
        async def run_before(pilot: Pilot[None]) -> None:
            await pilot.pause()
            pilot.app.screen.query_one(Input).cursor_blink = False
            await pilot.press(*"2000000", "enter")

        host = ScreenHost(AddLevelScreen())
        assert snap_compare(host, terminal_size=(80, 24), run_before=run_before)


class TestScoreboard:
    """Y: the year-to-date story (tests/frames.py's known numbers), and on the monitor the
    holdings in use, flagged when stale, and a history download under way."""

    @staticmethod
    def host(**kw: Any) -> ScreenHost:
        return ScreenHost(
            ScoreboardScreen(), lambda view: make_frame(view, scoreboard=scoreboard(**kw))
        )

    def test_80x24(self, snap_compare: Snap) -> None:
        assert snap_compare(self.host(), terminal_size=(80, 24))

    def test_100x30(self, snap_compare: Snap) -> None:
        assert snap_compare(self.host(), terminal_size=(100, 30))

    def test_200x50(self, snap_compare: Snap) -> None:
        assert snap_compare(self.host(), terminal_size=(200, 50))

    def test_downloading_with_stale_holdings_80x24(self, snap_compare: Snap) -> None:
        host = self.host(progress=("YTD anchors", 12, 98), holdings=STALE, unknown=212)
        assert snap_compare(host, terminal_size=(80, 24))

    def test_monitor_stale_holdings_and_download_100x30(self, snap_compare: Snap) -> None:
        def frame(view: View) -> Frame:
            sb = scoreboard(progress=("YTD anchors", 12, 98), holdings=STALE, unknown=212)
            b = board(view, coverage=0.994)
            return make_frame(view, board=b, scoreboard=sb, anchor="ytd")

        assert snap_compare(ScreenHost(MainScreen(), frame), terminal_size=(100, 30))


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


class AlertPanelHost(App[None]):
    """The alert panel alone, filling the terminal: every row of tests/frames.alert_rows."""

    CSS_PATH = ScreenHost.CSS_PATH

    def compose(self) -> ComposeResult:
        yield AlertLog(id="alerts", classes="panel")

    def on_mount(self) -> None:
        panel = self.query_one(AlertLog)
        panel.styles.height = "1fr"
        panel.border_title = "Alerts · ● 3 to acknowledge: x one, X all"
        panel.show(alert_frame())
        panel.focus()


class TestAlerts:
    """Issue 10: levels confirmed on a bar's close (one awaiting it), a muted level, the alert
    panel's marks (waiting, acknowledged, busted, muted, a spread's in bp), the count waiting in
    the status bar, the card's nearest spread thresholds and the spread drilldown's list."""

    @pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 30), (200, 50)], ids=_size)
    def test_monitor(self, snap_compare: Snap, size: tuple[int, int]) -> None:
        """Another day's data (the sim replaying Friday): the longest status line."""
        host = ScreenHost(MainScreen(), lambda view: alert_frame(view, wall_ms=MONDAY_MS))
        assert snap_compare(host, terminal_size=size)

    @pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=_size)
    def test_alert_panel(self, snap_compare: Snap, size: tuple[int, int]) -> None:
        assert snap_compare(AlertPanelHost(), terminal_size=size)

    @pytest.mark.parametrize("size", [(80, 24), (100, 40)], ids=_size)
    def test_spread_drilldown(self, snap_compare: Snap, size: tuple[int, int]) -> None:
        host = ScreenHost(SpreadScreen(), lambda view: alert_frame(view))
        assert snap_compare(host, terminal_size=size)


class TestApp:
    """The real app over a pipeline (fixed clock, fixed tick age and rate)."""

    def test_sorted_by_return_with_the_cursor_moved_100x30(self, snap_compare: Snap) -> None:
        pipeline = make_pipeline()
        app = R2KApp(pipeline, refresh_hz=0.01, run_feed=False, clock=lambda: 0.0)
        load(pipeline)  # after the app is built, as a feed would: its alerts are this session's

        async def run_before(pilot: Pilot[None]) -> None:
            await app.started.wait()
            await pilot.pause()
            app.show_now(charts=True)  # nothing ticked since the first: no tick marks
            await pilot.press("s", "j")
            await pilot.pause()

        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
