"""The websocket feed every live provider builds on.

A provider supplies the protocol (URL, handshake, frame decoder, optional REST warm-up); this base
supplies everything that must behave the same across providers: sharding symbols over several
connections, the reconnect policy (capped exponential backoff with jitter, reset after a stable
connection), resubscribing after a reconnect, a watchdog that reconnects after a silent stall, the
stale state while the market is open, counting and skipping malformed frames, and status events.

Events reach the consumer in batches through one queue, so a burst costs one queue hop per frame,
not per tick.

Statuses say what is happening as it happens (issue 8 §2): the connections start at once, beside
the provider's REST warm-up, so a dead network or a refused key is reported within a second
rather than after the warm-up's retries; the warm-up's own notes reach the consumer as they are
raised. Frames are read only once the warm-up is done (or after ``warm_up_gate`` seconds), so
ticks follow the previous closes they are measured against. Every status carries the malformed
frame count, the reconnect attempts and the next retry time; a connection error names the host
it tried. Closes r2k starts on purpose (quit, the end of a run) use code 1000.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from feeds.backoff import Backoff
from feeds.errors import os_reason
from feeds.events import Event, FeedState, Tick
from feeds.feed import Feed, FeedOptions
from feeds.secrets import server_text
from feeds.sources.providers.streamstatus import StreamStatus

#: seconds a close r2k starts waits for the server's answer (the websockets default is 10 s)
CLOSE_TIMEOUT = 2.0
#: seconds websockets waits for a pong before it drops the connection (its default)
PING_TIMEOUT = 20.0
DETAIL_LIMIT = 1000  # characters of a status detail (a server can send a whole HTML page)


class FatalFeedError(Exception):
    """The provider refused us for a reason retrying cannot fix (bad key, plan lacks the data).

    The message is one line naming the problem and the fix; the feed ends with ERROR.
    """


class RetryFeedError(Exception):
    """The provider refused us for now (connection limit, server closing); retry with backoff."""


def market_in_session(now_ms: int) -> bool:
    """True while ticks are expected (pre, regular or post market)."""
    from feeds.market import calendar

    return calendar.session_phase(now_ms) != "closed"


def host_of(url: str) -> str:
    """``host:port`` of a websocket URL (the port from the scheme when absent); never the path
    or the query, which may carry a key."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme in ("wss", "https") else 80)
    except ValueError:
        return "the configured URL"
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class StreamFeed(Feed):
    """Base for websocket providers. Subclasses implement the protocol hooks below."""

    #: provider name used for settings (``R2K_<PROVIDER>_URL``) and messages
    provider: str = ""
    #: reconnect after this many seconds without any frame while the market is in session
    silence_timeout: float = 30.0
    #: how often the stale/watchdog monitor looks (seconds); also how often the malformed-frame
    #: count is refreshed in the status
    monitor_interval: float = 1.0
    #: the longest a fresh connection waits for the warm-up before its frames are read (seconds)
    warm_up_gate: float = 10.0
    #: this many unreadable frames in a row make the feed not live (STALE) even after good ones;
    #: before the first readable frame, one is enough
    garbled_run: int = 20
    #: builds each connection's reconnect policy; tests swap in tiny delays
    backoff_factory: Callable[[], Backoff] = Backoff

    def __init__(self, spec: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        self._queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._shard_ids: list[int] = []  # position in shards() of each running connection
        self._trying = ""  # host:port of the latest connection attempt (for refusal())
        #: each connection's state, detail, host and next retry; stale, garbled, the fatal reason
        self._status = StreamStatus(self.provider, self._queue.put_nowait, options)
        self._warmed = asyncio.Event()
        self._last_data = time.monotonic()
        self._ended = False
        self._bad_run = 0  # unreadable frames since the last readable one
        self.malformed = 0
        self.reconnects = 0
        self.secrets: list[str] = []  # values masked in every status detail (and note)
        #: a short note appended to the status detail (background warm-up progress...)
        self.note = ""

    # ---- protocol hooks ----------------------------------------------------------------------
    def shards(self) -> list[list[str]]:
        """Symbols per connection, in a fixed order. Default: one connection for all."""
        return [list(self.options.symbols)]

    @abstractmethod
    def url(self, shard: int) -> str:
        """The websocket URL for connection ``shard`` (its index in ``shards()``)."""

    def connect_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for ``websockets.connect`` (headers, ping interval...)."""
        return {}

    async def prepare(self) -> list[Event]:
        """REST warm-up (previous closes, intraday backfill), run beside the first connection
        attempts; frames are read once it returns. Default: none."""
        return []

    @abstractmethod
    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        """Authenticate and subscribe on a fresh connection; raise Fatal/RetryFeedError on refusal.

        Called again after every reconnect, so it resubscribes everything.
        """

    @abstractmethod
    def decode(self, raw: str | bytes) -> list[Event]:
        """Events in one frame. May raise on garbage: the frame is counted and skipped.

        May raise Fatal/RetryFeedError for a status frame that refuses the session.
        """

    def now_market_ms(self) -> int:
        return self.now_ms()

    def refusal(self, exc: InvalidHandshake) -> str:
        """The reason shown when the server refuses the websocket upgrade (e.g. HTTP 401/429).

        Raise FatalFeedError when retrying cannot help (a provider that answers a bad key with
        HTTP 401); the default retries with backoff.
        """
        return f"{self._trying or self.provider} refused the websocket connection: {exc}"

    def quote(self, text: object, limit: int = 160) -> str:
        """A server's message made safe to show: keys masked first, then cut to ``limit``."""
        return server_text(text, self.secrets, limit)

    def set_note(self, note: str) -> None:
        """Show ``note`` after the status detail (e.g. "previous closes 2/3"); "" clears it."""
        self.note = note
        if self._status.states:
            self._report()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a provider's background job (a slow REST warm-up); ``aclose`` cancels it."""
        self._tasks.append(asyncio.create_task(coro))

    # ---- machinery ---------------------------------------------------------------------------
    def _emit(self, events: list[Event]) -> None:
        if not self._ended:  # nothing follows the end (a fatal ERROR stays the last word)
            self._queue.put_nowait(events)

    def _set_shard(self, n: int, state: FeedState, detail: str) -> None:
        self._status.connection(n, state, self.quote(detail, DETAIL_LIMIT))
        self._report()

    def _fail(self, detail: str) -> None:
        """End the feed with ERROR: a refusal retrying cannot fix."""
        if self._ended:
            return
        self._status.fatal = self.quote(detail, DETAIL_LIMIT)
        self._report()
        self._finish()

    def _report(self) -> None:
        if not self._ended:
            note = self.quote(self.note, DETAIL_LIMIT) if self.note else ""
            self._status.report(self.malformed, self.reconnects, note)

    def _ingest(self, raw: str | bytes) -> None:
        """Decode one frame and pass its events on; a garbled frame is counted and skipped."""
        try:
            events = self.decode(raw)
        except (FatalFeedError, RetryFeedError):
            raise
        except Exception:
            self.malformed += 1
            self._bad_run += 1
            status = self._status
            if not status.garbled and (not status.any_good or self._bad_run >= self.garbled_run):
                status.garbled, status.garbled_run = True, self.garbled_run
                self._report()
            return
        if self._bad_run or not self._status.any_good:  # one test on the hot path
            self._status.any_good = True  # readable again
            self._bad_run = 0
            if self._status.garbled:
                self._status.garbled = False
                self._report()
        self._on_events(events)

    def _on_events(self, events: list[Event]) -> None:
        if not events:
            return
        for ev in events:
            if type(ev) is Tick:
                self._last_data = time.monotonic()
                if self._status.stale:
                    self._status.stale = False
                    self._report()
                break
        self._emit(events)

    async def _run_shard(self, n: int, symbols: list[str]) -> None:
        backoff = self.backoff_factory()
        first = True
        kwargs = {"close_timeout": CLOSE_TIMEOUT, **self.connect_kwargs()}
        ping_timeout = kwargs.get("ping_timeout", PING_TIMEOUT)
        while not self._ended:
            url = self.url(self._shard_ids[n])
            host = self._status.hosts[n] = self._trying = host_of(url)
            self._status.retry_at[n] = 0
            if first:
                self._set_shard(n, FeedState.CONNECTING, f"connecting to {host}")
            else:
                self._report()  # the retry is under way: no "retry at" any more
            first = False
            opened = time.monotonic()
            live = False
            try:
                async with websockets.connect(url, **kwargs) as ws:
                    try:
                        await self.handshake(ws, symbols)
                        live = True
                        self._set_shard(n, FeedState.LIVE, "streaming")
                        await self._await_warm_up()
                        await self._pump(ws)
                    except asyncio.CancelledError:
                        # r2k is closing (quit, the end of a run): a normal close, not 1011
                        with contextlib.suppress(Exception):
                            await ws.close(1000, "r2k closing")
                        raise
            except FatalFeedError as exc:
                self._fail(str(exc))
                return
            except RetryFeedError as exc:
                reason = str(exc)
            except TimeoutError:
                # before the handshake completed it is the opening handshake timing out
                reason = (
                    f"no data from {host} for {self.silence_timeout:.0f} s"
                    if live
                    else f"timed out connecting to {host}"
                )
            except ConnectionClosed as exc:
                reason = _closed_reason(exc, host, ping_timeout)
            except InvalidURI as exc:
                self._fail(f"bad {self.provider} URL: {exc}")
                return
            except InvalidHandshake as exc:
                try:
                    reason = self.refusal(exc)
                except FatalFeedError as fatal:
                    self._fail(str(fatal))
                    return
            except OSError as exc:
                reason = f"cannot connect to {host}: {os_reason(exc)}"
            except Exception as exc:
                # a protocol surprise (bad frame during the handshake, websockets internals) must
                # not kill this connection's task silently: it would sit "live" with no data
                reason = f"unexpected {type(exc).__name__} from {host}: {exc}"
            backoff.connected_for(time.monotonic() - opened)
            delay = backoff.next_delay()
            self.reconnects += 1
            self._status.retry_at[n] = int((time.time() + delay) * 1000)
            self._set_shard(n, FeedState.RECONNECTING, reason)
            await asyncio.sleep(delay)

    async def _await_warm_up(self) -> None:
        """Hold this connection's frames until the warm-up is done, at most ``warm_up_gate`` s.

        Ticks must follow the previous closes (and the index closes an estimate divides by); a
        warm-up still retrying after that goes on in the background and lands when it can.
        """
        if self._warmed.is_set():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.warm_up_gate):
                await self._warmed.wait()

    async def _pump(self, ws: Any) -> None:
        # One deadline pushed forward per frame, not asyncio.wait_for: on Python 3.11 wait_for
        # swallows a cancellation that lands as a frame arrives (aclose() then hung for a whole
        # silence_timeout), and it wraps every recv() in a new Task.
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with asyncio.timeout(None) as deadline:
                    while True:
                        deadline.reschedule(loop.time() + self.silence_timeout)
                        self._ingest(await ws.recv())
            except TimeoutError:
                if market_in_session(self.now_market_ms()):
                    raise
                # a closed market is quiet; websocket pings keep the link honest

    async def _monitor(self) -> None:
        while not self._ended:
            await asyncio.sleep(self.monitor_interval)
            self._report()  # the malformed count, at most once per interval (never per frame)
            if self._status.stale or not self._status.all_live():
                continue
            quiet = time.monotonic() - self._last_data
            if quiet > self.options.stale_after and market_in_session(self.now_market_ms()):
                self._status.stale = True
                self._report()

    async def _run_warm_up(self) -> None:
        try:
            try:
                warm = await self.prepare()
            except FatalFeedError as exc:
                self._fail(str(exc))
                return
            except Exception as exc:
                # the warm-up is a nicety (previous closes, backfill): stream without it
                warm = []
                self.set_note(f"warm-up failed: {exc}")
            if warm:
                self._emit(warm)
        finally:
            self._warmed.set()

    def _finish(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(None)

    def _start(self) -> None:
        # an empty shard gets no connection, but url() still receives its index in shards()
        numbered = [(n, s) for n, s in enumerate(self.shards()) if s] or [(0, [])]
        self._shard_ids = [n for n, _ in numbered]
        shards = [s for _, s in numbered]
        self._status.start(len(shards))
        self._warmed = asyncio.Event()
        self._report()
        self._last_data = time.monotonic()
        # the connections first (the warm-up's first step may import an HTTP client), and the
        # warm-up beside them, not before them: its notes arrive as they are raised
        for n, symbols in enumerate(shards):
            self._tasks.append(asyncio.create_task(self._run_shard(n, symbols)))
        self._tasks.append(asyncio.create_task(self._run_warm_up()))
        self._tasks.append(asyncio.create_task(self._monitor()))

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        async for batch in self._frames():
            for ev in batch:
                yield ev

    def batches(self) -> AsyncIterator[list[Event]]:
        """Each frame's events (and each warm-up's) as decoded: one list per frame."""
        return self._frames()

    async def _frames(self) -> AsyncIterator[list[Event]]:
        if not self._ended:
            self._start()
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            yield batch

    async def aclose(self) -> None:
        self._finish()  # a consumer still iterating ends instead of waiting forever
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


def _closed_reason(exc: ConnectionClosed, host: str, ping_timeout: object) -> str:
    """Why a connection ended, told apart: a keepalive timeout, the server's close, a failure on
    our side, or a drop without any close frame."""
    sent, rcvd = exc.sent, exc.rcvd
    if rcvd is None and sent is not None and "keepalive" in (sent.reason or ""):
        return f"keepalive timeout: {host} did not answer a ping within {ping_timeout} s"
    if rcvd is not None:
        why = f"{rcvd.code} {rcvd.reason}".strip()
        return f"{host} closed the connection ({why})"
    if sent is not None:
        why = f"{sent.code} {sent.reason}".strip()
        return f"connection to {host} failed ({why})"
    return f"connection to {host} dropped without a close frame"
