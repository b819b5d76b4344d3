"""``r2k serve``, ``r2k serve passwd NAME`` and ``r2k serve status``.

Serve's lifetime: check everything that can be wrong before listening (one line each: the users
directory, the addresses, TLS, the host key, --feed with --nats), start the upstream, listen,
then run until SIGTERM, SIGINT (Ctrl+C) or SIGHUP. Stopping tells every session, ends them all
in parallel (each within 1 s of its hang-up), stops the relay and exits: within 5 s in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from feeds.errors import R2KError
from feeds.settings.config import Settings, state_dir
from feeds.timefmt import iso_ms
from tui.serve.record import now_ms, read_status, say
from tui.serve.sessions import DEFAULT_MAX_SESSIONS, Desk, DeskConfig
from tui.serve.users import Users, UsersError, check_name

DEFAULT_SSH_PORT = 2222
DEFAULT_WEB_PORT = 8022


class ServeUsageError(R2KError):
    """``r2k serve`` was asked for something it cannot do."""


def desk_root() -> Path:
    """``<state>/desk``: the traders' state directories, the login log, the status file."""
    return state_dir() / "desk"


def parse_address(text: str, option: str, default_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``HOST`` or ``[::1]:PORT`` -> (host, port); ServeUsageError
    naming ``option`` otherwise. An empty host is every interface (0.0.0.0)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or "]" in port_text:
        host, port_text = text, str(default_port)
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ServeUsageError(f"{option} {text}: the port must be a number up to 65535")
    return host, port


@dataclass(slots=True)
class ServeOptions:
    users: Path
    ssh: str | None
    web: str | None
    nats: str | None
    feed_args: list[str]
    monitor_args: list[str]
    host_key: Path | None
    max_sessions: int
    idle_timeout: float | None
    tls_cert: str | None
    tls_key: str | None


def _nats_session(url: str, settings: Settings) -> tuple[str, dict[str, str]]:
    """The feed spec sessions use for an existing relay, and its login as ``R2K_NATS_*``."""
    from feeds.sources.relay.link import resolve

    link = resolve(url, prefix=None, env=dict(os.environ), config=settings.nats)
    env = {}
    for key in ("user", "password", "token", "creds", "nkey", "ca", "cert", "key"):
        value = getattr(link, key)
        if value is not None:
            env[f"R2K_NATS_{key.upper()}"] = str(value)
    return f"{link.url}/{link.prefix}", env


def run_serve(opts: ServeOptions, settings: Settings) -> int:
    """Serve until a signal; 0 after a clean stop. R2KError (one line) before listening."""
    from tui.serve.ssh import fingerprint, load_host_key
    from tui.serve.web import check_bind

    users = Users(opts.users.expanduser()).check()
    if opts.ssh is None and opts.web is None:
        raise ServeUsageError(
            "say where traders connect: --ssh HOST:PORT and/or --web HOST:PORT "
            f"(e.g. --ssh 0.0.0.0:{DEFAULT_SSH_PORT} --web 127.0.0.1:{DEFAULT_WEB_PORT})"
        )
    if opts.max_sessions < 1:
        raise ServeUsageError(f"--max-sessions must be 1 or more, not {opts.max_sessions}")
    if opts.idle_timeout is not None and not opts.idle_timeout > 0:
        raise ServeUsageError("--idle-timeout must be a positive number of seconds")
    ssh = parse_address(opts.ssh, "--ssh", DEFAULT_SSH_PORT) if opts.ssh else None
    web = parse_address(opts.web, "--web", DEFAULT_WEB_PORT) if opts.web else None
    tls = check_bind(web[0], opts.tls_cert, opts.tls_key) if web else None
    if opts.tls_cert and not web:
        raise ServeUsageError("--tls-cert/--tls-key are for --web; add --web HOST:PORT")
    root = desk_root()
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise ServeUsageError(f"cannot make '{root}': {e.strerror or e}") from None
    key = None
    if ssh:
        key_path = (opts.host_key or root / "ssh_host_ed25519_key").expanduser()
        key, made = load_host_key(key_path)
        say(f"host key {fingerprint(key)} ({'made now in' if made else 'from'} {key_path})")
    if opts.nats:
        feed_url, nats_env = _nats_session(opts.nats, settings)
        relay = None
    else:
        from tui.serve.upstream import EmbeddedRelay

        relay = EmbeddedRelay(opts.feed_args)
        feed_url, nats_env = relay.url, {}
    config = DeskConfig(
        users=users,
        root=root,
        feed_url=feed_url,
        nats_env=nats_env,
        monitor_args=opts.monitor_args,
        max_sessions=opts.max_sessions,
        idle_timeout=opts.idle_timeout,
    )
    info = {
        "started": iso_ms(now_ms()),
        "users": str(users.root),
        "ssh": f"{ssh[0]}:{ssh[1]}" if ssh else None,
        "web": f"{'https' if tls else 'http'}://{web[0]}:{web[1]}/" if web else None,
        "upstream": f"embedded relay of {settings.feed} at {feed_url}"
        if relay
        else f"relay at {feed_url}",
    }
    desk = Desk(config, started=info)
    try:
        why = asyncio.run(_serve(desk, relay, ssh, web, tls, key))
    finally:
        with contextlib.suppress(OSError):
            desk.status_path.unlink()
    if why == "SIGINT":
        raise KeyboardInterrupt  # Ctrl+C: status 130 after the clean stop, like every command
    return 0


async def _serve(
    desk: Desk,
    relay: Any,
    ssh: tuple[str, int] | None,
    web: tuple[str, int] | None,
    tls: Any,
    key: Any,
) -> str:
    """Serve until a signal; the signal's name."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    why: list[str] = []

    def on_signal(name: str) -> None:
        why.append(name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig.name)
    if relay is not None:
        relay.start()
    acceptor = runner = None
    started = time.monotonic()
    try:
        if ssh:
            from tui.serve.ssh import start_ssh

            try:
                acceptor = await start_ssh(desk, ssh[0], ssh[1], key)
            except OSError as e:
                raise ServeUsageError(
                    f"cannot listen for SSH on {ssh[0]}:{ssh[1]}: {e.strerror or e}"
                ) from None
            port = acceptor.sockets[0].getsockname()[1] if acceptor.sockets else ssh[1]
            desk.info["ssh"] = f"{ssh[0]}:{port}"
            say(f"SSH on {ssh[0]}:{port}: ssh -p {port} NAME@HOST")
        if web:
            from tui.serve.web import start_web

            try:
                runner, _ = await start_web(desk, web[0], web[1], tls)
            except OSError as e:
                raise ServeUsageError(
                    f"cannot listen for the web on {web[0]}:{web[1]}: {e.strerror or e}"
                ) from None
            port = web[1]
            for addr in runner.addresses:
                port = addr[1]
            desk.info["web"] = f"{'https' if tls else 'http'}://{web[0]}:{port}/"
            say(f"web on {desk.info['web']}")
        say(f"upstream: {desk.info['upstream']}; up to {desk.config.max_sessions} sessions")
        desk.write_status()
        idle = asyncio.create_task(desk.watch_idle())
        await stop.wait()
        idle.cancel()
        started = time.monotonic()
        say(f"stopping ({why[0] if why else 'asked'}): {len(desk.sessions)} session(s) to end")
    finally:
        if acceptor is not None:
            acceptor.close()
        await desk.stop_all("r2k serve is stopping")
        if runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), 1.0)
        if relay is not None:
            await relay.stop()
    say(f"stopped in {time.monotonic() - started:.1f} s")
    return why[0] if why else ""


def run_passwd(users_dir: Path, name: str, stdin: IO[str] | None = None) -> int:
    """Set NAME's web password: asked twice on a terminal, else one line of standard input."""
    users = Users(users_dir.expanduser()).check()
    check_name(name)
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass(f"web password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise UsersError("the two passwords differ; nothing was changed")
        password = first
    else:
        password = stream.readline().rstrip("\r\n")
        if not password:
            raise UsersError("no password on standard input; nothing was changed")
    path = users.set_password(name, password)
    sys.stdout.write(f"r2k serve: {name}'s web password is set ({path}, argon2id)\n")
    return 0


def run_status(as_json: bool, out: IO[str] | None = None) -> int:
    """Print who is connected to the running serve: 0, or 1 when none runs."""
    stream = out or sys.stdout
    path = desk_root() / "serve.json"
    status = read_status(path)
    if status is None:
        stream.write(f"r2k serve is not running (no live status in '{path}')\n")
        return 1
    if as_json:
        from feeds.text import dumps

        # the one JSON sanitiser (issue 19 §5): a login name's bidi override stays escaped
        stream.write(dumps(status, separators=None, indent=2) + "\n")
        return 0
    sessions = status.get("sessions", [])
    where = ", ".join(f"{k} {status[k]}" for k in ("ssh", "web") if status.get(k))
    stream.write(
        f"r2k serve (pid {status['pid']}) since {status.get('started', '?')}: {where}\n"
        f"upstream: {status.get('upstream', '?')}\n"
        f"{len(sessions)} of {status.get('max_sessions', DEFAULT_MAX_SESSIONS)} sessions\n"
    )
    if sessions:
        rows = [("NAME", "VIA", "ADDRESS", "SINCE", "WHAT")]
        for s in sessions:
            what = f"{s.get('kind', '')} {s.get('detail', '')}".strip()
            since = str(s.get("since", ""))[:19].replace("T", " ")
            rows.append((s["name"], s["via"], s["address"], since, what))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(4)]
            stream.write("  ".join([*cells, r[4]]).rstrip() + "\n")
    return 0
