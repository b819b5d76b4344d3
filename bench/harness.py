"""``r2k`` with measuring probes, for bench/screen.py (never part of the product).

Run: ``R2K_BENCH_DIR=DIR [R2K_BENCH_PROBES=marker,lag,samples,trace] python bench/harness.py
[r2k options]``. The monitor runs exactly as ``r2k`` does; the probes hook the feed layer only
(``Pipeline.run``/``frame`` and the sim's ``Market.step_columns``), so they work with any tui:

* always: each ``Pipeline.frame`` call is timed (frame gaps), and the sim's ticks are counted
  as it makes them (to check that every tick it released was applied);
* ``marker``: on ``marker`` in the control FIFO, a ^RUT tick at a price never seen before goes
  through ``Pipeline.handle`` at once (as if the feed had just yielded it) and its text and
  monotonic time are reported; until ``release``, the sim's own ^RUT ticks carry that price too,
  so the marker stays the last price until it has been drawn (CLOCK_MONOTONIC is one clock for
  every process on Linux, so the bench compares it with when the text reached the pty);
* ``lag``: a task that sleeps 10 ms and records how late it wakes (event-loop lag);
* ``samples``: once a second, the feed's clock, RSS and ticks applied;
* ``trace``: tracemalloc from start-up; ``snap`` keeps a snapshot, ``diff`` reports the top
  allocation sites grown since it.

Control (one command a line in ``DIR/ctl``): ``marker``, ``release``, ``reset`` (start a new
window for frame gaps and lag), ``dump TAG`` (a JSON line with the window's figures), ``snap``,
``diff TAG``. Every report is one JSON line appended to ``DIR/out.jsonl``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from feeds import pipeline as _pipeline
from feeds.events import Tick
from feeds.sources import sim as _sim
from feeds.symbols import RUT

DIR = Path(os.environ["R2K_BENCH_DIR"])
PROBES = {p for p in os.environ.get("R2K_BENCH_PROBES", "").split(",") if p}
LAG_STEP_S = 0.010
SAMPLE_S = float(os.environ.get("R2K_BENCH_SAMPLE_S", "1"))

if "trace" in PROBES:
    import tracemalloc

    tracemalloc.start(int(os.environ.get("R2K_BENCH_TRACE_DEPTH", "1")))


def _rss_kb(key: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Probe:
    def __init__(self) -> None:
        self.out = (DIR / "out.jsonl").open("a", buffering=1)
        self.pipeline: _pipeline.Pipeline | None = None
        self.frames: list[float] = []
        self.lag: list[float] = []
        self.made = 0  # ticks the sim made, up to and including the last second's
        self.last_cols: _sim.TickColumns | None = None
        self.rut_id: int | None = None
        self.rut_seen: set[float] = set()
        self.hold: float | None = None  # the marker price the sim's ^RUT ticks carry
        self.snapshot = None
        self.started = False

    def write(self, **data: object) -> None:
        self.out.write(json.dumps(data) + "\n")

    # --- hooks --------------------------------------------------------------------------------
    def on_batch(self, cols: _sim.TickColumns | None) -> None:
        """One simulated second's ticks, as the sim made them (before any is released)."""
        if cols is None:
            return
        self.made += len(cols)
        self.last_cols = cols
        if "marker" in PROBES:
            rut = cols.sym == self._rut_id(cols)
            if self.hold is None:
                self.rut_seen.update(cols.price[rut].tolist())
            else:
                cols.price[rut] = self.hold

    def _rut_id(self, cols: _sim.TickColumns) -> int:
        if self.rut_id is None:
            self.rut_id = list(cols.names).index(RUT)
        return self.rut_id

    def start(self, pipeline: _pipeline.Pipeline) -> None:
        if self.started:
            return
        self.started = True
        self.pipeline = pipeline
        loop = asyncio.get_running_loop()
        fd = os.open(DIR / "ctl", os.O_RDWR | os.O_NONBLOCK)  # RDWR: never at EOF
        buf = bytearray()

        def readable() -> None:
            try:
                buf.extend(os.read(fd, 4096))
            except BlockingIOError:
                return
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                self.command(line.decode().strip())

        loop.add_reader(fd, readable)
        self._tasks = []
        if "lag" in PROBES:
            self._tasks.append(loop.create_task(self._lag()))
        if "samples" in PROBES:
            self._tasks.append(loop.create_task(self._samples()))
        self.write(event="started", t=time.monotonic())

    async def _lag(self) -> None:
        mono = time.monotonic
        lag = self.lag
        while True:
            t = mono()
            await asyncio.sleep(LAG_STEP_S)
            lag.append(mono() - t - LAG_STEP_S)

    async def _samples(self) -> None:
        while True:
            p = self.pipeline
            assert p is not None
            self.write(
                event="sample",
                t=time.monotonic(),
                sim_ms=p.feed.now_ms(),
                rss_kb=_rss_kb(),
                ticks=p.state.total_ticks,
                frames=len(self.frames),
            )
            await asyncio.sleep(SAMPLE_S)

    # --- commands -----------------------------------------------------------------------------
    def command(self, line: str) -> None:
        cmd, _, arg = line.partition(" ")
        if cmd == "marker":
            self.marker()
        elif cmd == "release":
            self.hold = None
        elif cmd == "reset":
            self.frames.clear()
            self.lag.clear()
        elif cmd == "dump":
            self.dump(arg)
        elif cmd == "snap" and "trace" in PROBES:
            self.snapshot = tracemalloc.take_snapshot()
        elif cmd == "diff" and "trace" in PROBES:
            self.diff(arg)

    def marker(self) -> None:
        p = self.pipeline
        assert p is not None
        last = p.state.price(RUT) or 2450.0
        seen = self.rut_seen
        price = next(
            q
            for q in (round(last + k * 0.01, 2) for k in (*range(3, 60), *range(-3, -60, -1)))
            if q not in seen
        )
        seen.add(price)
        now = p.feed.now_ms()
        self.hold = price
        cols = self.last_cols
        if cols is not None:  # the sim's ^RUT ticks still to come this second
            cols.price[(cols.sym == self._rut_id(cols)) & (cols.ts >= now)] = price
        t0 = time.monotonic()
        p.handle(Tick(RUT, price, now))
        self.write(event="marker", text=f"{price:,.2f}", t0=t0)

    def dump(self, tag: str) -> None:
        p = self.pipeline
        assert p is not None
        st = p.state
        frames = self.frames
        gaps = sorted(b - a for a, b in itertools.pairwise(frames))
        lag = sorted(self.lag)
        last_ts = st.last_tick_ts
        # the sim releases its ticks in time order, one simulated second after another
        cols = self.last_cols
        stamps = cols.ts if cols is not None else np.zeros(0, dtype=np.int64)
        before = self.made - len(stamps)
        self.write(
            event="dump",
            tag=tag,
            t=time.monotonic(),
            frames=len(frames),
            gap_max_s=gaps[-1] if gaps else None,
            gap_p50_s=gaps[len(gaps) // 2] if gaps else None,
            lag_n=len(lag),
            lag_p50_s=lag[len(lag) // 2] if lag else None,
            lag_p99_s=lag[min(len(lag) - 1, int(0.99 * len(lag)))] if lag else None,
            lag_max_s=lag[-1] if lag else None,
            applied=st.total_ticks,
            released_lo=before + int(np.searchsorted(stamps, last_ts, side="left")),
            released_hi=before + int(np.searchsorted(stamps, last_ts, side="right")),
            made=self.made,
            sim_ms=p.feed.now_ms(),
            last_tick_ts=last_ts,
            rss_kb=_rss_kb(),
            hwm_kb=_rss_kb("VmHWM"),
        )

    def diff(self, tag: str) -> None:
        now = tracemalloc.take_snapshot()
        current, peak = tracemalloc.get_traced_memory()

        def rows(stats: list) -> list[dict]:
            out = []
            for s in stats[:20]:
                frame = s.traceback[0]
                out.append(
                    {
                        "site": f"{_short(frame.filename)}:{frame.lineno}",
                        "kb": round(s.size / 1024, 1),
                        "diff_kb": round(getattr(s, "size_diff", s.size) / 1024, 1),
                        "count": s.count,
                    }
                )
            return out

        base = self.snapshot
        self.write(
            event="diff",
            tag=tag,
            traced_kb=current // 1024,
            traced_peak_kb=peak // 1024,
            rss_kb=_rss_kb(),
            top=rows(now.statistics("lineno")),
            growth=rows(now.compare_to(base, "lineno")) if base is not None else [],
        )


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


PROBE = Probe()

_step = _sim.Market.step_columns


def _probed_step(self: _sim.Market) -> _sim.TickColumns | None:
    cols = _step(self)
    PROBE.on_batch(cols)
    return cols


_run = _pipeline.Pipeline.run


async def _probed_run(self: _pipeline.Pipeline, *args: object, **kwargs: object) -> None:
    PROBE.start(self)
    await _run(self, *args, **kwargs)


_frame = _pipeline.Pipeline.frame


def _probed_frame(self: _pipeline.Pipeline, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    PROBE.frames.append(time.monotonic())
    return _frame(self, *args, **kwargs)


_sim.Market.step_columns = _probed_step  # type: ignore[method-assign]
_pipeline.Pipeline.run = _probed_run  # type: ignore[method-assign]
_pipeline.Pipeline.frame = _probed_frame  # type: ignore[method-assign]

if __name__ == "__main__":
    from tui.cli import main

    sys.exit(main(sys.argv[1:]))
