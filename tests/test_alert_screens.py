"""Issue 10 on screen, with a frame alone (tests/frames.py: no pipeline): the ladder's
confirmation, muted and awaiting-close marks, the alert panel's acknowledgement marks, the count
waiting in the status bar at every width, the spread card's nearest thresholds, the spread
drilldown's list, and the messages each key posts. The snapshots show the same screens whole.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from feeds.events import FeedState, FeedStatus
from feeds.frame import View
from tests.frames import MONDAY_MS, ScreenHost, alert, alert_frame, alert_rows, spread_alerts
from tests.test_screens import screen_lines, status_line
from tui import messages
from tui.screens.help import HelpScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.screens.spread import NO_THRESHOLDS, SpreadScreen
from tui.widgets.alert_log import AlertLog
from tui.widgets.ladder import LevelLadder
from tui.widgets.spread_card import thresholds_content


def main_host(**kw: object) -> ScreenHost:
    return ScreenHost(MainScreen(), lambda view: alert_frame(view, **kw))


def ladder_rows(host: ScreenHost) -> dict[float, str]:
    ladder = host.screen.query_one(LevelLadder)
    return {
        r.level.price: ladder.render_line(i + 1).text
        for i, r in enumerate(ladder.rows)
        if r.level is not None
    }


async def test_the_ladder_shows_confirmation_mutes_and_a_bar_awaiting_its_close() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)):
        header = host.screen.query_one(LevelLadder).render_line(0).text
        assert header.split()[:3] == ["Level", "On", "Label"]
        rows = ladder_rows(host)
        assert rows[3000.0].split()[:2] == ["3,000", "tick"]
        assert rows[2642.0].split()[:2] == ["2,642", "5m"]
        assert rows[2444.0].split()[:3] == ["2,444", "1m", "✎"]
        assert rows[2444.0].rstrip().endswith("▲ awaits close")  # the price is above it
        assert rows[2300.0].startswith("⊘2,300") and not rows[2450.0].startswith("⊘")


async def test_a_narrow_ladder_keeps_the_marks_in_short_forms() -> None:
    host = main_host()
    async with host.run_test(size=(60, 20)):
        rows = ladder_rows(host)
        assert rows[3000.0].split()[:2] == ["3,000", "·"]
        assert rows[2642.0].split()[:2] == ["2,642", "5m"]
        assert rows[2444.0].rstrip().endswith("▲wait")
        assert host.screen.query_one(LevelLadder).render_line(0).text.split()[:3] == [
            "Level",
            "On",
            "Lbl",
        ]


async def test_m_on_the_ladder_posts_a_mute_of_the_level_under_the_cursor() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        ladder = host.screen.query_one(LevelLadder)
        ladder.focus()
        ladder.cursor = next(i for i, r in enumerate(ladder.rows) if r.level and r.level.user)
        await pilot.press("m")
        assert [(m.symbol, m.level) for m in host.of(messages.ToggleMute)] == [("^RUT", 2444.0)]


async def test_the_alert_panel_marks_what_waits_what_is_acknowledged_and_what_is_muted() -> None:
    host = main_host()
    async with host.run_test(size=(200, 50)):
        panel = host.screen.query_one(AlertLog)
        rows = [panel.render_line(y).text for y in range(panel.row_count)]
        assert [r[0] for r in rows] == ["●", "●", "✓", " ", " ", "●", "⊘"]
        assert "RUT-SPX +50 bp @ +51.3 bp" in rows[1]  # a spread: its pair, in bp
        assert "✖ busted ▼" in rows[4] and "▼ down, busted" in rows[5]  # the one taken back
        assert rows[6].rstrip().endswith("critical support (muted)")
        assert str(panel.border_title) == "Alerts · ● 3 to acknowledge: x one, X all"


async def test_x_and_m_in_the_alert_panel_post_for_the_alert_under_the_cursor() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        panel = host.screen.query_one(AlertLog)
        panel.focus()
        await pilot.press("j", "x", "m")  # the spread crossing
        spread = alert_rows()[0][1]
        assert [m.alert for m in host.of(messages.Acknowledge)] == [spread]
        assert [(m.symbol, m.level) for m in host.of(messages.ToggleMute)] == [("RUT-SPX", 50.0)]
        await pilot.press("enter")  # a spread alert opens the spread drilldown
        assert len(host.of(messages.OpenSpread)) == 1 and not host.of(messages.OpenLevel)


async def test_unfocused_the_panel_keeps_the_newest_in_sight_focused_the_alert_read() -> None:
    """A 2-row panel (80x24) would otherwise scroll the newest alert away to keep the cursor on
    an older one nobody is reading."""
    rows = alert_rows()[0]
    newer = [alert(0.5, 2450.0, "down", price=2440.0), alert(0.2, 2450.0, "up")]
    host = main_host()
    async with host.run_test(size=(80, 24)) as pilot:
        panel = host.screen.query_one(AlertLog)
        host.show(alert_frame(alerts=[newer[0], *rows]))
        await pilot.pause()
        assert panel.cursor == 0 and panel.scroll_y == 0
        panel.focus()
        await pilot.press("j", "j")
        read = panel.alert_at(panel.cursor)
        host.show(alert_frame(alerts=[newer[1], newer[0], *rows]))
        assert panel.alert_at(panel.cursor) == read and panel.cursor == 3


@pytest.mark.parametrize(
    ("size", "badge"),
    [
        ((60, 20), "⚑3"),
        ((80, 24), "⚑ 3 to ack"),
        ((100, 30), "⚑ 3 to ack"),
        ((200, 50), "⚑ 3 alerts to acknowledge (X)"),
    ],
)
async def test_the_status_bar_counts_the_alerts_waiting_and_keeps_the_feed_state(
    size: tuple[int, int], badge: str
) -> None:
    """Another day's data (the sim replaying Friday) dates the line: the longest it gets."""
    host = main_host(wall_ms=MONDAY_MS)
    async with host.run_test(size=size):
        text = status_line(host)
        assert text.endswith(badge) and "fake ● live" in text and "│ open" in text
        assert len(text) <= size[0] - 2 and "…" not in text


async def test_an_error_keeps_its_state_and_the_count_at_60_columns() -> None:
    error = FeedStatus(FeedState.ERROR, "HTTP 401: check the API key in [feeds.alpaca] " * 3)
    host = main_host(status=error)
    async with host.run_test(size=(60, 20)):
        text = status_line(host)
        assert "✖ ERROR" in text and text.endswith("⚑3") and len(text) <= 58


async def test_no_alert_waiting_no_count() -> None:
    host = main_host(unacknowledged=0)
    async with host.run_test(size=(100, 30)):
        assert "⚑" not in status_line(host)
        assert str(host.screen.query_one(AlertLog).border_title) == "Alerts"


def test_the_card_names_the_nearest_threshold_below_and_above_with_their_to_go() -> None:
    frame = alert_frame()  # spread +39.6 bp; thresholds 0, +50, +100 (muted)
    text = thresholds_content(frame, 35)
    assert text is not None and text.plain == "alerts ▼ 0 (-40)  ▲ +50 (+10) bp"
    assert thresholds_content(frame, 23).plain == "▼ 0 (-40)  ▲ +50 (+10) bp"  # type: ignore[union-attr]
    past = replace(frame, spread_alerts=spread_alerts(75.0))
    assert thresholds_content(past, 35).plain == "alerts ▼ +50 (-25)  ⊘▲ +100 (+25) bp"  # type: ignore[union-attr]
    ytd = replace(frame, anchor="ytd")  # the card's spread is YTD; the thresholds' the day's
    assert thresholds_content(ytd, 60).plain.endswith("bp vs prev close")  # type: ignore[union-attr]
    both = replace(
        frame, spread_alerts={**frame.spread_alerts, **spread_alerts(20.0, pair="RUT-MAGS")}
    )
    lines = thresholds_content(both, 35).plain.splitlines()  # type: ignore[union-attr]
    assert [line.split()[:2] for line in lines] == [["SPX", "▼"], ["MAGS", "▼"]]
    waiting = replace(frame, spread_alerts=spread_alerts(None))
    assert thresholds_content(waiting, 35).plain == "alerts 0, +50, +100 bp · no spread yet"  # type: ignore[union-attr]
    assert thresholds_content(replace(frame, spread_alerts={}), 35) is None


async def test_the_spread_drilldown_lists_every_threshold_and_m_mutes_the_one_selected() -> None:
    host = ScreenHost(SpreadScreen(), lambda view: alert_frame(view))
    async with host.run_test(size=(100, 40)) as pilot:
        ladder = host.screen.query_one("#rut-spx-levels", LevelLadder)
        assert host.focused is ladder
        rows = [ladder.render_line(y).text.split()[:2] for y in range(1, 5)]
        assert rows == [["⊘", "+100"], ["+50", "tick"], ["▶+39.6", "bp"], ["0", "tick"]]
        await pilot.press("j", "m")
        assert [(m.symbol, m.level) for m in host.of(messages.ToggleMute)] == [("RUT-SPX", 50.0)]
        text = "\n".join(screen_lines(host))
        assert "RUT − SPX alerts (bp vs prev close; 30s past ±band, regular hrs) · m mutes" in text


async def test_the_spread_drilldown_shows_each_band_and_a_crossing_waiting_its_dwell() -> None:
    frame = alert_frame()
    (sa,) = spread_alerts(56.0).values()
    waiting = tuple(
        replace(lv, dwell_left_ms=12_400) if lv.price == 50.0 else lv for lv in sa.levels
    )
    frame = replace(frame, spread_alerts={"RUT-SPX": replace(sa, levels=waiting)})
    host = ScreenHost(SpreadScreen(), lambda view: replace(frame, view=view))
    async with host.run_test(size=(100, 40)):
        ladder = host.screen.query_one("#rut-spx-levels", LevelLadder)
        assert ladder.render_line(0).text.split()[-2:] == ["Band", "State"]
        rows = {
            r.level.price: ladder.render_line(i + 1).text
            for i, r in enumerate(ladder.rows)
            if r.level is not None
        }
        assert rows[100.0].split()[-2:] == ["±1.5", "armed"]  # its own tighter band
        assert rows[50.0].rstrip().endswith("±4 ▲ past, 13s")
        assert rows[0.0].split()[-2:] == ["±4", "armed"]


async def test_without_thresholds_the_spread_drilldown_says_how_to_set_them() -> None:
    frame = replace(alert_frame(), spread_alerts={})
    host = ScreenHost(SpreadScreen(), lambda view: replace(frame, view=view))
    async with host.run_test(size=(120, 40)):
        text = "\n".join(screen_lines(host))
        assert NO_THRESHOLDS in text
        assert not host.screen.query_one("#rut-spx-levels").display
        footer = screen_lines(host)[-1]
        assert "Remove" not in footer and "Mute" not in footer  # nothing to remove or mute


async def test_the_level_drilldown_says_how_a_crossing_is_confirmed_and_that_it_is_muted() -> None:
    host = ScreenHost(LevelScreen(2444.0), lambda view: alert_frame(view))
    async with host.run_test(size=(100, 30)):
        text = "\n".join(screen_lines(host))
        assert "State     ▲ awaits close" in text
        assert "Confirm   a one-minute bar closing beyond the level (1m, New York clock)" in text
    host = ScreenHost(LevelScreen(2300.0), lambda view: alert_frame(view))
    async with host.run_test(size=(100, 30)):
        assert "armed  ⊘ muted" in "\n".join(screen_lines(host))


async def test_help_lists_the_new_keys_and_its_legend_names_the_remapped_ones() -> None:
    host = ScreenHost(HelpScreen({"mute": "M", "acknowledge-all": "A"}))
    async with host.run_test(size=(120, 120)):
        text = "\n".join(screen_lines(host))
        for binding_id in ("mute", "mute-alert", "acknowledge", "acknowledge-all"):
            assert f" {binding_id} " in text
        assert "Alert panel" in text
        assert "⊘         muted (M on a level)" in text
        assert "(x; A all of them" in text


def test_the_frame_the_screens_get_counts_what_the_panel_marks() -> None:
    frame = alert_frame(View())
    assert frame.unacknowledged == 3 == sum(a.kind == "cross" for a in frame.alerts) - 2
