"""The headless commands (``r2k alerts``, ``r2k snapshot``, ``r2k record``): no Textual import.

They run the same pipeline as the app. A run stops when the feed ends (a replay), or after a
duration: wall seconds normally, but feed seconds when the feed runs as fast as possible
(speed 0), because there wall time would make the output depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from feeds.alerts import StatusLineSink, StdoutSink
from feeds.config import Settings
from feeds.frame import Frame
from feeds.levelstore import LevelStore, add_saved_levels
from feeds.pipeline import Pipeline
from feeds.setup import build_pipeline, close_sinks
from feeds.symbols import HEADLINE
from feeds.timefmt import exchange_time, iso_ms
from tui import fmt

SNAPSHOT_LIVE_SECONDS = 5.0
FEED_CLOCK_POLL_S = 0.05  # how often a feed-time duration looks at a silent feed's clock
TEXT_TOP = 20  # constituents printed by the text snapshot unless --top says otherwise


async def consume(pipeline: Pipeline, duration: float | None, *, feed_time: bool) -> None:
    """Feed events into the pipeline until the feed ends or ``duration`` seconds pass."""
    if duration is None:
        await pipeline.run()
    elif not feed_time:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration):
                await pipeline.run()
    else:
        task = asyncio.create_task(pipeline.run(feed_ms=int(duration * 1000)))
        try:
            # run() stops at the first event past the limit; this catches a feed whose clock
            # runs on while it sends nothing (the sim overnight).
            while not task.done():
                await asyncio.wait({task}, timeout=FEED_CLOCK_POLL_S)
                limit = pipeline.feed_limit_ms
                if not task.done() and limit is not None and pipeline.feed.now_ms() >= limit:
                    task.cancel()
                    break
        finally:
            if not task.done():
                task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def _run(pipeline: Pipeline, duration: float | None, *, feed_time: bool) -> None:
    try:
        await consume(pipeline, duration, feed_time=feed_time)
    finally:
        await close_sinks(pipeline)
        for problem in pipeline.problems():  # alerts that did not reach the log or webhook
            StatusLineSink().warning(problem)


def run_alerts(settings: Settings, duration: float | None) -> int:
    status = StatusLineSink()
    pipeline = build_pipeline(settings, extra_alert_sinks=[StdoutSink()], status_sinks=[status])
    # the levels a trader added in the monitor alert here too
    warning = add_saved_levels(pipeline.levels, LevelStore(settings.levels_file))
    if warning:
        status.warning(warning)
    asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0))
    return 0


def run_record(settings: Settings, duration: float | None, out: Path) -> int:
    from feeds.recorder import RecordingFeed

    pipeline = build_pipeline(settings, status_sinks=[StatusLineSink()])
    asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0))
    feed = pipeline.feed
    rows = feed.recorder.rows if isinstance(feed, RecordingFeed) else 0
    sys.stderr.write(f"r2k: recorded {rows:,} ticks to {out}\n")
    return 0


def run_snapshot(
    settings: Settings,
    duration: float | None,
    *,
    as_json: bool,
    top: int | None,
    out: IO[str] | None = None,
) -> int:
    pipeline = build_pipeline(settings)
    if settings.feed_name == "replay":
        duration = None  # a replay runs to its end: the snapshot is its final state
    elif duration is None:
        duration = SNAPSHOT_LIVE_SECONDS
    asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0))
    frame = pipeline.frame()
    stream = out or sys.stdout
    if as_json:
        data = snapshot_dict(frame, pipeline, top)
        stream.write(json.dumps(data, ensure_ascii=False, allow_nan=False) + "\n")
    else:
        stream.write(snapshot_text(frame, pipeline, TEXT_TOP if top is None else top))
    stream.flush()
    return 0


def _num(x: float | None) -> float | None:
    """JSON has no NaN: unknowns are null."""
    return None if x is None or not math.isfinite(x) else float(x)


def snapshot_dict(frame: Frame, pipeline: Pipeline, top: int | None = None) -> dict[str, Any]:
    """The board as plain data. Constituents: only those with a price (a holding that never
    ticked has no return to show), ranked by the size of their contribution."""
    by_symbol = pipeline.holdings.by_symbol if pipeline.holdings else {}
    indices = {
        s: {"last": _num(q.last), "anchor": _num(q.anchor), "return": _num(q.ret)}
        for s, q in frame.quotes.items()
    }
    b = frame.breadth
    rows = [r for r in frame.board.rows() if r.last is not None]
    constituents = [
        {
            "symbol": r.symbol,
            "name": by_symbol[r.symbol].name if r.symbol in by_symbol else None,
            "last": _num(r.last),
            "return": _num(r.ret),
            "weight": _num(r.weight),
            "contribution_bp": _num(r.contribution_bp),
        }
        for r in rows[:top]
    ]
    return {
        "as_of": iso_ms(frame.as_of),
        "indices": indices,
        "spread_bp": {"RUT-SPX": _num(frame.spread_spx_bp), "RUT-MAGS": _num(frame.spread_mags_bp)},
        "breadth": {
            "advancers": b.advancers,
            "decliners": b.decliners,
            "unchanged": b.unchanged,
            "pct_up": _num(b.pct_up),
        },
        "constituents": constituents,
    }


def _when(ts_ms: int) -> str:
    return exchange_time(ts_ms).strftime("%Y-%m-%d %H:%M:%S ET") if ts_ms > 0 else "-"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(r) for r in rows)]


def snapshot_text(frame: Frame, pipeline: Pipeline, top: int) -> str:
    """The board as an aligned plain-text table (no colour, no markup: safe in any pipe)."""
    d = snapshot_dict(frame, pipeline)
    status = frame.status
    out = [
        f"r2k snapshot  {fmt.clean(pipeline.feed.label)} ({status.state})  "
        f"as of {_when(frame.as_of)}  anchor: {fmt.anchor_name(frame.anchor)}",
        "",
    ]
    index_rows = []
    for s in HEADLINE:
        q = d["indices"][s]
        est = " (est.)" if frame.quotes[s].estimated else ""
        index_rows.append(
            [s + est, fmt.price(q["last"]), fmt.price(q["anchor"]), fmt.pct(q["return"])]
        )
    out += _table(["INDEX", "LAST", "ANCHOR", "RETURN"], index_rows, {1, 2, 3})
    sp = d["spread_bp"]
    spx, mags = fmt.bp(sp["RUT-SPX"], 1), fmt.bp(sp["RUT-MAGS"], 1)
    out += ["", f"SPREAD   RUT-SPX {spx} bp   RUT-MAGS {mags} bp"]
    b = d["breadth"]
    pct_up = "-" if b["pct_up"] is None else f"{b['pct_up'] * 100:.1f}%"
    out += [
        f"BREADTH  {b['advancers']} up  {b['decliners']} down  {b['unchanged']} unchanged  "
        f"({pct_up} up)",
        "",
    ]
    shown = d["constituents"][: max(top, 0)]
    rows = [
        [
            str(n),
            fmt.clean(c["symbol"], 12),
            fmt.clean(c["name"] or "", 28),
            fmt.price(c["last"]),
            fmt.pct(c["return"]),
            fmt.weight_pct(c["weight"]),
            fmt.bp(c["contribution_bp"], 1),
        ]
        for n, c in enumerate(shown, 1)
    ]
    out += _table(
        ["#", "SYMBOL", "NAME", "LAST", "RETURN", "WEIGHT", "CONTRIB BP"], rows, {0, 3, 4, 5, 6}
    )
    more = len(d["constituents"]) - len(shown)
    if more > 0:
        out.append(f"... {more} more (--top N to show them)")
    return "\n".join(out) + "\n"
