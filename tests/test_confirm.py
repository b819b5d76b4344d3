"""Confirmation on a bar's close (issue 10): a 1m or 5m level fires only when a bar (New York
clock, aligned to the minute) closes beyond it by more than the band; price = the close, ts =
the bar's end. Bars close on the next bar's first price or when the feed's clock passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.alertdesk import BAR_GRACE_MS
from feeds.alerting.levelinput import LevelInput, parse_level_input
from feeds.alerting.levels import LevelEngine, LevelState, Side
from feeds.events import Event, FeedState, FeedStatus, Tick
from feeds.pipeline import Pipeline
from feeds.settings.config import LevelSpec, load_settings
from feeds.timefmt import exchange_time
from tests.conftest import write_csv
from tests.test_pipeline import HOLDINGS, ListFeed
from tui.cli import main

M0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC = 09:30:00 ET, a minute (and 5-minute) mark
MIN = 60_000


def at(minute: int, second: float) -> int:
    return M0 + minute * MIN + int(second * 1000)


# minute 0: opens below 2,642, spikes to 2,650 and closes back below at 2,635;
# minute 1: closes above at 2,648; minute 2's first print closes minute 1's bar
SPIKE = [
    (at(0, 1), 2630.0),
    (at(0, 20), 2650.0),
    (at(0, 40), 2635.0),
    (at(1, 5), 2640.0),
    (at(1, 50), 2648.0),
    (at(2, 3), 2646.0),
]


def test_a_1m_level_ignores_an_intra_minute_spike_and_fires_on_the_next_close_above() -> None:
    engine = LevelEngine([], approach=None)
    engine.add(2642.0, "breakout", confirm="1m")
    fired = [(ts, a) for ts, p in SPIKE for a in engine.on_price(p, ts)]
    assert len(fired) == 1
    when, alert = fired[0]
    assert when == at(2, 3)  # found when minute 2's first print arrived
    assert (alert.direction, alert.price, alert.ts) == ("up", 2648.0, at(2, 0))
    assert alert.confirm == "1m" and alert.kind == "cross"
    assert exchange_time(alert.ts).strftime("%H:%M:%S") == "09:32:00"  # the bar's end, ET


def test_a_tick_level_fires_on_the_spike_itself() -> None:
    engine = LevelEngine([], approach=None)
    engine.add(2642.0, "breakout")  # tick
    fired = [a for ts, p in SPIKE for a in engine.on_price(p, ts)]
    assert [(a.direction, a.price, a.ts) for a in fired] == [
        ("up", 2650.0, at(0, 20)),
        ("down", 2635.0, at(0, 40)),
        ("up", 2648.0, at(1, 50)),
    ]


def test_the_replay_alert_of_a_1m_level(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(ts, "^RUT", p, 2600.0) for ts, p in SPIKE]
    replay = write_csv(tmp_path / "spike.csv", "ts,symbol,price,prev_close", rows)
    args = ["alerts", "--feed", f"replay:{replay}", "--level", "2642:1m:breakout"]
    assert main(args) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    crosses = [a for a in out if a["kind"] == "cross" and a["level"] == 2642.0]
    assert [(a["ts"], a["price"], a["confirm"]) for a in crosses] == [
        ("2025-11-05T14:32:00.000+00:00", 2648.0, "1m")
    ]


def test_a_providers_minute_bars_confirm_their_own_minute() -> None:
    # Polygon's AM bars arrive as one print per minute at 1 ms before the window's end
    engine = LevelEngine([], approach=None)
    engine.add(2642.0, "breakout", confirm="1m")
    bars = [(at(1, 0) - 1, 2635.0), (at(2, 0) - 1, 2648.0), (at(3, 0) - 1, 2650.0)]
    fired = [(ts, a) for ts, p in bars for a in engine.on_price(p, ts)]
    assert [(ts, a.price, a.ts) for ts, a in fired] == [(at(3, 0) - 1, 2648.0, at(2, 0))]
    assert [(a.price, a.ts) for a in engine.close_bars(at(3, 0))] == []  # 2,650: still above


def test_confirm_sets_the_default_for_levels_that_name_none() -> None:
    engine = LevelEngine([(2450.0, "support")], approach=None, confirm="5m")
    assert engine.levels[0].confirm == "5m"
    engine.add(2642.0, "quick", confirm="tick")
    assert [lv.confirm for lv in engine.levels] == ["5m", "tick"]


def test_a_5m_bar_is_aligned_to_the_new_york_five_minutes() -> None:
    engine = LevelEngine([], approach=None)
    engine.add(2450.0, "support", confirm="5m")
    path = [(at(2, 0), 2440.0), (at(3, 0), 2460.0), (at(4, 59), 2455.0), (at(5, 0), 2456.0)]
    fired = [a for ts, p in path for a in engine.on_price(p, ts)]
    # the bar 09:30-09:35 closes at 2,455 (the first print at 09:35 belongs to the next)
    assert [(a.price, exchange_time(a.ts).strftime("%H:%M")) for a in fired] == [(2455.0, "09:35")]


def test_a_close_inside_the_band_neither_fires_nor_re_arms() -> None:
    engine = LevelEngine([], approach=None)  # band at 2,642: 1.321 points
    lv = engine.add(2642.0, "breakout", confirm="1m")
    path = [(at(0, 1), 2630.0), (at(0, 50), 2643.0), (at(1, 1), 2650.0), (at(2, 1), 2650.0)]
    fired = [a for ts, p in path for a in engine.on_price(p, ts)]
    assert [(a.price, a.ts) for a in fired] == [(2650.0, at(2, 0))]  # 2,643 is inside the band
    assert lv.side is Side.ABOVE and lv.state is LevelState.CROSSED_UP
    later = [(at(2, 30), 2641.0), (at(3, 1), 2640.0)]  # closes at 2,641: inside, stays above
    assert [a for ts, p in later for a in engine.on_price(p, ts)] == []
    assert lv.side is Side.ABOVE


def test_a_late_print_of_a_closed_bar_is_left_out() -> None:
    engine = LevelEngine([], approach=None)
    engine.add(2642.0, "breakout", confirm="1m")
    engine.on_price(2630.0, at(0, 1))
    assert engine.close_bars(at(1, 0)) == []  # the clock closed minute 0 at 2,630
    assert engine.on_price(2660.0, at(0, 59)) == []  # stamped in minute 0: too late for its bar
    assert engine.close_bars(at(3, 0)) == []  # and it opened no bar of its own


def test_awaiting_close_says_the_price_is_past_a_level_whose_bar_is_open() -> None:
    engine = LevelEngine([], approach=None)
    lv = engine.add(2642.0, "breakout", confirm="1m")
    engine.on_price(2630.0, at(0, 1))
    assert not engine.awaiting_close(lv)
    engine.on_price(2650.0, at(0, 20))
    assert engine.awaiting_close(lv) and lv.state is LevelState.ARMED


def pipeline(events: list[Event], delay: int = 0) -> Pipeline:
    """A pipeline fed ``events``, each arriving ``delay`` ms after its time (the feed's clock)."""

    class Clock(ListFeed):
        def now_ms(self) -> int:
            return self.clock

    feed = Clock(events)
    engine = LevelEngine([], approach=None)
    engine.add(2642.0, "breakout", confirm="1m")
    p = Pipeline(feed, HOLDINGS, levels=engine)
    for ev in events:
        feed.clock = getattr(ev, "ts", M0) + delay  # type: ignore[attr-defined]
        p.handle(ev)
    return p


def test_the_frame_loop_closes_a_bar_when_no_later_print_comes() -> None:
    events: list[Event] = [
        FeedStatus(FeedState.LIVE, "test"),
        Tick("^RUT", 2630.0, at(0, 1), prev_close=2600.0),
        Tick("^RUT", 2648.0, at(0, 30)),
    ]
    p = pipeline(events)
    assert p.frame().new_alerts == []
    p.feed.clock = at(1, 0) + BAR_GRACE_MS - 1  # type: ignore[attr-defined]
    assert p.frame().new_alerts == []  # a print stamped 09:30:59.9 may still be on its way
    p.feed.clock = at(1, 0) + BAR_GRACE_MS  # type: ignore[attr-defined]
    frame = p.frame()
    assert [(a.price, a.ts, a.confirm) for a in frame.new_alerts] == [(2648.0, at(1, 0), "1m")]
    assert frame.levels[0].confirm == "1m" and frame.levels[0].state is LevelState.CROSSED_UP


def test_a_delayed_feed_closes_bars_by_its_data_time() -> None:
    delay = 15 * MIN  # a 15-minute delayed feed: prints trail the wall clock
    events: list[Event] = [
        Tick("^RUT", 2630.0, at(0, 1), prev_close=2600.0),
        Tick("^RUT", 2648.0, at(0, 30)),
    ]
    p = pipeline(events, delay)
    p.desk.on_clock(at(1, 5))  # the wall clock just passed the bar's end: its data has not
    assert list(p.alerts) == []
    p.desk.on_clock(at(1, 0) + delay + BAR_GRACE_MS)
    assert [a.price for a in p.alerts] == [2648.0]


def test_the_ladder_view_shows_confirm_and_awaiting_close() -> None:
    events: list[Event] = [
        Tick("^RUT", 2630.0, at(0, 1), prev_close=2600.0),
        Tick("^RUT", 2650.0, at(0, 20)),
    ]
    view = pipeline(events).desk.level_views()[0]
    assert (view.confirm, view.awaiting_close, view.muted, view.symbol) == (
        "1m",
        True,
        False,
        "^RUT",
    )


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("2642 5m breakout", LevelInput(2642.0, "breakout", "5m")),
        ("2,642:1m:breakout zone", LevelInput(2642.0, "breakout zone", "1m")),
        ("2642 tick", LevelInput(2642.0, "user level", "tick")),
        ("2642 breakout", LevelInput(2642.0, "breakout", None)),
        ("2642 2nd test", LevelInput(2642.0, "2nd test", None)),
    ],
)
def test_the_add_level_text_takes_a_confirmation_after_the_price(
    text: str, level: LevelInput
) -> None:
    assert parse_level_input(text) == level


@pytest.mark.parametrize("text", ["2642 10m breakout", "2642 1h", "2642:15min"])
def test_a_bar_length_r2k_does_not_confirm_on_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a confirmation: use tick, 1m, 5m"):
        parse_level_input(text)


def test_confirm_in_the_config_file_and_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'confirm = "5m"\n'
        '[[levels.user]]\nprice = 2642\nlabel = "breakout"\nconfirm = "1m"\n'
        "[[levels.user]]\nprice = 2700\n"
    )
    s = load_settings(config)
    assert s.confirm == "5m" and s.sources["confirm"] == "file"
    # a row at a technical level's price sets its label and confirmation; it stays technical
    assert LevelSpec(2642.0, "breakout", False, "1m") in s.levels
    assert LevelSpec(2700.0, "user level", True, None) in s.levels
    assert load_settings(config, overrides={"confirm": "tick"}).confirm == "tick"
