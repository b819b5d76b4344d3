"""The controller without a terminal: the view, the anchor keys, the cadence, alert notices."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from feeds.alerting.levelinput import LevelInput
from feeds.alerting.levels import AlertEvent
from feeds.events import FeedState, FeedStatus, Tick
from feeds.pipeline import Pipeline
from feeds.settings.config import Settings
from tests.tui_fakes import NOW_MS, FakeFeed, holdings, load, make_pipeline
from tui.controller import IDLE_FRAME_S, TOAST_GAP_S, AlertNotices, Controller


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Said:
    """Stands in for App.notify and App.bell."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, dict[str, Any]]] = []
        self.bells = 0

    def notify(self, message: str, **kw: Any) -> None:
        self.notes.append((message, kw))

    def bell(self) -> None:
        self.bells += 1


def controller(pipeline: Pipeline | None = None, **settings: Any) -> tuple[Controller, Said, Clock]:
    said, clock = Said(), Clock()
    pipeline = pipeline or load(make_pipeline())
    c = Controller(pipeline, Settings(**settings), notify=said.notify, bell=said.bell, clock=clock)
    return c, said, clock


def test_y_goes_back_to_the_day_anchor_it_came_from() -> None:
    c, _, _ = controller()
    assert c.cycle_anchor() == "open"
    assert [c.toggle_ytd(), c.toggle_ytd(), c.toggle_ytd()] == ["ytd", "open", "ytd"]
    assert c.cycle_anchor() == "prev"  # YTD is the last of the cycle
    assert c.toggle_ytd() == "ytd" and c.toggle_ytd() == "prev"
    with pytest.raises(ValueError):
        c.set_anchor("noon")


def test_sort_cycles_and_symbols_read_a_to_z() -> None:
    c, _, _ = controller()
    seen = []
    for _ in range(4):
        c.cycle_sort()
        seen.append((c.view.sort, c.view.descending))
    assert seen == [("return", True), ("weight", True), ("symbol", False), ("contribution", True)]
    c.reverse_sort()
    assert not c.view.descending
    with pytest.raises(ValueError, match="unknown sort"):
        c.set_sort("volume", True)


def test_the_filter_is_cleaned_like_feed_text() -> None:
    c, _, _ = controller()
    assert c.set_filter("  io\x1b[2Jnq ")
    assert c.view.filter == "io [2Jnq"
    assert not c.set_filter("io [2Jnq")  # unchanged: no new frame needed


def test_frames_come_when_something_changed_and_charts_once_a_second() -> None:
    c, _, clock = controller()
    first = c.build(c.view)
    assert first.charts is not None  # the first frame draws them
    assert c.due() == ""
    c.pipeline.handle(Tick("BE", 110.0, NOW_MS + 1000))
    assert c.due() == "frame"
    clock.t += 0.25
    assert c.build(c.view).charts is None  # a quarter second later: no redraw
    clock.t += 1.0
    assert c.due() == "status"  # idle: only the clock moves
    idle = c.idle()
    assert idle is not None and idle.ticks_per_s == 0.0 and idle.charts is None
    clock.t += IDLE_FRAME_S
    assert c.due() == "frame"


def test_a_paused_view_never_draws_charts() -> None:
    c, _, clock = controller()
    c.toggle_pause()
    clock.t += 5
    frame = c.build(c.view)
    assert frame.view.paused and frame.charts is None


def test_crossings_toast_and_ring_once_per_level_every_few_seconds() -> None:
    said = Said()
    clock = Clock()
    notices = AlertNotices(said.notify, said.bell, clock=clock)
    pipeline = load(make_pipeline())
    for i, price in enumerate((2460.0, 2440.0, 2460.0)):
        pipeline.handle(Tick("^RUT", price, NOW_MS + 1000 * (i + 1)))
    notices.on_frame(pipeline.frame())
    assert said.bells == 1
    assert [m for m, _ in said.notes] == ["▲ crossed up ^RUT 2,450 support at 2,460.00"]
    clock.t += TOAST_GAP_S
    pipeline.handle(Tick("^RUT", 2440.0, NOW_MS + 9000))
    notices.on_frame(pipeline.frame())
    assert said.bells == 2 and said.notes[-1][0].startswith("▼ crossed down")


def test_approaches_are_listed_not_toasted() -> None:
    said = Said()
    notices = AlertNotices(said.notify, said.bell, clock=Clock())
    pipeline = make_pipeline()
    load(pipeline)  # opens 4 points under 2,450: an approach notice
    frame = pipeline.frame()
    assert [a.kind for a in frame.new_alerts] == ["approach"]
    notices.on_frame(frame)
    assert said.notes == [] and said.bells == 0


class Failing:
    def __call__(self, alert: AlertEvent) -> None:
        pass

    def problem(self) -> str:
        return "webhook: 0 sent, 1 failed (last: HTTP 500)"


def test_a_failing_sink_is_said_once() -> None:
    pipeline = load(make_pipeline())
    pipeline.desk.sinks.append(Failing())
    c, said, _ = controller(pipeline)
    c.build(c.view)
    c.build(c.view)
    assert [kw["title"] for _, kw in said.notes] == ["Not written or delivered"]


def test_levels_added_and_removed_are_said() -> None:
    c, said, _ = controller()
    assert c.add_level(LevelInput(2475.0, "breakout"))
    assert not c.add_level(LevelInput(2475.0, "again"))
    assert c.remove_level(2475.0)
    assert not c.remove_level(2475.0)
    assert [m for m, _ in said.notes] == [
        "Level 2,475 added: breakout",
        "Level 2,475 is already on the ladder",
        "Level 2,475 removed · u undoes",
    ]


def test_a_feed_that_fails_becomes_an_error_status() -> None:
    feed = FakeFeed([])
    feed.fail = ConnectionError("reset by peer")
    c, _, _ = controller(Pipeline(feed, holdings()))
    asyncio.run(c.consume())
    status = c.pipeline.status
    assert status.state is FeedState.ERROR and status.detail == "ConnectionError: reset by peer"


def test_the_pipelines_notes_are_said_once_at_start_as_plain_warnings() -> None:
    pipeline = load(make_pipeline())
    pipeline.notes.extend(
        [
            "holdings file h.csv: 4 names, 0.5% of the index; contributions cover only these",
            "alert log 'a.jsonl': removed a cut last line (12 bytes left by an interrupted "
            "write)\x1b[2J; every whole entry is kept",
        ]
    )
    c, said, _ = controller(pipeline)
    c.say_notes()
    assert [kw["severity"] for _, kw in said.notes] == ["warning", "warning"]
    assert all(kw["markup"] is False for _, kw in said.notes)
    assert said.notes[0][0].startswith("holdings file h.csv: 4 names")
    assert "\x1b" not in said.notes[1][0]  # cleaned like any other text from outside


def test_the_feeds_exception_is_its_status_with_keys_masked() -> None:
    from feeds import secrets

    class Boom(FakeFeed):
        async def _gen(self):  # type: ignore[no-untyped-def, override]
            raise RuntimeError("HTTP 401 for key PKQ7ZX4W9M2VR8TL3NJC")
            yield

    secrets.remember("PKQ7ZX4W9M2VR8TL3NJC")
    pipeline = Pipeline(Boom(), holdings())
    c, _, _ = controller(pipeline)
    asyncio.run(c.consume())
    assert pipeline.status.state is FeedState.ERROR
    assert pipeline.status.detail.startswith("RuntimeError: HTTP 401 for key ")
    assert "PKQ7ZX4W9M2VR8TL3NJC" not in pipeline.status.detail


def test_the_board_is_ranked_again_at_most_twice_a_second_and_keeps_every_tick_mark() -> None:
    """Between two rankings a frame carries the board last ranked for the same query (the
    headline quotes still move); a new query is ranked at once; the names that ticked in
    between are all marked when the board is drawn again."""
    c, _, clock = controller()
    pipeline = c.pipeline
    first = c.build(c.view, board=None)
    pipeline.handle(Tick("BE", 109.0, NOW_MS + 1000))
    clock.t += 0.25
    between = c.build(c.view, board=None)
    assert between.board is first.board  # not ranked again...
    assert between.quotes is not first.quotes  # ...but the frame is new
    pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 1500))
    clock.t += 0.25
    again = c.build(c.view, board=None)
    assert again.board is not first.board
    assert {"BE", "^RUT"} <= again.changed  # both names, though BE ticked a frame earlier
    assert c.build(c.view, board=True).board is not again.board  # asked for: ranked now
    c.set_sort("return", True)
    assert c.build(c.view, board=None).board.sort == "return"  # a new query: ranked at once


def test_with_the_alert_panel_on_screen_a_crossing_is_folded_into_it_not_toasted() -> None:
    said = Said()
    notices = AlertNotices(said.notify, said.bell, clock=Clock(), panel_shown=lambda: True)
    pipeline = load(make_pipeline())
    pipeline.handle(Tick("^RUT", 2460.0, NOW_MS + 1000))
    notices.on_frame(pipeline.frame())
    assert said.notes == [] and said.bells == 1  # the bell still rings


def test_an_idle_frame_carries_the_feeds_status_as_it_is_now() -> None:
    """Issue 18 §4: through an outage the feed-status screen is drawn from idle frames; they
    carry the attempts and the next retry as they happen, not the last built frame's."""
    c, _, clock = controller()
    c.build(c.view)
    health = c.pipeline.health
    for n in (1, 2, 3):
        health.set_status(
            FeedStatus(FeedState.RECONNECTING, "lost NATS; reconnecting", NOW_MS, 0, n, NOW_MS + n)
        )
        clock.t += 1
        idle = c.idle()
        assert idle is not None and idle.status.reconnects == n
        assert idle.status.retry_at == NOW_MS + n
    assert idle.status_history[-1].state is FeedState.RECONNECTING
