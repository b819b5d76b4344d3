"""The Yahoo hot path (regex layout match, memoised prices, times and symbols) against the
field-by-field walk and the uncached :func:`f32_tidy`, on many messages, cold and warm."""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from feeds.events import Tick
from feeds.sources.providers import yahoo_proto as yp
from feeds.sources.providers.yahoo_proto import (
    ProtoDecodeError,
    _decode_tick_general,
    decode_tick,
    f32_tidy,
    tidy_raw,
)


# ---- a small PricingData encoder of our own ----------------------------------------------------
def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(num: int, wire: int) -> bytes:
    return varint((num << 3) | wire)


def zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


STR, F32, SINT, INT, F64 = range(5)
FIELDS: dict[str, tuple[int, int]] = {
    "id": (1, STR),
    "price": (2, F32),
    "time": (3, SINT),
    "currency": (4, STR),
    "exchange": (5, STR),
    "quote_type": (6, INT),
    "market_hours": (7, INT),
    "change_percent": (8, F32),
    "day_volume": (9, SINT),
    "day_high": (10, F32),
    "day_low": (11, F32),
    "change": (12, F32),
    "short_name": (13, STR),
    "open_price": (15, F32),
    "previous_close": (16, F32),
    "last_size": (22, SINT),
    "bid": (23, F32),
    "price_hint": (27, SINT),
    "market_cap": (33, F64),
}


def encode(fields: list[tuple[str, Any]]) -> bytes:
    """The fields in the order given (repeats allowed)."""
    out = bytearray()
    for name, value in fields:
        num, kind = FIELDS[name]
        if kind == STR:
            data = value if isinstance(value, bytes) else str(value).encode()
            out += key(num, 2) + varint(len(data)) + data
        elif kind == F32:
            out += key(num, 5) + struct.pack("<f", value)
        elif kind == F64:
            out += key(num, 1) + struct.pack("<d", value)
        elif kind == SINT:
            out += key(num, 0) + varint(zigzag(value))
        else:
            out += key(num, 0) + varint(value)
    return bytes(out)


# ---- reference comparison ----------------------------------------------------------------------
def outcome(fn: Any, buf: bytes) -> Tick | str | None:
    try:
        return fn(buf, 123)
    except ProtoDecodeError:
        return "ProtoDecodeError"


def clear_caches() -> None:
    for cache in (*yp._tidy_cache, *yp._prev_cache, yp._symbol_cache, yp._time_cache):
        cache.clear()


def same_as_general(buf: bytes) -> None:
    """decode_tick == the general walk, with the caches cold, then warm, then warm again."""
    want = outcome(_decode_tick_general, buf)
    clear_caches()
    for _ in range(3):
        got = outcome(decode_tick, buf)
        assert got == want, (buf, got, want)
        if isinstance(want, Tick):  # floats compared by bits too (-0.0 / 0.0 and NaN)
            assert isinstance(got, Tick)
            assert repr(got.prev_close) == repr(want.prev_close)


def price(rng: random.Random) -> float:
    return round(rng.uniform(0.5, 3000.0), rng.choice((2, 2, 2, 3, 4)))


def usual(rng: random.Random, symbol: str | None = None) -> list[tuple[str, Any]]:
    """A stock, ETF, index or FX update as Yahoo sends it: fields in number order, some absent."""
    p = price(rng)
    fields: list[tuple[str, Any]] = [
        ("id", symbol or rng.choice(("AAPL", "IWM", "^RUT", "BRK-B", "KRW=X", "DKNG", "Ü"))),
        ("price", p),
        ("time", rng.choice((1_788_377_229_000, 1_788_377_229_123, rng.randrange(1, 1 << 45)))),
    ]
    optional: list[tuple[str, Any]] = [
        ("currency", "USD"),
        ("exchange", rng.choice(("NMS", "PCX", "WCB", "NYQ"))),
        ("quote_type", rng.choice((8, 9, 20, 41, 7))),
        ("market_hours", rng.choice((0, 1, 2, 3))),
        ("change_percent", rng.uniform(-9, 9)),
        ("day_volume", rng.choice((0, 1, 63, 64, 8191, 8192, 6_719_763, 59_712_028_672))),
        ("day_high", p * 1.01),
        ("day_low", p * 0.99),
        ("change", rng.choice((rng.uniform(-50, 50), 0.0, math.inf, math.nan))),
        ("open_price", p),
        ("previous_close", rng.choice((p - 1.25, 0.0, -1.0, math.nan))),
        ("last_size", rng.choice((0, 100, 300, 1 << 40))),
        ("price_hint", rng.choice((0, 2, 2, 2, 4, 8, 9, -1))),
    ]
    return fields + [f for f in optional if rng.random() < 0.7]


def messages(seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        fields = usual(rng)
        roll = rng.random()
        if roll < 0.15:  # out of number order
            rng.shuffle(fields)
        elif roll < 0.25:  # a field sent twice (the last one wins)
            fields.append(rng.choice(fields))
        elif roll < 0.35:  # fields the fast layout does not know
            extra = [("short_name", "Apple Inc."), ("bid", 1.5), ("market_cap", 2e12)]
            fields.insert(rng.randrange(len(fields) + 1), rng.choice(extra))
        elif roll < 0.4:  # a four-letter exchange
            fields.append(("exchange", "ABCD"))
        elif roll < 0.45:  # a price of any float32, NaN, inf and negatives included
            raw = struct.pack("<I", rng.getrandbits(32))
            fields[1] = ("price", struct.unpack("<f", raw)[0])
        yield encode(fields)


# ---- tests -------------------------------------------------------------------------------------
def test_tidy_raw_matches_f32_tidy_on_random_float32s() -> None:
    rng = random.Random(20260906)
    clear_caches()
    for n in range(30_000):
        # odd n: any bit pattern (tiny, huge, negative, NaN, inf); even n: prices as quoted
        raw = struct.pack("<I", rng.getrandbits(32)) if n % 2 else struct.pack("<f", price(rng))
        x = struct.unpack("<f", raw)[0]
        hint = rng.randrange(9)
        want = f32_tidy(x, hint) if 0.0 < x < math.inf else None
        assert tidy_raw(raw, hint) == want, (raw, hint)
        assert tidy_raw(raw, hint) == want  # and again, from the cache


def test_tidy_raw_keeps_hints_apart() -> None:
    clear_caches()
    raw = struct.pack("<f", 24.535)
    assert tidy_raw(raw, 2) == (24.535, 3)
    assert tidy_raw(raw, 4) == f32_tidy(struct.unpack("<f", raw)[0], 4)
    assert tidy_raw(raw, 0) == f32_tidy(struct.unpack("<f", raw)[0], 0)


def test_usual_updates_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    bufs = [encode([*usual(rng, "AAPL")[:3], ("exchange", "NMS"), ("price_hint", 2)])]
    bufs += [encode(f) for f in (usual(rng, "AAPL") for _ in range(200))]
    want = [_decode_tick_general(b, 1) for b in bufs]  # also learns the symbol

    def refuse(buf: bytes, now_ms: int | None = None) -> Tick | None:
        raise AssertionError("the general walk ran for a usual update")

    monkeypatch.setattr(yp, "_decode_tick_general", refuse)
    assert [decode_tick(b, 1) for b in bufs] == want


def test_random_usual_and_unusual_messages_match_the_general_walk() -> None:
    for buf in messages(1, 3000):
        same_as_general(buf)


def test_mutated_and_truncated_messages_match_the_general_walk() -> None:
    rng = random.Random(99)
    for buf in messages(2, 600):
        for cut in (rng.randrange(len(buf) + 1), len(buf) - 1, 2, 1, 0):
            same_as_general(buf[:cut])
        b = bytearray(buf)
        for _ in range(rng.randrange(1, 4)):
            op, pos = rng.randrange(3), rng.randrange(len(b) + 1)
            if op == 0 and pos < len(b):
                b[pos] ^= 1 << rng.randrange(8)
            elif op == 1:
                b.insert(pos, rng.randrange(256))
            elif pos < len(b):
                del b[pos]
        same_as_general(bytes(b))


def test_random_bytes_after_a_symbol_match_the_general_walk() -> None:
    rng = random.Random(3)
    for _ in range(5000):
        tail = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        same_as_general(b"\x0a\x04AAPL" + tail)
        same_as_general(b"\x0a\x02\xff\xfe" + tail)  # a symbol that is not UTF-8


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yp, "_CACHE_MAX", 50)
    clear_caches()
    rng = random.Random(11)
    for buf in messages(4, 500):
        same_as_general(buf)
    for _ in range(500):
        decode_tick(encode(usual(rng, f"S{rng.randrange(10_000)}")), 1)
    caches = (*yp._tidy_cache, *yp._prev_cache, yp._symbol_cache, yp._time_cache)
    assert max(len(c) for c in caches) <= 50
