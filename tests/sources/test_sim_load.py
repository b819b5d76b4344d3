"""Issue 19 §1: no setting hangs r2k. At ``[feeds.sim] tick_rate = 1000`` (the documented
maximum) the monitor sat at "connecting" for minutes at 100 % CPU and a snapshot never ended:
a whole second's ticks were applied in one go, and a feed always due never gave the event loop
a turn. Work per group is bounded, the loop gets a turn after each, and a sim the machine cannot
follow slows its clock and says so instead of queueing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from feeds.events import FeedStatus, Tick
from feeds.feed import FeedOptions
from feeds.sources import sim as sim_module
from feeds.sources.sim import BEHIND_MAX_S, MAX_GROUP, SimFeed
from tests.sources.test_sim import ms

ROOT = Path(__file__).resolve().parents[2]
OPEN = ms(2025, 11, 4, 9, 30)


def fast_sim(speed: float) -> SimFeed:
    options = FeedOptions(seed=0, speed=speed, config={"tick_rate": 1000.0})
    return SimFeed(options=options, start_ms=OPEN)


async def test_every_group_is_bounded_at_speed_zero() -> None:
    feed = fast_sim(0.0)
    sizes = []
    async with feed:
        async for group in feed.batches():
            ticks = [e for e in group if type(e) is Tick]
            if ticks:
                sizes.append(len(ticks))
                if ticks[-1].ts >= OPEN + 2_000:
                    break
    assert max(sizes) <= MAX_GROUP
    assert sum(sizes) > 3 * MAX_GROUP  # a second's ticks came in several groups


async def test_a_machine_that_cannot_keep_up_slows_the_clock_and_says_so(monkeypatch) -> None:
    # every look at the clock costs the consumer 0.2 s of wall time: far behind at once
    clock = [1000.0]

    def slow() -> float:
        clock[0] += 0.2
        return clock[0]

    monkeypatch.setattr(sim_module.time, "monotonic", slow)
    feed = fast_sim(1.0)
    notes: list[str] = []
    worst = 0.0
    groups = 0
    async with feed:
        async for group in feed.batches():
            groups += 1
            notes += [e.detail for e in group if type(e) is FeedStatus]
            ticks = [e for e in group if type(e) is Tick]
            if ticks:
                # how far the release trails the sim's clock (wall seconds at speed 1)
                worst = max(worst, (feed.now_ms() - ticks[-1].ts) / 1000)
            if any("falling behind" in n for n in notes) or groups > 2_000:
                break
    assert any("falling behind: this machine applies" in n for n in notes), notes
    assert worst <= BEHIND_MAX_S + 1.0  # the backlog is bounded, never the whole run


def test_a_snapshot_at_the_largest_tick_rate_ends_on_time(tmp_path: Path) -> None:
    cfg = tmp_path / "fast.toml"
    cfg.write_text("[feeds.sim]\ntick_rate = 1000\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--config", str(cfg), "--duration", "2",
         "--json", "--top", "1"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"constituents"' in done.stdout


def test_a_tick_rate_beyond_the_range_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "toofast.toml"
    cfg.write_text("[feeds.sim]\ntick_rate = 5000\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "config", "check", str(cfg)],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"r2k: error: config file '{cfg}': feeds.sim.tick_rate must be at most 1,000, not 5000 "
        "(e.g. tick_rate = 1)\n"
    )
