"""The shared StreamFeed base, driven through a toy protocol on a local websocket server.

Toy protocol: the client sends ``{"sub": [symbols]}``; the server answers ``{"ok": true}`` or a
refusal ``{"fatal": msg}`` / ``{"retry": msg}``; data frames are
``{"s": sym, "p": price, "t": ms}``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import ServerConnection

from feeds.backoff import Backoff
from feeds.events import DailyCloses, Event, FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions
from feeds.sources.providers import stream
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError, StreamFeed
from tests.sources.providers.collector import Collector, run_to_end
from tests.sources.providers.fake_ws import FakeWS
from tests.sources.providers.harness import reconnected

SECRET = "Zq8Vx3Km9Wr2"


# ---- the toy server ------------------------------------------------------------------------
@dataclass(eq=False)
class ToyConn:
    path: str
    ws: ServerConnection
    subs: list[list[str]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class ToyServer(FakeWS[ToyConn]):
    def __init__(self) -> None:
        super().__init__()
        self.reply: Callable[[ToyConn], dict[str, Any]] = lambda c: {"ok": True}

    def on(self, path: str) -> list[ToyConn]:
        return [c for c in self.conns if c.path == path]

    async def subscribed(self, path: str = "/", n: int = 1) -> ToyConn:
        return await self.nth(lambda c: c.path == path, n, lambda c: bool(c.subs))

    def connect(self, ws: ServerConnection) -> ToyConn:
        assert ws.request is not None
        return ToyConn(ws.request.path, ws)

    async def session(self, ws: ServerConnection, conn: ToyConn) -> None:
        async for raw in ws:
            msg = orjson.loads(raw)
            conn.subs.append(msg["sub"])
            await ws.send(orjson.dumps(self.reply(conn)).decode())
            await self.notify()

    async def closed(self, conn: ToyConn) -> None:
        conn.closed.set()


# ---- the toy provider ----------------------------------------------------------------------
class ToyFeed(StreamFeed):
    provider = "toy"

    def __init__(self, server: ToyServer, shards: list[list[str]] | None = None) -> None:
        super().__init__("toy", FeedOptions(symbols=["A", "B"], stale_after=60.0))
        self.server = server
        self._shards = shards or [["A", "B"]]
        self.secrets.append(SECRET)
        self.backoff_factory = lambda: Backoff(base=0.001, cap=0.01)  # type: ignore[method-assign]
        self.warm: list[Event] | BaseException = []
        self.handshake_error: BaseException | None = None
        self.urls: list[int] = []

    def shards(self) -> list[list[str]]:
        return self._shards

    def url(self, shard: int) -> str:
        self.urls.append(shard)
        return f"{self.server.ws_url}/{shard}"

    async def prepare(self) -> list[Event]:
        if isinstance(self.warm, BaseException):
            raise self.warm
        return self.warm

    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        if self.handshake_error is not None:
            exc, self.handshake_error = self.handshake_error, None
            raise exc
        await ws.send(orjson.dumps({"sub": list(symbols)}).decode())
        reply = orjson.loads(await ws.recv())
        if "fatal" in reply:
            raise FatalFeedError(reply["fatal"])
        if "retry" in reply:
            raise RetryFeedError(reply["retry"])

    def decode(self, raw: str | bytes) -> list[Event]:
        m = orjson.loads(raw)
        return [Tick(m["s"], float(m["p"]), m["t"])]


def tick(sym: str = "A", price: float = 1.0) -> str:
    return orjson.dumps({"s": sym, "p": price, "t": 1}).decode()


@pytest.fixture
async def server() -> AsyncIterator[ToyServer]:
    async with ToyServer() as s:
        yield s


class SessionSwitch:
    """Stands in for the calendar: says whether the market is in session, counts the questions."""

    def __init__(self, open_: bool) -> None:
        self.open = open_
        self.calls = 0
        self.asked = asyncio.Event()

    def __call__(self, now_ms: int) -> bool:
        self.calls += 1
        self.asked.set()
        return self.open

    async def asked_times(self, n: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self.calls < n:
                self.asked.clear()
                await self.asked.wait()


def session(monkeypatch: pytest.MonkeyPatch, open_: bool) -> SessionSwitch:
    switch = SessionSwitch(open_)
    monkeypatch.setattr(stream, "market_in_session", switch)
    return switch


# ---- Backoff -------------------------------------------------------------------------------
def test_backoff_doubles_caps_and_jitters() -> None:
    b = Backoff(base=0.5, cap=30.0, rng=random.Random(7))
    ref = random.Random(7)
    delays = [b.next_delay() for _ in range(10)]
    raws = [min(30.0, 0.5 * 2**n) for n in range(10)]
    assert delays == [r * (0.5 + 0.5 * ref.random()) for r in raws]
    assert raws[-1] == 30.0  # capped from the 7th attempt on
    assert all(r / 2 <= d <= r for d, r in zip(delays, raws, strict=True))
    assert max(delays) <= 30.0


def test_backoff_resets_after_a_stable_connection() -> None:
    b = Backoff(base=1.0, cap=30.0, stable_after=60.0, rng=random.Random(1))
    for _ in range(5):
        b.next_delay()
    b.connected_for(59.0)
    assert b.attempt == 5  # a short-lived connection keeps backing off
    b.connected_for(60.0)
    assert b.attempt == 0
    assert b.next_delay() <= 1.0


def test_backoff_jitter_spreads_clients() -> None:
    firsts = {Backoff(rng=random.Random(seed)).next_delay() for seed in range(20)}
    assert len(firsts) == 20 and all(0.25 <= d <= 0.5 for d in firsts)


# ---- reconnect, watchdog, stale ------------------------------------------------------------
async def test_reconnects_and_resubscribes_after_server_close(server: ToyServer) -> None:
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        first = await server.subscribed("/0")
        await col.status(FeedState.LIVE)
        await first.ws.send(tick("A", 1.0))
        await col.tick("A")
        mark = len(col.events)
        await first.ws.close()
        second = await server.subscribed("/0", 2)
        assert second.subs == [["A", "B"]]  # everything resubscribed
        rec = await reconnected(col, mark)
        assert rec.detail == f"127.0.0.1:{server.port} closed the connection (1000)"
        await second.ws.send(tick("B", 2.0))
        assert (await col.tick("B", after=mark)).price == 2.0
    assert feed.reconnects == 1
    states = [s.state for s in col.statuses()]
    assert states[0] is FeedState.CONNECTING


async def test_watchdog_reconnects_a_silent_connection_in_session(
    server: ToyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    session(monkeypatch, True)
    feed = ToyFeed(server)
    feed.silence_timeout = 0.05
    async with Collector(feed) as col:
        await server.subscribed("/0")
        await server.subscribed("/0", 2)  # no frame for silence_timeout -> a fresh connection
        rec = await col.status(FeedState.RECONNECTING)
        assert rec.detail.startswith(f"no data from 127.0.0.1:{server.port} for")


async def test_watchdog_leaves_a_quiet_closed_market_alone(
    server: ToyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    switch = session(monkeypatch, False)
    feed = ToyFeed(server)
    feed.silence_timeout = 0.02
    async with Collector(feed) as col:
        await server.subscribed("/0")
        await switch.asked_times(5)  # five silent periods went by
        assert len(server.conns) == 1
        assert not any(s.state is FeedState.RECONNECTING for s in col.statuses())
        await server.conns[0].ws.send(tick())
        await col.tick("A")  # the same connection still delivers


async def test_stale_while_open_and_cleared_by_the_next_tick(
    server: ToyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    session(monkeypatch, True)
    feed = ToyFeed(server)
    feed.options.stale_after = 0.05
    feed.monitor_interval = 0.01
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        await col.status(FeedState.LIVE)
        stale = await col.status(FeedState.STALE)
        assert stale.detail == "no ticks for over 0 s while the market is open"
        mark = col.events.index(stale)
        await conn.ws.send(tick())
        await col.tick("A", after=mark)
        live = await col.status(FeedState.LIVE, after=mark)
        assert col.events.index(live) > mark
        assert len(server.conns) == 1  # stale is a state, not a reconnect


async def test_never_stale_while_closed(server: ToyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    switch = session(monkeypatch, False)
    feed = ToyFeed(server)
    feed.options.stale_after = 0.01
    feed.monitor_interval = 0.01
    async with Collector(feed) as col:
        await server.subscribed("/0")
        await col.status(FeedState.LIVE)
        await switch.asked_times(5)
        assert not any(s.state is FeedState.STALE for s in col.statuses())


async def test_malformed_frames_are_counted_and_skipped(server: ToyServer) -> None:
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        for junk in ("{not json", '{"s": "A"}', "[]"):
            await conn.ws.send(junk)
        await conn.ws.send(tick("A", 5.0))
        assert (await col.tick("A")).price == 5.0
        assert feed.malformed == 3
        assert len(server.conns) == 1


# ---- errors --------------------------------------------------------------------------------
async def test_fatal_error_ends_with_a_redacted_one_line_detail(server: ToyServer) -> None:
    server.reply = lambda c: {"fatal": f"bad key {SECRET}\nsee\tdocs"}
    col = await run_to_end(ToyFeed(server))
    err = col.statuses()[-1]
    assert err.state is FeedState.ERROR
    assert err.detail == "bad key *** see docs"
    assert len(server.conns) == 1  # no retry after a fatal refusal


async def test_retry_error_backs_off_and_tries_again(server: ToyServer) -> None:
    server.reply = lambda c: {"retry": "too many"} if len(server.conns) < 3 else {"ok": True}
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        await server.subscribed("/0", 3)
        rec = await col.status(FeedState.RECONNECTING)
        assert rec.detail == "too many" and rec.retry_at >= rec.ts
        await col.status(FeedState.LIVE)
    assert feed.reconnects == 2


async def test_unexpected_handshake_error_reconnects(server: ToyServer) -> None:
    feed = ToyFeed(server)
    feed.handshake_error = KeyError("surprise")
    async with Collector(feed) as col:
        await server.subscribed("/0", 2)  # the first connection died in the handshake
        rec = await col.status(FeedState.RECONNECTING)
        assert "unexpected KeyError" in rec.detail
        await col.status(FeedState.LIVE)


async def test_fatal_prepare_is_an_error_and_other_failures_a_note(server: ToyServer) -> None:
    feed = ToyFeed(server)
    feed.warm = FatalFeedError(f"plan lacks history ({SECRET})")
    col = await run_to_end(feed)
    assert col.statuses()[-1] == FeedStatus(
        FeedState.ERROR, "plan lacks history (***)", col.statuses()[-1].ts
    )

    feed = ToyFeed(server)
    feed.warm = RuntimeError("REST down")
    async with Collector(feed) as col:
        live = await col.status(FeedState.LIVE)
        assert live.detail == "toy streaming; warm-up failed: REST down"


async def test_warm_up_events_come_before_streaming(server: ToyServer) -> None:
    feed = ToyFeed(server)
    feed.warm = [DailyCloses("A", [("2025-01-02", 1.0)])]
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        await conn.ws.send(tick("A", 1.5))
        first = await col.tick("A")
    kinds = [type(e) for e in col.events]
    assert kinds.index(DailyCloses) < col.events.index(first)


async def test_note_is_shown_with_the_status(server: ToyServer) -> None:
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        await col.status(FeedState.LIVE)
        feed.set_note(f"previous closes 1/3 {SECRET}")
        noted = await col.wait(lambda e: isinstance(e, FeedStatus) and "1/3" in e.detail)
        assert noted.detail == "toy streaming; previous closes 1/3 ***"
        # the note is named apart: a failed run's reason never carries it (issue 19 §3)
        assert noted.note == "previous closes 1/3 ***" and noted.reason() == "toy streaming"
        feed.set_note("")
        assert (await col.status(FeedState.LIVE, after=col.events.index(noted) + 1)).detail == (
            "toy streaming"
        )


# ---- several connections -------------------------------------------------------------------
async def test_status_aggregates_over_shards(server: ToyServer) -> None:
    feed = ToyFeed(server, shards=[["A"], ["B"], ["C"]])
    async with Collector(feed) as col:
        conns = [await server.subscribed(f"/{n}") for n in range(3)]
        assert [c.subs for c in conns] == [[["A"]], [["B"]], [["C"]]]
        live = await col.wait(
            lambda e: isinstance(e, FeedStatus) and e.detail == "toy streaming on 3 connections"
        )
        mark = col.events.index(live)
        await conns[1].ws.close()
        down = await col.status(FeedState.RECONNECTING, after=mark)
        assert down.detail.endswith("(2/3 connections up)")
        await server.subscribed("/1", 2)
        back = await col.status(FeedState.LIVE, after=col.events.index(down))
        assert back.detail == "toy streaming on 3 connections"
        assert len(server.on("/0")) == len(server.on("/2")) == 1


async def test_one_fatal_shard_makes_the_feed_error(server: ToyServer) -> None:
    server.reply = lambda c: {"fatal": "no entitlement"} if c.path == "/1" else {"ok": True}
    col = await run_to_end(ToyFeed(server, shards=[["A"], ["B"]]))
    assert col.statuses()[-1].state is FeedState.ERROR
    assert col.statuses()[-1].detail == "no entitlement"


async def test_empty_shards_keep_their_url_numbering(server: ToyServer) -> None:
    feed = ToyFeed(server, shards=[[], ["B"]])
    async with Collector(feed) as col:
        conn = await server.subscribed("/1")
        assert conn.subs == [["B"]]
        await col.status(FeedState.LIVE)
    assert feed.urls == [1]
    assert server.on("/0") == []


# ---- shutdown ------------------------------------------------------------------------------
async def test_aclose_cancels_everything(server: ToyServer) -> None:
    feed = ToyFeed(server, shards=[["A"], ["B"]])
    col = Collector(feed)
    async with col:
        await server.subscribed("/0")
        await server.subscribed("/1")
        await col.status(FeedState.LIVE)
        tasks = list(feed._tasks)
        async with asyncio.timeout(5):
            await feed.aclose()
        assert all(t.done() for t in tasks)
        await asyncio.wait_for(col.ended.wait(), 5)  # the consumer's iteration ended too
        await server.wait_until(lambda: all(c.closed.is_set() for c in server.conns))
        await feed.aclose()  # twice is fine


async def test_aclose_during_a_long_backoff(server: ToyServer) -> None:
    server.reply = lambda c: {"retry": "busy"}
    feed = ToyFeed(server)
    feed.backoff_factory = lambda: Backoff(base=600.0, cap=600.0)  # type: ignore[method-assign]
    async with Collector(feed) as col:
        await col.status(FeedState.RECONNECTING)
        async with asyncio.timeout(5):
            await feed.aclose()
    assert all(t.done() for t in feed._tasks) and len(server.conns) == 1


# ---- issue 8 §1-2 (statuses that say what is happening) ----------------------------
def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once (no network)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ElsewhereFeed(ToyFeed):
    """The toy feed pointed at another URL (a closed port)."""

    def __init__(self, server: ToyServer, base: str) -> None:
        super().__init__(server)
        self.base = base

    def url(self, shard: int) -> str:
        return f"{self.base}/{shard}"


async def test_a_connection_error_names_the_host_and_the_next_retry(server: ToyServer) -> None:
    port = closed_port()
    feed = ElsewhereFeed(server, f"ws://127.0.0.1:{port}")
    feed.backoff_factory = lambda: Backoff(base=600.0, cap=600.0)  # type: ignore[method-assign]
    async with Collector(feed) as col:
        connecting = await col.status(FeedState.CONNECTING, f"127.0.0.1:{port}")
        assert connecting.detail == f"connecting to 127.0.0.1:{port}"
        rec = await col.status(FeedState.RECONNECTING)
    assert rec.detail.startswith(f"cannot connect to 127.0.0.1:{port}: ")
    assert "refused" in rec.detail.lower()
    assert rec.reconnects == 1
    # the next attempt is 300-600 s away (jittered): a time, not a frozen "in N s" text
    assert rec.ts + 300_000 <= rec.retry_at <= rec.ts + 601_000


class QuietServer(ToyServer):
    """Accepts the subscription, then stops reading until ``release``: pings go unanswered."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def session(self, ws: ServerConnection, conn: ToyConn) -> None:
        raw = await ws.recv()
        conn.subs.append(orjson.loads(raw)["sub"])
        await ws.send(orjson.dumps({"ok": True}).decode())
        await self.notify()
        ws.transport.pause_reading()
        await self.release.wait()
        ws.transport.resume_reading()
        await ws.wait_closed()


class PingingFeed(ToyFeed):
    def connect_kwargs(self) -> dict[str, Any]:
        return {"ping_interval": 0.05, "ping_timeout": 0.05, "close_timeout": 0.05}


async def test_a_keepalive_timeout_is_reported_as_such() -> None:
    async with QuietServer() as quiet:
        feed = PingingFeed(quiet)
        feed.backoff_factory = lambda: Backoff(base=600.0, cap=600.0)  # type: ignore[method-assign]
        async with Collector(feed) as col:
            rec = await col.status(FeedState.RECONNECTING)
        quiet.release.set()
    assert rec.detail == (
        f"keepalive timeout: 127.0.0.1:{quiet.port} did not answer a ping within 0.05 s"
    )
    assert "close frame" not in rec.detail


class SlowWarmUp(ToyFeed):
    """A warm-up that raises a note and then waits (a REST endpoint that hangs)."""

    def __init__(self, server: ToyServer) -> None:
        super().__init__(server)
        self.release = asyncio.Event()

    async def prepare(self) -> list[Event]:
        self.set_note("previous closes 0/3")
        await self.release.wait()
        return [DailyCloses("A", [("2025-01-02", 1.0)])]


async def test_statuses_raised_while_preparing_arrive_as_they_happen(server: ToyServer) -> None:
    feed = SlowWarmUp(server)
    async with Collector(feed) as col:
        # the note and the connection's own status, while the warm-up still waits
        noted = await col.wait(lambda e: isinstance(e, FeedStatus) and "0/3" in e.detail)
        conn = await server.subscribed("/0")
        live = await col.status(FeedState.LIVE, "previous closes 0/3")
        assert noted.state is FeedState.CONNECTING and live.detail.startswith("toy streaming")
        await conn.ws.send(tick("A", 3.0))
        await server.subscribed("/0")  # a round trip to the server: the tick is on the wire
        assert not col.ticks()  # frames wait for the previous closes they are measured against
        feed.release.set()
        got = await col.tick("A")
    kinds = [type(e) for e in col.events]
    assert kinds.index(DailyCloses) < col.events.index(got)


async def test_a_warm_up_that_hangs_holds_the_stream_only_briefly(server: ToyServer) -> None:
    feed = SlowWarmUp(server)
    feed.warm_up_gate = 0.05
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        await conn.ws.send(tick("A", 4.0))
        assert (await col.tick("A")).price == 4.0  # the warm-up goes on in the background
        assert not any(type(e) is DailyCloses for e in col.events)


async def test_a_connection_error_shows_while_the_warm_up_hangs(server: ToyServer) -> None:
    port = closed_port()

    class Both(SlowWarmUp, ElsewhereFeed):
        def __init__(self) -> None:
            ElsewhereFeed.__init__(self, server, f"ws://127.0.0.1:{port}")
            self.release = asyncio.Event()

    feed = Both()
    async with Collector(feed) as col:
        rec = await col.status(FeedState.RECONNECTING, "cannot connect")
        assert f"127.0.0.1:{port}" in rec.detail and not feed.release.is_set()


async def test_garbage_only_is_not_live_and_one_good_frame_makes_it_live(
    server: ToyServer,
) -> None:
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        live = await col.status(FeedState.LIVE)
        await conn.ws.send("\x00garbage")
        bad = await col.status(FeedState.STALE, after=col.events.index(live))
        assert bad.detail == (
            f"nothing readable from 127.0.0.1:{server.port}: every frame is malformed; "
            "check that R2K_TOY_URL points at a toy server"
        )
        assert bad.malformed == 1
        await conn.ws.send(tick("A", 2.0))
        back = await col.status(FeedState.LIVE, after=col.events.index(bad))
        assert back.detail == "toy streaming" and back.malformed == 1


async def ticked_then_junk(server: ToyServer, col: Collector, junk: int) -> ToyConn:
    """The connection once one good tick has arrived and ``junk`` unreadable frames followed."""
    conn = await server.subscribed("/0")
    await conn.ws.send(tick("A", 2.0))
    await col.tick("A")
    for _ in range(junk):
        await conn.ws.send("junk")
    return conn


async def test_a_run_of_garbage_after_good_frames_is_not_live(server: ToyServer) -> None:
    feed = ToyFeed(server)
    feed.garbled_run = 3
    async with Collector(feed) as col:
        conn = await ticked_then_junk(server, col, 2)
        await conn.ws.send(tick("A", 2.5))  # a good frame resets the run
        second = await col.wait(lambda e: type(e) is Tick and e.price == 2.5)
        mark = col.events.index(second)
        assert not any(s.state is FeedState.STALE for s in col.statuses())
        for _ in range(3):
            await conn.ws.send("junk")
        bad = await col.status(FeedState.STALE, after=mark)
        assert bad.detail.startswith(f"the last 3+ frames from 127.0.0.1:{server.port}")
        assert bad.malformed == 5


async def test_the_malformed_count_is_refreshed_in_the_status(server: ToyServer) -> None:
    feed = ToyFeed(server)
    feed.monitor_interval = 0.01
    async with Collector(feed) as col:
        await ticked_then_junk(server, col, 2)
        counted = await col.wait(lambda e: isinstance(e, FeedStatus) and e.malformed == 2)
    assert counted.state is FeedState.LIVE and counted.detail == "toy streaming"


async def test_closes_r2k_starts_use_code_1000(server: ToyServer) -> None:
    feed = ToyFeed(server)
    async with Collector(feed) as col:
        conn = await server.subscribed("/0")
        await col.status(FeedState.LIVE)
        await feed.aclose()  # what quitting and the end of --duration do
        await asyncio.wait_for(conn.closed.wait(), 5)
    assert conn.ws.close_code == 1000 and conn.ws.close_reason == "r2k closing"


async def test_the_end_of_a_headless_duration_closes_with_1000(server: ToyServer) -> None:
    from feeds.pipeline import Pipeline
    from tui.headless import consume

    pipeline = Pipeline(ToyFeed(server))
    await consume(pipeline, 0.5, feed_time=False)
    conn = await server.subscribed("/0")
    await asyncio.wait_for(conn.closed.wait(), 5)
    assert conn.ws.close_code == 1000
