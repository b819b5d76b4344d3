"""The relay terminal's status through an outage (issue 18 §4), without a server: the NATS
client's callbacks called as it calls them."""

from __future__ import annotations

import time

import pytest

from feeds.events import FeedState, FeedStatus
from feeds.feed import FeedOptions
from feeds.sources.relay.consumer import NatsFeed


def queued(feed: NatsFeed) -> list[FeedStatus]:
    out: list[FeedStatus] = []
    while not feed._queue.empty():
        batch = feed._queue.get_nowait()
        assert batch is not None
        out += [ev for ev in batch if isinstance(ev, FeedStatus)]
    return out


def relay_feed() -> NatsFeed:
    feed = NatsFeed("nats://127.0.0.1:1/t", FeedOptions(env={}, config={}))
    feed._heard = time.monotonic()  # a relay was heard, its upstream live
    feed.upstream = FeedStatus(FeedState.LIVE, "simulated market")
    feed._ever_up = True
    return feed


async def test_each_failed_attempt_reaches_the_screen_with_its_next_retry() -> None:
    feed = relay_feed()
    feed.link_up = False
    for _ in range(3):
        await feed._on_error(ConnectionRefusedError("Connection refused"))
    statuses = queued(feed)
    assert [s.reconnects for s in statuses] == [1, 2, 3]  # not "1 attempt" for the outage
    assert all(s.state is FeedState.RECONNECTING and s.retry_at for s in statuses)


async def test_after_a_reconnect_the_terminal_is_live_only_once_it_has_resynced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = relay_feed()
    feed.link_up = False

    async def no_snapshot() -> None:
        return None

    monkeypatch.setattr(feed, "_fetch_snapshot", no_snapshot)
    queued(feed)
    await feed._on_reconnected()
    states = [s.state for s in queued(feed)]
    assert states and FeedState.LIVE not in states  # resyncing: stale, not live
    assert feed.status().state is FeedState.STALE


def test_over_a_dead_relay_the_clock_stops_after_stale_after() -> None:
    feed = NatsFeed("nats://127.0.0.1:1/t", FeedOptions(env={}, config={}, stale_after=15))
    t = 1_762_353_000_000
    feed._clock = (t, time.monotonic() - 5)  # a batch 5 s ago: the clock runs on
    assert t + 4_900 <= feed.now_ms() <= t + 6_000
    feed._clock = (t, time.monotonic() - 60)  # nothing for a minute: it stops at 15 s
    assert feed.now_ms() == t + 15_000
