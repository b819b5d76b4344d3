"""Drive a feed in the background and wait for the events a test expects (no sleeps)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from feeds.events import Event, FeedState, FeedStatus, Tick
from feeds.feed import Feed

WAIT = 10.0  # a generous upper bound for one awaited event; tests never sleep to synchronise


class Collector:
    """``async with Collector(feed) as col:`` iterates ``feed`` in a task; ``col.events`` is all
    that arrived, ``await col.wait(pred)`` the first event (seen or to come) matching ``pred``."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.events: list[Event] = []
        self.ended = asyncio.Event()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.feed.aclose()
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        try:
            async for ev in self.feed:
                self.events.append(ev)
                async with self._changed:
                    self._changed.notify_all()
        finally:
            self.ended.set()
            async with self._changed:
                self._changed.notify_all()

    async def wait(
        self, pred: Callable[[Any], bool], *, after: int = 0, within: float = WAIT
    ) -> Any:
        """The first event at index >= ``after`` matching ``pred``."""

        def found() -> Any:
            for ev in self.events[after:]:
                if pred(ev):
                    return ev
            return None

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: found() is not None or self.ended.is_set())
        ev = found()
        if ev is None:
            raise AssertionError(f"feed ended without the expected event; got {self.events!r}")
        return ev

    async def status(
        self, state: FeedState, text: str = "", *, after: int = 0, within: float = WAIT
    ) -> FeedStatus:
        """The first status in ``state`` whose detail contains ``text``."""
        return await self.wait(
            lambda e: isinstance(e, FeedStatus) and e.state is state and text in e.detail,
            after=after,
            within=within,
        )

    async def tick(self, symbol: str, *, after: int = 0, within: float = WAIT) -> Tick:
        return await self.wait(
            lambda e: type(e) is Tick and e.symbol == symbol, after=after, within=within
        )

    async def end(self, within: float = WAIT) -> None:
        """Until the feed stops by itself (a fatal error)."""
        async with asyncio.timeout(within):
            await self.ended.wait()

    def statuses(self) -> list[FeedStatus]:
        return [e for e in self.events if isinstance(e, FeedStatus)]

    def ticks(self) -> list[Tick]:
        return [e for e in self.events if type(e) is Tick]


async def run_to_end(feed: Feed) -> Collector:
    """Run ``feed`` until it stops by itself; the collector holds everything it said."""
    async with Collector(feed) as col:
        await col.end()
    return col
