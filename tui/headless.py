"""The headless commands (``r2k alerts``, ``r2k snapshot``, ``r2k record``): no Textual import.

They run the same pipeline as the app. A run stops when the feed ends (a replay), or after a
duration: wall seconds normally, but feed seconds when the feed runs as fast as possible
(speed 0), because there wall time would make the output depend on the machine's speed.

A feed that failed during the run (refused, never connected, nothing readable: see
:meth:`Pipeline.feed_error`) makes the command exit with :data:`EXIT_FEED_ERROR` after writing
``r2k: feed error: <reason>`` as its last line on stderr, so a cron job or a supervisor can tell a
bad key from a quiet market.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from feeds.alerting.alerts import StatusLineSink, StdoutSink
from feeds.alerting.levelstore import LevelStore
from feeds.events import FeedState
from feeds.frame import Board, Frame, View
from feeds.market.sectors import Mover, Movers, SectorTable, Subtotal
from feeds.pipeline import Pipeline
from feeds.secrets import redact
from feeds.settings.config import Settings
from feeds.settings.setup import build_pipeline, close_sinks, load_saved
from feeds.symbols import HEADLINE
from feeds.text import clean, dumps
from feeds.timefmt import exchange_time, iso_ms
from tui import fmt

#: a live snapshot without --duration waits until every member has a price, at most this long
SNAPSHOT_WAIT_SECONDS = 60.0
FEED_CLOCK_POLL_S = 0.05  # how often a feed-time duration looks at a silent feed's clock
UNTIL_POLL_S = 0.5  # how often a run that waits for coverage looks at the board
TEXT_TOP = 20  # constituents printed by the text snapshot unless --top says otherwise
EXIT_FEED_ERROR = 3  # the feed failed during the run (see the module docstring)


async def consume(
    pipeline: Pipeline,
    duration: float | None,
    *,
    feed_time: bool,
    until: Callable[[], bool] | None = None,
) -> None:
    """Feed events into the pipeline until the feed ends, ``duration`` seconds pass, or
    ``until()`` (looked at every :data:`FEED_CLOCK_POLL_S`) says the run has what it needs."""
    if duration is None and until is None:
        await pipeline.run()
        return
    limit_ms = int(duration * 1000) if feed_time and duration is not None else None
    task = asyncio.create_task(pipeline.run(feed_ms=limit_ms))
    deadline = None if feed_time or duration is None else time.monotonic() + duration
    next_look = 0.0
    try:
        # run() stops at the first event past the limit; this catches a feed whose clock runs
        # on while it sends nothing (the sim overnight), a wall-time limit and ``until``
        while not task.done():
            await asyncio.wait({task}, timeout=FEED_CLOCK_POLL_S)
            if task.done():
                break
            limit = pipeline.feed_limit_ms
            if limit is not None and pipeline.feed.now_ms() >= limit:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if until is not None and time.monotonic() >= next_look:
                next_look = time.monotonic() + UNTIL_POLL_S  # ranks the board: not 20 times/s
                if until():
                    break
    finally:
        if not task.done():
            task.cancel()
        await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


def covered(pipeline: Pipeline) -> bool:
    """Whether every index member has a price (the snapshot's breadth then counts them all)."""
    board = pipeline.board()
    members = members_of(board)
    return members > 0 and board.names_priced >= members


#: Exit status when the run worked but some of its output could not be written (a full or
#: read-only disk): alerts missing from the log, a recording cut short. Stdout still has them.
EXIT_NOT_WRITTEN = 4


async def _run(
    pipeline: Pipeline,
    duration: float | None,
    *,
    feed_time: bool,
    until: Callable[[], bool] | None = None,
) -> int:
    """Run to the end; warns about what was not written (stderr) and returns the exit status."""
    warn = StatusLineSink().warning
    for note in pipeline.notes:  # holdings coverage, merged duplicates, a repaired log
        warn(note)
    reported: set[int] = set()

    async def watch() -> None:
        # a recording that stops or a log that fails is said when it happens (then its final
        # count at the end), not only after a whole day's run
        while True:
            await asyncio.sleep(1.0)
            pipeline.desk.on_clock()  # bars that ended close without waiting for a print
            for problem in _new_problems(pipeline, reported):
                warn(problem)

    watcher = asyncio.create_task(watch())
    try:
        await consume(pipeline, duration, feed_time=feed_time, until=until)
    finally:
        watcher.cancel()
        await asyncio.wait({watcher})
        await close_sinks(pipeline)
        problems = pipeline.problems()
        for problem in problems:  # the final counts: alerts or ticks not written
            warn(problem)
    return EXIT_NOT_WRITTEN if problems else 0


def _new_problems(pipeline: Pipeline, reported: set[int]) -> list[str]:
    """Problems of sinks (or the recording feed) that had none before; marks them reported."""
    out = []
    for source in (*pipeline.desk.sinks, pipeline.feed):
        problem = getattr(source, "problem", None)
        text = problem() if problem is not None else None
        if text and id(source) not in reported:
            reported.add(id(source))
            out.append(text)
    return out


def warn_holdings(pipeline: Pipeline, sink: StatusLineSink | None = None) -> None:
    """The load warning: one stderr line naming the holdings tickers respelt to the feed's
    symbols and those listed nowhere (nothing when every ticker is listed as written)."""
    summary = pipeline.reconciler.result.summary() if pipeline.reconciler else None
    if summary:
        (sink or StatusLineSink()).warning(summary)


def feed_exit_status(pipeline: Pipeline) -> int:
    """0, or EXIT_FEED_ERROR after the one line that says why (the last line on stderr)."""
    reason = pipeline.feed_error()
    if reason is None:
        return 0
    sys.stderr.write(f"r2k: feed error: {fmt.clean(redact(reason), 2000)}\n")
    sys.stderr.flush()
    return EXIT_FEED_ERROR


def run_alerts(settings: Settings, duration: float | None) -> int:
    status = StatusLineSink()
    pipeline = build_pipeline(settings, extra_alert_sinks=[StdoutSink()], status_sinks=[status])
    warn_holdings(pipeline, status)
    # the levels a trader added in the monitor alert here too, muted where muted there
    warning = load_saved(pipeline, LevelStore(settings.levels_file))
    if warning:
        status.warning(warning)
    code = asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0))
    return feed_exit_status(pipeline) or code  # a feed error (3) says more than output lost (4)


def run_record(settings: Settings, duration: float | None, out: Path) -> int:
    from feeds.storage.recorder import RecordingFeed

    status = StatusLineSink()
    # a practice run recorded unwatched leaves no alerts in the trader's history
    pipeline = build_pipeline(settings, status_sinks=[status], practice_log=False)
    warn_holdings(pipeline, status)
    feed = pipeline.feed
    if isinstance(feed, RecordingFeed) and feed.recorder.repaired:
        pipeline.notes.append(feed.recorder.repaired)
    code = asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0))
    rows = feed.recorder.rows if isinstance(feed, RecordingFeed) else 0
    path = feed.recorder.path if isinstance(feed, RecordingFeed) else out  # + .parquet
    discarded = isinstance(feed, RecordingFeed) and feed.recorder.discarded
    kept = "; no file kept at" if discarded else " to"  # none made for a run without a tick
    sys.stderr.write(f"r2k: recorded {rows:,} ticks{kept} {clean(str(path), 500)}\n")
    return feed_exit_status(pipeline) or code


def run_snapshot(
    settings: Settings,
    duration: float | None,
    *,
    as_json: bool,
    top: int | None,
    out: IO[str] | None = None,
) -> int:
    pipeline = build_pipeline(settings)
    warn_holdings(pipeline)
    until = None
    if settings.feed_name == "replay":
        duration = None  # a replay runs to its end: the snapshot is its final state
    elif duration is None:
        # until every member has a price, so breadth counts the whole index (the sim's thin
        # names take ~40 s), at most SNAPSHOT_WAIT_SECONDS
        duration, until = SNAPSHOT_WAIT_SECONDS, lambda: covered(pipeline)
    code = asyncio.run(_run(pipeline, duration, feed_time=settings.speed == 0, until=until))
    frame = pipeline.frame(View(sectors=True))  # with the sectors and the movers
    stream = out or sys.stdout
    if as_json:
        data = snapshot_dict(frame, pipeline, top)
        stream.write(dumps(data, separators=None) + "\n")  # control characters escaped
    else:
        stream.write(snapshot_text(frame, pipeline, TEXT_TOP if top is None else top))
    stream.flush()
    return feed_exit_status(pipeline) or code


def _num(x: float | None) -> float | None:
    """JSON has no NaN: unknowns are null."""
    return None if x is None or not math.isfinite(x) else float(x)


def snapshot_dict(frame: Frame, pipeline: Pipeline, top: int | None = None) -> dict[str, Any]:
    """The board as plain data. Indices: the session of ``as_of``'s previous close, open, high
    and low besides the last, anchor and return. Constituents: only those with a price (a
    holding that never ticked has no return to show), ranked by contribution, index members
    first (a non-member has ``"member": false`` and a null weight). ``weights_as_of`` is the
    holdings' date when the weights could not be moved to the anchor, else null."""
    by_symbol = pipeline.holdings.by_symbol if pipeline.holdings else {}
    indices = {
        s: {
            "last": _num(q.last),
            "anchor": _num(q.anchor),
            "return": _num(q.ret),
            "prev_close": _num(q.prev_close),
            "open": _num(q.open),
            "high": _num(q.high),
            "low": _num(q.low),
        }
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
            "member": r.member,
        }
        for r in rows[:top]
    ]
    board = frame.board
    status = frame.status
    return {
        "as_of": iso_ms(frame.as_of),
        # which feed, in what state and why; frames skipped as unreadable
        "feed": {
            "spec": pipeline.feed.spec,
            "state": str(status.state),
            "detail": redact(status.detail),
            "malformed": status.malformed,
        },
        "session": frame.session_date or None,
        "indices": indices,
        "spread_bp": {"RUT-SPX": _num(frame.spread_spx_bp), "RUT-MAGS": _num(frame.spread_mags_bp)},
        "breadth": {
            "advancers": b.advancers,
            "decliners": b.decliners,
            "unchanged": b.unchanged,
            "pct_up": _num(b.pct_up),
            # what the figures cover: the members with a return, of all the index's members
            "names": b.total,
            "members": members_of(board),
        },
        "coverage": {"names": board.names_priced, "weight": _num(board.coverage)},
        "weights_as_of": board.weights_as_of,
        **scoreboard_dict(frame),
        **sectors_dict(frame),
        "constituents": constituents,
    }


# where the move comes from, in the snapshot
def _mover(m: Mover | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "symbol": m.symbol,
        "name": m.name,
        "return": _num(m.ret),
        "contribution_bp": _num(m.contribution_bp),
        "weight": _num(m.weight),
    }


def _subtotal(t: Subtotal) -> dict[str, Any]:
    return {
        "names": t.names,
        "priced": t.priced,
        "weight": _num(t.weight),
        "contribution_bp": _num(t.contribution_bp),
        "share": _num(t.share),
        "advancers": t.up,
        "decliners": t.down,
        "unchanged": t.unchanged,
        "pct_up": _num(t.pct_up),
        "weight_up": _num(t.weight_up),
    }


def _sector_table(table: SectorTable) -> dict[str, Any]:
    return {
        "index_bp": _num(table.index_bp),
        "sectors": [
            {
                "sector": r.sector,
                **_subtotal(r.total),
                "best": _mover(r.best),
                "worst": _mover(r.worst),
            }
            for r in table.rows
        ],
    }


def _movers(m: Movers) -> dict[str, Any]:
    return {"names": m.names, "up": [_mover(x) for x in m.up], "down": [_mover(x) for x in m.down]}


def sectors_dict(frame: Frame) -> dict[str, Any]:
    """Where the move comes from as plain data: ``sectors`` since the previous close (``day``)
    and year to date (``ytd``), each sector with its weight, contribution (bp), share of the
    index move, breadth by count and weight, best and worst member; ``movers`` by period (1d,
    5d, ytd), the biggest returns up and down with each one's contribution."""
    sec = frame.sectors
    if sec is None:
        return {}
    return {
        "sectors": {"day": _sector_table(sec.day), "ytd": _sector_table(sec.ytd)},
        "movers": {m.period: _movers(m) for m in sec.movers},
    }


def sectors_lines(frame: Frame) -> list[str]:
    """The sector tables and the movers as aligned text lines (nothing without them)."""
    sec = frame.sectors
    if sec is None:
        return []
    out: list[str] = []
    for period, table in (("since the previous close", sec.day), ("year to date", sec.ytd)):
        out.append(f"SECTORS  {period}: index move {fmt.bp(table.index_bp, 1)} bp")
        rows = []
        for r in table.rows:
            t = r.total
            rows.append(
                [
                    fmt.clean(r.sector, 28),
                    f"{t.names:,}",
                    fmt.weight_pct(t.weight),
                    fmt.bp(t.contribution_bp, 2),
                    fmt.share(t.share, 1)
                    if t.share is not None and t.share >= 0
                    else ("-" + fmt.share(t.share, 1) if t.share is not None else "-"),
                    f"{t.up:,}",
                    f"{t.down:,}",
                    f"{t.pct_up * 100:.0f}%" if t.pct_up is not None else "-",
                    f"{t.weight_up * 100:.0f}%" if t.weight_up is not None else "-",
                    _mover_text(r.best, bp=False),
                    _mover_text(r.worst, bp=False),
                ]
            )
        header = ["SECTOR", "NAMES", "WEIGHT", "CONTRIB BP", "SHARE", "UP", "DOWN", "%UP",
                  "WT UP", "BEST", "WORST"]  # fmt: skip
        out += _table_lines(header, rows, set(range(1, 9)))
        out.append("")
    for m in sec.movers:
        label = f"MOVERS {m.period.upper():<3}"
        if not m.names:
            out.append(f"{label}  - (no closes that far back)")
            continue
        ups = ", ".join(_mover_text(x) for x in m.up) or "-"
        downs = ", ".join(_mover_text(x) for x in m.down) or "-"
        out.append(f"{label}  up: {ups}")
        out.append(f"{' ' * len(label)}  down: {downs}")
    return out


def _mover_text(m: Mover | None, *, bp: bool = True) -> str:
    """ "ERAS +153.2% (+0.41 bp)"."""
    if m is None:
        return "-"
    text = f"{fmt.clean(m.symbol, 12)} {fmt.pct(m.ret, 1)}"
    if bp and m.contribution_bp is not None:
        text += f" ({fmt.distance(m.contribution_bp, 2)} bp)"  # a tiny one is never "0.00"
    return text


# the scoreboard in the snapshot
def scoreboard_dict(frame: Frame) -> dict[str, Any]:
    """The year-to-date story as plain data: ``scoreboard`` (per symbol and spread, 1d, 5d,
    mtd, ytd: fractions for the indices, bp for the spreads, null when unknown), ``streak``,
    ``record_high_streak``, ``breadth_ytd`` (the keys of ``breadth``), ``ytd_anchor_unknown``
    (members without a YTD anchor) and ``holdings`` (which file, its as-of date and age)."""
    sb = frame.scoreboard
    if sb is None:
        return {}
    s, b, h = sb.streak, sb.breadth_ytd, sb.holdings
    return {
        "scoreboard": {
            name: {period: _num(value) for period, value in periods.items()}
            for name, periods in sb.returns.items()
        },
        "streak": {
            "leader": s.leader,
            "sessions": s.sessions,
            "longest_since": s.longest_since,
            "longest_this_year": s.longest_this_year,
        },
        "record_high_streak": {
            "symbol": sb.record_highs.symbol,
            "sessions": sb.record_highs.sessions,
            # the record's context: the high, its session, how far the index is from it
            "high": _num(sb.record_highs.high),
            "date": sb.record_highs.date,
            "this_year": sb.record_highs.this_year,
            "distance": _num(sb.record_highs.distance),
            "distance_pct": _num(sb.record_highs.distance_pct),
        },
        "breadth_ytd": {
            "advancers": b.advancers,
            "decliners": b.decliners,
            "unchanged": b.unchanged,
            "pct_up": _num(b.pct_up),
            "names": b.total,
            "members": members_of(frame.board),
        },
        "ytd_anchor_unknown": sb.ytd_anchor_unknown,
        # the share of the index weight (at the YTD anchor) held by members up on the year
        "weight_up_ytd": _num(sb.movers.weight_up),
        "holdings": None
        if h is None
        else {
            "origin": h.origin,
            "source": h.label,
            "as_of": h.as_of,
            "age_days": h.age_days,
            "stale": h.stale,
        },
    }


def scoreboard_lines(frame: Frame) -> list[str]:
    """The scoreboard as aligned text lines (nothing when the frame has none)."""
    sb = frame.scoreboard
    if sb is None:
        return []
    bases = sb.bases
    head = f"SCOREBOARD  session {sb.session or '-'}{'' if sb.complete else ' (in progress)'}"
    rows = []
    for name, periods in sb.returns.items():
        spread = name.startswith("RUT-")
        cells = [
            fmt.bp(v) + " bp" if spread and v is not None else fmt.pct(v) for v in periods.values()
        ]
        rows.append([name, *cells])
    header = ["", "1D", "5D", "MTD", "YTD"]
    out = [head, *_table_lines(header, rows, {1, 2, 3, 4})]
    since = ", ".join(f"{k.upper()} {bases[k] or '-'}" for k in ("1d", "5d", "mtd", "ytd"))
    out.append(f"            from the closes of: {since}")
    out.append(f"STREAK      {sb.streak_text()}")
    r = sb.record_highs
    if r.high is None:
        out.append("RECORDS     ^RUT: no daily highs yet")
    else:
        runs = f"{r.sessions} session{'' if r.sessions == 1 else 's'} in a row"
        out.append(
            f"RECORDS     ^RUT new all-time intraday high {runs} (high {fmt.price(r.high)} on "
            f"{r.date}; history from {r.since}); {r.this_year} this year"
        )
        distance, pct = r.distance, r.distance_pct
        if distance is not None and pct is not None:
            where = (
                "at the record now"
                if distance >= 0
                else f"{fmt.price(-distance)} pts ({fmt.share(-pct)}) below the record"
            )
            out.append(f"            {where}")
    b = sb.breadth_ytd
    pct_up = "-" if b.pct_up is None else f"{b.pct_up * 100:.1f}%"
    line = (
        f"YTD         {b.advancers:,} up  {b.decliners:,} down  {b.unchanged:,} unchanged  "
        f"({pct_up} up{over(b.total, members_of(frame.board))}) since {sb.ytd_anchor_date or '-'}"
    )
    note = sb.anchor_note()
    out.append(f"{line}; {note}" if note else line)
    if sb.movers.weight_up is not None:
        out.append(
            f"            {sb.movers.weight_up * 100:.1f}% of the index weight up on the year"
        )
    if sb.progress is not None:
        what, done, total = sb.progress
        out.append(f"HISTORY     {what} {done}/{total} (still downloading)")
    h = sb.holdings
    if h is not None:
        age = f"{h.age_days} days old" if h.age_days is not None else "age unknown"
        stale = "; older than 45 days: r2k holdings fetch gets the current file" if h.stale else ""
        out.append(
            f"HOLDINGS    {h.origin}: {fmt.clean(h.label, 120)}, as of {h.as_of} ({age}{stale})"
        )
    return out


def members_of(board: Board) -> int:
    """The index members on the board (every name without holdings)."""
    return board.index_members()


def over(names: int, members: int) -> str:
    """What a breadth figure counts: " over 1,377 of 1,953 members" ("" once it counts all)."""
    if names >= members:
        return f" over all {members:,} members"
    return f" over {names:,} of {members:,} members"


def _when(ts_ms: int) -> str:
    return exchange_time(ts_ms).strftime("%Y-%m-%d %H:%M:%S ET") if ts_ms > 0 else "-"


def _table_lines(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
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
    # a feed in trouble says so above the (then empty or old) board
    feed = d["feed"]
    if feed["state"] not in (FeedState.LIVE, FeedState.ENDED) or feed["malformed"]:
        line = f"FEED     {feed['state']}: {fmt.clean(feed['detail'], 300)}"
        if feed["malformed"]:
            line += f" ({feed['malformed']:,} malformed frames skipped)"
        out.insert(1, line)
    index_rows = []
    for s in HEADLINE:
        q = d["indices"][s]
        est = " (est.)" if frame.quotes[s].estimated else ""
        index_rows.append(
            [
                s + est,
                *(fmt.price(q[k]) for k in ("last", "anchor")),
                fmt.pct(q["return"]),
                *(fmt.price(q[k]) for k in ("prev_close", "open", "high", "low")),
            ]
        )
    header = ["INDEX", "LAST", "ANCHOR", "RETURN", "PREV CLOSE", "OPEN", "HIGH", "LOW"]
    out += _table_lines(header, index_rows, set(range(1, 8)))
    sp = d["spread_bp"]
    spx, mags = fmt.bp(sp["RUT-SPX"], 1), fmt.bp(sp["RUT-MAGS"], 1)
    out += ["", f"SPREAD   RUT-SPX {spx} bp   RUT-MAGS {mags} bp"]
    b = d["breadth"]
    pct_up = "-" if b["pct_up"] is None else f"{b['pct_up'] * 100:.1f}%"
    out += [
        f"BREADTH  {b['advancers']:,} up  {b['decliners']:,} down  {b['unchanged']:,} unchanged  "
        f"({pct_up} up){over(b['names'], b['members'])}",
    ]
    if pipeline.holdings is not None:
        out.append(f"BOARD    {fmt.coverage(d['coverage']['names'], d['coverage']['weight'])}")
        out.append(f"WEIGHTS  {fmt.weights_basis(d['weights_as_of'])}")
    out.append("")
    out += [*scoreboard_lines(frame), ""] if frame.scoreboard is not None else []
    out += [*sectors_lines(frame), ""] if frame.sectors is not None else []
    shown = d["constituents"][: max(top, 0)]
    rows = [
        [
            str(n),
            fmt.clean(c["symbol"], 12),
            fmt.clean(c["name"] or "", 28),
            fmt.price(c["last"]),
            fmt.pct(c["return"]),
            fmt.weight_pct(c["weight"]) if c["member"] else "not in",
            fmt.bp(c["contribution_bp"], 1),
        ]
        for n, c in enumerate(shown, 1)
    ]
    out += _table_lines(
        ["#", "SYMBOL", "NAME", "LAST", "RETURN", "WEIGHT", "CONTRIB BP"], rows, {0, 3, 4, 5, 6}
    )
    more = len(d["constituents"]) - len(shown)
    if more > 0:
        out.append(f"... {more} more (--top N to show them)")
    return "\n".join(out) + "\n"
