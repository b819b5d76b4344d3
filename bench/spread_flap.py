"""Do spread alerts flap at their defaults? (issue 18 §2)

Runs the default sim (seeds 0-2 by default) for an hour of feed time as fast as it goes, with
RUT-SPX thresholds at 0, 20 and 50 bp and the configured defaults (``spread_band_bp``,
``spread_dwell_s``), and counts, per seed and threshold, the crossings that fired and those
reversed (the same threshold crossed the other way) within 60 s of feed time. It also prints
the spread's own noise: the spread's standard deviation over 10 s and 60 s windows (what a
band must clear so that noise alone does not cross it back).

Run: ``.venv/bin/python bench/spread_flap.py [--seeds 0 1 2] [--minutes 60] [--band BP]
[--dwell S]`` (``--band``/``--dwell`` override the defaults, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from feeds.events import FeedState, FeedStatus
from feeds.settings.config import Settings, SpreadSpec
from feeds.settings.setup import build_pipeline, close_sinks

THRESHOLDS = (0.0, 20.0, 50.0)
REVERSAL_MS = 60_000
LONGER_MS = 300_000  # a second look: reversed within 5 min


async def run_seed(settings: Settings, minutes: float) -> tuple[list, list[tuple[int, float]]]:
    """The crossings fired in ``minutes`` of feed time and the spread's values (ts, bp)."""
    pipeline = build_pipeline(settings)
    engine = pipeline.spreads["RUT-SPX"]
    values: list[tuple[int, float]] = []
    limit = None
    try:
        async with pipeline.feed as feed:
            groups = feed.batches()
            assert groups is not None
            try:
                async for batch in groups:
                    now = feed.now_ms()
                    limit = now + int(minutes * 60_000) if limit is None else limit
                    if now >= limit:
                        break
                    ended = pipeline.handle_batch(batch)
                    pipeline.on_clock(now)
                    if engine.last_price is not None and (
                        not values or values[-1][1] != engine.last_price
                    ):
                        values.append((now, engine.last_price))
                    if ended or (
                        type(batch[-1]) is FeedStatus and batch[-1].state is FeedState.ENDED
                    ):
                        break
            finally:
                await groups.aclose()  # type: ignore[attr-defined]
    finally:
        await close_sinks(pipeline)
    crossings = [a for a in pipeline.alerts if a.kind == "cross" and a.symbol == "RUT-SPX"]
    crossings.sort(key=lambda a: a.ts)
    return crossings, values


def reversed_within(crossings: list, ms: int = REVERSAL_MS) -> int:
    """Crossings of a threshold crossed back the other way within ``ms`` of feed time."""
    n = 0
    for i, a in enumerate(crossings):
        nxt = next((b for b in crossings[i + 1 :] if b.level == a.level), None)
        if nxt is not None and nxt.direction != a.direction and nxt.ts - a.ts <= ms:
            n += 1
    return n


def window_sd(values: list[tuple[int, float]], window_ms: int) -> float:
    """The median over windows of ``window_ms`` of the spread's standard deviation in each."""
    sds, bucket, start = [], [], None
    for ts, v in values:
        if start is None or ts - start >= window_ms:
            if len(bucket) > 2:
                sds.append(statistics.pstdev(bucket))
            bucket, start = [], ts
        bucket.append(v)
    return statistics.median(sds) if sds else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--band", type=float, default=None, help="spread_band_bp (default: config's)")
    ap.add_argument("--dwell", type=float, default=None, help="spread_dwell_s (default: config's)")
    args = ap.parse_args()
    total = total_rev = total_long = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(
            feed="sim",
            speed=0.0,
            alert_log=Path(tmp) / "alerts.jsonl",
            levels_file=Path(tmp) / "levels.json",
            spreads=tuple(SpreadSpec("RUT-SPX", bp, f"{bp:+g} bp") for bp in THRESHOLDS),
        )
        if args.band is not None:
            base = replace(base, spread_band_bp=args.band)
        if args.dwell is not None and hasattr(base, "spread_dwell_s"):
            base = replace(base, spread_dwell_s=args.dwell)
        band = base.spread_band_bp
        dwell = getattr(base, "spread_dwell_s", 0.0)
        print(f"band {band:g} bp, dwell {dwell:g} s; {args.minutes:g} min of feed time per seed")
        head = f"{'seed':>4} {'bp':>5} {'crossings':>9} {'reversed<60s':>12} {'<5min':>5}"
        print(head + "   noise sd 10s/60s")
        for seed in args.seeds:
            settings = replace(base, seed=seed, alert_log=Path(tmp) / f"alerts{seed}.jsonl")
            crossings, values = asyncio.run(run_seed(settings, args.minutes))
            noise = f"{window_sd(values, 10_000):.2f} / {window_sd(values, 60_000):.2f} bp"
            for bp in THRESHOLDS:
                mine = [a for a in crossings if a.level == bp]
                rev, long = reversed_within(mine), reversed_within(mine, LONGER_MS)
                total, total_rev = total + len(mine), total_rev + rev
                total_long += long
                print(f"{seed:>4} {bp:>+5g} {len(mine):>9} {rev:>12} {long:>5}   {noise}")
                noise = ""
    print(
        f"total: {total} crossings, {total_rev} reversed within 60 s of feed time "
        f"({total_long} within 5 min)"
    )


if __name__ == "__main__":
    main()
