"""The ``nats://`` feed: a terminal reading a relay (``--feed nats://HOST:PORT[/PREFIX]``).

On start it listens to the relay's batches (``P.live``) and reads the relay's last-value board
from JetStream, so the whole board shows at once even when it joins mid-day (or while the relay
is down: then marked stale). From there it applies the batches in order. The terminal keeps its
own levels, alerts and log: only market data crosses the wire.

Sequence numbers make every loss visible. A batch whose number skips ahead (a slow terminal, a
NATS outage) is shown in the status ("missed 3 batches ...") and the board is resynchronised from
the relay's next snapshot: a symbol takes the snapshot's value only when that is newer than what
the terminal already applied, so nothing is rolled back and nothing stays wrong. A relay run
(its *epoch*) that starts with its feed's clock well behind the last run's (the sim or a replay
started again) has started its market over: the terminal resets its board to it (a
:class:`~feeds.events.MarketReset`), where the old run's later prints would outrank every new one.

The status line shows both links: the NATS connection and the upstream's state as the relay
reports it. No heartbeat from the relay for ``heartbeat_timeout`` seconds shows STALE, never
live; a lost NATS connection shows RECONNECTING while the client retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from feeds.events import Event, FeedState, FeedStatus, MarketReset
from feeds.feed import Feed, FeedOptions, register
from feeds.sources.relay import codec
from feeds.sources.relay.link import resolve
from feeds.sources.relay.subjects import DEFAULT_PREFIX, STOPPED
from feeds.sources.relay.sync import RelaySync, plural
from feeds.sources.relay.tasks import cancel_all

DEFAULT_SHARDS = 32  # until the relay's info says otherwise


class NatsFeed(Feed):
    """Reads a relay's events from NATS. ``spec`` is ``nats://HOST:PORT[/PREFIX]`` (or ``tls://``,
    or just ``nats`` for the ``[nats]`` config table / ``R2K_NATS_URL``).

    Raises ConfigError (one line) at construction on a bad URL, prefix or credentials file.
    """

    #: no batch for this long (the relay heartbeats every second) -> STALE
    heartbeat_timeout: float = 3.0
    #: how often the silence monitor looks (seconds)
    monitor_interval: float = 0.25
    #: NATS reconnect pace (seconds between attempts; the client retries forever)
    reconnect_wait: float = 1.0

    def __init__(self, spec: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        url = spec if "://" in spec else None
        self.link = resolve(url, env=options.env, config=options.config)
        self.subjects = self.link.subjects
        self._queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._nc: Any = None
        self._snap_sub: Any = None
        self._ended = False
        # --- relay and upstream, as last reported
        self.upstream = FeedStatus(FeedState.CONNECTING, "waiting for the relay")
        self.upstream_label = ""
        #: the kind of feed the relay reads ("sim", "replay", "alpaca"...; "" until it says)
        self.upstream_kind = ""
        self.relay_info: dict[str, Any] = {}
        self._shards = DEFAULT_SHARDS
        # --- the NATS link
        self.link_up = False
        self._ever_up = False
        self.fatal = ""  # a problem retrying cannot fix (shown as ERROR)
        self.link_error = ""  # the last error NATS reported on a working link
        self.link_attempts = 0  # connection attempts to NATS that failed (the feed's reconnects)
        self._retry_at = 0  # epoch ms of the client's next attempt while the link is down
        self.link_detail = f"connecting to NATS at {self.link.url}"
        self._link_since = time.monotonic()
        # --- sequence tracking (one relay run = one epoch) and the resync from the snapshot
        self.sync = RelaySync()
        self._heard = 0.0  # monotonic time of the last batch (0 = none yet)
        self.malformed = 0  # messages that were not the relay's format (skipped)
        self.unknown_events = 0  # events of types this version does not know (skipped)
        self.synced = asyncio.Event()  # set when the board is in step with the relay
        # --- the relay's feed clock
        self._clock: tuple[int, float] | None = None  # (feed ms, monotonic at receipt)
        self._clock_rate = 1.0
        self._reported: tuple[FeedState, str, int, int] | None = None
        #: end-to-end latency samples (ms from the relay receiving a batch's first event)
        self.latency_ms: list[float] | None = None

    # ---- Feed interface ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        host, port = self.link.host_port
        where = f"{host}:{port}"
        if self.link.prefix != DEFAULT_PREFIX:
            where += f"/{self.link.prefix}"
        return f"{self.upstream_label} via {where}" if self.upstream_label else f"relay {where}"

    def now_ms(self) -> int:
        """The relay's feed clock: the last batch's time, run on at the relay's clock rate, but
        no more than ``stale_after`` seconds past the last batch (issue 18 §4: over a dead
        relay the clock ran on while nothing arrived; the status is stale by then)."""
        if self._clock is None:
            return int(time.time() * 1000)
        feed_ms, at = self._clock
        since = time.monotonic() - at
        limit = self.options.stale_after
        if limit > 0:
            since = min(since, limit)
        return feed_ms + int(since * 1000 * self._clock_rate)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    def batches(self) -> AsyncIterator[list[Event]]:
        """Each relay batch's events, as received: one list per NATS message."""
        return self._batches()

    async def _events(self) -> AsyncIterator[Event]:
        async for batch in self._batches():
            for ev in batch:
                yield ev

    async def _batches(self) -> AsyncIterator[list[Event]]:
        self._report()
        self._tasks = [
            asyncio.create_task(self._connect()),
            asyncio.create_task(self._monitor()),
        ]
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            yield batch

    async def aclose(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(None)
        tasks, self._tasks = self._tasks, []
        await cancel_all(tasks)
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()

    # ---- the NATS link -------------------------------------------------------------------------
    async def _on_disconnected(self) -> None:
        self._link_down(f"lost NATS at {self.link.url}; reconnecting")

    async def _on_reconnected(self) -> None:
        # resyncing before the link counts as up: batches were missed while it was down, so
        # the board is not live until the snapshot has put it back in step (issue 18 §4: it
        # said "live" twice before noticing 216 missed batches)
        self._begin_sync("reconnected to NATS; resyncing the board", FeedState.STALE)
        self._link_ok()
        await self._fetch_snapshot()

    async def _on_error(self, e: Exception) -> None:
        text = self.link.error_text(e)
        if "Authorization" in text or "authentication" in text.lower():
            text = (
                f"NATS at {self.link.url}: the server refused the login; "
                "check user/password/token/creds [nats]"
            )
        nc = self._nc
        if self.subjects.sync in text and "ermission" in text:
            return  # may not ask for a round (a read-only account): the periodic round syncs
        if nc is not None and nc.is_connected:
            # the link is up (a slow-consumer drop shows as a gap; a permissions error here)
            self.link_error = text
            self._report()
            return
        verb = "reconnecting" if self._ever_up else "retrying"
        self.link_attempts += 1  # the client calls this once per failed attempt
        self._retry_at = int((time.time() + self.reconnect_wait) * 1000)
        self._link_down(f"{text}; {verb}")

    async def _connect(self) -> None:
        self._nc = await self.link.connect(
            "r2k terminal",
            reconnect_wait=self.reconnect_wait,
            disconnected=self._on_disconnected,
            reconnected=self._on_reconnected,
            error=self._on_error,
        )
        info = getattr(self._nc, "_server_info", {}) or {}
        if self.link.tls and not info.get("tls_required"):
            self.fatal = f"{self.link.url} does not offer TLS; use nats:// or enable TLS on it"
            await self._nc.close()
            self._report()
            return
        await self._nc.subscribe(self.subjects.live, cb=self._on_live)
        self._begin_sync("syncing the board from the relay")
        self._link_ok()
        await self._fetch_snapshot()

    def _link_ok(self) -> None:
        self.link_up = self._ever_up = True
        self.link_error = ""  # what went wrong on the last connection (its EOF) is over
        self.link_detail = f"connected to NATS at {self.link.url}"
        self._link_since = time.monotonic()
        self._report()

    def _link_down(self, detail: str) -> None:
        self.link_up = False
        self.link_detail = detail
        self._report()

    async def _monitor(self) -> None:
        while not self._ended:
            await asyncio.sleep(self.monitor_interval)
            self._report()

    # ---- status --------------------------------------------------------------------------------
    def _timeout(self) -> float:
        return max(self.heartbeat_timeout, 3 * float(self.relay_info.get("heartbeat_s", 1.0)))

    def status(self) -> FeedStatus:
        """Both links in one status: the NATS connection, then the relay and its upstream."""
        up = self.upstream
        now = time.monotonic()
        where = self.link.display
        if self.fatal:
            return FeedStatus(FeedState.ERROR, self.fatal, int(time.time() * 1000))
        stopped = up.state is FeedState.ENDED and up.detail == STOPPED
        if stopped:
            # the relay said it stops: that, not the connection error or the silence after it
            state = FeedState.RECONNECTING if not self.link_up else FeedState.STALE
            detail = f"{STOPPED} on {where}; showing its last board until it is back"
        elif not self.link_up:
            state = FeedState.RECONNECTING if self._ever_up else FeedState.CONNECTING
            detail = self.link_detail
            if self._heard:
                detail += f" (upstream was {up.state})"
        elif now - max(self._heard, self._link_since) > self._timeout():
            state = FeedState.STALE
            detail = (
                f"relay on {where} stopped publishing (no heartbeat for "
                f"{self._timeout():.0f} s); showing its last board"
                if self._heard or self.relay_info
                else f"no relay publishing on {where}; start one with r2k relay"
            )
        elif not self._heard:
            state, detail = FeedState.CONNECTING, f"waiting for the relay on {where}"
        elif self.sync.reason is not None:
            state, detail = self.sync.state, self.sync.reason
        elif up.state is FeedState.ENDED:
            state, detail = FeedState.STALE, f"the relay's feed ended: {up.detail}"
        else:
            state, detail = up.state, f"upstream: {up.detail}" if up.detail else ""
        if self.sync.missed_batches and state is FeedState.LIVE:
            detail += f" ({plural(self.sync.missed_batches, 'batch')} missed so far, resynced)"
        if self.link_error and self.link_up:
            detail += f"; {self.link_error}"
        return dataclasses.replace(
            up,
            state=state,
            detail=detail,
            ts=self.now_ms(),  # the feed's clock, as the status bar and the history read it
            reconnects=self.link_attempts,
            retry_at=0 if self.link_up else self._retry_at,
        )

    def _report(self) -> None:
        if self._ended:
            return
        status = self.status()
        # the attempts and the next retry too: the feed-status screen counts them as they
        # happen (it froze at "1 attempt" through an outage, then jumped to 67)
        key = (status.state, status.detail, status.reconnects, status.retry_at)
        if key != self._reported:
            self._reported = key
            self._queue.put_nowait([status])

    # ---- batches -------------------------------------------------------------------------------
    async def _on_live(self, msg: Any) -> None:
        try:
            batch = codec.decode_batch(msg.data)
            events, unknown = codec.decode_items(batch.items)
        except codec.CodecError:
            self.malformed += 1
            return
        self.unknown_events += unknown
        self._heard = now = time.monotonic()
        seq = batch.seq
        step = self.sync.on_batch(batch.epoch, seq, batch.feed_ms)
        if step is None:
            return  # a duplicate (a server replaying after a reconnect): already applied
        if step.reset:
            self._queue.put_nowait([MarketReset(batch.feed_ms, step.reset)])
        if step.fetch:
            self.synced.clear()
            self._spawn_fetch()
        self._clock = (batch.feed_ms, now)
        if batch.first_ms and self.latency_ms is not None:
            self.latency_ms.append(time.time() * 1000 - batch.first_ms)
        out, upstream = self.sync.take(seq, events)
        if upstream is not None:
            self.upstream = upstream  # folded into this feed's own status
        if out:
            self._queue.put_nowait(out)
        self._check_synced()
        self._report()

    # ---- resync from the snapshot --------------------------------------------------------------
    def _begin_sync(self, reason: str, state: FeedState = FeedState.CONNECTING) -> None:
        """Resync from the snapshot (:meth:`RelaySync.begin`): ``reason`` and ``state`` are
        shown meanwhile."""
        self.sync.begin(reason, state)
        self.synced.clear()

    def _spawn_fetch(self) -> None:
        task = asyncio.create_task(self._fetch_snapshot())
        self._tasks.append(task)
        task.add_done_callback(lambda t: t in self._tasks and self._tasks.remove(t))

    async def _fetch_snapshot(self) -> None:
        """Listen to snapshot rounds, then read the stored board (what a late joiner sees first)."""
        nc = self._nc
        if nc is None:
            return
        if self._snap_sub is None:
            self._snap_sub = await nc.subscribe(self.subjects.snap_all, cb=self._on_snap_msg)
        # a round now, not at the relay's next second: the stored board is up to a second older
        # than the first batch heard, and only a round taken after it can finish the sync
        with contextlib.suppress(Exception):  # a closed link: the rounds after reconnecting do
            await nc.publish(self.subjects.sync, b"")
        js = nc.jetstream(timeout=2.0)
        subjects = [self.subjects.meta]
        subjects += [self.subjects.snap(k) for k in range(self._shards)]
        subjects += [self.subjects.hist(k) for k in range(self._shards)]

        async def last(subject: str) -> Any:
            try:
                return await js.get_last_msg(self.subjects.stream, subject, direct=True)
            except Exception:  # not stored (no JetStream, nothing yet): the rounds will do
                return None

        # the info first: it names the shard count and the upstream
        for msg in [await last(subjects[0])]:
            if msg is not None and msg.data:
                self._on_snap(msg.subject or subjects[0], msg.data)
        for msg in await asyncio.gather(*(last(s) for s in subjects[1:])):
            if msg is not None and msg.data:
                self._on_snap(msg.subject or "", msg.data)

    async def _on_snap_msg(self, msg: Any) -> None:
        self._on_snap(msg.subject, msg.data)

    def _on_snap(self, subject: str, data: bytes) -> None:
        kind = subject.rsplit(".", 2)[-2:]
        try:
            if kind[-1] == "meta":
                self._on_meta(*codec.decode_meta(data))
            elif kind[0] == "snap":
                self._on_chunk(codec.decode_chunk(data))
            elif kind[0] == "hist":
                self._on_hist(*codec.decode_hist(data))
        except codec.CodecError:
            self.malformed += 1

    def _on_meta(self, epoch: str, seq: int, info: dict[str, Any]) -> None:
        if not self.sync.ours(epoch):
            return
        self.relay_info = info
        self.upstream_label = str(info.get("label", ""))
        kind = str(info.get("kind", ""))
        kind = kind if re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", kind) else ""
        if kind != self.upstream_kind:
            self.upstream_kind = kind
            self._reported = None  # a status now: the pipeline stamps alerts with the kind
        self.estimates_indices = bool(info.get("estimates_indices", False))
        self._shards = int(info.get("shards", DEFAULT_SHARDS)) or DEFAULT_SHARDS
        self._clock_rate = float(info.get("clock_rate", 1.0))
        if seq > self.sync.upstream_seq:  # newer than any status a batch brought
            with contextlib.suppress(codec.CodecError, TypeError):
                up = codec.decode_event("FeedStatus", info.get("upstream"))
                if isinstance(up, FeedStatus):
                    self.upstream = up
                    self.sync.upstream_seq = seq
        self._report()  # also how the pipeline learns estimates_indices

    def _on_chunk(self, chunk: codec.Chunk) -> None:
        ticks = self.sync.on_chunk(chunk)
        if ticks is None:
            return  # another relay run's
        if ticks:
            self._queue.put_nowait(ticks)
        self._shards = chunk.shards
        self._check_synced()

    def _on_hist(self, epoch: str, seq: int, entries: list[tuple[int, Event]]) -> None:
        out = self.sync.on_hist(epoch, entries)
        if out:
            self._queue.put_nowait(out)

    def _check_synced(self) -> None:
        if self.sync.check(self._shards):
            self.synced.set()
            sub, self._snap_sub = self._snap_sub, None
            if sub is not None:  # rounds cost a decode of the whole board a second: stop them
                self._spawn_unsubscribe(sub)
            self._report()

    def _spawn_unsubscribe(self, sub: Any) -> None:
        async def unsubscribe() -> None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

        task = asyncio.create_task(unsubscribe())
        self._tasks.append(task)
        task.add_done_callback(lambda t: t in self._tasks and self._tasks.remove(t))

    @property
    def backlog(self) -> int:
        """Event lists received but not yet taken by the consumer (0: the pipeline is caught up)."""
        return self._queue.qsize()


@register("nats")
@register("tls")
def _open_nats(spec: str, arg: str, options: FeedOptions) -> Feed:
    return NatsFeed(spec, options)
