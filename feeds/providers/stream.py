"""The websocket feed every live provider builds on.

A provider supplies the protocol (URL, handshake, frame decoder, optional REST warm-up); this base
supplies everything that must behave the same across providers: sharding symbols over several
connections, the reconnect policy (capped exponential backoff with jitter, reset after a stable
connection), resubscribing after a reconnect, a watchdog that reconnects after a silent stall, the
stale state while the market is open, counting and skipping malformed frames, and status events.

Events reach the consumer in batches through one queue, so a burst costs one queue hop per frame,
not per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from feeds.events import Event, FeedState, FeedStatus, Tick
from feeds.feed import Feed, FeedOptions
from feeds.providers.backoff import Backoff
from feeds.providers.settings import redact


class FatalFeedError(Exception):
    """The provider refused us for a reason retrying cannot fix (bad key, plan lacks the data).

    The message is one line naming the problem and the fix; the feed ends with ERROR.
    """


class RetryFeedError(Exception):
    """The provider refused us for now (connection limit, server closing); retry with backoff."""


def market_in_session(now_ms: int) -> bool:
    """True while ticks are expected (pre, regular or post market)."""
    from feeds import calendar

    return calendar.session_phase(now_ms) != "closed"


class StreamFeed(Feed):
    """Base for websocket providers. Subclasses implement the protocol hooks below."""

    #: provider name used for settings (``R2K_<PROVIDER>_URL``) and messages
    provider: str = ""
    #: reconnect after this many seconds without any frame while the market is in session
    silence_timeout: float = 30.0
    #: how often the stale/watchdog monitor looks (seconds)
    monitor_interval: float = 1.0
    #: builds each connection's reconnect policy; tests swap in tiny delays
    backoff_factory: Callable[[], Backoff] = Backoff

    def __init__(self, spec: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        self._queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._shard_states: list[FeedState] = []
        self._shard_detail: list[str] = []
        self._shard_ids: list[int] = []  # position in shards() of each running connection
        self._reported: tuple[FeedState, str] | None = None
        self._last_data = time.monotonic()
        self._stale = False
        self._ended = False
        self.malformed = 0
        self.reconnects = 0
        self.secrets: list[str] = []  # values redacted from every status detail
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
        """REST warm-up before streaming (previous closes, intraday backfill). Default: none."""
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
        return f"handshake refused: {exc}"

    def set_note(self, note: str) -> None:
        """Show ``note`` after the status detail (e.g. "previous closes 2/3"); "" clears it."""
        self.note = note
        if self._shard_states:
            self._report()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a provider's background job (a slow REST warm-up); ``aclose`` cancels it."""
        self._tasks.append(asyncio.create_task(coro))

    # ---- machinery ---------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return redact(" ".join(str(text).split()), *self.secrets)

    def _emit(self, events: list[Event]) -> None:
        self._queue.put_nowait(events)

    def _set_shard(self, n: int, state: FeedState, detail: str) -> None:
        self._shard_states[n] = state
        self._shard_detail[n] = self._redact(detail)
        self._report()

    def _report(self) -> None:
        states = self._shard_states
        total = len(states)
        up = sum(1 for s in states if s is FeedState.LIVE)
        if FeedState.ERROR in states:
            n = states.index(FeedState.ERROR)
            state, detail = FeedState.ERROR, self._shard_detail[n]
        elif up == total:
            if self._stale:
                state, detail = FeedState.STALE, self._stale_detail()
            else:
                state = FeedState.LIVE
                detail = f"{self.provider} streaming"
                if total > 1:
                    detail += f" on {total} connections"
        else:
            worst = next(
                (i for i, s in enumerate(states) if s is FeedState.RECONNECTING),
                next(i for i, s in enumerate(states) if s is not FeedState.LIVE),
            )
            state = states[worst]
            detail = self._shard_detail[worst]
            if total > 1:
                detail = f"{detail} ({up}/{total} connections up)"
        if self.note and state is not FeedState.ERROR:
            detail = f"{detail}; {self._redact(self.note)}"
        if (state, detail) != self._reported:
            self._reported = (state, detail)
            self._emit([FeedStatus(state, detail, int(time.time() * 1000))])

    def _stale_detail(self) -> str:
        age = time.monotonic() - self._last_data
        return f"no ticks for {age:.0f} s while the market is open"

    def _ingest(self, raw: str | bytes) -> None:
        """Decode one frame and pass its events on; a garbled frame is counted and skipped."""
        try:
            events = self.decode(raw)
        except (FatalFeedError, RetryFeedError):
            raise
        except Exception:
            self.malformed += 1
            return
        self._on_events(events)

    def _on_events(self, events: list[Event]) -> None:
        if not events:
            return
        for ev in events:
            if type(ev) is Tick:
                self._last_data = time.monotonic()
                if self._stale:
                    self._stale = False
                    self._report()
                break
        self._emit(events)

    async def _run_shard(self, n: int, symbols: list[str]) -> None:
        backoff = self.backoff_factory()
        first = True
        while not self._ended:
            self._set_shard(
                n,
                FeedState.CONNECTING if first else FeedState.RECONNECTING,
                f"connecting to {self.provider}" if first else f"reconnecting to {self.provider}",
            )
            first = False
            opened = time.monotonic()
            live = False
            try:
                url = self.url(self._shard_ids[n])
                async with websockets.connect(url, **self.connect_kwargs()) as ws:
                    await self.handshake(ws, symbols)
                    live = True
                    self._set_shard(n, FeedState.LIVE, "streaming")
                    await self._pump(ws)
            except FatalFeedError as exc:
                self._set_shard(n, FeedState.ERROR, str(exc))
                self._finish()
                return
            except RetryFeedError as exc:
                reason = str(exc)
            except TimeoutError:
                # before the handshake completed it is the opening handshake timing out
                reason = (
                    f"no data for {self.silence_timeout:.0f} s"
                    if live
                    else f"timed out connecting to {self.provider}"
                )
            except ConnectionClosed as exc:
                reason = f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
            except InvalidURI as exc:
                self._set_shard(n, FeedState.ERROR, f"bad {self.provider} URL: {exc}")
                self._finish()
                return
            except InvalidHandshake as exc:
                try:
                    reason = self.refusal(exc)
                except FatalFeedError as fatal:
                    self._set_shard(n, FeedState.ERROR, str(fatal))
                    self._finish()
                    return
            except OSError as exc:
                reason = f"cannot connect: {exc.strerror or exc}"
            except Exception as exc:
                # a protocol surprise (bad frame during the handshake, websockets internals) must
                # not kill this connection's task silently: it would sit "live" with no data
                reason = f"unexpected {type(exc).__name__}: {exc}"
            backoff.connected_for(time.monotonic() - opened)
            delay = backoff.next_delay()
            self.reconnects += 1
            self._set_shard(n, FeedState.RECONNECTING, f"{reason}; reconnecting in {delay:.0f} s")
            await asyncio.sleep(delay)

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
            if self._stale or not all(s is FeedState.LIVE for s in self._shard_states):
                continue
            quiet = time.monotonic() - self._last_data
            if quiet > self.options.stale_after and market_in_session(self.now_market_ms()):
                self._stale = True
                self._report()

    def _finish(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(None)

    async def _start(self) -> None:
        # an empty shard gets no connection, but url() still receives its index in shards()
        numbered = [(n, s) for n, s in enumerate(self.shards()) if s] or [(0, [])]
        self._shard_ids = [n for n, _ in numbered]
        shards = [s for _, s in numbered]
        self._shard_states = [FeedState.CONNECTING] * len(shards)
        self._shard_detail = [f"connecting to {self.provider}"] * len(shards)
        self._report()
        try:
            warm = await self.prepare()
        except FatalFeedError as exc:
            self._shard_states[0] = FeedState.ERROR
            self._shard_detail[0] = self._redact(str(exc))
            self._report()
            self._finish()
            return
        except Exception as exc:
            # the warm-up is a nicety (previous closes, backfill): stream without it
            warm = []
            self.set_note(f"warm-up failed: {exc}")
        if warm:
            self._emit(warm)
        self._last_data = time.monotonic()
        for n, symbols in enumerate(shards):
            self._tasks.append(asyncio.create_task(self._run_shard(n, symbols)))
        self._tasks.append(asyncio.create_task(self._monitor()))

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        await self._start()
        while True:
            batch = await self._queue.get()
            if batch is None:
                # drain what was queued before the end (the final ERROR status)
                while not self._queue.empty():
                    rest = self._queue.get_nowait()
                    if rest:
                        for ev in rest:
                            yield ev
                return
            for ev in batch:
                yield ev

    async def aclose(self) -> None:
        self._finish()  # a consumer still iterating ends instead of waiting forever
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
