"""The one HTTP/1.1 server on 127.0.0.1 behind every REST fake: GET, keep-alive, JSON replies.

Real sockets, so the client under test runs its real transport (httpx, pooling, headers). A
provider fake passes its handler (often built with ``routes``; an async one can hold a reply
back); a reply's headers are sent as given (``Retry-After``, ``Content-Type``), and
``Connection: close`` ends the connection after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson


@dataclass(slots=True)
class Request:
    method: str
    path: str  # raw, still percent-encoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names

    @property
    def unquoted(self) -> str:
        """The path percent-decoded (``/v8/finance/chart/^RUT``)."""
        return unquote(self.path)

    @property
    def last(self) -> str:
        """The last path segment, percent-decoded: the symbol of ``/v8/finance/chart/%5ERUT``."""
        return unquote(self.path.rsplit("/", 1)[-1])


@dataclass(slots=True)
class Response:
    status: int = 200
    body: object = field(default_factory=dict)  # JSON-encoded unless str or bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return orjson.dumps(self.body)


Handler = Callable[[Request], "Response | Awaitable[Response]"]


def routes(table: Mapping[str, Handler], missing: Response) -> Handler:
    """A handler dispatching on the path: a key ending in ``/`` matches every path under it,
    any other key that path exactly; ``missing`` answers the rest (each provider's own 404)."""

    def handler(req: Request) -> Response | Awaitable[Response]:
        for prefix, route in table.items():
            if req.path == prefix or (prefix.endswith("/") and req.path.startswith(prefix)):
                return route(req)
        return missing

    return handler


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


class FakeHTTP:
    """``async with FakeHTTP(handler) as http:`` then ``http.url``; ``http.requests`` logs calls.

    ``handler`` may be swapped at any time (a test letting every REST call pass, say).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.arrived = asyncio.Event()  # set on every request (tests clear it to wait again)
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeHTTP:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if n := int(headers.get("content-length", "0")):
                    await reader.readexactly(n)
                parts = urlsplit(target)
                req = Request(method, parts.path, dict(parse_qsl(parts.query)), headers)
                self.requests.append(req)
                self.arrived.set()
                resp = self.handler(req)
                if inspect.isawaitable(resp):  # a handler may hold its reply back
                    resp = await resp
                body = resp.encoded()
                out = [f"HTTP/1.1 {resp.status} {_reason(resp.status)}"]
                hdrs = {"Content-Type": "application/json", **resp.headers}
                hdrs["Content-Length"] = str(len(body))
                out += [f"{k}: {v}" for k, v in hdrs.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
                if hdrs.get("Connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
