"""Ingest throughput: ticks per second through decode and ``MarketState.apply``.

Run: ``.venv/bin/python bench/ingest.py [--universe 2000] [--ticks 300000]``

Prints, for the simulated universe:
- creating the Tick objects alone (the floor any feed pays),
- ``MarketState.apply`` one tick at a time and ``apply_ticks`` a frame of 50 at a time, and the
  full ``Pipeline.handle`` path, and their ratio to creation,
- a JSON wire format (trade frames of 50 messages, Polygon-like) parsed with orjson alone, then
  decoded to Ticks and applied; target: >= 250,000 ticks/s and <= 3x the bare parse;
- each real provider decoder (``Feed.decode``) on frames encoded from the same simulated ticks
  (Polygon, Finnhub and Alpaca JSON at 1 and 50 trades a frame; Yahoo's base64 protobuf in a JSON
  envelope, one update a frame as the real service sends): the bare parse (``orjson.loads``; for
  Yahoo also the base64 decode), ``decode()`` to Ticks, and decode + ``MarketState.apply``, with
  the ratio to the bare parse and a met/NOT met line per JSON format. Apply is
  ``MarketState.apply_ticks`` on each frame's ticks, as ``Pipeline.handle_batch`` does.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import functools
import gc
import os
import struct
import time
from collections.abc import Callable

import orjson
from common import figure, load  # the sibling module (bench/ is sys.path[0])

from feeds.events import Tick
from feeds.feed import Feed, FeedOptions
from feeds.market import calendar
from feeds.market.state import MarketState
from feeds.pipeline import Pipeline
from feeds.reference.holdings import load_holdings, pad_universe
from feeds.sources.providers.alpaca import AlpacaFeed
from feeds.sources.providers.finnhub import FinnhubFeed
from feeds.sources.providers.polygon import PolygonFeed, to_polygon
from feeds.sources.providers.yahoo import YahooFeed
from feeds.sources.sim import Market
from feeds.symbols import to_provider

FRAME = 50  # messages per websocket frame, typical of a busy trade stream
STRESS_ROWS = {"1/frame, 1/s"}  # shown for the record, not held to the target


def best_of(fn, repeat: int = 3) -> float:
    """Fastest wall time of ``repeat`` runs (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def sim_ticks(universe: int, count: int, seed: int) -> list[Tick]:
    holdings = pad_universe(load_holdings(), universe, seed)
    start = calendar.latest_session_start(int(time.time() * 1000))
    market = Market(holdings, seed, start, tick_rate=20.0)
    ticks: list[Tick] = []
    while len(ticks) < count:
        ticks.extend(market.step())
    return ticks[:count]


# ---- wire encoders for the provider rows (the shapes each provider module states) -------------
Row = tuple[str, float, int, float | None]  # (canonical symbol, price, ts ms, size)


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _mix(k: int) -> int:
    """A cheap deterministic scramble of a message's index (ids, exchanges, conditions)."""
    return (k * 2_654_435_761 + 12_345) & 0xFFFF_FFFF


def _provider_names(rows: list[Row], convert: Callable[[str], str]) -> dict[str, str]:
    return {s: convert(s) for s in {r[0] for r in rows}}


def polygon_messages(rows: list[Row]) -> list[dict]:
    """``{"ev":"T","sym":..,"x":..,"i":..,"z":..,"p":..,"s":..,"c":[..],"t":..,"q":..}``"""
    names = _provider_names(rows, to_polygon)
    out = []
    for k, (s, p, ts, z) in enumerate(rows):
        h = _mix(k)
        out.append(
            {
                "ev": "T",
                "sym": names[s],
                "x": (4, 10, 11, 12, 19)[h % 5],
                "i": str(h * 7919 + 1),
                "z": 1 + h % 3,
                "p": p,
                "s": int(z or 100),
                "c": [(12, 14, 37, 41)[h % 4]],
                "t": ts,
                "q": 1_000_000 + k,
            }
        )
    return out


def polygon_frames(messages: list[dict], per_frame: int) -> list[str]:
    return [orjson.dumps(chunk).decode() for chunk in _chunks(messages, per_frame)]


def finnhub_messages(rows: list[Row]) -> list[dict]:
    """``{"c":[..],"p":..,"s":..,"t":..,"v":..}``"""
    names = _provider_names(rows, lambda s: to_provider(s, "dot"))
    return [
        {"c": [("1", "12", "24")[_mix(k) % 3]], "p": p, "s": names[s], "t": ts, "v": int(z or 100)}
        for k, (s, p, ts, z) in enumerate(rows)
    ]


def finnhub_frames(messages: list[dict], per_frame: int) -> list[str]:
    """``{"data":[...],"type":"trade"}``"""
    return [
        orjson.dumps({"data": chunk, "type": "trade"}).decode()
        for chunk in _chunks(messages, per_frame)
    ]


@functools.lru_cache(maxsize=4096)
def _second_stamp(sec: int) -> str:
    return dt.datetime.fromtimestamp(sec, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339_nano(ts_ms: int, sub_ns: int) -> str:
    """Go's RFC3339Nano, as Alpaca sends it: UTC, the fraction's trailing zeros dropped."""
    sec, ms = divmod(ts_ms, 1000)
    frac = f"{ms * 1_000_000 + sub_ns:09d}".rstrip("0")
    return f"{_second_stamp(sec)}.{frac}Z" if frac else f"{_second_stamp(sec)}Z"


def alpaca_messages(rows: list[Row]) -> list[dict]:
    """``{"T":"t","S":..,"i":..,"x":..,"p":..,"s":..,"c":[..],"t":"<RFC-3339 ns>","z":..}``"""
    names = _provider_names(rows, lambda s: to_provider(s, "dot"))
    out = []
    for k, (s, p, ts, z) in enumerate(rows):
        h = _mix(k)
        out.append(
            {
                "T": "t",
                "S": names[s],
                "i": h * 7919 + 1,
                "x": "VPQZKD"[h % 6],
                "p": p,
                "s": int(z or 100),
                "c": [("@", "I", "F")[h % 3]],
                "t": rfc3339_nano(ts, h % 1_000_000),
                "z": "ABC"[h % 3],
            }
        )
    return out


def alpaca_frames(messages: list[dict], per_frame: int) -> list[str]:
    return [orjson.dumps(chunk).decode() for chunk in _chunks(messages, per_frame)]


def _varint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _zigzag(v: int) -> bytes:
    return _varint((v << 1) ^ (v >> 63))


_F32 = struct.Struct("<f").pack


def yahoo_frames(ticks: list[Tick]) -> list[str]:
    """One ``{"type":"pricing","message":"<base64 PricingData>"}`` per update, with the fields a
    real stock update carries (id, price, time, exchange, quote type, market hours, change %,
    day volume, change, price hint)."""
    out: list[str] = []
    for t in ticks:
        sym = t.symbol.encode()
        prev = t.prev_close or t.price
        msg = b"".join(
            (
                b"\x0a" + _varint(len(sym)) + sym,
                b"\x15" + _F32(t.price),
                b"\x18" + _zigzag(t.ts),
                b"\x2a\x03NMS",
                b"\x30" + _varint(9 if t.symbol.startswith("^") else 8),
                b"\x38\x01",
                b"\x45" + _F32((t.price / prev - 1.0) * 100.0),
                b"\x48" + _zigzag(int(t.day_volume or 0)),
                b"\x65" + _F32(t.price - prev),
                b"\xd8\x01\x04",  # price_hint 2 (zigzag 4)
            )
        )
        out.append(
            orjson.dumps({"type": "pricing", "message": base64.b64encode(msg).decode()}).decode()
        )
    return out


def provider_feeds(symbols: list[str]) -> dict[str, object]:
    """The real feed objects, built without any network (dummy keys, nothing connects)."""
    return {
        "polygon": PolygonFeed(
            "polygon", "", FeedOptions(symbols=symbols, env={"R2K_POLYGON_KEY": "bench"})
        ),
        "finnhub": FinnhubFeed(
            "finnhub",
            FeedOptions(
                symbols=symbols,
                env={"R2K_FINNHUB_TOKEN": "bench", "R2K_FINNHUB_MAX_SYMBOLS": "0"},
            ),
        ),
        "alpaca": AlpacaFeed(
            "alpaca:sip",
            "sip",
            FeedOptions(
                symbols=symbols, env={"R2K_ALPACA_KEY": "bench", "R2K_ALPACA_SECRET": "bench"}
            ),
        ),
        "yahoo": YahooFeed("yahoo", FeedOptions(symbols=symbols)),
    }


def best_of_each(preps: list[Callable[[], Callable[[], object]]], repeat: int) -> list[float]:
    """Best CPU time of this process for each ``prep()()`` (``prep`` untimed: it builds fresh
    state), the runs interleaved so that a busy spell on the machine weighs on all of them alike
    (the ratios are what the target is about). CPU time, not the wall clock: on the shared
    machine the wall clock mostly measures the neighbours (issue 22: the same tree's ratios moved
    from 3.0x to 5.0x with the load; by CPU time they hold within ~5 %)."""
    best = [float("inf")] * len(preps)
    for _ in range(repeat):
        for k, prep in enumerate(preps):
            run = prep()
            gc.collect()
            t = time.process_time()
            run()
            best[k] = min(best[k], time.process_time() - t)
    return best


def bench_provider(
    feed, frames: list[str], n: int, yahoo: bool, symbols: list[str], repeat: int
) -> tuple[float, float, float]:
    """(bare parse, decode, decode + apply) seconds for ``frames`` holding ``n`` ticks.

    The state is built (symbols registered and printed once, as in a running monitor) outside
    the timed run, so the figure is the steady-state cost per tick, not the one-off set-up of
    2,000 chart rings.
    """
    decode = feed.decode
    loads = orjson.loads

    def parse() -> None:
        if yahoo:
            a2b = binascii.a2b_base64
            for f in frames:
                a2b(loads(f)["message"], strict_mode=True)
        else:
            for f in frames:
                loads(f)

    def decode_only() -> None:
        for f in frames:
            decode(f)

    first_ts = min(t.ts for f in frames[:1] for t in decode(f))  # type: ignore[union-attr]

    def decode_apply() -> Callable[[], None]:
        # a frame's ticks in one call, as Pipeline.handle_batch applies them (issue 12 §5); the
        # state as a running monitor has it: each symbol has printed (its chart ring allocated,
        # a one-off at its first print) a minute before the frames start
        state = MarketState(symbols)
        state.apply_ticks([Tick(s, 1.0, first_ts - 60_000) for s in symbols])
        apply_ticks = state.apply_ticks

        def run() -> None:
            for f in frames:
                apply_ticks(decode(f))  # type: ignore[arg-type]

        return run

    got = sum(len(decode(f)) for f in frames)  # also warms symbol maps and time caches
    if got != n:
        raise SystemExit(f"{feed.provider} decoded {got:,} ticks from frames of {n:,}")
    t_parse, t_decode, t_apply = best_of_each(
        [lambda: parse, lambda: decode_only, decode_apply], repeat
    )
    return t_parse, t_decode, t_apply


def provider_section(ticks: list[Tick], repeat: int, wanted: set[str]) -> None:
    symbols = list(dict.fromkeys(t.symbol for t in ticks))
    feeds = provider_feeds(symbols)
    # JSON providers stream trades of stocks and ETFs; index values come from other channels
    stock_ticks = [t for t in ticks if not t.symbol.startswith("^")]
    rows: list[Row] = [(t.symbol, t.price, t.ts, t.size) for t in stock_ticks]
    # the same trades a second apart each: every stamp in a new second (no cache reuse)
    sparse: list[Row] = [
        (s, p, 1_790_000_000_000 + k * 1_013, z) for k, (s, p, _, z) in enumerate(rows)
    ]
    cases: list[tuple[str, str, list[str], int]] = []
    if "polygon" in wanted:
        messages = polygon_messages(rows)
        for per in (1, 50):
            cases.append(("polygon", f"{per}/frame", polygon_frames(messages, per), len(rows)))
    if "finnhub" in wanted:
        messages = finnhub_messages(rows)
        for per in (1, 50):
            cases.append(("finnhub", f"{per}/frame", finnhub_frames(messages, per), len(rows)))
    if "alpaca" in wanted:
        messages = alpaca_messages(rows)
        for per in (1, 20, 50):
            cases.append(("alpaca", f"{per}/frame", alpaca_frames(messages, per), len(rows)))
        sparse_frames = alpaca_frames(alpaca_messages(sparse), 1)
        cases.append(("alpaca", "1/frame, 1/s", sparse_frames, len(rows)))
    if "yahoo" in wanted:
        cases.append(("yahoo", "1/frame", yahoo_frames(ticks), len(ticks)))
        yahoo_decode_tick(cases[-1][2], repeat)
    messages = []
    gc.collect()
    gc.freeze()  # the frames are long-lived: keep them out of every collection while timing

    print()
    print(
        f"provider decoders ({len(rows):,} trades; yahoo {len(ticks):,} updates; best of {repeat})"
    )
    print(
        f"{'provider':8} {'frame':13} {'bare parse':>11} {'decode':>11} {'ratio':>6} "
        f"{'decode+apply':>13} {'ratio':>6}  µs/tick"
    )
    verdicts: dict[str, list[bool]] = {}
    for name, label, frames, n in cases:
        t_parse, t_decode, t_apply = bench_provider(
            feeds[name], frames, n, name == "yahoo", symbols, repeat
        )
        fast = n / t_apply >= 250_000
        ok = fast if name == "yahoo" else fast and t_apply / t_parse <= 3.0
        counted = label not in STRESS_ROWS
        if counted:
            verdicts.setdefault(name, []).append(ok)
        print(
            f"{name:8} {label:13} {n / t_parse:>11,.0f} {n / t_decode:>11,.0f} "
            f"{t_decode / t_parse:>5.2f}x {n / t_apply:>13,.0f} {t_apply / t_parse:>5.2f}x  "
            f"{t_apply / n * 1e6:5.2f}{'' if ok else '  <-' if counted else '  (stress row)'}"
        )
    print("(ticks a CPU second; ratios to the bare parse: orjson.loads, for yahoo + base64)")
    if "alpaca" in wanted:
        print(
            "(alpaca 1/frame, 1/s: every stamp in a second not seen before, the time cache's "
            "worst case; a stream that slow is nowhere near the target rate, so not counted)"
        )
    for name, oks in verdicts.items():
        if name == "yahoo":  # the 3x rule is for JSON wire formats; protobuf has the rate only
            what = "yahoo    (protobuf in base64 in JSON) >= 250,000 ticks/s"
        else:
            what = f"{name:8} (JSON) >= 250,000 ticks/s and <= 3x bare parse, every frame size"
        print(f"{what}: {'met' if all(oks) else 'NOT met'}")


def yahoo_decode_tick(frames: list[str], repeat: int) -> None:
    """``decode_tick`` alone, µs a message, on the protobuf payloads of ``frames`` (the base64
    already undone): the cost of reading one PricingData message into a Tick."""
    from feeds.sources.providers.yahoo_proto import decode_tick, frame_payload

    payloads = [frame_payload(f) for f in frames]
    for b in payloads:  # warm the price caches, as a running stream has them
        decode_tick(b)

    # CPU time of this process, best of several: on a shared machine the wall clock mostly
    # measures the neighbours
    best = float("inf")
    for _ in range(max(repeat, 9)):
        gc.collect()
        t = time.process_time()
        for b in payloads:
            decode_tick(b)
        best = min(best, time.process_time() - t)
    us = best / len(payloads) * 1e6
    figure("yahoo decode_tick, sim stream (CPU µs)", f"{us:.2f}", "info (price caches miss)", None)
    # one message over and over, as the issue measured it (1.63 µs by hand, 1.07 µs for upb
    # with the Tick built)
    one = payloads[len(payloads) // 2]
    best = float("inf")
    for _ in range(max(repeat, 9)):
        t = time.process_time()
        for _ in range(20_000):
            decode_tick(one)
        best = min(best, time.process_time() - t)
    us = best / 20_000 * 1e6
    figure(
        "yahoo decode_tick, one message (CPU µs)", f"{us:.2f}", "<= 1.07 (upb + Tick)", us <= 1.07
    )


class _NullFeed(Feed):
    def __aiter__(self):  # pragma: no cover - never iterated
        raise NotImplementedError


def base_section(ticks: list[Tick]) -> None:
    """Tick creation, ``MarketState.apply``, ``Pipeline.handle`` and the inline Polygon-like
    decode (trade frames of 50 messages) against its bare parse."""
    n = len(ticks)
    rows = [(t.symbol, t.price, t.ts, t.size) for t in ticks]

    def create() -> None:
        for s, p, ts, z in rows:
            Tick(s, p, ts, z)

    def apply() -> None:
        st = MarketState()
        for t in ticks:
            st.apply(t)

    def apply_batched() -> None:
        st = MarketState()
        for k in range(0, n, FRAME):
            st.apply_ticks(ticks[k : k + FRAME])

    def handle() -> None:
        pipe = Pipeline(_NullFeed("bench", FeedOptions()))
        h = pipe.handle
        for t in ticks:
            h(t)

    frames = [
        orjson.dumps(
            [{"ev": "T", "sym": s, "x": 4, "p": p, "s": z or 100, "t": ts} for s, p, ts, z in chunk]
        )
        for chunk in (rows[i : i + FRAME] for i in range(0, n, FRAME))
    ]

    def parse() -> None:
        loads = orjson.loads
        for f in frames:
            loads(f)

    def decode_apply() -> None:
        st = MarketState()
        apply_ticks = st.apply_ticks
        loads = orjson.loads
        for f in frames:
            apply_ticks([Tick(m["sym"], m["p"], m["t"], m["s"]) for m in loads(f)])

    t_create = best_of(create)
    t_apply = best_of(apply)
    t_batched = best_of(apply_batched)
    t_handle = best_of(handle)
    t_parse = best_of(parse)
    t_decode = best_of(decode_apply)

    def rate(t: float) -> str:
        return f"{n / t:>12,.0f} ticks/s  {t / n * 1e6:6.2f} µs/tick"

    print(f"create Tick objects only        {rate(t_create)}")
    print(f"MarketState.apply, one by one   {rate(t_apply)}   {t_apply / t_create:.2f}x create")
    print(f"MarketState.apply_ticks, 50     {rate(t_batched)}   {t_batched / t_create:.2f}x create")
    print(f"Pipeline.handle (state+levels)  {rate(t_handle)}   {t_handle / t_create:.2f}x create")
    print(f"JSON parse only (orjson)        {rate(t_parse)}")
    print(f"JSON decode + Tick + apply      {rate(t_decode)}   {t_decode / t_parse:.2f}x parse")
    ok = n / t_decode >= 250_000 and t_decode / t_parse <= 3.0
    print(f"target >= 250,000 ticks/s and <= 3x bare parse: {'met' if ok else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--universe", type=int, default=2000)
    ap.add_argument("--ticks", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--provider-ticks", type=int, default=100_000, help="ticks for the provider rows"
    )
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs (providers)")
    ap.add_argument(
        "--providers",
        default="polygon,finnhub,alpaca,yahoo",
        help="comma-separated provider rows to run ('' for none)",
    )
    ap.add_argument("--no-base", action="store_true", help="skip the rows before the providers")
    args = ap.parse_args()

    ticks = sim_ticks(args.universe, args.ticks, args.seed)
    n = len(ticks)
    names = len({t.symbol for t in ticks})
    print(f"{n:,} simulated ticks over {names:,} symbols (universe {args.universe:,})")
    print(f"machine load {load()}, {os.cpu_count()} cores")

    if not args.no_base:
        base_section(ticks)
    wanted = {p.strip() for p in args.providers.split(",") if p.strip()}
    if wanted:
        provider_section(ticks[: args.provider_ticks], args.repeat, wanted)


if __name__ == "__main__":
    main()
