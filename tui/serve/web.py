"""The desk in a browser tab (aiohttp): the same monitor on a PTY, drawn by xterm.js.

- Every request needs HTTP Basic authentication (RFC 7617) against ``DIR/NAME.web``, so a
  browser's own prompt and ``curl -u NAME`` work; anything else is answered 401. A right
  password is remembered for 5 minutes per (name, password, file's mtime), so a tab's four
  requests cost one argon2 check and a changed password applies at once.
- ``/`` is the page, ``/static/`` xterm.js (from the npm package, served from r2k's own files:
  nothing is fetched from elsewhere), ``/ws`` the websocket: one monitor per tab, NAME's state as
  over SSH. Keys go up as ``["stdin", text]``, the size as ``["resize", {"cols", "rows"}]``;
  the output comes down as binary frames.
- It binds to loopback unless ``--tls-cert``/``--tls-key`` are given (Basic authentication
  sends the password in the clear): :func:`check_bind` refuses anything else with one line.
- Closing the tab (or losing the connection) ends the monitor within 2 s.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import ipaddress
import ssl
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from feeds.errors import R2KError
from tui.serve.proc import PtyProcess
from tui.serve.record import Login

if TYPE_CHECKING:
    from tui.serve.sessions import Desk, Session

STATIC = Path(__file__).parent / "static"
REALM = 'Basic realm="r2k desk", charset="UTF-8"'
REMEMBER_S = 300.0
MAX_BUFFERED = 1 << 20  # output waiting for a slow browser before the monitor is held back
_USER = web.AppKey("user", str)


#: the page is never framed by another site (clickjacking), cached, or sniffed
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # xterm.js sets inline styles on the cells it draws
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def same_origin(request: web.Request) -> bool:
    """Whether a websocket request comes from the desk's own page: no ``Origin`` (not a
    browser: curl, a script) or one whose host is the request's ``Host``."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    from urllib.parse import urlsplit

    return urlsplit(origin).netloc.lower() == request.host.lower()


class WebUsageError(R2KError):
    """--web cannot be served as asked."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """The TLS context for ``--web`` (None on plain loopback); WebUsageError for a public bind
    without TLS, or one of cert/key without the other, or files that do not load."""
    if bool(cert) != bool(key):
        raise WebUsageError("--tls-cert and --tls-key go together; give both, or neither")
    if not cert:
        if not is_loopback(host):
            raise WebUsageError(
                f"--web {host} is not loopback and the password would cross the network in "
                "the clear; give --tls-cert PATH --tls-key PATH, or bind 127.0.0.1 (behind "
                "a TLS proxy)"
            )
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(str(Path(cert).expanduser()), str(Path(key or "").expanduser()))
    except (OSError, ssl.SSLError) as e:
        raise WebUsageError(f"cannot load --tls-cert/--tls-key: {e}") from None
    return ctx


def _credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = raw.partition(":")
    return (name, password) if sep else None


class WebDesk:
    """The aiohttp application over a :class:`~tui.serve.sessions.Desk`."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._known: dict[tuple[str, str, float], float] = {}  # -> monotonic expiry
        self.sockets: set[web.WebSocketResponse] = set()
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes(
            [
                web.get("/", self.index),
                web.get("/ws", self.websocket),
                web.static("/static", STATIC),
            ]
        )
        self.app.on_shutdown.append(self._on_shutdown)

    # --- authentication ---------------------------------------------------------------------

    def _mtime(self, name: str) -> float:
        try:
            return self.desk.config.users.web_path(name).stat().st_mtime
        except (OSError, R2KError):
            return -1.0

    async def _check(self, name: str, password: str) -> bool:
        digest = hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()
        key = (name, digest, self._mtime(name))
        now = time.monotonic()
        if self._known.get(key, 0.0) > now:
            return True
        users = self.desk.config.users
        ok = await asyncio.get_running_loop().run_in_executor(
            None, users.check_password, name, password
        )
        if ok:
            if len(self._known) > 1000:
                self._known.clear()
            self._known[key] = now + REMEMBER_S
        return ok

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        address = request.remote or "?"
        given = _credentials(request.headers.get("Authorization"))
        delay = self.desk.brake.delay(address)
        if given is not None and await self._check(*given):
            request[_USER] = given[0]
            return await handler(request)
        if given is not None:  # a wrong name or password: counted, slowed
            self.desk.brake.failed(address)
            login = Login(given[0][:64], address, "web", failed_attempts=1)
            self.desk.failed_login(login)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(
            status=401,
            text="r2k serve: a trader's name and web password are needed "
            "(set with r2k serve passwd NAME --users DIR)\n",
            headers={"WWW-Authenticate": REALM},
        )

    # --- the page and the monitor -----------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        if self.desk.full():
            return web.Response(status=503, text=self.desk.full_line() + "\n")
        return web.FileResponse(STATIC / "desk.html", headers=PAGE_HEADERS)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            # a page from another site must not drive the monitor with the browser's cached
            # credentials (cross-site websocket hijacking): browsers always send Origin
            return web.Response(status=403, text="r2k serve: the desk's page only\n")
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=1 << 16)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            await self._serve_tab(request, ws)
        finally:
            self.sockets.discard(ws)
        return ws

    async def _serve_tab(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        desk = self.desk
        name = request[_USER]
        login = Login(name, request.remote or "?", "web")

        def size(key: str, default: int) -> int:
            try:
                return max(2, min(int(request.query.get(key, default)), 1000))
            except ValueError:
                return default

        cols, rows = size("cols", 100), size("rows", 30)
        if desk.full():
            await ws.send_bytes((desk.full_line() + "\r\n").encode())
            desk.refused(login, "desk full")
            await ws.close()
            return
        out = _Output(ws)
        term = "xterm-256color"
        env = desk.env(name, {"COLORTERM": "truecolor"}, term)
        proc = PtyProcess(desk.monitor_argv(), env, cols=cols, rows=rows, on_output=out.put)
        out.proc = proc

        def tell(text: str) -> None:
            out.put(b"\x1b[?1049l\x1b[?25h\x1b[0m\r\n" + text.encode() + b"\r\n")
            out.muted = True  # a frame drawn after this line would hide it

        def hang_up() -> None:
            out.finish()

        try:
            session = await desk.open(
                login, "monitor", f"{cols}x{rows} browser", proc, tell=tell, hang_up=hang_up
            )
        except OSError as e:
            await ws.send_bytes(f"r2k serve: the monitor could not start: {e}\r\n".encode())
            desk.refused(login, f"start failed: {e}")
            await ws.close()
            return
        sender = asyncio.create_task(out.run())
        exited = asyncio.create_task(proc.wait())
        reader = asyncio.create_task(self._read(ws, session, proc))
        why = "connection closed"
        try:
            done, _ = await asyncio.wait({exited, reader}, return_when=asyncio.FIRST_COMPLETED)
            if exited in done:
                why = f"monitor exited ({exited.result()})"
        finally:
            reader.cancel()
            exited.cancel()
            await desk.close(session, why)
            out.finish()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sender, 1.0)
            with contextlib.suppress(Exception):
                await ws.close()

    async def _read(self, ws: web.WebSocketResponse, session: Session, proc: PtyProcess) -> None:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = orjson.loads(msg.data)[:2]
            except (orjson.JSONDecodeError, ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                session.touched()
                proc.write(data.encode("utf-8", "replace"))
            elif kind == "binary" and isinstance(data, str):
                session.touched()
                proc.write(data.encode("latin-1", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                # a size the page got wrong (missing, not a number, beyond a terminal's
                # 16 bits) is ignored: it must not end the trader's session
                with contextlib.suppress(TypeError, ValueError, KeyError):
                    cols, rows = (max(2, min(int(data[k]), 1000)) for k in ("cols", "rows"))
                    proc.resize(cols, rows)
                    self.desk.resized(session, cols, rows)

    async def _on_shutdown(self, app: web.Application) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"r2k serve stopped")


class _Output:
    """The monitor's output on its way to one browser: coalesced, in order, and holding the
    monitor back (its PTY fills) while more than MAX_BUFFERED bytes wait."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.buf = bytearray()
        self.ready = asyncio.Event()
        self.done = False
        self.proc: PtyProcess | None = None
        self.held = False
        self.muted = False

    def put(self, data: bytes) -> None:
        if self.muted:
            return
        self.buf += data
        self.ready.set()
        if len(self.buf) > MAX_BUFFERED and self.proc is not None and not self.held:
            self.held = True
            self.proc.pause_reading()

    def finish(self) -> None:
        self.done = True
        self.ready.set()

    async def run(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            if self.buf:
                chunk, self.buf = bytes(self.buf), bytearray()
                try:
                    await self.ws.send_bytes(chunk)
                except (ConnectionError, RuntimeError):
                    return
                if self.held and self.proc is not None:
                    self.held = False
                    self.proc.resume_reading()
            if self.done and not self.buf:
                return


async def start_web(
    desk: Desk, host: str, port: int, tls: ssl.SSLContext | None
) -> tuple[web.AppRunner, WebDesk]:
    """Serve the desk over HTTP(S) at ``host:port``; ``runner.cleanup()`` stops it."""
    webdesk = WebDesk(desk)
    runner = web.AppRunner(webdesk.app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=tls, reuse_address=True)
    await site.start()
    return runner, webdesk
