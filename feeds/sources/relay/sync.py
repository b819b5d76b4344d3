"""A relay terminal's sequence bookkeeping (issue 17; split out of
:class:`feeds.sources.relay.consumer.NatsFeed`): which relay run (*epoch*) it follows, the last
batch applied, the batches it missed, the batch each symbol's value and each stored history came
from, and whether the board is in step with the relay or is being resynchronised from its
snapshot.

It takes plain inputs (an epoch, batch numbers, the relay's feed time in epoch ms, decoded events
and snapshot chunks) and says what to do: apply, drop a duplicate, fetch the snapshot, reset the
board. The feed does the I/O (NATS, the event queue, the ``synced`` event).
"""

from __future__ import annotations

from typing import NamedTuple

from feeds.events import Event, FeedState, FeedStatus, Tick
from feeds.sources.relay import codec
from feeds.timefmt import exchange_time

#: a restarted relay whose feed clock is this far behind the last run's (ms) started its market
#: over (the sim, a replay): the board is reset, not left to outrank the new run's prints.
#: Clocks of live feeds never go back by this much (it covers skew between relay machines).
REWIND_MS = 5_000
UNSET = -1


def plural(n: int, word: str) -> str:
    """``1 batch``, ``3 batches``."""
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('ch') else 's'}"


class Step(NamedTuple):
    """What a live batch asks of the feed (:meth:`RelaySync.on_batch`)."""

    #: fetch the relay's snapshot: a new relay run or missed batches (a resync has begun)
    fetch: bool = False
    #: the relay's market started over: reset the board, with this reason ("": no reset)
    reset: str = ""


class RelaySync:
    """Sequence tracking (one relay run = one epoch) and the resync from the snapshot.

    ``reason`` is None while the board is in step with the relay; otherwise what the status line
    shows meanwhile, with ``state`` (CONNECTING when joining, STALE after a loss) until every
    shard of the snapshot is exact as of ``need`` (a batch number) or later (:meth:`check`).
    """

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.last_seq = 0  # the last batch applied
        self.sym_seq: dict[str, int] = {}  # symbol -> batch of the last value applied
        self.hist_seq: dict[tuple[str, str], int] = {}  # (event type, symbol) -> batch
        self.upstream_seq = UNSET  # the batch (or relay info) the upstream status came from
        self.missed_batches = 0  # batches never received (each shown, then resynced)
        self.gaps = 0
        self.resyncs = 0
        #: the latest time this run's data reached (batch clocks, stored ticks): a new run
        #: starting well before it rewound (REWIND_MS)
        self.newest_ms = 0
        # --- resync: reason None when in step with the relay
        self.reason: str | None = None
        self.state = FeedState.CONNECTING
        self.need: int | None = None  # every shard must be exact as of this batch
        self.shard_seq: dict[int, int] = {}

    def new_epoch(self, epoch: str) -> None:
        """Follow relay run ``epoch`` from its start: nothing of the last run's numbers holds."""
        self.epoch = epoch
        self.newest_ms = 0
        self.last_seq = 0
        self.upstream_seq = UNSET
        self.sym_seq.clear()
        self.hist_seq.clear()

    def begin(self, reason: str, state: FeedState = FeedState.CONNECTING) -> None:
        """Follow the snapshot rounds until every shard is exact as of :attr:`need` or later.

        ``reason`` and ``state`` are shown meanwhile (CONNECTING when joining, STALE after a loss).
        """
        self.reason = reason
        self.state = state
        self.need = None
        self.shard_seq = {}
        self.resyncs += 1

    def on_batch(self, epoch: str, seq: int, feed_ms: int) -> Step | None:
        """A live batch ``seq`` of run ``epoch``, stamped ``feed_ms`` (the relay's feed clock,
        epoch ms): None for a duplicate (a server replaying after a reconnect: already applied),
        else what the feed must do before applying it (:class:`Step`). A batch number that skips
        ahead counts the missed batches and begins a resync; a new run begins one too, and one
        whose clock starts :data:`REWIND_MS` behind the last run's resets the board."""
        fetch, reset = False, ""
        if epoch != self.epoch:
            restarted = self.epoch is not None
            rewound = restarted and feed_ms < self.newest_ms - REWIND_MS
            self.new_epoch(epoch)
            if rewound:
                when = exchange_time(feed_ms).strftime("%H:%M:%S ET %a %d %b")
                reset = f"relay restarted; its feed started over at {when}: board reset"
            if restarted:
                self.begin(reset or "relay restarted; syncing its board", FeedState.STALE)
                fetch = True
            self.need = seq - 1
        elif self.last_seq == 0:  # the first batch of this run we hear: the sync starts here
            if self.need is None:
                self.need = seq - 1
        elif seq <= self.last_seq:
            return None
        elif seq > self.last_seq + 1:
            missed = seq - self.last_seq - 1
            self.missed_batches += missed
            self.gaps += 1
            span = f"seq {self.last_seq + 1}" + (f"-{seq - 1}" if missed > 1 else "")
            self.begin(
                f"missed {plural(missed, 'batch')} ({span}); resyncing the board", FeedState.STALE
            )
            self.need = seq - 1
            fetch = True
        elif self.need is None and self.reason is not None:
            self.need = seq - 1
        self.last_seq = seq
        self.newest_ms = max(self.newest_ms, feed_ms)
        return Step(fetch, reset)

    def take(self, seq: int, events: list[Event]) -> tuple[list[Event], FeedStatus | None]:
        """Batch ``seq``'s events to apply (each tick and history marked as of ``seq``) and the
        upstream's status it carried (the last; None when it carried none)."""
        out: list[Event] = []
        upstream = None
        sym_seq = self.sym_seq
        for ev in events:
            if type(ev) is Tick:
                sym_seq[ev.symbol] = seq
                out.append(ev)
            elif isinstance(ev, FeedStatus):
                upstream = ev  # folded into the feed's own status
                self.upstream_seq = seq
            else:
                sym = getattr(ev, "symbol", None)
                if sym is not None:
                    self.hist_seq[(type(ev).__name__, sym)] = seq
                out.append(ev)
        return out, upstream

    def ours(self, epoch: str) -> bool:
        """A stored message of the relay run we follow (or of any run while we follow none)."""
        if self.epoch is None:
            self.epoch = epoch
        return epoch == self.epoch

    def on_chunk(self, chunk: codec.Chunk) -> list[Event] | None:
        """A snapshot shard: the ticks newer than what was applied (nothing rolls back), then
        every symbol's session range (:class:`~feeds.events.SessionRange`: the relay's open,
        and a high and low the board widens to, so applying it again changes nothing), and the
        shard counted as exact as of the chunk's batch. None when it is another run's."""
        if not self.ours(chunk.epoch):
            return None
        out: list[Event] = []
        sym_seq = self.sym_seq
        for tick, s in zip(chunk.ticks, chunk.tick_seqs, strict=True):
            if s > sym_seq.get(tick.symbol, UNSET):
                sym_seq[tick.symbol] = s
                out.append(tick)
        if out:
            self.newest_ms = max(self.newest_ms, max(t.ts for t in out))
        out.extend(chunk.ranges)  # after the ticks: a tick may start the session they are of
        self.shard_seq[chunk.shard] = max(self.shard_seq.get(chunk.shard, UNSET), chunk.seq)
        return out

    def on_hist(self, epoch: str, entries: list[tuple[int, Event]]) -> list[Event]:
        """A stored history shard's ``(batch, event)`` entries: those newer than what was
        applied (none when it is another run's)."""
        if not self.ours(epoch):
            return []
        out: list[Event] = []
        for s, ev in entries:
            key = (type(ev).__name__, getattr(ev, "symbol", ""))
            if s > self.hist_seq.get(key, UNSET):
                self.hist_seq[key] = s
                out.append(ev)
        return out

    def check(self, shards: int) -> bool:
        """True when a resync has just finished: every one of ``shards`` snapshot shards is
        exact as of :attr:`need` or later (the board is in step; :attr:`reason` is None)."""
        need = self.need
        if self.reason is None or need is None:
            return False
        if all(self.shard_seq.get(k, UNSET) >= need for k in range(shards)):
            self.reason = None
            return True
        return False
