"""Every screen with a frame alone: no pipeline, no app, every figure chosen in tests/frames.py.

Each numbered point of "What a trader saw" (issue 9) that a screen owns is asserted here on what
the terminal shows; the snapshots in test_snapshots.py show the same screens whole.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.app import App
from textual.widgets import Input

from feeds.alerting.levels import LevelState
from feeds.events import FeedState, FeedStatus
from feeds.frame import View
from feeds.market.analytics import Breadth
from tests.frames import MONDAY_MS, NOW_MS, ScreenHost, alert, board, make_frame
from tests.tui_fakes import UNIVERSE
from tui import keys, messages
from tui.screens.add_level import AddLevelScreen
from tui.screens.constituent import ConstituentScreen
from tui.screens.help import HelpScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.screens.spread import SpreadScreen
from tui.widgets.board import BoardTable, breadth_text
from tui.widgets.chart import Chart
from tui.widgets.footer import show_newest_note
from tui.widgets.ladder import LevelLadder
from tui.widgets.status_bar import StatusBar


def screen_lines(app: App[None]) -> list[str]:
    """What the terminal shows, line by line (every layer: toasts included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def status_line(app: App[None]) -> str:
    return app.screen.query_one(StatusBar)._key[0]  # type: ignore[index]


def flat(symbol: str) -> dict[str, float]:
    """A last price equal to the previous close: no move, no contribution, the bottom rank."""
    return {symbol: next(prev for s, *_, prev, _ in UNIVERSE if s == symbol)}


def main_host(**frame_kw: object) -> ScreenHost:
    return ScreenHost(MainScreen(), lambda view: make_frame(view, **frame_kw))


# --- 1. the board cursor stays on its name ----------------------------------------------------


async def test_the_cursor_follows_its_symbol_as_ranks_change() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        table = host.screen.query_one(BoardTable)
        await pilot.press("j", "j")
        chosen = table.symbol_at(2)
        assert chosen is not None and host.of(messages.CursorMoved)[-1].symbol == chosen
        # the market moves: the chosen name drops to the bottom of the ranking
        view = View(cursor=chosen)
        host.show(make_frame(view, last=flat(chosen)))
        rank = table.board.rank_of(chosen)  # type: ignore[union-attr]
        assert rank is not None and rank != 2
        assert table.cursor == rank and table.symbol_at(table.cursor) == chosen
        await pilot.press("enter")
        assert [m.symbol for m in host.of(messages.OpenConstituent)] == [chosen]


async def test_before_the_trader_moves_it_the_cursor_stays_on_the_first_rank() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)):
        table = host.screen.query_one(BoardTable)
        top = table.symbol_at(0)
        assert top is not None
        host.show(make_frame(last=flat(top)))
        assert table.symbol_at(0) != top
        assert table.cursor == 0 and not host.of(messages.CursorMoved)


async def test_a_name_filtered_out_hands_the_cursor_to_the_one_under_it() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        table = host.screen.query_one(BoardTable)
        await pilot.press("j")
        host.show(make_frame(View(filter="health", cursor=table.cursor_symbol)))
        await pilot.pause()
        assert table.cursor_symbol in ("GH", "HIMS")
        assert host.of(messages.CursorMoved)[-1].symbol == table.cursor_symbol


# --- 9. copy: no match, 1 name ------------------------------------------------------------------


async def test_a_filter_that_matches_nothing_says_so() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)):
        host.show(make_frame(View(filter="zzz")))
        text = "\n".join(screen_lines(host))
        assert "no match for “zzz” (Esc clears the filter)" in text
        assert "filter “zzz”: no match" in text
        assert "Leaders · 0 names" in text
        host.show(make_frame(View(filter="ionq")))
        assert "Leaders · 1 name " in "\n".join(screen_lines(host))


# --- the board: coverage of the index and names that are not members (issue 7 §5) ---------------


@pytest.mark.parametrize(
    ("width", "title"),
    [
        (100, "Leaders · 11 names · 99.4% of the index · weights as of Nov 05, 2025"),
        (70, "11 names · 99.4% of the index · weights as of Nov 05, 2025"),
        (60, "11 names · 99.4% of index · weights as of 2025-11-05"),
    ],
)
async def test_the_board_title_says_how_much_of_the_index_it_covers(width: int, title: str) -> None:
    def frame(view: View) -> object:
        b = board(view, outsiders=["IONQ"], coverage=0.994)
        b.weights_as_of = "2025-11-05"  # no price on the holdings' date: weights as of then
        return make_frame(view, board=b)

    host = ScreenHost(MainScreen(), frame)
    async with host.run_test(size=(width, 30)):
        text = "\n".join(screen_lines(host))
        assert f"─ {title} ─" in text or f"━ {title} ━" in text  # ━: the focused panel


async def test_before_any_price_the_title_does_not_say_zero_names() -> None:
    def frame(view: View) -> object:
        b = board(view, coverage=0.0)
        b.names_priced = 0  # connected to a feed that sent nothing readable yet
        return make_frame(view, board=b)

    host = ScreenHost(MainScreen(), frame)
    async with host.run_test(size=(100, 30)):
        assert "━ Leaders · 12 names · no prices yet ━" in "\n".join(screen_lines(host))


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ((200, 50), "· 1,766/1,953 priced"),
        ((100, 30), "· 1,766/1,953 priced"),
        ((80, 24), "· 1,766/1,953 priced"),
        ((60, 20), "· 1,766/1,953 priced"),  # 58 cells: it just fits (the hint gives way)
    ],
)
async def test_breadth_says_what_it_counts_beside_it(size: tuple[int, int], said: str) -> None:
    # issue 20 §5: "▲ 1,039 up ▼ 650 down = 77" over 1,766 of 1,953 members read as the index's
    def partly(view: View) -> object:
        frame = make_frame(view)
        b = frame.board
        b.members = 1_953
        return replace(frame, board=b, breadth=Breadth(1_039, 650, 77))

    host = ScreenHost(MainScreen(), partly)
    async with host.run_test(size=size):
        line = next(t for t in screen_lines(host) if "▲ 1,039 up" in t)
        assert "▼ 650 down  = 77  59% up" in line and said in line, line
        assert line.rstrip(" ┃│").endswith(("›", "priced")), line  # nothing cut at the edge
        narrow = breadth_text(partly(View()), 50).plain  # type: ignore[arg-type]
        assert narrow == "▲ 1,039 up  ▼ 650 down  = 77  59% up · 1,766/1,953"
        host.show(make_frame())  # every member priced: no coverage beside it
        line = next(t for t in screen_lines(host) if " up  ▼ " in t)
        assert "/" not in line and "priced" not in line, line


async def test_a_name_that_is_not_a_member_is_greyed_marked_and_ranked_last() -> None:
    def frame(view: View) -> object:
        return make_frame(view, board=board(view, outsiders=["IONQ", "BE"], coverage=0.9))

    host = ScreenHost(MainScreen(), frame)
    async with host.run_test(size=(100, 30)):
        table = host.screen.query_one(BoardTable)
        assert [table.symbol_at(i) for i in (10, 11)] == ["BE", "IONQ"]  # after every member
        be = table.render_line(11)  # the header is line 0
        assert "not an index member" in be.text and " not in " in be.text
        assert "+4.00%" in be.text  # its own move is still shown
        # neighbouring cells of one style are one segment
        marked = next(seg for seg in be if "not an index member" in seg.text)
        flat_style = table.get_component_rich_style("rows--flat", partial=True)
        assert marked.style is not None and marked.style.color == flat_style.color  # greyed


async def test_slash_then_typing_posts_the_filter_and_esc_clears_it() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"io")
        assert isinstance(host.focused, Input)
        assert [m.text for m in host.of(messages.FilterChanged)] == ["i", "io"]
        await pilot.press("escape")
        assert host.of(messages.FilterChanged)[-1].text == ""
        assert isinstance(host.focused, BoardTable)


# --- 2. one labelled sign convention ------------------------------------------------------------


async def test_the_ladder_has_headers_and_the_to_go_convention() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)):
        ladder = host.screen.query_one(LevelLadder)
        header = ladder.render_line(0).text
        for word in ("Level", "Label", "To go", "%", "State"):
            assert word in header
        rows = [ladder.render_line(y).text for y in range(1, ladder.row_count + 1)]
        above = next(r for r in rows if r.lstrip().startswith("3,000"))
        below = next(r for r in rows if r.lstrip().startswith("2,300"))
        assert "+554.00" in above and "+22.65%" in above  # 3,000 − 2,446: the index must rise
        assert "-146.00" in below and "-5.97%" in below


async def test_the_level_screen_uses_the_same_convention_and_says_it() -> None:
    host = ScreenHost(LevelScreen(2450.0), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)):
        text = "\n".join(screen_lines(host))
        assert "To go     +4.00 pts  +0.16%" in text
        assert "to go = level − price: + the level is above the price, − below" in text
        assert "below the level" in text
        chart = host.screen.query_one(Chart)
        assert chart.point_count == 121  # the last sale held until the feed's clock (steps)
        # the chart is the index against the level's line: prices, no second sign convention
        labels = [chart.render_line(y).text[:12].strip() for y in range(chart.size.height - 1)]
        labels = [label for label in labels if label]
        assert "level 2,450" in labels
        assert not any(label.startswith(("+", "-")) for label in labels)


async def test_the_level_charts_time_axis_ends_differ() -> None:
    host = ScreenHost(LevelScreen(2450.0), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)):
        chart = host.screen.query_one(Chart)
        axis = chart.render_line(chart.size.height - 1).text.split()
        assert axis == ["09:30", "11:30"]  # up to the feed's clock: the last sale holds till now


async def test_a_far_level_does_not_flatten_the_days_line() -> None:
    host = ScreenHost(LevelScreen(3000.0), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)):
        chart = host.screen.query_one(Chart)
        assert not chart.include_baseline  # scaled to the day's prices
        assert "^RUT over the session; the level 3,000 is above" in "\n".join(screen_lines(host))


async def test_a_removed_level_says_so() -> None:
    host = ScreenHost(LevelScreen(2475.0), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)):
        assert "Level 2,475.00 (removed)" in "\n".join(screen_lines(host))


# --- 3. layout ----------------------------------------------------------------------------------


async def test_60x20_keeps_the_ladders_state_and_percent_and_a_whole_status_line() -> None:
    host = main_host(level_states={2450.0: LevelState.APPROACHING})
    async with host.run_test(size=(60, 20)):
        ladder = host.screen.query_one(LevelLadder)
        rows = [ladder.render_line(y).text for y in range(1, ladder.row_count + 1)]
        levels = [r for r in rows if "▶" not in r]
        assert len(levels) == 5
        for row in levels:
            assert "%" in row and row.rstrip().endswith(("armed", "near"))
        status = host.screen.query_one(StatusBar)
        assert len(status_line(host)) <= status.content_region.width  # not cut with "…"


async def test_below_60x18_the_terminal_is_said_to_be_too_small() -> None:
    host = main_host()
    async with host.run_test(size=(40, 12)) as pilot:
        assert host.screen.has_class("-too-small")
        text = "\n".join(screen_lines(host))
        assert "Terminal too small: 40×12." in text and "60×18" in text
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not host.screen.has_class("-too-small")


@pytest.mark.parametrize(("width", "left"), [(160, 64), (200, 80), (250, 100)])
async def test_wide_terminals_give_the_left_column_room(width: int, left: int) -> None:
    alerts = [alert(3, label="breakout above the range")]
    host = main_host(alerts=alerts)
    async with host.run_test(size=(width, 50)):
        top = host.screen.query_one("#top").region
        assert top.width == left
        text = "\n".join(screen_lines(host))
        assert "breakout above the range" in text  # the alert's label is not cut
        header = host.screen.query_one(BoardTable).render_line(0).text
        assert "Sector" in header
        assert ("High" in header and "Low" in header) is (width >= 250)
        assert ("Ticks" in header and "Chg" in header) is (width >= 250)


async def test_the_board_header_does_not_shift_when_the_scrollbar_appears() -> None:
    host = main_host()
    async with host.run_test(size=(80, 24)):
        table = host.screen.query_one(BoardTable)
        host.show(make_frame(View(filter="ionq")))
        few = table.render_line(0).text
        host.show(make_frame())
        assert table.max_scroll_y > 0  # 12 names in 7 rows: the scrollbar is there
        assert table.render_line(0).text == few


# --- 5. toasts leave the board readable ----------------------------------------------------------


def shown_notes(screen: object) -> list[object]:
    """The notes (toasts) with room on screen: an older one waits under the newest at no
    height."""
    notes = screen.query("Toast")  # type: ignore[attr-defined]
    return [t for t in notes if t.parent.styles.height and t.parent.styles.height.is_auto]


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (100, 30), (120, 40), (200, 50)])
async def test_toasts_do_not_cover_the_board(size: tuple[int, int]) -> None:
    # issue 18 §5: at 100x30 notes sat over the alert panel's title and newest row for seconds,
    # stacked and wrapped. A note takes the footer's line, the newest alone, never a panel's.
    host = main_host()
    width, height = size
    async with host.run_test(size=size, notifications=True) as pilot:
        # timeouts far past the test: what is asserted never depends on the wall clock
        host.notify("▲ crossed up ^RUT 2,450 support at 2,460.00", severity="warning", timeout=600)
        host.notify("Level 2,475 removed · u undoes " + "and a tail " * 8, timeout=600)
        notes: list[object] = []
        for _ in range(50):  # toasts mount, then lay out, a refresh or two later
            await pilot.pause()
            notes = shown_notes(host.screen)
            if len(notes) == 1 and "removed" in screen_lines(host)[-1]:
                break
        (note,) = notes
        region = note.region  # type: ignore[attr-defined]
        assert region.area and region.height == 1 and region.y == height - 1, region  # the footer's
        assert region.right <= width
        for panel in ("#alerts", "#leaders", "#card", "#ladder", "StatusBar"):
            other = host.screen.query_one(panel).region
            assert not region.overlaps(other), (panel, region, other)
        line = screen_lines(host)[-1]
        assert "Level 2,475 removed" in line, line
        assert line.rstrip().endswith("…" if width < 150 else "and a tail"), line  # never wrapped
        # the newest goes: the one under it comes back on the same line
        note._expire()  # type: ignore[attr-defined]
        for _ in range(50):
            await pilot.pause()
            show_newest_note(host.screen)
            notes = shown_notes(host.screen)
            if len(notes) == 1 and "▲ crossed up" in screen_lines(host)[-1]:
                break
        (older,) = notes
        assert older.region.y == height - 1 and older.region.height == 1  # type: ignore[attr-defined]
        assert "▲ crossed up ^RUT 2,450" in screen_lines(host)[-1]


# --- 6. 16 colours ------------------------------------------------------------------------------


async def test_the_cursor_row_is_readable_in_16_colours() -> None:
    host = ScreenHost(MainScreen(), lambda view: make_frame(view), theme="ansi-dark")
    async with host.run_test(size=(100, 30)):
        table = host.screen.query_one(BoardTable)
        assert host.focused is table
        style = table.style_of("up", cursor=True)
        assert style.color is not None and style.bgcolor is not None
        # the theme's cursor pair, ANSI black on white: never default text on a pale fill
        assert (style.color.number, style.bgcolor.number) == (0, 7)


# --- 7. another day's data shows its date --------------------------------------------------------


async def test_the_date_shows_when_the_feeds_day_is_not_today() -> None:
    host = main_host(wall_ms=MONDAY_MS)  # Thursday's session watched on Monday
    async with host.run_test(size=(80, 24)):
        assert status_line(host).startswith("11:30:00 ET Thu 20 Nov │")
        host.show(make_frame(wall_ms=NOW_MS))
        assert "Thu 20 Nov" not in status_line(host)  # today, at 80 columns: the time says it


# --- paused, stale, error -------------------------------------------------------------------------


async def test_paused_freezes_the_figures_but_not_the_status_or_the_alerts() -> None:
    host = main_host()
    async with host.run_test(size=(100, 30)):
        table = host.screen.query_one(BoardTable)
        before = table.board
        paused = View(paused=True)
        host.show(make_frame(paused, last={"BE": 120.0}, alerts=[alert(0)], tick_age_s=3.0))
        assert "PAUSED" in status_line(host) and "3s" in status_line(host)
        assert table.board is before  # the figures did not move
        assert "crossed up" in "\n".join(screen_lines(host))  # the alert did come in


async def test_a_stale_feed_is_dimmed_and_said() -> None:
    stale = FeedStatus(FeedState.STALE, "no ticks for 20s")
    host = main_host(status=stale)
    async with host.run_test(size=(100, 30)):
        assert "STALE" in status_line(host) and "no ticks for 20s" in status_line(host)
        assert host.screen.query_one(BoardTable).dim
        assert host.screen.query_one(LevelLadder).dim


async def test_an_error_shows_its_reason_as_plain_text() -> None:
    error = FeedStatus(FeedState.ERROR, "HTTP 401 [bold]unauthorized[/]: check the key")
    host = main_host(status=error)
    async with host.run_test(size=(120, 30)):
        assert "✖ ERROR" in status_line(host)
        assert "HTTP 401 [bold]unauthorized[/]: check the key" in status_line(host)


# --- the alert panel ------------------------------------------------------------------------------


async def test_earlier_alerts_are_dated_and_this_runs_are_timed() -> None:
    old = replace(alert(0), ts=NOW_MS - 3 * 86_400_000)
    host = main_host(alerts=[alert(2), old], run_alerts=[alert(2)])
    async with host.run_test(size=(100, 30)) as pilot:
        panel = host.screen.query_one("#alerts")
        rows = [panel.render_line(y).text for y in range(2)]  # type: ignore[attr-defined]
        assert rows[0].startswith("● 11:28:00") and rows[1].startswith("● 11-17 11:30")
        panel.focus()
        await pilot.press("enter")
        assert [m.price for m in host.of(messages.OpenLevel)] == [2450.0]


# --- drilldowns -----------------------------------------------------------------------------------


async def test_the_constituent_screen_reads_its_row_and_chart_from_the_frame() -> None:
    host = ScreenHost(ConstituentScreen("BE"), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)) as pilot:
        text = "\n".join(screen_lines(host))
        assert "BE · Bloom Energy Corp Class A" in text
        assert "104.00  ▲ +4.00  +4.00%  since prev close 100.00" in text
        assert "Contribution  +4.24 bp" in text
        assert host.screen.query_one(Chart).point_count == 121  # + the last sale held until now
        await pilot.press("escape")
        assert not isinstance(host.screen, ConstituentScreen)


async def test_the_constituent_facts_never_wrap_a_figure_at_60_columns() -> None:
    # tryout2, 60x20: "since prev close" ended one line and its price "159.60" began the next
    # under the label column; "(+99.5" / "bp)" likewise. A note that does not fit goes under
    # its figures, whole
    host = ScreenHost(ConstituentScreen("BE"), lambda view: make_frame(view))
    async with host.run_test(size=(60, 20)):
        lines = screen_lines(host)
        text = "\n".join(lines)
        assert "104.00  ▲ +4.00  +4.00%" in text
        assert any(line.strip(" │┃").startswith("since prev close 100.00") for line in lines)
        assert any(line.strip(" │┃").startswith("Contribution  +4.24 bp") for line in lines)
        tail = [line for line in lines if "of the index move" in line]
        assert tail and tail[0].strip(" │┃").endswith("bp)"), tail


async def test_the_level_facts_continue_under_their_text_at_60_columns() -> None:
    # tryout2, 60x20: "Hours  regular session only (09:30-16:00 ET, early" went on with
    # "closes)" under the label column, and the to-go rule's "the price, − below" too
    host = ScreenHost(LevelScreen(2450.0), lambda view: make_frame(view))
    async with host.run_test(size=(60, 20)):
        lines = [line.strip("│┃ ") and line[2:] for line in screen_lines(host)[2:12]]
        hours = next(i for i, line in enumerate(lines) if line.startswith("Hours"))
        assert lines[hours + 1].startswith(" " * 10 + "closes)"), lines
        rule = next(i for i, line in enumerate(lines) if "to go = level" in line)
        assert lines[rule + 1].startswith(" " * 10 + "the price"), lines


async def test_an_unknown_constituent_says_there_is_no_data() -> None:
    host = ScreenHost(ConstituentScreen("NOPE"), lambda view: make_frame(view))
    async with host.run_test(size=(100, 30)):
        assert "No data for this symbol yet." in "\n".join(screen_lines(host))


async def test_the_spread_screen_draws_both_spreads() -> None:
    host = ScreenHost(SpreadScreen(), lambda view: make_frame(view))
    async with host.run_test(size=(100, 40)):
        text = "\n".join(screen_lines(host))
        assert "RUT − SPX  +40 bp ▲" in text and "Ratio RUT/SPX" in text
        assert [c.point_count for c in host.screen.query(Chart)] == [120, 120]


# --- help and the add-level dialog ----------------------------------------------------------------


async def test_help_lists_every_binding_with_its_id_and_remapped_keys() -> None:
    host = ScreenHost(HelpScreen({"pause": "space"}))
    async with host.run_test(size=(120, 100)):  # tall enough to show it all
        text = "\n".join(screen_lines(host))
        for _, key in keys.all_keys():
            assert f" {key.id} " in text, key.id
        pause = next(line for line in text.splitlines() if " pause " in line)
        assert pause.split()[1:4] == ["space", "Pause", "pause"]  # inside the box border
        assert "to go = level − price" in text  # the legend states the sign convention


async def test_the_add_level_error_is_shown_whole() -> None:
    host = ScreenHost(AddLevelScreen())
    async with host.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"2000000", "enter")
        text = "\n".join(screen_lines(host))
        assert "2,000,000 is far from the Russell 2000 (100-10,000)" in text
        await pilot.press(*["backspace"] * 7, *"2,475 my breakout", "enter")
        got = [(m.level.price, m.level.label) for m in host.of(messages.AddLevel)]
        assert got == [(2475.0, "my breakout")]


@pytest.mark.parametrize("width", [53, 73, 96])  # the help box's text at 60, 80 and 100 columns
def test_help_wraps_with_a_hanging_indent_and_cuts_nothing(width: int) -> None:
    # issue 20 §4: "freeze the figures; feed, alerts and bell run…" at 100 and 80 columns, and
    # the legend wrapped unindented mid-phrase
    from tui.screens.help import LABEL_W, key_table, legend, legend_content

    display = str
    table = key_table({}, display, width).plain.splitlines()
    text = legend_content(legend({}, display), width).plain.splitlines()
    assert all(len(line) <= width for line in table + text)
    words = " ".join(" ".join(x.split()) for x in table)
    assert "freeze the figures; feed, alerts and bell run on" in words
    for scope in keys.SCOPES:
        for key in keys.TABLE[scope]:
            assert " ".join(key.help.split()) in words
    # a wrapped legend line hangs under its entry's text, never at the label's column
    for line in text[2:]:
        if line[:LABEL_W].strip():
            continue  # an entry's first line (its label)
        assert line.startswith(" " * LABEL_W) and line[LABEL_W] != " ", line
