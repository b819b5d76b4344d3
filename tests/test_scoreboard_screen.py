"""The year-to-date scoreboard in the app (issue 11): its key from the monitor and the spread
drilldown, the figures it shows for a frame built with known numbers (tests/frames.py), the
daily chart's levels, the history download's progress, and the holdings in the board's title
(their date, and a flag when older than 45 days)."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widgets import ProgressBar

from feeds.frame import View
from tests.frames import FRESH, STALE, ScreenHost, board, make_frame, scoreboard
from tests.test_app import make_app, running
from tests.test_screens import screen_lines
from tui import keys, messages
from tui.screens.main import MainScreen
from tui.screens.scoreboard import ScoreboardScreen, chart_heading, pack
from tui.screens.spread import SpreadScreen
from tui.widgets.board import BreadthLine, board_title
from tui.widgets.chart import Chart, Guide
from tui.widgets.download import DownloadProgress


def sb_host(**kw: object) -> ScreenHost:
    return ScreenHost(
        ScoreboardScreen(), lambda view: make_frame(view, scoreboard=scoreboard(**kw))
    )


def main_host(anchor: str = "prev", coverage: float | None = 0.994, **kw: object) -> ScreenHost:
    def frame(view: View) -> object:
        return make_frame(
            view,
            anchor=anchor,
            board=board(view, coverage=coverage),
            scoreboard=scoreboard(**kw),
        )

    return ScreenHost(MainScreen(), frame)


def text(host: ScreenHost) -> str:
    return "\n".join(screen_lines(host))


def squeeze(s: str) -> str:
    return re.sub(r"\s+", " ", s)


# --- the key ------------------------------------------------------------------------------------


async def test_y_opens_the_scoreboard_from_the_monitor_and_escape_goes_back() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("Y")
        await pilot.pause()
        assert isinstance(app.screen, ScoreboardScreen)
        shown = app.screen.frame
        assert shown is not None and shown.scoreboard is not None  # the app's own frame
        assert "Scoreboard · year to date" in text(app)  # type: ignore[arg-type]
        await pilot.press("Y")  # again: no second scoreboard on the stack
        await pilot.pause()
        assert sum(isinstance(s, ScoreboardScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_y_opens_it_from_the_spread_drilldown_and_the_palette_lists_it() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, SpreadScreen)
        await pilot.press("Y")
        await pilot.pause()
        assert isinstance(app.screen, ScoreboardScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SpreadScreen)  # back where the trader was
        await pilot.press("escape")
        commands = {c.title: c for c in app.get_system_commands(app.main)}
        row = next(k for _, k in keys.all_keys() if k.id == "scoreboard")
        command = commands["Scoreboard (year to date)"]
        assert command.help == f"{row.help} (Y)"
        done = command.callback()
        if inspect.isawaitable(done):
            await done
        await pilot.pause()
        assert isinstance(app.screen, ScoreboardScreen)


async def test_the_breadth_line_names_the_key_and_a_click_opens_the_scoreboard() -> None:
    app = make_app(settings=None)
    app.keymap["scoreboard"] = "ctrl+y"  # a remap: the line names the key in effect
    async with running(app, (100, 30)) as pilot:
        line = app.main.query_one(BreadthLine)
        assert line._key is not None and "^y year to date ›" in line._key[0]  # type: ignore[index]
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ScoreboardScreen)
    host = main_host()
    async with host.run_test(size=(100, 30)) as pilot:
        await pilot.click(BreadthLine)
        assert host.of(messages.OpenScoreboard)


# --- the figures ---------------------------------------------------------------------------------


async def test_the_screen_shows_the_year_to_date_story_with_units() -> None:
    host = sb_host()
    async with host.run_test(size=(120, 40)):
        shown = squeeze(text(host))
    # returns (%) and spreads (bp) by period, and the closes they are measured from
    assert "^RUT +0.25% +1.10% -0.80% +9.50%" in shown
    assert "^GSPC -0.15% +0.40% -1.20% +12.30%" in shown
    assert "MAGS -0.50% +0.20% -2.00% +15.00%" in shown
    assert "RUT−SPX +40 bp +70 bp +40 bp -280 bp" in shown
    assert "RUT−MAGS +75 bp +90 bp +120 bp -550 bp" in shown
    assert "from Nov 19 Nov 12 Oct 31 2024-12-31" in shown
    # the streak and its context
    assert "▲ small caps beat large caps 10 sessions running" in shown
    assert "the longest in over 2 years (since 2023-07-28)" in shown
    # record highs: the record, when, how far below, in a row, this year
    assert "^RUT record 2,466.00 on Nov 19, 1 session ago" in shown
    assert "20.00 pts (0.81%) below the record · 3 sessions in a row" in shown
    assert "14 this year" in shown and "the longest of 2025" in shown  # a second line each
    # YTD breadth, by count and by index weight
    assert "▲ 1,480 up ▼ 470 down = 12 · 75.4% of members up · 81.2% of the index weight" in shown
    # the names adding most, in index points
    assert re.search(r"BE Bloom Energy Corp Cla… +\+6\.10 pts +\+210\.00%", shown)
    assert "^RUT +212.21 pts YTD · 5 add ≥1 pt" in shown
    assert "Holdings bundled, as of 2025-11-05 · 15 days old" in shown
    assert "⚠" not in shown


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 30), (200, 50)])
async def test_every_fact_fits_its_line_at_every_size(size: tuple[int, int]) -> None:
    host = sb_host(holdings=STALE, unknown=212)
    async with host.run_test(size=size):
        lines = screen_lines(host)
    shown = "\n".join(lines)
    for label in ("Streak", "Records", "Breadth", "Holdings"):
        line = next(line for line in lines if f" {label} " in line)
        assert "…" not in line, line  # facts are left out whole, never cut
    assert "⚠ 51 days old" in shown  # the stale flag is never the part left out
    assert re.search("YTD anchor unknown for 212 names|212 lack a YTD anchor", shown)
    assert "small caps" in shown and "record 2,466.00" in shown


def test_facts_are_packed_whole_fullest_first() -> None:
    from tui.screens.scoreboard import fact

    parts = [fact("a long first fact", "short"), fact("second"), fact("third one")]
    assert [c.plain for c in pack("Label", parts, 60, 1)] == [
        "Label     a long first fact · second · third one"
    ]
    # too narrow for all three in full: all three in their short forms
    assert pack("Label", parts, 40, 1)[0].plain == "Label     short · second · third one"
    assert pack("Label", parts, 24, 1)[0].plain == "Label     short · second"
    two = [c.plain for c in pack("Label", parts, 32, 2)]
    assert two == ["Label     a long first fact", "          second · third one"]


async def test_without_daily_history_the_chart_says_so_and_progress_shows() -> None:
    host = sb_host(history=False, progress=("daily history", 2, 8))
    async with host.run_test(size=(100, 30)):
        shown = text(host)
        progress = host.screen.query_one(DownloadProgress)
        assert progress.has_class("-active") and progress.display
        assert host.screen.query_one(ProgressBar).percentage == pytest.approx(0.25)
        assert "⤓ Downloading daily history · daily history 2/8" in shown
        assert "daily history downloading: daily history 2/8" in shown  # the empty chart


# --- the daily chart ----------------------------------------------------------------------------


async def test_the_daily_chart_draws_the_levels_and_the_record_across_the_year() -> None:
    host = sb_host()
    async with host.run_test(size=(120, 40)):
        chart = host.screen.query_one("#sb-chart", Chart)
        assert chart.point_count == 262  # 261 completed sessions and today's last
        assert chart._values[-1] == 2446.0
        values = {g.value for g in chart._guides}
        # the record and the levels near the year's range; the targets far above are listed
        assert values == {2466.0, 2450.0, 2300.0}
        shown = text(host)
        # the record and 2,450 share the top row: one value names it, the heading says the other
        assert "2,466·2,450" not in shown and "2,466 record" in shown
        assert "also drawn 2,450" in shown
        assert "2,300 critical support" in shown
        assert "off the chart ▲ 2,642 2,861 3,000" in shown
        assert "Nov 20 2024" in shown and "Nov 20 2025" in shown  # the first and last session
        assert "2,234 2024 close" in shown  # the baseline: green above last year's close


async def test_guides_are_dotted_rows_named_on_the_axis() -> None:
    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Chart(signed=False, include_baseline=False)

    app = One()
    async with app.run_test(size=(40, 6)):
        chart = app.query_one(Chart)
        chart.update(
            np.arange(5),
            np.array([10.0, 11.0, 12.0, 13.0, 14.0]),
            baseline=10.0,
            extent=(10.0, 20.0),
            guides=[Guide(20.0, "20 target", short="20"), Guide(19.9, "top", short="19.9")],
        )
        lines = [chart.render_line(y).text for y in range(6)]
        unnamed = list(chart.unnamed)
        chart.update(np.arange(5), np.full(5, 12.0), extent=(10.0, 20.0), guides=[Guide(15, "x")])
        alone = [chart.render_line(y).text for y in range(6)]
    top = lines[0]
    # two guides share the row: the first names it (issue 20: "2,300·2,302" read as one number);
    # the other is drawn there and listed for the screen's heading
    assert top.startswith("20 target ") and "19.9" not in top
    assert [g.value for g in unnamed] == [19.9]
    dots = top[len("20 target ") :]
    assert dots.count(" ") >= len(dots) // 2 - 1  # dotted: every other cell
    assert any(line.lstrip().startswith("x ") for line in alone)  # a guide alone: its label


def test_the_chart_heading_fits_and_lists_the_levels_left_off() -> None:
    from tests.frames import levels

    above = [lv for lv in levels(2446.0) if lv.price > 2600]
    heading = chart_heading(["2024-11-20", "2025-11-19"], above, [], "2024-12-31", 80)
    assert heading.cell_length <= 80
    assert heading.plain.startswith("^RUT daily closes, Nov 20 2024 – Nov 19 2025")
    assert "off the chart ▲ 2,642 2,861 3,000" in heading.plain


# --- progress and the holdings on the monitor -------------------------------------------------


async def test_the_board_shows_a_history_download_then_hides_it() -> None:
    host = main_host(progress=("YTD anchors", 12, 98))
    async with host.run_test(size=(100, 30)) as pilot:
        progress = host.screen.query_one(DownloadProgress)
        assert progress.display and "YTD anchors 12/98" in text(host)
        host.show(make_frame(board=board(View(), coverage=0.994), scoreboard=scoreboard()))
        await pilot.pause()
        assert not progress.display and "YTD anchors" not in text(host)


@pytest.mark.parametrize(
    ("width", "title"),
    [
        (100, "Leaders · 12 names · 99.4% of the index · fetched holdings as of 2025-09-30 ⚠ "
         "51 days old"),
        (90, "Leaders · 12 names · 99.4% of the index · fetched 2025-09-30 ⚠ 51d old"),
        (70, "12 names · 99.4% of the index · fetched 2025-09-30 ⚠ 51d old"),
        (60, "12 names · 99.4% of the index · ⚠ holdings 51d old"),
    ],
)  # fmt: skip
async def test_the_board_title_flags_holdings_older_than_45_days(width: int, title: str) -> None:
    host = main_host(holdings=STALE)
    async with host.run_test(size=(width, 30)):
        assert title in text(host)


async def test_fresh_holdings_say_which_and_their_date_without_a_flag() -> None:
    host = main_host(holdings=FRESH)
    async with host.run_test(size=(100, 30)):
        shown = text(host)
    assert "Leaders · 12 names · 99.4% of the index · bundled holdings as of 2025-11-05" in shown
    assert "⚠" not in shown
    b = board(View(), coverage=0.994)
    assert board_title(b, 60, FRESH) == "12 names · 99.4% of the index · bundled 2025-11-05"
    assert board_title(b, 50, FRESH) == "Leaders · 12 names · 99.4% of the index"  # no room


async def test_with_ytd_returns_the_board_says_which_names_lack_an_anchor() -> None:
    host = main_host(anchor="ytd", unknown=212)
    async with host.run_test(size=(100, 30)) as pilot:
        assert "· YTD anchor unknown for 212 names" in text(host)
        host.show(
            replace(
                make_frame(board=board(View(), coverage=0.994), scoreboard=scoreboard(unknown=212)),
                anchor="prev",
            )
        )
        await pilot.pause()
        assert "YTD anchor unknown" not in text(host)  # day returns do not need it


def test_a_history_shorter_than_a_year_has_a_high_not_a_record() -> None:
    from tui.screens.scoreboard import record_facts

    sb = scoreboard()
    short = replace(sb, record_highs=replace(sb.record_highs, since="2025-02-03"))
    first = [f[0].plain for f in record_facts(short)]
    assert first[0] == "^RUT high 2,466.00 on Nov 19, 1 session ago (history from Feb 03)"
    assert not any("this year" in f for f in first)  # a count without a year before it
    assert [f[0].plain for f in record_facts(sb)][-1] == "14 this year"


async def test_opened_while_paused_it_shows_the_frozen_figures() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("p", "Y")
        await pilot.pause()
        assert app.controller.view.paused and isinstance(app.screen, ScoreboardScreen)
        shown = text(app)  # type: ignore[arg-type]
        assert "PAUSED" in shown and "^RUT" in shown and "Streak" in shown
        await pilot.press("escape", "d")  # every drilldown: never a blank panel
        await pilot.pause()
        assert "RUT − SPX" in text(app)  # type: ignore[arg-type]


@pytest.mark.parametrize(("width", "shown"), [(149, False), (150, True), (200, True)])
async def test_taking_most_ytd_from_150_columns_as_the_docs_say(width: int, shown: bool) -> None:
    # issue 20 §3: "Taking most YTD" appeared only from about 170 columns
    host = sb_host()
    async with host.run_test(size=(width, 40)):
        assert ("Taking most YTD" in text(host)) is shown
