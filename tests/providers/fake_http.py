"""A minimal HTTP/1.1 server on 127.0.0.1 for REST fakes: GET only, keep-alive, JSON replies.

Real sockets, so the client under test runs its real transport (httpx, pooling, headers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import orjson

_REASONS = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass(slots=True)
class Response:
    status: int = 200
    body: object = field(default_factory=dict)  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class FakeHTTP:
    """``async with FakeHTTP(handler) as http:`` then ``http.url``; ``http.requests`` logs calls."""

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
            await asyncio.wait_for(self._server.wait_closed(), 2)

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
                body = resp.body if isinstance(resp.body, bytes) else orjson.dumps(resp.body)
                out = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}"]
                hdrs = {"Content-Type": "application/json", **resp.headers}
                hdrs["Content-Length"] = str(len(body))
                out += [f"{k}: {v}" for k, v in hdrs.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
