"""The feed's health on its own (issue 17): statuses, tick counts and two clocks; no feed."""

from __future__ import annotations

from feeds.events import FeedState, FeedStatus
from feeds.health import STATUS_MEMORY, FeedHealth

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC


class Wall:
    """A monotonic clock the test moves (seconds)."""

    def __init__(self) -> None:
        self.s = 100.0

    def __call__(self) -> float:
        return self.s


def test_the_opening_status_takes_the_feeds_first_time_and_counters_do_not_grow_the_history() -> (
    None
):
    seen: list[FeedStatus] = []
    health = FeedHealth("sim", lambda: T0 + 3_600_000, [seen.append])
    assert health.status.state is FeedState.CONNECTING and health.status.detail == "opening sim"
    health.set_status(FeedStatus(FeedState.LIVE, "simulated market", T0))
    health.set_status(FeedStatus(FeedState.LIVE, "simulated market", T0 + 5, malformed=2))
    opening, live = health.status_history()
    assert opening.ts == T0 and live.detail == "simulated market"  # one clock: the feed's
    assert health.status.malformed == 2 and health.ever_live
    assert [s.malformed for s in seen] == [0, 2]  # every status reaches the sinks


def test_a_status_without_a_time_is_stamped_with_the_feeds_clock() -> None:
    health = FeedHealth("replay", lambda: T0)
    health.set_status(FeedStatus(FeedState.STALE, "no ticks for 20s"))
    assert health.status_history()[-1].ts == T0


def test_a_feed_that_cannot_tell_its_time_is_stamped_by_the_wall_clock() -> None:
    def broken() -> int:
        raise RuntimeError("no session yet")

    health = FeedHealth("sim", broken)
    assert health.status.ts > T0  # today, not 0


def test_the_history_keeps_the_latest_changes() -> None:
    health = FeedHealth("x", lambda: T0)
    for k in range(STATUS_MEMORY + 10):
        health.set_status(FeedStatus(FeedState.RECONNECTING, f"attempt {k}", T0 + k))
    history = health.status_history()
    assert len(history) == STATUS_MEMORY and history[-1].detail == f"attempt {STATUS_MEMORY + 9}"


def test_the_error_to_exit_with() -> None:
    refused = FeedHealth("yahoo", lambda: T0)
    refused.set_status(FeedStatus(FeedState.ERROR, "key refused: check ALPACA_KEY"))
    assert refused.feed_error(100) == "key refused: check ALPACA_KEY"
    never = FeedHealth("yahoo", lambda: T0)
    never.set_status(FeedStatus(FeedState.RECONNECTING, "connection refused"))
    never.set_status(FeedStatus(FeedState.ENDED, "the feed ended"))
    assert never.feed_error(0) == "never connected: connection refused"
    assert never.feed_error(5) is None  # ticks came without a LIVE: it worked
    garbled = FeedHealth("polygon", lambda: T0)
    garbled.set_status(FeedStatus(FeedState.RECONNECTING, "bad frames", malformed=7))
    assert garbled.feed_error(0) == "no readable data (7 malformed frames skipped): bad frames"
    quiet = FeedHealth("yahoo", lambda: T0)
    quiet.set_status(FeedStatus(FeedState.LIVE, "streaming"))
    # issue 19 §3: live (Yahoo counts itself live once subscribed, before its warm-up produced
    # anything) and not one tick in the whole run: a failed run, whatever the last state
    assert (
        quiet.feed_error(0) == "no data this run: connected, but not one tick arrived (streaming)"
    )
    assert quiet.feed_error(1) is None
    # issue 19 §3: it connected, then lost every connection before one tick came
    quiet.set_status(FeedStatus(FeedState.RECONNECTING, "dropped (1008)"))
    assert quiet.feed_error(0) == "no data this run: dropped (1008)"
    assert quiet.feed_error(3) is None  # data came, then the connection went: not a failure
    # the reason never carries the provider's progress notes (they stay in the history)
    noted = FeedHealth("yahoo", lambda: T0)
    note = "symbol list: NASDAQ Trader's US listing unavailable (gave up after 3 tries)"
    noted.set_status(
        FeedStatus(FeedState.RECONNECTING, f"cannot connect: refused; {note}", note=note)
    )
    assert noted.feed_error(0) == "never connected: cannot connect: refused"
    assert noted.status_history()[-1].detail.endswith(note)


def test_the_tick_rate_is_smoothed_and_the_age_counts_from_the_frame_that_saw_ticks() -> None:
    wall = Wall()
    health = FeedHealth("sim", lambda: T0, monotonic=wall)
    assert health.tick_age(0) is None
    wall.s += 0.1
    assert health.tick_rate(100) == 0.0  # under 0.25 s: not measured yet
    wall.s += 0.9
    assert health.tick_rate(1000) == 1000.0  # 1000 ticks in 1 s
    wall.s += 1.0
    assert health.tick_rate(1500) == 500.0  # a full second: the new figure
    wall.s += 0.5
    assert health.tick_rate(2000) == 750.0  # half way from 500 to 1000 a second
    assert health.tick_age(2000) == 0.0
    wall.s += 2.0
    assert health.tick_age(2000) == 2.0
