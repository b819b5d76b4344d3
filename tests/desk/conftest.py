"""A real ``r2k serve`` (a subprocess on 127.0.0.1, free ports, its own state directory) and the
clients the desk tests drive it with: asyncssh's, OpenSSH's ``ssh`` on a PTY, and pyte as the
terminal whose screen the tests read."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyte
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # cryptography's DSA deprecation, on asyncssh's import
    import asyncssh

from tui.serve.users import Users

R2K = [sys.executable, "-m", "tui"]
TRADERS = ("ann", "bob", "cy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Desk:
    """A users directory with keys (and ann's web password) and the state directory."""

    root: Path
    keys: dict[str, asyncssh.SSHKey] = field(default_factory=dict)
    stranger: asyncssh.SSHKey | None = None
    password = "ann-web-pass-1"

    @property
    def users(self) -> Path:
        return self.root / "users"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def desk_dir(self) -> Path:
        return self.state / "r2k" / "desk"

    def key_file(self, name: str) -> Path:
        path = self.root / f"{name}_key"
        if not path.exists():
            self.keys[name].write_private_key(path)
            path.chmod(0o600)
        return path


def make_desk(root: Path) -> Desk:
    desk = Desk(root)
    desk.users.mkdir(parents=True)
    for name in TRADERS:
        key = asyncssh.generate_private_key("ssh-ed25519", comment=name)
        desk.keys[name] = key
        (desk.users / f"{name}.keys").write_bytes(key.export_public_key())
    desk.stranger = asyncssh.generate_private_key("ssh-ed25519", comment="stranger")
    Users(desk.users).set_password("ann", desk.password)
    return desk


class Serve:
    """``r2k serve`` as a subprocess; its stderr lines are collected as they come."""

    def __init__(self, desk: Desk, *args: str, env: dict[str, str] | None = None) -> None:
        self.desk = desk
        self.ssh_port = free_port()
        self.web_port = free_port()
        self.argv = [*R2K, "serve", "--users", str(desk.users),
                     "--ssh", f"127.0.0.1:{self.ssh_port}",
                     "--web", f"127.0.0.1:{self.web_port}", *args]  # fmt: skip
        base = {k: v for k, v in os.environ.items() if not k.startswith("R2K_")}
        self.env = {
            **base,
            "XDG_STATE_HOME": str(desk.state),
            "XDG_CONFIG_HOME": str(desk.root / "config"),  # never the machine's config
            **(env or {}),
        }
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Serve:
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_line(lambda s: "sessions" in s and "upstream:" in s, 60, "serve listening")
        if "--nats" not in self.argv:  # the embedded relay publishing: sessions start live
            self.wait_line(lambda s: "upstream: feed live" in s, 60, "the upstream live")
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pred: Callable[[str], bool], within: float, what: str) -> str:
        deadline = time.monotonic() + within
        with self._cond:
            while True:
                for line in self.lines:
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                assert self.proc is not None
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no '{what}' from serve; it said: {self.lines[-15:]}")
                self._cond.wait(min(left, 0.2))

    def status(self) -> dict[str, Any]:
        return orjson.loads((self.desk.desk_dir / "serve.json").read_bytes())

    def session_pids(self, name: str) -> list[int]:
        return [s["pid"] for s in self.status()["sessions"] if s["name"] == name]

    def logins(self) -> list[dict[str, Any]]:
        path = self.desk.desk_dir / "logins.jsonl"
        if not path.exists():
            return []
        return [orjson.loads(x) for x in path.read_bytes().splitlines() if x]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    return make_desk(tmp_path_factory.mktemp("desk"))


@pytest.fixture(scope="session")
def serve(desk: Desk) -> Iterator[Serve]:
    """One serve for the SSH and web tests: the sim at 20x, at most 3 sessions."""
    server = Serve(desk, "--feed", "sim", "--speed", "20", "--max-sessions", "3").start()
    try:
        yield server
    finally:
        server.stop()


# --- the terminal the tests read ---------------------------------------------------------------


class Screen:
    """A pyte screen fed with a session's bytes; ``wait_for`` polls it as bytes arrive."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = asyncio.Event()
        self.closed = False
        self.raw = bytearray()

    def feed(self, data: bytes) -> None:
        self.raw += data
        self.stream.feed(data)
        self.changed.set()

    def close(self) -> None:
        self.closed = True
        self.changed.set()

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    @property
    def rows(self) -> list[str]:
        return list(self.screen.display)

    async def wait_for(self, pred: Callable[[Screen], bool], within: float = 30.0) -> None:
        async with asyncio.timeout(within):
            while not pred(self):
                if self.closed:
                    raise AssertionError(f"the session closed; the screen:\n{self.text}")
                self.changed.clear()
                await self.changed.wait()

    async def wait_text(self, *parts: str, within: float = 30.0) -> None:
        try:
            await self.wait_for(lambda s: all(p in s.text for p in parts), within)
        except TimeoutError:
            raise AssertionError(f"{parts} never showed; the screen:\n{self.text}") from None


class _Client(asyncssh.SSHClientSession[bytes]):
    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.stderr = bytearray()
        self.exit_status: int | None = None

    def data_received(self, data: bytes, datatype: Any) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr += data
        self.screen.feed(data)

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.screen.close()


async def connect(serve: Serve, name: str, key: asyncssh.SSHKey | None = None, **kw: Any) -> Any:
    """An asyncssh connection as ``name`` with ``key`` (default: name's own)."""
    if key is None and "password" not in kw:
        key = serve.desk.keys[name]
    return await asyncssh.connect(
        "127.0.0.1",
        serve.ssh_port,
        username=name,
        client_keys=[key] if key is not None else None,
        known_hosts=None,
        agent_path=None,
        config=None,
        **kw,
    )


@dataclass
class Monitor:
    conn: Any
    chan: Any
    client: _Client
    screen: Screen

    def keys(self, text: str) -> None:
        self.chan.write(text.encode())

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(cols, rows)
        self.chan.change_terminal_size(cols, rows)

    async def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(Exception):
            await self.conn.wait_closed()


async def open_monitor(
    serve: Serve, name: str, cols: int = 100, rows: int = 30, **env: str
) -> Monitor:
    """``ssh -t name@serve``: the monitor on a pyte screen of ``cols`` x ``rows``."""
    conn = await connect(serve, name)
    screen = Screen(cols, rows)
    chan, client = await conn.create_session(
        lambda: _Client(screen),
        term_type="xterm-256color",
        term_size=(cols, rows),
        encoding=None,
        env=env or None,
    )
    return Monitor(conn, chan, client, screen)


async def until(cond: Callable[[], object], within: float = 20.0, what: str = "") -> float:
    """Wait for ``cond()`` (checked every 20 ms); the seconds it took. Fails after ``within``."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > within:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or cond}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def environ(pid: int) -> dict[str, str]:
    """A process's environment, from /proc."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    return dict(x.split("=", 1) for x in raw.split("\0") if "=" in x)


def pids_in_group(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (a session's monitor and its children)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
