"""The relay: one feed, published to NATS for any number of terminals.

Every event the feed yields goes out in order, in batches of at most ``batch_ms`` (one NATS
message per batch on ``P.live``, numbered 1, 2, 3... within one run of the relay, its *epoch*).
When nothing happens for ``heartbeat_s`` an empty batch goes out, so a terminal can tell a quiet
market from a dead relay.

The relay keeps its own board (a :class:`~feeds.pipeline.Pipeline` without levels), and every
``snapshot_s`` it writes the latest tick of every symbol to JetStream, ``shards`` messages each
holding a fixed slice of the symbols (``P.snap.<k>``), with the number of the batch the snapshot
is exact as of. History (daily closes, backfill bars) goes to ``P.hist.<k>`` when it changes. The
stream keeps one message per subject, so what a late terminal reads is the whole board now.

NATS outages: the client reconnects by itself (forever, every ``reconnect_wait`` s); what could
not be sent is counted in ``dropped_batches`` and terminals see the hole in the numbering. After a
reconnect the stream is re-created if the server lost it, and history and a snapshot are
republished at once.

Upstream keys never leave the relay: every string in a non-tick event is passed through
``redact`` with the upstream's secrets before it is published.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from nats.errors import Error as NatsError
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError
from nats.js.errors import Error as JsError

from feeds.alerting.levels import LevelEngine
from feeds.events import (
    Bars,
    DailyBars,
    DailyCloses,
    Event,
    FeedState,
    FeedStatus,
    SessionCloses,
    Tick,
)
from feeds.feed import feed_kind
from feeds.pipeline import Pipeline
from feeds.sources.providers.settings import redact
from feeds.sources.relay import codec
from feeds.sources.relay.link import NatsLink
from feeds.sources.relay.subjects import STOPPED, shard_of
from feeds.sources.relay.tasks import cancel_all

if TYPE_CHECKING:
    from feeds.feed import Feed
    from feeds.reference.holdings import Holdings

#: events a late joiner needs from before it joined, kept per (type, symbol); daily bars,
#: and each session's batch of members' closes kept per (type, date)
HISTORY_TYPES = (DailyCloses, Bars, DailyBars, SessionCloses)


def _history_key(ev: DailyCloses | Bars | DailyBars | SessionCloses) -> str:
    """What a later event of the same type replaces: the symbol's, or the session's."""
    return ev.date if isinstance(ev, SessionCloses) else ev.symbol


STOP_NOTICE_S = 1.0  # the longest a stopping relay waits to tell its terminals
#: seconds between snapshot rounds that terminals asked for (P.sync): twenty terminals starting
#: at once cost the relay at most ten extra rounds a second, not one each
SYNC_MIN_S = 0.1
MAX_BATCH_EVENTS = 10_000  # flush early past this: a fast replay must not build 1 MB messages

Say = Callable[[str], None]


class _TapPipeline(Pipeline):
    """The relay's board: a pipeline that also hands every event to the relay."""

    def __init__(self, feed: Feed, holdings: Holdings | None, tap: Callable[[Event], None]):
        super().__init__(feed, holdings, levels=LevelEngine([]))
        self._tap = tap

    def handle(self, ev: object) -> None:
        super().handle(ev)
        self._tap(ev)  # type: ignore[arg-type]

    def handle_batch(self, events: Sequence[object]) -> bool:
        """A group applied in one call (issue 12 §5), then handed on in order, as ``handle``
        hands on each event (up to an ENDED status, after which nothing is handled)."""
        tap, self._tap = self._tap, _untapped
        try:
            ended = super().handle_batch(events)
        finally:
            self._tap = tap
        for ev in events:
            tap(ev)  # type: ignore[arg-type]
            if type(ev) is FeedStatus and ev.state is FeedState.ENDED:
                break
        return ended


def _untapped(ev: Event) -> None:
    """What the tap is while the base class applies a group: nothing (tapped after)."""


class Relay:
    """Publishes ``feed`` to the NATS server of ``link`` under its prefix.

    ``say`` receives one human-readable line per link change (connected, lost, JetStream
    missing). ``secrets`` are redacted from everything published besides ticks.
    """

    def __init__(
        self,
        feed: Feed,
        link: NatsLink,
        *,
        holdings: Holdings | None = None,
        secrets: Iterable[str] = (),
        say: Say | None = None,
        batch_ms: float = 25.0,
        heartbeat_s: float = 1.0,
        snapshot_s: float = 1.0,
        shards: int = 32,
        reconnect_wait: float = 1.0,
    ) -> None:
        self.feed = feed
        self.link = link
        self.subjects = link.subjects
        self.say = say or (lambda line: None)
        self.secrets = [s for s in (*secrets, *link.secrets) if s]
        self.batch_s = batch_ms / 1000
        self.heartbeat_s = heartbeat_s
        self.snapshot_s = snapshot_s
        self.shards = shards
        self.reconnect_wait = reconnect_wait
        self.pipeline = _TapPipeline(feed, holdings, self._on_event)
        self.epoch = uuid.uuid4().hex[:12]
        self.seq = 0  # the last batch number handed to NATS
        self.published_ticks = 0
        self.dropped_batches = 0
        self.upstream = FeedStatus(FeedState.CONNECTING, f"opening {feed.label}")
        self.started_ms = int(time.time() * 1000)
        self.jetstream = False  # the snapshot stream exists on the server
        self.connected = asyncio.Event()
        self.feed_done = asyncio.Event()
        self._pending: list[Event] = []
        self._first_ms = 0.0
        self._sym_seq: dict[str, int] = {}  # symbol -> batch that carried its last tick
        self._history: dict[tuple[str, str], tuple[int, Event]] = {}
        self._hist_dirty: set[int] = set()
        self._last_pub = 0.0
        self._last_snap = 0.0
        self._republish = False  # after a reconnect: history and snapshot now
        self._sync_asked = False  # a terminal asked for a snapshot round (P.sync)
        self._nc: Any = None
        self._js: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._publish_error = ""
        self._flushing = asyncio.Lock()

    # ---- events from the feed ------------------------------------------------------------------
    def _on_event(self, ev: Event) -> None:
        if not self._pending:
            self._first_ms = time.time() * 1000
        self._pending.append(ev)

    @property
    def idle(self) -> bool:
        """Nothing waits to be published: the board is exactly what batches 1..seq carried."""
        return not self._pending and not self._flushing.locked()

    def _redact(self, text: str) -> str:
        return redact(text, *self.secrets)

    # ---- NATS ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect (retrying until the server answers) and make sure the stream exists."""

        async def disconnected() -> None:
            self.connected.clear()
            if not self._closing:
                wait = self.reconnect_wait
                self.say(f"lost NATS at {self.link.url}; reconnecting every {wait:g} s")

        async def reconnected() -> None:
            self.say(f"reconnected to NATS at {self.link.url}")
            # a restarted server may have lost the stream: make sure of it, then republish
            await self._ensure_stream()
            self._republish = True
            self.connected.set()

        last_error = [""]

        async def error(e: Exception) -> None:
            text = self._redact(self.link.error_text(e))
            if text != last_error[0]:  # once per kind, not once per retry
                last_error[0] = text
                self.say(text)

        self._nc = await self.link.connect(
            f"r2k relay {self.subjects.prefix}",
            reconnect_wait=self.reconnect_wait,
            disconnected=disconnected,
            reconnected=reconnected,
            error=error,
        )
        self._js = self._nc.jetstream(timeout=2.0)
        await self._ensure_stream()
        await self._nc.subscribe(self.subjects.sync, cb=self._on_sync)
        self.connected.set()
        self.say(
            f"publishing {self.feed.label} to {self.link.display} "
            f"({'with' if self.jetstream else 'WITHOUT'} the last-value stream "
            f"{self.subjects.stream})"
        )

    async def _ensure_stream(self) -> None:
        cfg = StreamConfig(
            name=self.subjects.stream,
            description="r2k relay: the last value per subject (board, history, relay info)",
            subjects=self.subjects.stored,
            max_msgs_per_subject=1,
            storage=StorageType.FILE,  # survives a server restart: a board while all is down
            allow_direct=True,
        )
        try:
            try:
                await self._js.add_stream(cfg)
            except BadRequestError:
                await self._js.update_stream(cfg)  # an older relay made it differently
            self.jetstream = True
        except (JsError, NatsError, TimeoutError) as e:
            self.jetstream = False
            self.say(
                f"JetStream unavailable on {self.link.url} ({type(e).__name__}); terminals "
                "that join late wait for live ticks. Start nats-server with -js to fix."
            )

    async def _publish(self, subject: str, data: bytes) -> bool:
        """Send one message; False when it could not be sent (the link is down, buffer full).

        Never waits for the server: the snapshot's subjects are bound to the stream, so the
        server stores them as they pass, and a slow JetStream cannot hold back live batches.
        """
        try:
            await self._nc.publish(subject, data)
        except (NatsError, JsError, TimeoutError) as e:
            reason = f"{type(e).__name__}: {e}".rstrip(": ")
            if reason != self._publish_error:
                self._publish_error = reason
                self.say(f"could not publish to {subject} ({self._redact(reason)})")
            return False
        self._publish_error = ""
        return True

    # ---- batches, heartbeats, snapshots --------------------------------------------------------
    async def flush(self, *, heartbeat: bool = False) -> None:
        """Publish what the feed yielded since the last batch (or a heartbeat if asked).

        A burst larger than :data:`MAX_BATCH_EVENTS`, or than the server's message size limit,
        goes out as several consecutive batches. One flush at a time: batches reach NATS in the
        order of their numbers.
        """
        async with self._flushing:
            await self._flush(heartbeat)

    async def _flush(self, heartbeat: bool) -> None:
        events, self._pending = self._pending, []
        now = time.monotonic()
        if not events and not heartbeat:
            return
        first = self._first_ms if events else 0.0
        messages: list[tuple[bytes, int]] = []  # (message, ticks in it)
        if not events:
            self._encode([], first, messages)
        for start in range(0, len(events), MAX_BATCH_EVENTS):
            self._encode(events[start : start + MAX_BATCH_EVENTS], first, messages)
        # the snapshot is taken now, while the board is exactly "all batches up to self.seq"
        snapshot = None
        since = now - self._last_snap
        if (
            self._republish
            or since >= self.snapshot_s
            or (self._sync_asked and since >= SYNC_MIN_S)
        ):
            snapshot = self._snapshot(self.seq)
            self._last_snap = now
            self._sync_asked = False
        self._last_pub = now
        for data, ticks in messages:
            if await self._publish(self.subjects.live, data):
                self.published_ticks += ticks
            else:
                self.dropped_batches += 1  # terminals see the hole in the numbering
        if snapshot is not None:
            await self._publish_snapshot(snapshot)

    async def _on_sync(self, msg: Any) -> None:
        """A terminal began syncing: the next batch brings a snapshot round (at most one every
        :data:`SYNC_MIN_S`, however many terminals ask)."""
        self._sync_asked = True

    def _max_payload(self) -> int:
        limit = getattr(self._nc, "max_payload", None) or 1_048_576
        return int(limit) - 1024  # room for the protocol line

    def _encode(self, events: list[Event], first: float, out: list[tuple[bytes, int]]) -> None:
        """Number and encode one batch (split in halves while it is over the size limit)."""
        seq = self.seq + 1
        data = codec.encode_batch(
            self.epoch,
            seq,
            time.time() * 1000,
            first,
            self.feed.now_ms(),
            codec.encode_items(events, self._redact),
        )
        if len(data) > self._max_payload() and len(events) > 1:
            mid = len(events) // 2
            self._encode(events[:mid], first, out)
            self._encode(events[mid:], first, out)
            return
        self.seq = seq
        ticks = 0
        sym_seq = self._sym_seq
        for ev in events:
            if type(ev) is Tick:
                sym_seq[ev.symbol] = seq
                ticks += 1
            elif isinstance(ev, HISTORY_TYPES):
                key = _history_key(ev)
                self._history[(type(ev).__name__, key)] = (seq, ev)
                self._hist_dirty.add(shard_of(key, self.shards))
            elif isinstance(ev, FeedStatus):
                self.upstream = ev
        out.append((data, ticks))

    def _snapshot(self, seq: int) -> list[tuple[str, bytes]]:
        """(subject, message) for the relay info, every board shard and changed history."""
        st = self.pipeline.state
        k_of = shard_of
        shards: list[list[Tick]] = [[] for _ in range(self.shards)]
        seqs: list[list[int]] = [[] for _ in range(self.shards)]
        # each symbol's session open, high and low: what a late joiner cannot learn from ticks
        ranges: list[tuple[list[float | None], ...]] = [([], [], []) for _ in range(self.shards)]
        sym_seq = self._sym_seq
        opens, highs, lows = st.open, st.high, st.low
        for i, sym in enumerate(st.symbols):
            last = st.last[i]
            if last is None:
                continue
            k = k_of(sym, self.shards)
            shards[k].append(Tick(sym, last, st.ts[i], None, st.day_volume[i], st.prev_close[i]))
            seqs[k].append(sym_seq.get(sym, 0))
            r = ranges[k]
            r[0].append(opens[i])
            r[1].append(highs[i])
            r[2].append(lows[i])
        out = [(self.subjects.meta, codec.encode_meta(self.epoch, seq, self.info()))]
        out += [
            (self.subjects.snap(k), codec.encode_chunk(self.epoch, seq, k, self.shards, t, s, r))
            for k, (t, s, r) in enumerate(zip(shards, seqs, ranges, strict=True))
        ]
        dirty = set(range(self.shards)) if self._republish else self._hist_dirty
        self._hist_dirty = set()
        self._republish = False
        if dirty:
            by_shard: dict[int, list[tuple[int, Event]]] = {k: [] for k in dirty}
            for (_, sym), entry in self._history.items():
                k = k_of(sym, self.shards)
                if k in by_shard:
                    by_shard[k].append(entry)
            out += [
                (self.subjects.hist(k), codec.encode_hist(self.epoch, seq, rows))
                for k, rows in sorted(by_shard.items())
            ]
        return out

    async def _publish_snapshot(self, messages: list[tuple[str, bytes]]) -> None:
        for subject, data in messages:
            if not await self._publish(subject, data):
                self._republish = True  # try the whole snapshot again next round
                return

    def info(self) -> dict[str, Any]:
        """What terminals show about the relay and its upstream (no secrets)."""
        return {
            "label": self._redact(self.feed.label),
            # the kind of market data (sim, replay, a provider): its terminals' alerts say it
            "kind": getattr(self.feed, "upstream_kind", "") or feed_kind(self.feed.spec),
            "estimates_indices": bool(self.feed.estimates_indices),
            "upstream": codec.event_payload(self.upstream, self._redact),
            "started_ms": self.started_ms,
            "clock_rate": float(getattr(self.feed, "speed", 1.0) or 0.0),
            "shards": self.shards,
            "batch_ms": self.batch_s * 1000,
            "heartbeat_s": self.heartbeat_s,
            "published_ticks": self.published_ticks,
            "dropped_batches": self.dropped_batches,
        }

    async def _flusher(self) -> None:
        # A plain sleep, not a timeout around an event: on Python 3.11 a cancel landing as such a
        # timeout fires is swallowed (aclose() then waited forever). A burst that outgrows one
        # message is split by flush() instead.
        while not self._closing:
            await asyncio.sleep(self.batch_s)
            quiet = time.monotonic() - self._last_pub >= self.heartbeat_s
            await self.flush(heartbeat=quiet or self._republish)

    async def _run_feed(self, feed_ms: int | None) -> None:
        try:
            await self.pipeline.run(feed_ms=feed_ms)
        finally:
            self.feed_done.set()

    async def run(self, feed_ms: int | None = None) -> None:
        """Connect, then relay the feed; keeps heartbeating after the feed ends, until cancelled.

        ``feed_ms`` stops reading the feed after that much feed time (tests, benchmarks).
        """
        await self.connect()
        self._tasks = [asyncio.create_task(self._flusher())]
        try:
            await self._run_feed(feed_ms)
            if self.upstream.state is not FeedState.ENDED:
                self._on_event(FeedStatus(FeedState.ENDED, "the relay's feed stopped"))
            await self.flush()
            await asyncio.Event().wait()  # terminals keep seeing a live relay and the last board
        finally:
            await self.say_stopped()
            await self.aclose()

    async def say_stopped(self) -> None:
        """Tell the terminals this relay stops on purpose (a last status, ``STOPPED``), so they
        say "relay stopped" rather than the connection error that follows. Best effort: at most
        a second, nothing raised."""
        if self._nc is None or not self.connected.is_set():
            return
        self._on_event(FeedStatus(FeedState.ENDED, STOPPED))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_NOTICE_S):
                await self.flush()
                await self._nc.flush(timeout=STOP_NOTICE_S)

    async def aclose(self) -> None:
        self._closing = True
        tasks, self._tasks = self._tasks, []
        await cancel_all(tasks)
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=1)
            with contextlib.suppress(Exception):
                await nc.close()
