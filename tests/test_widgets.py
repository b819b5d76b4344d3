"""Widgets and formatting in isolation."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from feeds.alerting.levelinput import parse_level
from feeds.alerting.levels import AlertEvent, LevelState
from feeds.frame import Frame, LevelView
from tui import fmt
from tui.fmt import describe
from tui.widgets.alert_log import AlertLog
from tui.widgets.board import TITLE_HOLD_S, Leaderboard, layout
from tui.widgets.chart import Chart
from tui.widgets.ladder import LevelLadder


def test_clean_strips_controls_and_bidi() -> None:
    assert fmt.clean("ab\x1b[31mc\x07d") == "ab [31mc d"
    assert fmt.clean("evil\u202eetxt") == "evil etxt"
    assert fmt.clean("[red]X") == "[red]X"  # markup is text, kept as is
    assert fmt.clean("x" * 50, limit=10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2500", (2500.0, "user level")),
        ("2,500.5 breakout zone", (2500.5, "breakout zone")),
        ("  2450   retest ", (2450.0, "retest")),
        ("2,500:round number", (2500.0, "round number")),  # the --level form reads the same
        ("2642.5:", (2642.5, "user level")),
    ],
)
def test_one_reader_for_every_level_a_trader_types(text: str, expected: tuple[float, str]) -> None:
    assert parse_level(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a level"),
        ("abc", "not a number"),
        ("x" * 40, "not a number"),
        ("-5", "positive"),
        ("1e9", "far from"),
        ("0.5", "far from"),  # a fraction, not index points
        ("inf", "positive"),
        ("nan", "positive"),
    ],
)
def test_parse_level_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        parse_level(text)
    assert len(str(err.value)) <= 56  # the add-level dialog shows it whole


def test_a_figure_that_rounds_to_zero_has_no_sign() -> None:
    assert fmt.signed(-0.001) == "0.00" and fmt.pct(-0.00001) == "0.00%"
    assert fmt.bp(-0.4) == "0" and fmt.bp(0.6) == "+1"
    assert fmt.sign_class(-0.001, 2) == "flat" and fmt.sign_class(-0.001) == "down"
    assert fmt.signed(-0.005, 2) == "-0.01"  # rounds away from zero: it has a sign


def test_plurals() -> None:
    assert fmt.plural(1, "name") == "1 name" and fmt.plural(1924, "name") == "1,924 names"


def test_time_axis_labels_never_read_the_same_at_both_ends() -> None:
    from tests.tui_fakes import NOW_MS, OPEN_MS

    assert fmt.time_labels(OPEN_MS, NOW_MS) == ("09:30", "11:30")
    assert fmt.time_labels(OPEN_MS, OPEN_MS + 20_000) == ("09:30:00", "09:30:20")
    assert fmt.time_labels(OPEN_MS, OPEN_MS) == ("", "09:30")
    assert fmt.time_labels(OPEN_MS - 86_400_000, NOW_MS) == ("Wed 09:30", "Thu 11:30")


def test_signed_figures_never_rely_on_colour() -> None:
    assert fmt.pct(0.0051) == "+0.51%"
    assert fmt.pct(-0.0051) == "-0.51%"
    assert fmt.bp(65.4) == "+65"
    assert fmt.arrow(-1) == fmt.DOWN and fmt.arrow(1) == fmt.UP
    assert fmt.pct(None) == fmt.DASH and fmt.price(float("nan")) == fmt.DASH


def test_age_and_rate_are_coarse() -> None:
    assert fmt.age(None) == "no ticks"
    assert fmt.age(0.3) == "<1s"
    assert fmt.age(42) == "42s"
    assert fmt.age(600) == "10m"
    assert fmt.rate(812) == "812/s"
    assert fmt.rate(4812) == "4.8k/s"


def test_board_layout_gives_the_name_what_is_left_then_adds_columns() -> None:
    assert layout(78).name > 20 and layout(78).weight
    assert layout(50).name == 0 or layout(50).name >= 8
    assert layout(100).sector and not layout(100).range
    wide = layout(160)
    assert wide.range and wide.ticks and wide.change and wide.sector == 24


def test_alert_descriptions_carry_the_direction_in_text() -> None:
    up = AlertEvent(0, "^RUT", 2450.0, "support", "up", 2452.0, "cross")
    down = AlertEvent(0, "^RUT", 2450.0, "support", "down", 2448.0, "cross")
    assert describe(up)[0].startswith("▲") and describe(down)[0].startswith("▼")


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Chart(unit="bp")


async def test_chart_draws_a_zero_line_between_positive_and_negative() -> None:
    app = ChartApp()
    async with app.run_test(size=(40, 8)) as pilot:
        chart = app.query_one(Chart)
        times = np.arange(0, 60_000, 1000, dtype=np.int64)
        values = np.linspace(-20.0, 40.0, len(times))
        chart.update(times, values)
        await pilot.pause()
        lines = [chart.render_line(y).text for y in range(chart.size.height)]
        assert lines[0].lstrip().startswith("+40bp")
        assert lines[-2].lstrip().startswith("-20bp")
        zero = [line for line in lines if line.lstrip().startswith("0bp")]
        assert len(zero) == 1  # the baseline is labelled, inside the range
        # braille everywhere along the zero row (the baseline), not only where the line is
        plot = zero[0].split("0bp", 1)[1].strip()
        assert len(plot) > 30 and all(0x2800 <= ord(c) <= 0x28FF for c in plot)


async def test_chart_keeps_zero_in_range_for_a_one_sided_series() -> None:
    app = ChartApp()
    async with app.run_test(size=(40, 6)) as pilot:
        chart = app.query_one(Chart)
        times = np.arange(0, 10_000, 1000, dtype=np.int64)
        chart.update(times, np.full(len(times), 25.0))
        await pilot.pause()
        text = "\n".join(chart.render_line(y).text for y in range(chart.size.height))
        assert "0bp" in text and "+25bp" in text


async def test_chart_with_no_data_says_so() -> None:
    app = ChartApp()
    async with app.run_test(size=(40, 6)) as pilot:
        chart = app.query_one(Chart)
        chart.update(np.zeros(0, dtype=np.int64), np.zeros(0))
        await pilot.pause()
        text = "\n".join(chart.render_line(y).text for y in range(chart.size.height))
        assert "waiting for data" in text


class LadderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LevelLadder()
        yield AlertLog()


def _level(price: float, state: LevelState = LevelState.ARMED, user: bool = False) -> LevelView:
    return LevelView(price, "support", user, state, price - 2446.0, (price - 2446.0) / 2446.0)


async def test_ladder_orders_levels_highest_first_with_the_price_between() -> None:
    app = LadderApp()
    async with app.run_test(size=(60, 12)) as pilot:
        ladder = app.query_one(LevelLadder)
        levels = [_level(2300), _level(2450, LevelState.APPROACHING), _level(3000)]
        ladder.set_levels(levels, 2446.0)
        await pilot.pause()
        order = [r.level.price if r.level else "price" for r in ladder.rows]
        assert order == [3000, 2450, "price", 2300]
        text = [ladder.render_line(y).text for y in range(5)]
        assert text[0].split() == ["Level", "On", "Label", "To", "go", "%", "State"]
        assert "approaching" in text[2] and "+4.00" in text[2]
        assert text[3].startswith("▶2,446.00 ^RUT")


async def test_ladder_refreshes_only_changed_lines() -> None:
    app = LadderApp()
    async with app.run_test(size=(60, 12)) as pilot:
        ladder = app.query_one(LevelLadder)
        levels = [_level(2300), _level(2450), _level(3000)]
        ladder.set_levels(levels, 2446.0)
        await pilot.pause()
        for y in range(5):
            ladder.render_line(y)
        cached = dict(ladder._cache)
        ladder.set_levels(levels, 2446.0)  # same frame again: nothing to redraw
        assert ladder._cache == cached


class PriceChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Chart(decimals=2, signed=False, include_baseline=False, baseline_label="prev")


async def test_price_chart_scales_to_the_data_when_the_baseline_is_far() -> None:
    app = PriceChartApp()
    async with app.run_test(size=(40, 8)) as pilot:
        chart = app.query_one(Chart)
        times = np.arange(0, 60_000, 1000, dtype=np.int64)
        chart.update(times, np.linspace(29.0, 29.3, len(times)), baseline=28.4)
        await pilot.pause()
        text = "\n".join(chart.render_line(y).text for y in range(chart.size.height))
        assert "29.30" in text and "29.00" in text
        assert "prev" not in text  # far below the range: not drawn


class AlertApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AlertLog()


T_ALERT = 1_763_740_801_000  # 2025-11-21 16:00:01 UTC
CROSS = AlertEvent(T_ALERT, "^RUT", 2450.0, "support", "up", 2461.0, "cross", True)
BUST = AlertEvent(
    T_ALERT + 1000, "^RUT", 2450.0, "support", "up", 2447.0, "busted", True, original_ts=T_ALERT
)


async def test_alert_log_marks_a_crossing_busted_when_its_trade_is_cancelled() -> None:
    from tests.frames import make_frame

    app = AlertApp()
    async with app.run_test(size=(100, 8)) as pilot:
        log = app.query_one(AlertLog)
        log.show(make_frame(as_of=T_ALERT, alerts=[CROSS], session_date="2025-11-21"))
        await pilot.pause()
        assert "busted" not in log.render_line(0).text
        frame = make_frame(
            as_of=T_ALERT,
            alerts=[BUST, CROSS],
            session_date="2025-11-21",
            busted_alerts=frozenset({CROSS}),
        )
        log.show(frame)
        await pilot.pause()
        newest, original = (log.render_line(y).text for y in range(2))
        assert "✖ busted ▲" in newest and "2,447.00 est." in newest
        assert "▲ up, busted" in original and "2,461.00 est." in original


def test_a_busted_line_takes_back_only_the_alert_it_names() -> None:
    """The log reads back newest first: the "busted" line names its crossing by time, so an
    earlier crossing of the same level stands."""
    from feeds.pipeline import Pipeline
    from feeds.sources.sim import SimFeed

    pipeline = Pipeline(SimFeed("sim"))
    other = AlertEvent(T_ALERT - 60_000, "^RUT", 2450.0, "support", "up", 2460.0, "cross")
    pipeline.alerts.extend([BUST, CROSS, other])
    frame = pipeline.frame()
    assert frame.alerts == (BUST, CROSS, other)
    assert frame.busted_alerts == frozenset({CROSS})


# --- the alert panel tells the truth (issue 8 §7) ---------------------------------------------

T0 = 1_762_353_000_000  # 2025-11-05 09:30 ET


def _alert(minute: int, feed: str = "sim", direction: str = "up") -> AlertEvent:
    return AlertEvent(
        T0 + minute * 60_000, "^RUT", 2450.0, "support", direction, 2452.0, "cross", feed=feed
    )


class AlertPanelApp(App[None]):
    """The panel alone, under the 16-colour theme the app picks for standard-colour terminals
    when ``theme`` says so."""

    def __init__(self, theme: str = "") -> None:
        super().__init__()
        self.wanted_theme = theme

    def compose(self) -> ComposeResult:
        yield AlertLog()

    def on_mount(self) -> None:
        if self.wanted_theme:
            self.theme = self.wanted_theme


def _panel_frame(
    alerts: list[AlertEvent], run: list[AlertEvent], *, now: int = T0 + 3_600_000, session: str = ""
) -> Frame:
    from tests.frames import make_frame

    return make_frame(as_of=now, alerts=alerts, run_alerts=run, session_date=session)


async def test_alert_panel_rows_follow_the_frame_in_its_order() -> None:
    """The frame's history (time order, each event once: see test_pipeline) is drawn as it
    comes; this run's alerts are timed, the log's are dated, whatever their order."""
    app = AlertPanelApp()
    async with app.run_test(size=(70, 12)) as pilot:
        log = app.query_one(AlertLog)
        this_run = [_alert(20, direction="down"), _alert(0)]
        alerts = [_alert(30), this_run[0], _alert(10), this_run[1]]
        log.show(_panel_frame(alerts, this_run))
        await pilot.pause()
        rows = [log.render_line(y).text for y in range(4)]
        assert [r[2:14].strip() for r in rows] == [
            "11-05 10:00",
            "09:50:00",
            "11-05 09:40",
            "09:30:00",
        ]
        assert [log.earlier(i) for i in range(4)] == [True, False, True, False]
        assert log.row_count == 4


async def test_earlier_alerts_are_dimmed_also_in_16_colours() -> None:
    app = AlertPanelApp(theme="ansi-dark")
    async with app.run_test(size=(70, 6)) as pilot:
        log = app.query_one(AlertLog)
        log.show(_panel_frame([_alert(10), _alert(0)], [_alert(10)]))
        await pilot.pause()
        new, old = (log.render_line(y) for y in range(2))
        assert "09:40" in new.text and "11-05 09:30" in old.text
        # all but the mark: an earlier alert may still wait for an acknowledgement (●)
        mark, *rest = old
        assert mark.text == "● " and mark.style is not None and not mark.style.dim
        assert all(seg.style is not None and seg.style.dim for seg in rest if seg.text.strip())
        assert not any(seg.style is not None and seg.style.dim for seg in new)


async def test_this_runs_alerts_from_before_the_session_are_dated_once_it_rolls_over() -> None:
    """The app left running overnight: yesterday's crossings are earlier news the next day."""
    app = AlertPanelApp()
    async with app.run_test(size=(70, 6)) as pilot:
        log = app.query_one(AlertLog)
        fired = [_alert(10), _alert(0)]
        log.show(_panel_frame(fired, fired, session="2025-11-05"))
        await pilot.pause()
        assert log.render_line(0).text.startswith("● 09:40:00") and not log.earlier(0)
        log.show(_panel_frame(fired, fired, now=T0 + 86_400_000, session="2025-11-06"))
        await pilot.pause()
        assert log.render_line(0).text.startswith("● 11-05 09:40") and log.earlier(0)
        assert all(
            seg.style is not None and seg.style.dim
            for seg in list(log.render_line(0))[1:]
            if seg.text.strip()
        )


@pytest.mark.parametrize("width", [30, 44, 60, 80])
async def test_a_level_a_fraction_of_a_point_away_never_reads_as_zero(width: int) -> None:
    # issue 20: 0.31 points from 2,450 read "0   0.0%" at 60 columns and "+0.5   0.0%" at 80
    app = LadderApp()
    async with app.run_test(size=(width, 12)) as pilot:
        ladder = app.query_one(LevelLadder)
        ladder.set_levels(
            [LevelView(2450.0, "support", False, LevelState.APPROACHING, 0.31, 0.31 / 2449.69)],
            2449.69,
        )
        await pilot.pause()
        row = ladder.render_line(1).text
        assert "+0.3" in row and "+0.01%" in row, row
        assert " 0 " not in row and "0.0%" not in row


def test_distances_keep_a_significant_digit() -> None:
    assert fmt.distance(0.31, 0) == "+0.3"
    assert fmt.distance(-0.004, 1) == "-0.004"
    assert fmt.distance(0.0, 1) == "0.0"
    assert fmt.distance_pct(0.0000127, 1) == "<0.01%"
    assert fmt.distance_pct(0.000127, 1) == "+0.01%"
    assert fmt.distance_pct(-0.061, 1) == "-6.1%"
    assert fmt.share(-0.0022) == "0.22%" and fmt.share(0.00004) == "0.004%"


def test_the_big_spread_figure_is_solid_blocks_three_rows_tall() -> None:
    from tui.widgets.figure import big, big_width

    rows = big("+37").split("\n")
    assert len(rows) == 3 and len({len(r) for r in rows}) == 1 == len({big_width("+37")} & {11})
    assert set("".join(rows)) <= set("█▀▄ ")  # no thin box lines (╶─╮) to decode
    assert big("-5") != big("+5") and big("-") == big("x")  # a sign of its own; unknown a dash


def test_a_card_waiting_for_its_relay_says_so_not_that_closes_are_missing() -> None:
    from dataclasses import replace as _replace

    from feeds.events import FeedState, FeedStatus
    from tests.frames import make_frame
    from tui.widgets.spread_card import streak_text, waiting_for

    waiting = make_frame(
        status=FeedStatus(FeedState.CONNECTING, "waiting for the relay on nats://h:4222"),
        feed_label="relay h:4222",
    )
    waiting = _replace(waiting, total_ticks=0, streak=(0, ""))
    assert waiting_for(waiting) == "the relay"
    assert streak_text((0, ""), width=40, waiting="the relay") == "waiting for the relay"
    assert streak_text((0, ""), width=40) == "no streak data (needs daily closes)"
    assert waiting_for(_replace(waiting, total_ticks=5)) == ""


class StepChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Chart(decimals=2, signed=False, include_baseline=True, steps=True)


async def test_a_last_sale_chart_draws_steps_and_holds_the_last_price_until_now() -> None:
    # issue 20 §3: one dot for the first minute, then slopes between prints no trade was made on
    app = StepChartApp()
    async with app.run_test(size=(40, 9)) as pilot:
        chart = app.query_one(Chart)
        chart.update(np.array([0], dtype=np.int64), np.array([10.0]), baseline=9.0, until=60_000)
        await pilot.pause()
        rows = [chart.render_line(y).text for y in range(chart.size.height - 1)]
        top = rows[0].split(" ", 1)[1] if " " in rows[0] else rows[0]
        assert sum(ch != " " for ch in top) >= 20, rows  # a flat line across, not one dot
        chart.update(np.array([0, 30_000], dtype=np.int64), np.array([10.0, 11.0]), baseline=9.0)
        await pilot.pause()
        rows = [chart.render_line(y).text for y in range(chart.size.height - 1)]
        flat = next(k for k, r in enumerate(rows) if "⠉⠉⠉⠉" in r or "⣀⣀⣀⣀" in r)
        # between 11.00 and the flat 10.00: only the jump, in the last column (no slope)
        for r in rows[1:flat]:
            assert r.rstrip()[:-1].strip() == "", rows


class LeaderboardApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Leaderboard()


async def test_board_title_figures_wait_a_few_seconds_other_changes_show_at_once() -> None:
    """At the open the names-priced count moves at every redraw, and each new title repaints
    the whole panel: figures-only changes wait TITLE_HOLD_S."""
    app = LeaderboardApp()
    async with app.run_test(size=(100, 20)):
        board = app.query_one(Leaderboard)
        shown = lambda: str(board.border_title)  # noqa: E731

        board.set_title("Leaders · 1,953 names · no prices yet", 100.0)
        board.set_title("Leaders · 495 names · 48.5% of the index", 100.5)
        assert shown() == "Leaders · 495 names · 48.5% of the index"  # new words: at once
        board.set_title("Leaders · 808 names · 68.5% of the index", 101.0)
        assert shown() == "Leaders · 495 names · 48.5% of the index"  # figures only: waits
        board.set_title("Leaders · 982 names · 78.2% of the index", 100.5 + TITLE_HOLD_S)
        assert shown() == "Leaders · 982 names · 78.2% of the index"
        board.set_title("Leaders · 990 names · 78.3% of the index · bundled 2025-11-05", 106.0)
        assert shown().endswith("bundled 2025-11-05")
