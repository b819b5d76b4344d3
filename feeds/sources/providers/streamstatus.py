"""What a websocket feed tells about itself: one :class:`~feeds.events.FeedStatus` made from the
states of its connections and what the feed observed (a refusal, silence, garbled frames).

:class:`~feeds.sources.providers.stream.StreamFeed` owns the connections and the frames; this
owns the bookkeeping of their statuses: each connection's state, detail, host and next retry, the
reason the feed ended, whether it is stale or garbled, and which status was last sent, so the
same status is never sent twice (the monitor reports every second; only a change reaches the
consumer). It takes plain inputs (states, details already masked, counts) and is tested without
a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from feeds.events import Event, FeedState, FeedStatus
from feeds.feed import FeedOptions


class StreamStatus:
    """The statuses of a websocket feed's connections, told as one :class:`FeedStatus`.

    The feed is LIVE when every connection is; otherwise it takes the state and detail of a
    connection that is RECONNECTING (else of the first that is not live), with "(up/total
    connections up)" when it has several. A fatal reason makes it ERROR; garbled frames
    (``garbled``) or silence while the market is open (``stale``) make live connections STALE.
    ``put`` receives each new status as a one-event batch; the feed's ``options.stale_after``
    (seconds, read when worded) and ``garbled_run`` (the run of frames that made it garbled,
    set with ``garbled``) only word the details.
    """

    __slots__ = (
        "_put",
        "_reported",
        "any_good",
        "details",
        "fatal",
        "garbled",
        "garbled_run",
        "hosts",
        "options",
        "provider",
        "retry_at",
        "stale",
        "states",
    )

    def __init__(
        self,
        provider: str,
        put: Callable[[list[Event]], None],
        options: FeedOptions,
    ) -> None:
        self.provider = provider
        self._put = put
        self.options = options
        self.states: list[FeedState] = []
        self.details: list[str] = []
        self.hosts: list[str] = []  # host:port each connection tries
        self.retry_at: list[int] = []  # epoch ms of each connection's next attempt (0: none)
        self.fatal = ""  # why the feed ended with ERROR
        self.stale = False  # no ticks for options.stale_after s while the market is open
        self.garbled = False  # frames are unreadable (see StreamFeed.garbled_run)
        self.garbled_run = 0  # unreadable frames in a row that make it garbled after good ones
        self.any_good = False  # a readable frame has arrived
        self._reported: tuple[object, ...] | None = None

    def start(self, connections: int) -> None:
        """``connections`` connections, each CONNECTING (before any attempt)."""
        self.states = [FeedState.CONNECTING] * connections
        self.details = [f"connecting to {self.provider}"] * connections
        self.hosts = [""] * connections
        self.retry_at = [0] * connections

    def connection(self, n: int, state: FeedState, detail: str) -> None:
        """Connection ``n`` is now ``state``, for the reason ``detail`` (masked by the caller)."""
        self.states[n] = state
        self.details[n] = detail

    def all_live(self) -> bool:
        return all(s is FeedState.LIVE for s in self.states)

    def current(self, note: str = "") -> tuple[FeedState, str]:
        """The feed's state and detail now; ``note`` (masked) follows the detail unless ERROR."""
        states = self.states
        total = len(states)
        up = sum(1 for s in states if s is FeedState.LIVE)
        if self.fatal:
            state, detail = FeedState.ERROR, self.fatal
        elif up == total:
            if self.garbled:
                state, detail = FeedState.STALE, self._garbled_detail()
            elif self.stale:
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
            detail = self.details[worst]
            if total > 1:
                detail = f"{detail} ({up}/{total} connections up)"
        if note and state is not FeedState.ERROR:
            detail = f"{detail}; {note}"
        return state, detail

    def report(self, malformed: int, reconnects: int, note: str = "") -> None:
        """Send the feed's status if it changed since the last one sent (its state, detail,
        the malformed frame count, the reconnect attempts or the earliest next retry)."""
        state, detail = self.current(note)
        # the note is named apart (FeedStatus.note) so a failed run's reason stays short
        note = note if note and state is not FeedState.ERROR else ""
        retry_at = min((t for t in self.retry_at if t), default=0)
        key = (state, detail, malformed, reconnects, retry_at)
        if key != self._reported:
            self._reported = key
            now = int(time.time() * 1000)
            self._put([FeedStatus(state, detail, now, malformed, reconnects, retry_at, note)])

    def _stale_detail(self) -> str:
        # no running age here: the detail is the status's identity, and the screen shows the age
        return f"no ticks for over {self.options.stale_after:.0f} s while the market is open"

    def _garbled_detail(self) -> str:
        hosts = ", ".join(sorted({h for h in self.hosts if h})) or self.provider
        var = f"R2K_{self.provider.upper()}_URL"
        if not self.any_good:
            return (
                f"nothing readable from {hosts}: every frame is malformed; "
                f"check that {var} points at a {self.provider} server"
            )
        return (
            f"the last {self.garbled_run}+ frames from {hosts} were malformed; "
            f"check that {var} points at a {self.provider} server"
        )
