"""The desk's record: the login log, the live status file, the failed-login brake and the change
lines on stderr.

- ``<state>/desk/logins.jsonl``: one JSON object per login when it ends, successful or not::

      {"name": "ann", "address": "10.0.0.7", "via": "ssh",
       "start": "2026-12-08T14:30:00.120+00:00", "end": "2026-12-08T21:05:13.004+00:00",
       "ended": "connection closed", "failed_attempts": 0}

  ``ended`` says why: ``connection closed``, ``monitor exited (0)``, ``command exited (0)``,
  ``idle timeout``, ``r2k serve is stopping``, ``desk full``, ``refused: ...``, ``login
  failed``; ``failed_attempts`` counts the keys (or passwords) refused before this login.
- ``<state>/desk/serve.json``: who is connected now, rewritten atomically on each change and
  read by ``r2k serve status``.
- :class:`Brake`: failed logins per address in a sliding minute; past 5 each further answer to
  that address waits 1 s more (at most 10 s), as OpenSSH's ``PerSourcePenalties`` and fail2ban do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from feeds.atomic import write_atomic
from feeds.text import dumps
from feeds.timefmt import iso_ms

WINDOW_S = 60.0
FREE_FAILURES = 5
MAX_DELAY_S = 10.0


def now_ms() -> int:
    return int(time.time() * 1000)


def say(line: str, out: IO[str] | None = None) -> None:
    """One change line on stderr: ``r2k serve: <what>``."""
    stream = out or sys.stderr
    with contextlib.suppress(OSError, ValueError):
        stream.write(f"r2k serve: {line}\n")
        stream.flush()


class Brake:
    """Failed logins per address within the last ``window`` s (monotonic clock)."""

    def __init__(self, window: float = WINDOW_S, free: int = FREE_FAILURES) -> None:
        self.window = window
        self.free = free
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        q = self._failures.setdefault(address, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def failed(self, address: str, now: float | None = None) -> None:
        """Count one failed login from ``address``."""
        now = time.monotonic() if now is None else now
        self._recent(address, now).append(now)
        if len(self._failures) > 10_000:  # a scan from many addresses: forget the oldest
            self._failures.pop(next(iter(self._failures)))

    def delay(self, address: str, now: float | None = None) -> float:
        """Seconds to wait before answering ``address``: 0 up to ``free`` failures in the
        window, then 1 s per failure beyond, at most 10 s."""
        now = time.monotonic() if now is None else now
        n = len(self._recent(address, now))
        return min(MAX_DELAY_S, float(n - self.free)) if n > self.free else 0.0


@dataclass(slots=True)
class Login:
    """One login: who, from where, how, and (once ended) why it ended."""

    name: str
    address: str
    via: str  # "ssh" | "web"
    start_ms: int = field(default_factory=now_ms)
    failed_attempts: int = 0
    end_ms: int | None = None
    ended: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "via": self.via,
            "start": iso_ms(self.start_ms),
            "end": iso_ms(self.end_ms) if self.end_ms is not None else None,
            "ended": self.ended,
            "failed_attempts": self.failed_attempts,
        }


class LoginLog:
    """Appends one line per ended login to ``path`` (whole lines; a write failure is said on
    stderr once and never stops serve)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def write(self, login: Login) -> None:
        line = (dumps(login.as_json()) + "\n").encode()  # controls and bidi escaped
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one write per line: O_APPEND keeps lines whole
            finally:
                os.close(fd)
        except OSError as e:
            if not self._warned:
                self._warned = True
                say(f"warning: cannot write the login log '{self.path}': {e.strerror or e}")


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace the status file (best effort: serve keeps running on a full disk)."""
    with contextlib.suppress(OSError):
        write_atomic(path, dumps(status, separators=None, indent=2) + "\n")


def read_status(path: Path) -> dict[str, Any] | None:
    """The status a running serve wrote, or None when none runs (no file, or its pid gone)."""
    try:
        status = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    pid = status.get("pid") if isinstance(status, dict) else None
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return status
