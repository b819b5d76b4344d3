"""Widgets and formatting in isolation."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from feeds.frame import LevelView
from feeds.levelinput import parse_level
from feeds.levels import AlertEvent, LevelState
from tui import fmt
from tui.widgets.alert_log import AlertLog, describe
from tui.widgets.board import layout
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
    ],
)
def test_parse_level(text: str, expected: tuple[float, str]) -> None:
    assert parse_level(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a level"),
        ("abc", "not a number"),
        ("-5", "positive"),
        ("1e9", "far from"),
        ("0.5", "far from"),  # a fraction, not index points
        ("inf", "positive"),
        ("nan", "positive"),
    ],
)
def test_parse_level_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_level(text)


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


def test_board_layout_gives_the_name_what_is_left() -> None:
    assert layout(78).name > 20 and layout(78).weight
    assert layout(50).name == 0 or layout(50).name >= 8
    assert layout(130).sector


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
        text = [ladder.render_line(y).text for y in range(4)]
        assert "approaching" in text[1] and "+4.00" in text[1]
        assert text[2].startswith("▶2,446.00 ^RUT")


async def test_ladder_refreshes_only_changed_lines() -> None:
    app = LadderApp()
    async with app.run_test(size=(60, 12)) as pilot:
        ladder = app.query_one(LevelLadder)
        levels = [_level(2300), _level(2450), _level(3000)]
        ladder.set_levels(levels, 2446.0)
        await pilot.pause()
        for y in range(4):
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
    app = AlertApp()
    async with app.run_test(size=(100, 8)) as pilot:
        log = app.query_one(AlertLog)
        log.set_today(T_ALERT)
        log.add([CROSS])
        await pilot.pause()
        assert "busted" not in log.render_line(0).text
        log.add([BUST])
        await pilot.pause()
        newest, original = (log.render_line(y).text for y in range(2))
        assert "✖ busted ▲" in newest and "2,447.00 est." in newest
        assert "▲ up, busted" in original and "2,461.00 est." in original
        assert [e.busted for e in log.entries] == [False, True]


async def test_alert_log_seeded_from_the_durable_log_pairs_the_busted_line() -> None:
    app = AlertApp()
    async with app.run_test(size=(100, 8)) as pilot:
        log = app.query_one(AlertLog)
        other = AlertEvent(T_ALERT - 60_000, "^RUT", 2450.0, "support", "up", 2460.0, "cross")
        log.seed([BUST, CROSS, other])  # newest first, as the log reads back
        await pilot.pause()
        assert [e.busted for e in log.entries] == [False, True, False]  # only the one it names
        assert "▲ up, busted" in log.render_line(1).text


# --- the alert panel tells the truth (issue 8 §7) ---------------------------------------------

T0 = 1_762_353_000_000  # 2025-11-05 09:30 ET


def _alert(minute: int, feed: str = "sim", direction: str = "up") -> AlertEvent:
    return AlertEvent(
        T0 + minute * 60_000, "^RUT", 2450.0, "support", direction, 2452.0, "cross", feed=feed
    )


async def test_alert_panel_is_in_time_order_newest_first_without_duplicates() -> None:
    app = LadderApp()
    async with app.run_test(size=(70, 12)) as pilot:
        log = app.query_one(AlertLog)
        log.set_today(T0 + 3_600_000)
        log.seed([_alert(30), _alert(0), _alert(10)])  # an earlier run, any order
        log.add([_alert(20, direction="down")])  # this run
        log.add([_alert(0)])  # a seed-0 sim run again fires the same event: still one row
        log.add([_alert(20, direction="down")])
        await pilot.pause()
        got = [(e.alert.ts - T0) // 60_000 for e in log.entries]
        assert got == [30, 20, 10, 0]
        assert [e.earlier for e in log.entries] == [True, False, True, False]
        assert log.row_count == 4


class _RawAlertApp(App[None]):
    """The panel under the 16-colour theme the app picks for standard-colour terminals."""

    def compose(self) -> ComposeResult:
        yield AlertLog()

    def on_mount(self) -> None:
        self.theme = "ansi-dark"


async def test_earlier_alerts_are_dimmed_also_in_16_colours() -> None:
    app = _RawAlertApp()
    async with app.run_test(size=(70, 6)) as pilot:
        log = app.query_one(AlertLog)
        log.set_today(T0 + 3_600_000)
        log.seed([_alert(0)])
        log.add([_alert(10)])
        await pilot.pause()
        new, old = (log.render_line(y) for y in range(2))
        assert "09:40" in new.text and "11-05 09:30" in old.text
        assert all(seg.style is not None and seg.style.dim for seg in old if seg.text.strip())
        assert not any(seg.style is not None and seg.style.dim for seg in new)
