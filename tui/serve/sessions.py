"""The desk's sessions: what a trader may run, in which environment, how many at once, and how
each ends (the transports, :mod:`tui.serve.ssh` and :mod:`tui.serve.web`, carry the bytes).

Every session is a separate process, so traders are isolated from each other and from serve:

- the monitor, ``r2k --feed nats://...`` on its own PTY (:class:`~tui.serve.proc.PtyProcess`);
- or one headless command over SSH: ``snapshot [--json] [--top N] [--duration S]``,
  ``alerts [--duration S]``, ``alerts log [--since D] [--feed W] [--json]`` (optionally written
  after ``r2k``). Anything else is refused with one line; options that name files or feeds
  (``--feed``, ``--config``, ``--holdings``, ``--record``) are not a trader's to give.

Its environment is built from nothing but what it needs: ``PATH``, ``HOME``, ``LANG``, the
client's ``TERM``, ``NO_COLOR`` and ``COLORTERM``, the desk's NATS login (``R2K_NATS_*``), and
the trader's own state directory ``<state>/desk/NAME/`` (``R2K_STATE_DIR``: levels, mutes,
acknowledgements, the alert log) with ``NAME/config.toml`` as its config file when present
(``R2K_CONFIG``; otherwise no config file at all: never the admin's). The upstream's keys are in
serve's environment and config only: no session ever sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from feeds.errors import R2KError
from feeds.settings.config import STATE_DIR_ENV
from tui.serve.record import Brake, Login, LoginLog, now_ms, say, write_status
from tui.serve.users import Users, check_name

DEFAULT_MAX_SESSIONS = 50
STOP_GRACE_S = 1.0  # hang-up to kill: a dropped session's monitor is gone within 2 s
R2K = ("-m", "tui")
FULL_LINE = "r2k serve: the desk is full ({n} session{s}); try again later"
#: a headless command's options: name -> whether it takes a value
_COMMANDS: dict[tuple[str, ...], dict[str, bool]] = {
    ("snapshot",): {"--json": False, "--top": True, "--duration": True},
    ("alerts",): {"--duration": True},
    ("alerts", "log"): {"--since": True, "--feed": True, "--json": False},
}
_USAGE = "'snapshot [--json] [--top N]', 'alerts' and 'alerts log [--since D] [--json]'"


class Refused(R2KError):
    """A request a trader may not make; its text is the one line the trader sees."""


class Proc(Protocol):
    pid: int | None

    async def start(self) -> None: ...
    async def wait(self) -> int: ...
    async def stop(self, grace: float = ...) -> int | None: ...
    def write(self, data: bytes) -> None: ...
    def resize(self, cols: int, rows: int) -> None: ...


def parse_command(command: str) -> list[str]:
    """The r2k arguments for an exec request, or Refused with the line to show.

    ``snapshot --json`` -> ``["snapshot", "--json"]``; ``r2k alerts log`` -> ``["alerts",
    "log"]``; ``cat /etc/passwd`` -> Refused."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if words[:1] == ["r2k"]:
        words = words[1:]
    head = tuple(words[:2]) if tuple(words[:2]) in _COMMANDS else tuple(words[:1])
    allowed = _COMMANDS.get(head)
    shown = " ".join(words[:1]) or command.strip() or "(nothing)"
    if allowed is None:
        raise Refused(
            f"r2k serve: '{shown[:60]}' cannot run here; a session runs the monitor "
            f"(ssh -t), or one of {_USAGE}"
        )
    rest = words[len(head) :]
    i = 0
    while i < len(rest):
        word = rest[i]
        name, eq, _value = word.partition("=")
        if name not in allowed:
            raise Refused(
                f"r2k serve: '{' '.join(head)}' does not take '{word[:40]}' here; it takes "
                f"{', '.join(sorted(allowed))}"
            )
        if allowed[name] and not eq:
            if i + 1 >= len(rest):
                raise Refused(f"r2k serve: '{name}' needs a value")
            i += 1
        elif not allowed[name] and eq:
            raise Refused(f"r2k serve: '{name}' takes no value")
        i += 1
    if head == ("alerts", "log"):
        # the log's --feed picks whose alerts (live, sim, replay, all), not a feed to open
        return ["alerts", "log", *rest]
    return [*head, *rest]


@dataclass(slots=True)
class DeskConfig:
    """What serve was started with."""

    users: Users
    root: Path  # <state>/desk
    feed_url: str  # nats://127.0.0.1:PORT[/PREFIX]: what every session consumes
    nats_env: Mapping[str, str] = field(default_factory=dict)  # the desk's NATS login
    monitor_args: Sequence[str] = ()  # e.g. --holdings PATH, as serve was given
    max_sessions: int = DEFAULT_MAX_SESSIONS
    idle_timeout: float | None = None
    python: str = sys.executable


@dataclass(slots=True, eq=False)
class Session:
    """One running monitor or command, and how to reach its client."""

    id: int
    login: Login
    kind: str  # "monitor" | "command"
    detail: str  # the command, or the terminal's size and type
    proc: Proc
    tell: Callable[[str], None]  # one line to the client (before it is disconnected)
    hang_up: Callable[[], None]  # close the client's connection or channel
    last_input: float = field(default_factory=time.monotonic)
    ended: str | None = None

    def touched(self) -> None:
        self.last_input = time.monotonic()


class Desk:
    """The registry of sessions, the login log, the status file and the failed-login brake."""

    def __init__(self, config: DeskConfig, *, started: dict[str, Any] | None = None) -> None:
        self.config = config
        self.sessions: dict[int, Session] = {}
        self.brake = Brake()
        self.log = LoginLog(config.root / "logins.jsonl")
        self.status_path = config.root / "serve.json"
        self.info: dict[str, Any] = dict(started or {})
        self._next_id = 1
        self._closing: set[asyncio.Task[None]] = set()
        self._starting = 0  # sessions whose process is starting: they hold a place already
        self.stopping = False

    # --- what a session runs, and with what --------------------------------------------------

    def trader_dir(self, name: str) -> Path:
        """``<state>/desk/NAME/`` (made 0700 on first use)."""
        path = self.config.root / check_name(name)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def env(self, name: str, client: Mapping[str, str], term: str | None) -> dict[str, str]:
        """A session's whole environment (see the module's docstring)."""
        home = self.trader_dir(name)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(home)),
            "LANG": os.environ.get("LANG") or "C.UTF-8",
            "TERM": term or "xterm-256color",
            STATE_DIR_ENV: str(home),
            # no config file unless the trader has one: XDG_CONFIG_HOME points inside the
            # trader's directory, where the default path (r2k/config.toml) does not exist
            "XDG_CONFIG_HOME": str(home / ".config"),
        }
        for key in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "TZ", "LC_ALL"):
            if os.environ.get(key):
                env[key] = os.environ[key]  # shared: fetched holdings, symbol lists
        for key in ("NO_COLOR", "COLORTERM"):
            if client.get(key):
                env[key] = client[key]
        own = home / "config.toml"
        if own.is_file():
            env["R2K_CONFIG"] = str(own)
        env.update(self.config.nats_env)
        return env

    def monitor_argv(self) -> list[str]:
        return [self.config.python, *R2K, "--feed", self.config.feed_url,
                *self.config.monitor_args]  # fmt: skip

    def command_argv(self, args: Sequence[str]) -> list[str]:
        """``args`` from :func:`parse_command`, against the desk's upstream."""
        if list(args[:2]) == ["alerts", "log"]:
            return [self.config.python, *R2K, *args]
        return [self.config.python, *R2K, args[0], "--feed", self.config.feed_url,
                *self.config.monitor_args, *args[1:]]  # fmt: skip

    # --- the registry -----------------------------------------------------------------------

    def full(self) -> bool:
        taken = len(self.sessions) + self._starting
        return self.stopping or taken >= self.config.max_sessions

    def full_line(self) -> str:
        if self.stopping:
            return "r2k serve: the desk is shutting down; try again shortly"
        n = self.config.max_sessions
        return FULL_LINE.format(n=n, s="" if n == 1 else "s")

    def refused(self, login: Login, why: str) -> None:
        """A login that got no session (desk full, a refused command): logged, not counted."""
        login.end_ms = now_ms()
        login.ended = why
        self.log.write(login)
        say(f"{login.name} from {login.address} ({login.via}) refused: {why}")

    def failed_login(self, login: Login) -> None:
        """A login that never authenticated."""
        login.end_ms = now_ms()
        login.ended = "login failed"
        self.log.write(login)
        say(
            f"failed login as '{login.name[:64]}' from {login.address} ({login.via}, "
            f"{login.failed_attempts} attempt(s))"
        )

    async def open(
        self,
        login: Login,
        kind: str,
        detail: str,
        proc: Proc,
        *,
        tell: Callable[[str], None],
        hang_up: Callable[[], None],
    ) -> Session:
        """Start ``proc`` for ``login`` and register it; OSError when it cannot start.

        Called right after :meth:`full` said no, with no await in between: the place is taken
        before the process starts, so two logins at once cannot both have the last one."""
        self._starting += 1
        try:
            await proc.start()
        finally:
            self._starting -= 1
        session = Session(self._next_id, login, kind, detail, proc, tell, hang_up)
        self._next_id += 1
        self.sessions[session.id] = session
        say(
            f"{login.name} connected from {login.address} ({login.via}, {kind}: {detail}); "
            f"{len(self.sessions)} session(s) open"
        )
        self.write_status()
        return session

    async def close(self, session: Session, why: str) -> None:
        """End ``session`` (its process group within STOP_GRACE_S + reaping) and record it.
        Safe to call twice: the first reason stands."""
        if session.ended is None:
            session.ended = why
        await session.proc.stop(STOP_GRACE_S)
        if self.sessions.pop(session.id, None) is None:
            return
        login = session.login
        login.end_ms = now_ms()
        login.ended = session.ended
        self.log.write(login)
        say(
            f"{login.name} from {login.address} ({login.via}) ended: {session.ended}; "
            f"{len(self.sessions)} session(s) open"
        )
        self.write_status()

    def close_soon(self, session: Session, why: str) -> None:
        """:meth:`close` from a synchronous callback (a connection lost)."""
        if session.ended is None:
            session.ended = why
        task = asyncio.get_running_loop().create_task(self.close(session, why))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def stop_all(self, why: str = "serve stopped") -> None:
        """Tell every client, end every session (in parallel), and wait for the closings."""
        self.stopping = True
        for s in list(self.sessions.values()):
            with contextlib.suppress(Exception):
                s.tell(f"r2k serve: {why}; the session ends now")
        await asyncio.gather(
            *(self.close(s, why) for s in list(self.sessions.values())), return_exceptions=True
        )
        for s in list(self.sessions.values()):
            with contextlib.suppress(Exception):
                s.hang_up()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def watch_idle(self) -> None:
        """End sessions with no input for ``idle_timeout`` s (checked every second)."""
        limit = self.config.idle_timeout
        if not limit:
            return
        while True:
            await asyncio.sleep(min(1.0, limit / 4))
            now = time.monotonic()
            for s in list(self.sessions.values()):
                if s.kind == "monitor" and now - s.last_input >= limit and s.ended is None:
                    with contextlib.suppress(Exception):
                        s.tell(f"r2k serve: no key pressed for {limit:g} s; the session ends")
                    s.ended = "idle timeout"
                    await self.close(s, "idle timeout")
                    with contextlib.suppress(Exception):
                        s.hang_up()

    def resized(self, session: Session, cols: int, rows: int) -> None:
        """A monitor's window changed to ``cols`` x ``rows``: ``r2k serve status`` shows the
        size the trader has now, not the one the session started with."""
        if session.kind != "monitor" or session.ended is not None:
            return
        term = session.detail.partition(" ")[2]
        detail = f"{cols}x{rows} {term}".rstrip()
        if detail != session.detail:
            session.detail = detail
            self.write_status()

    # --- r2k serve status -------------------------------------------------------------------

    def write_status(self) -> None:
        write_status(
            self.status_path,
            {
                **self.info,
                "pid": os.getpid(),
                "max_sessions": self.config.max_sessions,
                "sessions": [
                    {
                        "name": s.login.name,
                        "address": s.login.address,
                        "via": s.login.via,
                        "kind": s.kind,
                        "detail": s.detail,
                        "since": s.login.as_json()["start"],
                        "pid": s.proc.pid,
                    }
                    for s in self.sessions.values()
                ],
            },
        )
