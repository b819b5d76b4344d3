"""What alerts cost on the tick path (issue 10): ``Pipeline.handle`` per tick for a constituent,
for an index tick (^RUT or ^GSPC) with the five technical levels, and with five RUT-SPX spread
thresholds and two 1m-confirmed levels on top. Spreads and bars are evaluated on index ticks
only, so a constituent's tick should cost the same either way.

Run: ``.venv/bin/python bench/alerts.py [--runs 15]`` (CPU time, best of the runs of each stream).
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator

from feeds.alerting.levels import LevelEngine
from feeds.events import Event, Tick
from feeds.feed import Feed, FeedOptions
from feeds.pipeline import Pipeline

T0 = 1_762_353_000_000  # 2025-11-05 09:30 ET


class _NullFeed(Feed):
    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]  # pragma: no cover
        raise NotImplementedError
        yield


def streams() -> tuple[list[Tick], list[Tick]]:
    rng = random.Random(1)
    names = [f"S{i:04d}" for i in range(2000)]
    constituents = [
        Tick(rng.choice(names), 10 + rng.random(), T0 + k, prev_close=10.0) for k in range(200_000)
    ]
    # the indices walk in small steps (a tick is a few hundredths of a point), as they do:
    # alerts are rare, as in a session, and the cost measured is the watching
    indices = []
    rut, spx = 2440.0, 6000.0
    for k in range(100_000):
        if k % 2:
            rut += rng.choice((-0.05, 0.0, 0.05))
            indices.append(Tick("^RUT", round(rut, 2), T0 + k * 10, prev_close=2440.0))
        else:
            spx += rng.choice((-0.1, 0.0, 0.1))
            indices.append(Tick("^GSPC", round(spx, 2), T0 + k * 10, prev_close=6000.0))
    return constituents, indices


def pipeline(alerts: bool) -> Pipeline:
    if not alerts:
        return Pipeline(_NullFeed("bench", FeedOptions()))
    spread = LevelEngine([], band=2.0, approach=None)
    for bp in (-50.0, -25.0, 25.0, 50.0, 75.0):
        spread.add(bp, f"{bp:+g} bp")
    levels = LevelEngine()
    levels.add(2455.0, "1m a", confirm="1m")
    levels.add(2445.0, "1m b", confirm="1m")
    return Pipeline(_NullFeed("bench", FeedOptions()), levels=levels, spreads={"RUT-SPX": spread})


def ns_per_tick(ticks: list[Tick], alerts: bool, runs: int = 15) -> float:
    best = float("inf")
    for _ in range(runs):
        handle = pipeline(alerts).handle
        for t in ticks[:1000]:  # the first prices set the sides
            handle(t)
        t0 = time.process_time()
        for t in ticks:
            handle(t)
        best = min(best, time.process_time() - t0)
    return best / len(ticks) * 1e9


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="best of this many runs of each stream")
    runs = ap.parse_args().runs
    constituents, indices = streams()
    print(f"Pipeline.handle, CPU ns per tick (best of {runs})")
    print(
        f"  constituent tick                          {ns_per_tick(constituents, False, runs):7.0f}"
    )
    print(
        f"  constituent tick, spreads + 1m levels on   {ns_per_tick(constituents, True, runs):7.0f}"
    )
    print(f"  index tick, technical levels              {ns_per_tick(indices, False, runs):7.0f}")
    print(f"  index tick, + 5 spread thresholds + 1m    {ns_per_tick(indices, True, runs):7.0f}")


if __name__ == "__main__":
    main()
