"""Ingest throughput: ticks per second through decode and ``MarketState.apply``.

Run: ``.venv/bin/python bench/ingest.py [--universe 2000] [--ticks 300000]``

Prints, for the simulated universe:
- creating the Tick objects alone (the floor any feed pays),
- ``MarketState.apply`` and the full ``Pipeline.handle`` path, and their ratio to creation,
- a JSON wire format (trade frames of 50 messages, Polygon-like) parsed with orjson alone, then
  decoded to Ticks and applied; target: >= 250,000 ticks/s and <= 3x the bare parse.
"""

from __future__ import annotations

import argparse
import gc
import time

import orjson

from feeds import calendar
from feeds.events import Tick
from feeds.feed import Feed, FeedOptions
from feeds.holdings import load_holdings, pad_universe
from feeds.pipeline import Pipeline
from feeds.sim import Market
from feeds.state import MarketState

FRAME = 50  # messages per websocket frame, typical of a busy trade stream


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


class _NullFeed(Feed):
    def __aiter__(self):  # pragma: no cover - never iterated
        raise NotImplementedError


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--universe", type=int, default=2000)
    ap.add_argument("--ticks", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    ticks = sim_ticks(args.universe, args.ticks, args.seed)
    n = len(ticks)
    names = len({t.symbol for t in ticks})
    rows = [(t.symbol, t.price, t.ts, t.size) for t in ticks]
    print(f"{n:,} simulated ticks over {names:,} symbols (universe {args.universe:,})")

    def create() -> None:
        for s, p, ts, z in rows:
            Tick(s, p, ts, z)

    def apply() -> None:
        st = MarketState()
        for t in ticks:
            st.apply(t)

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
        apply_ = st.apply
        loads = orjson.loads
        for f in frames:
            for m in loads(f):
                apply_(Tick(m["sym"], m["p"], m["t"], m["s"]))

    t_create = best_of(create)
    t_apply = best_of(apply)
    t_handle = best_of(handle)
    t_parse = best_of(parse)
    t_decode = best_of(decode_apply)

    def rate(t: float) -> str:
        return f"{n / t:>12,.0f} ticks/s  {t / n * 1e6:6.2f} µs/tick"

    print(f"create Tick objects only        {rate(t_create)}")
    print(f"MarketState.apply               {rate(t_apply)}   {t_apply / t_create:.2f}x create")
    print(f"Pipeline.handle (state+levels)  {rate(t_handle)}   {t_handle / t_create:.2f}x create")
    print(f"JSON parse only (orjson)        {rate(t_parse)}")
    print(f"JSON decode + Tick + apply      {rate(t_decode)}   {t_decode / t_parse:.2f}x parse")
    ok = n / t_decode >= 250_000 and t_decode / t_parse <= 3.0
    print(f"target >= 250,000 ticks/s and <= 3x bare parse: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
