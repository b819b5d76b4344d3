"""The desk over SSH (asyncssh): public-key logins only, the monitor on a PTY per session.

- Authentication: the login name must be a trader's NAME and the key one of ``DIR/NAME.keys``
  (read at each login). No password, keyboard-interactive or host-based login is offered.
  Failed logins from one address slow that address down (:class:`~tui.serve.record.Brake`).
- A session with a PTY (``ssh -t``, or a plain interactive ``ssh desk-host``) runs the monitor
  at the client's size, following its window changes, with its TERM (and NO_COLOR, COLORTERM
  when the client sends them: ``ssh -o SetEnv=NO_COLOR=1``). No shell ever runs.
- An exec request may run a headless command only (:func:`~tui.serve.sessions.parse_command`);
  anything else gets one line on stderr and exit status 2. Subsystems (SFTP), port, socket,
  agent and X11 forwarding are refused.
- A dropped connection ends its session's process group within 2 s (hang-up, 1 s, kill).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # cryptography's DSA deprecation, said on asyncssh's import
    import asyncssh

from feeds.errors import R2KError, path_reason
from tui.serve.proc import PipeProcess, PtyProcess
from tui.serve.record import Login
from tui.serve.sessions import Refused, Session, parse_command

if TYPE_CHECKING:
    from tui.serve.sessions import Desk

#: what puts a client's terminal back after serve (not the monitor) ended the session: the
#: normal screen, the cursor, no mouse reporting, no bracketed paste
RESTORE = b"\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[0m"
NO_TTY = (
    "r2k serve: the monitor needs a terminal; connect with 'ssh -t', or run a headless "
    "command: ssh NAME@HOST snapshot --json"
)
KEEPALIVE_S = 15  # a silent drop (a cable, a laptop lid) is noticed within 45 s


class HostKeyError(R2KError):
    """The host key file cannot be read, made or trusted."""


def load_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The ed25519 host key at ``path``, made (mode 0600) when missing: (key, made now).

    Raises HostKeyError when the file is unreadable, not a private key, or readable by others
    (as sshd refuses such a key)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        key = asyncssh.generate_private_key("ssh-ed25519", comment="r2k serve")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                os.write(fd, key.export_private_key())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
            pub = path.with_name(path.name + ".pub")
            pub.write_bytes(key.export_public_key())
        except OSError as e:
            raise HostKeyError(
                f"cannot write the host key '{path}': {path_reason(path, e)}; "
                "pick another place with --host-key PATH"
            ) from None
        return key, True
    except OSError as e:
        raise HostKeyError(f"cannot read the host key '{path}': {path_reason(path, e)}") from None
    if st.st_mode & 0o077:
        raise HostKeyError(
            f"the host key '{path}' is readable by others (mode {st.st_mode & 0o777:o}); "
            f"chmod 600 '{path}'"
        )
    try:
        return asyncssh.read_private_key(path), False
    except (OSError, asyncssh.KeyImportError, ValueError) as e:
        raise HostKeyError(
            f"'{path}' is not an SSH private key ({e}); move it away and serve makes a new one"
        ) from None


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:...``, as ``ssh-keygen -lf`` and a client's first-connection prompt show it."""
    return str(key.get_fingerprint("sha256"))


class _Server(asyncssh.SSHServer):
    """One client connection: its login and the brake."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.host = ""
        self.login: Login | None = None
        self.authed = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.host = self.address

    def connection_lost(self, exc: Exception | None) -> None:
        if self.login is not None and not self.authed:
            self.desk.brake.failed(self.address)
            self.desk.failed_login(self.login)

    async def begin_auth(self, username: str) -> bool:
        self.login = Login(username[:64], self.address, "ssh")
        delay = self.desk.brake.delay(self.address)
        if delay:
            await asyncio.sleep(delay)
        return True  # every login authenticates

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        keys = self.desk.config.users.authorized_keys(username)
        ok = keys is not None and keys.validate(key, self.host, self.address) is not None
        if not ok and self.login is not None:
            self.login.failed_attempts += 1
            problem = self.desk.config.users.keys_problem(username) if keys is None else None
            if problem:
                from tui.serve.record import say

                say(f"warning: {problem}")
        return ok

    def auth_completed(self) -> None:
        self.authed = True

    def session_requested(self) -> _Session:
        assert self.login is not None
        return _Session(self.desk, self.login)


class _Session(asyncssh.SSHServerSession[bytes]):
    """One SSH channel: the monitor on a PTY, or one headless command."""

    def __init__(self, desk: Desk, login: Login) -> None:
        self.desk = desk
        self.login = login
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term: str | None = None
        self.size = (80, 24)
        self.command: str | None = None
        self.session: Session | None = None
        self.proc: PtyProcess | PipeProcess | None = None
        self.task: asyncio.Task[None] | None = None
        self.lost = False
        self.muted = False  # serve has said its last line: the monitor's output stops here

    # --- requests -------------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: Any, term_modes: Any) -> bool:
        self.term = term_type or None
        width, height = term_size[0], term_size[1]
        if width and height:
            self.size = (width, height)
        return True

    def shell_requested(self) -> bool:
        return True  # the monitor, never a shell (decided in session_started)

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True  # a refusal is said on stderr, with its one line

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no SFTP, nothing else

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # a trader cannot signal serve's processes; the monitor quits on its own key

    def eof_received(self) -> bool:
        return True  # keep sending output (ssh HOST snapshot </dev/null sends EOF at once)

    def session_started(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    # --- the session's life ---------------------------------------------------------------

    def _line(self, text: str, *, stderr: bool = False) -> None:
        chan = self.chan
        if chan is None or chan.is_closing():
            return
        data = (text + ("\r\n" if self.term else "\n")).encode()
        with contextlib.suppress(Exception):
            if stderr and not self.term:
                chan.write_stderr(data)
            else:
                chan.write(data)

    def _exit(self, status: int) -> None:
        chan = self.chan
        if chan is not None and not chan.is_closing():
            with contextlib.suppress(Exception):
                chan.exit(status if 0 <= status <= 255 else 128 + abs(status) % 128)

    def _out(self, data: bytes) -> None:
        chan = self.chan
        if chan is not None and not chan.is_closing() and not self.muted:
            chan.write(data)

    def _err(self, data: bytes) -> None:
        chan = self.chan
        if chan is not None and not chan.is_closing():
            chan.write_stderr(data)

    def _tell(self, text: str) -> None:
        self.muted = True  # a frame drawn after this line would hide it
        chan = self.chan
        if chan is not None and not chan.is_closing() and self.term:
            with contextlib.suppress(Exception):
                chan.write(RESTORE)
        self._line(text, stderr=True)

    def _hang_up(self) -> None:
        self._exit(1)

    async def _run(self) -> None:
        assert self.chan is not None
        desk = self.desk
        env_in = dict(self.chan.get_environment())
        if self.command is not None:
            try:
                args = parse_command(self.command)
            except Refused as e:
                self._line(str(e), stderr=True)
                desk.refused(self.login, f"refused: {self.command[:80]}")
                self._exit(2)
                return
            argv, kind, detail = desk.command_argv(args), "command", " ".join(args)
        elif self.term is None:
            self._line(NO_TTY, stderr=True)
            desk.refused(self.login, "refused: a shell without a terminal")
            self._exit(2)
            return
        else:
            argv, kind = desk.monitor_argv(), "monitor"
            detail = f"{self.size[0]}x{self.size[1]} {self.term}"
        if desk.full():
            self._line(desk.full_line(), stderr=True)
            desk.refused(self.login, "desk full")
            self._exit(1)
            return
        env = desk.env(self.login.name, env_in, self.term)
        if self.term is not None:
            self.proc = PtyProcess(
                argv, env, cols=self.size[0], rows=self.size[1], on_output=self._out
            )
        else:
            self.proc = PipeProcess(argv, env, on_stdout=self._out, on_stderr=self._err)
        try:
            self.session = await desk.open(
                self.login, kind, detail, self.proc, tell=self._tell, hang_up=self._hang_up
            )
        except OSError as e:
            self._line(f"r2k serve: the monitor could not start: {e.strerror or e}", stderr=True)
            desk.refused(self.login, f"start failed: {e}")
            self._exit(1)
            return
        if self.lost:  # the client left while the process started
            await desk.close(self.session, "connection closed")
            return
        code = await self.proc.wait()
        await desk.close(self.session, f"{kind} exited ({code})")
        self._exit(code)

    # --- the client's input and window -----------------------------------------------------

    def data_received(self, data: bytes, datatype: Any) -> None:
        if self.session is not None:
            self.session.touched()
        if self.proc is not None:
            self.proc.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self.size = (width, height)
            if self.proc is not None:
                self.proc.resize(width, height)
            if self.session is not None:
                self.desk.resized(self.session, width, height)

    def pause_writing(self) -> None:
        if self.proc is not None:
            self.proc.pause_reading()

    def resume_writing(self) -> None:
        if self.proc is not None:
            self.proc.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.chan = None
        if self.session is not None:
            self.desk.close_soon(self.session, "connection closed")


async def start_ssh(desk: Desk, host: str, port: int, key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
    """Listen for SSH on ``host:port``; the acceptor's ``close()`` stops listening."""
    return await asyncssh.create_server(
        lambda: _Server(desk),
        host,
        port,
        server_host_keys=[key],
        encoding=None,
        line_editor=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_scp=False,
        sftp_factory=None,
        keepalive_interval=KEEPALIVE_S,
        keepalive_count_max=3,
        login_timeout=60,
        reuse_address=True,
    )
