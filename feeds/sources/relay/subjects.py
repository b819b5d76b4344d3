"""NATS subjects and the JetStream stream of one relay, all under a prefix (default ``r2k``).

* ``P.live``: batches (core NATS, not stored: a terminal only wants them while it listens).
* ``P.snap.meta``: who the relay is (upstream label, status, clock) as of a batch.
* ``P.snap.<k>``: shard ``k`` of the last-value board: the latest tick of every symbol whose
  CRC-32 is ``k`` modulo the shard count, republished every snapshot round.
* ``P.hist.<k>``: shard ``k`` of the history (daily closes, backfill bars), on change.
* ``P.sync``: a terminal that starts syncing (joining late, after lost batches or a relay
  restart) asks here for a snapshot round now, rather than at the next second (core NATS, empty
  body; a relay that does not know it, or an account that may not publish, leaves the terminal
  to the periodic round).

``P.snap.>`` and ``P.hist.>`` are kept in the stream ``R2K_<P>`` with one message per subject
(``max_msgs_per_subject = 1``), so a terminal that joins late reads the whole board at once, even
while the relay is down. Prefixes let several relays (one per provider, say) share a server.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

DEFAULT_PREFIX = "r2k"
#: the detail of the last status a relay publishes when it stops cleanly (Ctrl+C, --duration):
#: its terminals then say so rather than the connection error that follows
STOPPED = "relay stopped"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def check_prefix(prefix: str) -> str:
    """A prefix of dot-separated tokens of letters, digits, ``-`` and ``_``; raises ValueError."""
    parts = prefix.split(".")
    if not prefix or not all(_TOKEN.match(p) for p in parts):
        raise ValueError(
            f"relay prefix {prefix!r} must be words of letters, digits, - or _ joined by dots "
            "(e.g. r2k or desk.alpaca)"
        )
    return prefix


def shard_of(symbol: str, shards: int) -> int:
    """The snapshot shard of a symbol: stable across processes and machines (CRC-32)."""
    return zlib.crc32(symbol.encode()) % shards


@dataclass(frozen=True, slots=True)
class Subjects:
    prefix: str = DEFAULT_PREFIX

    @property
    def live(self) -> str:
        return f"{self.prefix}.live"

    @property
    def meta(self) -> str:
        return f"{self.prefix}.snap.meta"

    def snap(self, shard: int) -> str:
        return f"{self.prefix}.snap.{shard}"

    @property
    def snap_all(self) -> str:
        return f"{self.prefix}.snap.>"

    @property
    def sync(self) -> str:
        return f"{self.prefix}.sync"

    def hist(self, shard: int) -> str:
        return f"{self.prefix}.hist.{shard}"

    @property
    def stored(self) -> list[str]:
        return [f"{self.prefix}.snap.>", f"{self.prefix}.hist.>"]

    @property
    def stream(self) -> str:
        """JetStream names allow no dots: ``desk.alpaca`` -> ``R2K_DESK_ALPACA``."""
        return "R2K_" + self.prefix.replace(".", "_").replace("-", "_").upper()
