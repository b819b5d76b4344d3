"""The lifecycle every websocket fake shares: serve on a free 127.0.0.1 port, log connections,
wake waiters on every change, and start/stop the provider's REST fake alongside.

A provider fake subclasses ``FakeWS`` and writes only its wire protocol: ``connect`` (the record
of one client connection), ``session`` (the exchange on it; a client going away ends it quietly),
optionally ``closed`` (after the session), ``process_request`` (refuse the HTTP upgrade) and
``_env`` (the settings pointing the client at the fake).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

import websockets
from websockets import http11
from websockets.asyncio.server import Server, ServerConnection

from tests.sources.providers.fake_http import FakeHTTP

C = TypeVar("C")


class FakeWS(Generic[C]):
    """``async with Fake() as fake:`` serves; ``fake.ws_url`` is ``ws://127.0.0.1:<port>`` plus
    the class's ``path``; ``fake.conns`` every connection in arrival order."""

    path = ""
    http: FakeHTTP | None = None  # the provider's REST fake, served alongside

    def __init__(self) -> None:
        self.conns: list[C] = []
        self.changed = asyncio.Condition()
        self.port = 0
        self._server: Server | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    async def __aenter__(self) -> Self:
        self._server = await websockets.serve(
            self._handler, "127.0.0.1", 0, process_request=self.process_request
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        if self.http is not None:
            await self.http.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)
        if self.http is not None:
            await self.http.__aexit__()

    def env(self, **extra: str) -> dict[str, str]:
        """The environment pointing the client at this fake, ``extra`` on top."""
        return {**self._env(), **extra}

    def _env(self) -> dict[str, str]:
        return {}

    # ---- waiting (events, not sleeps) -----------------------------------------------------------
    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(predicate)

    async def nth(
        self, of: Callable[[C], bool], n: int, ready: Callable[[C], bool], within: float = 5.0
    ) -> C:
        """The ``n``-th connection (1-based) among those ``of`` selects, once ``ready`` holds."""

        def found() -> C | None:
            group = [c for c in self.conns if of(c)]
            return group[n - 1] if len(group) >= n and ready(group[n - 1]) else None

        await self.wait_until(lambda: found() is not None, within)
        conn = found()
        assert conn is not None
        return conn

    # ---- the protocol, per provider -------------------------------------------------------------
    def process_request(
        self, connection: ServerConnection, request: http11.Request
    ) -> http11.Response | None:
        return None  # accept every upgrade

    def connect(self, ws: ServerConnection) -> C:
        raise NotImplementedError

    async def session(self, ws: ServerConnection, conn: C) -> Any:
        raise NotImplementedError

    async def closed(self, conn: C) -> None:
        """After the session, however it ended."""

    async def _handler(self, ws: ServerConnection) -> None:
        conn = self.connect(ws)
        self.conns.append(conn)
        await self.notify()
        try:
            await self.session(ws, conn)
        except websockets.ConnectionClosed:
            pass  # the client went away (a reconnect test, the end of a run)
        finally:
            await self.closed(conn)
            await self.notify()
