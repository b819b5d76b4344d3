"""A real nats-server per test (127.0.0.1, a random port, JetStream in tmp_path), and helpers."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feeds.desk.natsd import NatsServer
from feeds.desk.publisher import Relay
from feeds.events import FeedStatus
from feeds.feed import FeedOptions
from feeds.market.calendar import ET
from feeds.pipeline import Pipeline
from feeds.reference.holdings import Holdings, load_holdings
from feeds.sources.relay.consumer import NatsFeed
from feeds.sources.relay.link import resolve
from feeds.sources.relay.tasks import cancel_all
from feeds.sources.sim import SimFeed

OPEN = int(dt.datetime(2025, 11, 4, 9, 30, tzinfo=ET).timestamp() * 1000)  # a normal Tuesday


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


async def until(cond: Callable[[], object], within: float = 20.0, what: str = "") -> None:
    """Wait for ``cond()`` to hold (checked every 10 ms); fail with ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or cond}")
        await asyncio.sleep(0.01)


# the bundled holdings are the whole index (~2,000 names) since issue 11; these tests are
# about the relay's mechanics, sized for its 150 largest names (as the bundle used to be)
@functools.cache
def holdings() -> Holdings:
    whole = load_holdings()
    return Holdings(whole.as_of, whole.constituents[:150], whole.source, origin=whole.origin)


def sim(speed: float = 0.0, seed: int = 3, start_ms: int = OPEN) -> SimFeed:
    return SimFeed(
        options=FeedOptions(seed=seed, speed=speed, holdings=holdings()), start_ms=start_ms
    )


def make_relay(server: NatsServer, feed: SimFeed | None = None, **kw: object) -> Relay:
    link = resolve(server.url, prefix=str(kw.pop("prefix", "t")), env={}, config={})
    opts: dict[str, object] = {
        "batch_ms": 20,
        "heartbeat_s": 0.2,
        "snapshot_s": 0.2,
        "reconnect_wait": 0.1,
        "shards": 8,
    }
    opts.update(kw)
    feed = feed or sim()
    return Relay(feed, link, holdings=holdings(), **opts)  # type: ignore[arg-type]


class Terminal:
    """A headless terminal on the relay: a pipeline over a NatsFeed, with the statuses it saw."""

    def __init__(self, server: NatsServer, prefix: str = "t", env: dict[str, str] | None = None):
        self.feed = NatsFeed(f"{server.url}/{prefix}", FeedOptions(env=env or {}, config={}))
        self.feed.heartbeat_timeout = 1.0
        self.feed.reconnect_wait = 0.1
        self.feed.monitor_interval = 0.05
        self.statuses: list[FeedStatus] = []
        self.pipeline = Pipeline(self.feed, holdings(), status_sinks=[self.statuses.append])
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Terminal:
        self.task = asyncio.create_task(self.pipeline.run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            await cancel_all([self.task])

    def caught_up(self, seq: int) -> bool:
        """Batch ``seq`` (or later) applied, in step with the relay, nothing left in the queue."""
        f = self.feed
        return f.last_seq >= seq and f.synced.is_set() and f.backlog == 0

    @property
    def state(self) -> str:
        return str(self.pipeline.status.state)

    def board(self) -> dict[str, float | None]:
        st = self.pipeline.state
        return {s: st.last[i] for s, i in st.ids.items() if st.last[i] is not None}


def board_of(relay: Relay) -> dict[str, float | None]:
    st = relay.pipeline.state
    return {s: st.last[i] for s, i in st.ids.items() if st.last[i] is not None}
