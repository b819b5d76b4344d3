"""What the benches share: the pinned sim session, the tick-rate calibration, percentiles, the
figure lines (value, target, PASS/MISS), and a pseudo-terminal that runs a program and watches
what it writes.

Not part of the product: ``bench/`` scripts import it as a sibling module.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import threading
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the tree whose .venv runs the programs measured (default: this one). Another checkout's, to
#: measure its app with these benches: R2K_BENCH_ROOT=/path/to/checkout
VENV_BIN = Path(os.environ.get("R2K_BENCH_ROOT", ROOT)) / ".venv" / "bin"
R2K = VENV_BIN / "r2k"
PYTHON = VENV_BIN / "python"
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: Wednesday 2025-11-12 09:30 ET: a full session (6.5 h) after the bundled holdings' date, so
#: every run sees the same opening and the same ticks whatever day the bench runs on
OPEN_MS = 1_762_957_800_000
SESSION_MS = 23_400_000


def scale() -> float:
    """Durations are multiplied by ``R2K_BENCH_SCALE`` (e.g. 0.3 for a quick look; 1 by
    default, which is what ``make bench`` runs)."""
    try:
        return max(float(os.environ.get("R2K_BENCH_SCALE", "1")), 0.05)
    except ValueError:
        return 1.0


def pct(xs: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``xs``; NaN when empty."""
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def load() -> str:
    """The machine's load average (1/5/15 min), to read the figures against."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def figure(name: str, value: str, target: str, ok: bool | None) -> bool | None:
    """Print one figure with its target and PASS/MISS (``ok`` None: no target, shown as info)."""
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    print(f"  {name:<44} {value:<30} {target:<22} {verdict}", flush=True)
    return ok


def sim_rate(multiplier: float, universe: int, start_ms: int, seconds: tuple[int, int]) -> float:
    """Ticks per second the sim sends at ``multiplier`` over ``universe`` names, in simulated
    seconds ``seconds[0]..seconds[1]`` after ``start_ms`` (the sim is deterministic: count)."""
    from feeds.reference.holdings import load_holdings, pad_universe
    from feeds.sources.sim import Market

    market = Market(pad_universe(load_holdings(), universe, 1), 1, start_ms, multiplier)
    counts = [len(market.step()) for _ in range(seconds[1])]
    window = counts[seconds[0] :]
    return sum(window) / max(len(window), 1)


def multiplier_for(
    ticks_per_s: float, universe: int, start_ms: int = OPEN_MS, seconds: tuple[int, int] = (3, 23)
) -> tuple[float, float]:
    """The ``[feeds.sim] tick_rate`` giving ``ticks_per_s`` over that window, and the rate it
    gives (arrivals are Poisson with rates in proportion to the multiplier, so one correction
    after a first count lands within a percent)."""
    m = 1.0
    for _ in range(2):
        got = sim_rate(m, universe, start_ms, seconds)
        m *= ticks_per_s / got
    return round(m, 3), sim_rate(m, universe, start_ms, seconds)


class Terminal:
    """A program in a pty of ``cols`` x ``rows``; a reader thread counts the bytes written and
    keeps the recent output with the time each chunk arrived (for "until X appears")."""

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str]) -> None:
        self.started = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # child
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.bytes = 0
        self.tail = bytearray()
        self.chunks: deque[tuple[int, float]] = deque(maxlen=4096)  # (end offset, arrival)
        #: (end offset, the program's CPU seconds) as each of the first chunks arrived: the CPU
        #: a start-up took, which a busy machine blurs far less than the wall clock
        self.cpu_marks: list[tuple[int, float]] = []
        self.changed = threading.Condition(threading.Lock())
        self.alive = True
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self.alive:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            now = time.monotonic()
            with self.changed:
                self.bytes += len(data)
                self.tail += data
                if len(self.tail) > 800_000:  # keep the last ~10 s at 40 KiB/s
                    del self.tail[:-400_000]
                self.chunks.append((self.bytes, now))
                if len(self.cpu_marks) < 64:
                    with contextlib.suppress(OSError, IndexError, ValueError):
                        self.cpu_marks.append((self.bytes, self.cpu_seconds()))
                self.changed.notify_all()

    def _arrival(self, end_offset: int) -> float:
        """When the byte before ``end_offset`` (absolute) arrived."""
        for end, t in self.chunks:
            if end >= end_offset:
                return t
        return time.monotonic()

    def seen_at(self, needle: bytes, timeout: float, after: int = 0) -> float | None:
        """Monotonic time at which ``needle`` arrived in output written after byte ``after``,
        or None if it did not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                base = self.bytes - len(self.tail)
                start = max(0, after - base)
                k = self.tail.find(needle, start)
                if k >= 0:
                    return self._arrival(base + k + len(needle))
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def cpu_when_seen(self, needle: bytes) -> float | None:
        """The program's CPU seconds when the chunk holding the first ``needle`` arrived (one of
        the first 64 chunks), or None."""
        with self.changed:
            k = self.tail.find(needle) if self.bytes == len(self.tail) else -1
            if k < 0:
                return None
            return next((cpu for end, cpu in self.cpu_marks if end >= k + len(needle)), None)

    def wait_for(self, needle: bytes, timeout: float, after: int = 0) -> float | None:
        """Seconds from now until ``needle`` appears after byte ``after`` (None: it did not)."""
        t0 = time.monotonic()
        t = self.seen_at(needle, timeout, after)
        return None if t is None else max(0.0, t - t0)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status_kb(self, key: str) -> int:
        """A ``/proc/PID/status`` figure in kB (``VmRSS``, ``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def measure(self, seconds: float) -> tuple[float, float]:
        """(CPU % of one core, bytes/s written) over the next ``seconds``."""
        cpu0, b0, t0 = self.cpu_seconds(), self.bytes, time.monotonic()
        time.sleep(seconds)
        dt = time.monotonic() - t0
        return 100 * (self.cpu_seconds() - cpu0) / dt, (self.bytes - b0) / dt

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def close(self, quit_keys: bytes = b"q") -> None:
        """Quit with ``quit_keys``; killed if still running 5 s later."""
        with contextlib.suppress(OSError):  # it may have gone already
            self.send(quit_keys)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.alive = False
        self._thread.join(timeout=1)
        os.close(self.fd)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK
