"""A session's process: the monitor on its own pseudo-terminal (or a headless command on pipes),
in its own session and process group, ended as a whole.

The child is a session leader with the PTY as its controlling terminal, so the kernel sends it
SIGWINCH when :meth:`PtyProcess.resize` changes the window and SIGHUP when the PTY closes, as for
a login shell under sshd. :meth:`stop` hangs up (SIGHUP to the group), waits ``grace`` s, then
kills the group (SIGKILL) and reaps the child: nothing is left behind. On Linux the child also
gets SIGTERM if serve itself dies (``PR_SET_PDEATHSIG``).

Output is read with the event loop (no thread per session) and handed to ``on_output``;
:meth:`pause_reading` and :meth:`resume_reading` let a slow client hold the monitor back (its
writes then block on the full PTY) instead of buffering without bound in serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import Callable, Mapping, Sequence

READ_SIZE = 65536
DEFAULT_GRACE_S = 1.0


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    """After setsid (start_new_session): take the PTY on fd 0 as the controlling terminal, and
    die with serve."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PDEATHSIG


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def set_winsize(fd: int, cols: int, rows: int) -> None:
    """Set a terminal's size (TIOCSWINSZ); the kernel tells its foreground group (SIGWINCH)."""
    cols = max(1, min(int(cols), 1000))
    rows = max(1, min(int(rows), 1000))
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # start_new_session: the group's id is the child's pid


class _Group:
    """What a desk's child process shares, on a PTY or on pipes: it runs in a process group of
    its own (``start_new_session``), so a signal and the final kill reach whatever it started."""

    proc: asyncio.subprocess.Process | None
    returncode: int | None
    #: what asks the program to end before the kill: a PTY hangs up, pipes get SIGTERM
    ENDING: tuple[signal.Signals, ...] = (signal.SIGTERM,)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            _signal_group(self.proc.pid, sig)

    async def _drained(self) -> None:
        """Returns once the output written before the exit has been read."""

    async def wait(self) -> int:
        """The program's exit status once it has ended and its output has been read (at most
        0.5 s more for the output)."""
        assert self.proc is not None
        code = await self.proc.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await self._drained()
        self.returncode = code
        return code

    def _close(self) -> None:
        """Release what reads the program's output (after :meth:`stop`)."""

    async def stop(self, grace: float = DEFAULT_GRACE_S) -> int | None:
        """Ask the program to end (:data:`ENDING`), wait ``grace`` s, then kill the whole group;
        reap; release its output. Returns the exit status (negative: the signal that ended it).
        Safe to call twice."""
        proc = self.proc
        if proc is not None:
            if proc.returncode is None:
                for sig in self.ENDING:
                    _signal_group(proc.pid, sig)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(grace):
                        await proc.wait()
            # children it left in its group (a notify command...) go too
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
            self.returncode = proc.returncode
        self._close()
        return self.returncode


class PtyProcess(_Group):
    """``argv`` on a new PTY of ``cols`` x ``rows`` with environment ``env``.

    ``on_output(bytes)`` gets what the program writes; ``on_exit(returncode)`` is called once
    when it has ended and its output is drained. Start with :meth:`start`; end with :meth:`stop`.
    """

    # a hang-up, as when a terminal closes; SIGCONT so a stopped (^Z) program hears it
    ENDING = (signal.SIGHUP, signal.SIGCONT)

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cols: int,
        rows: int,
        on_output: Callable[[bytes], None],
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cols = cols
        self.rows = rows
        self.cwd = cwd
        self.on_output = on_output
        self.proc: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        self._eof = asyncio.Event()
        self._pending = bytearray()  # input not yet taken by the PTY
        self.returncode: int | None = None

    async def start(self) -> None:
        """Open the PTY and start the program; OSError when it cannot start."""
        self._loop = asyncio.get_running_loop()
        master, slave = pty.openpty()
        set_winsize(slave, self.cols, self.rows)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        os.close(slave)  # only the child holds it now: its exit gives EIO on the master
        os.set_blocking(master, False)
        self.master = master
        self.resume_reading()

    def _read(self) -> None:
        if self.master is None:
            return
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every holder of the slave has closed it
            data = b""
        if not data:
            self.pause_reading()
            self._eof.set()
            return
        self.on_output(data)

    def pause_reading(self) -> None:
        if self._reading and self.master is not None and self._loop is not None:
            self._loop.remove_reader(self.master)
        self._reading = False

    def resume_reading(self) -> None:
        if not self._reading and self.master is not None and self._loop is not None:
            if self._eof.is_set():
                return
            self._loop.add_reader(self.master, self._read)
            self._reading = True

    def write(self, data: bytes) -> None:
        """Send keys to the program (queued if the PTY's input buffer is full)."""
        if self.master is None or not data:
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        if self.master is None:
            self._pending.clear()
            return
        while self._pending:
            try:
                n = os.write(self.master, self._pending)
            except BlockingIOError:
                break
            except OSError:
                self._pending.clear()
                break
            del self._pending[:n]
        assert self._loop is not None
        if self._pending:
            self._loop.add_writer(self.master, self._flush)
        else:
            self._loop.remove_writer(self.master)

    def resize(self, cols: int, rows: int) -> None:
        """Follow the client's window: the program gets SIGWINCH."""
        self.cols, self.rows = cols, rows
        if self.master is not None:
            set_winsize(self.master, cols, rows)

    async def _drained(self) -> None:
        # the output written just before exiting is still in the PTY: read it out
        await self._eof.wait()

    def _close(self) -> None:
        master, self.master = self.master, None
        if master is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(master)
            self._loop.remove_writer(master)
        self._reading = False
        with contextlib.suppress(OSError):
            os.close(master)
        self._eof.set()


class PipeProcess(_Group):
    """A headless command on pipes (``ssh NAME@host snapshot --json``): stdout and stderr
    handed to ``on_stdout``/``on_stderr``, stdin closed."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        on_stdout: Callable[[bytes], None],
        on_stderr: Callable[[bytes], None],
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.on_stdout = on_stdout
        self.on_stderr = on_stderr
        self.proc: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self.returncode: int | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump(self.proc.stdout, self.on_stdout)),
            asyncio.create_task(self._pump(self.proc.stderr, self.on_stderr)),
        ]

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, sink: Callable[[bytes], None]) -> None:
        while data := await stream.read(READ_SIZE):
            sink(data)

    def write(self, data: bytes) -> None:
        """Headless commands read no input."""

    def resize(self, cols: int, rows: int) -> None:
        """No terminal to resize."""

    def pause_reading(self) -> None:
        """Pipes are drained as they come (headless output is small)."""

    def resume_reading(self) -> None:
        """See :meth:`pause_reading`."""

    async def _drained(self) -> None:
        await asyncio.gather(*self._pumps, return_exceptions=True)

    def _close(self) -> None:
        for t in self._pumps:
            t.cancel()
