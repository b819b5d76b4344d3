"""decode_tick on many random messages (usual layouts, shuffled, repeated and unknown fields,
any float32 price) against the Tick worked out from the fields themselves, and its caches."""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest

from feeds.events import Tick
from feeds.sources.providers import yahoo_proto as yp
from feeds.sources.providers.yahoo_proto import decode_tick, f32_tidy, round_places, tidy_price
from tests.sources.providers.fake_yahoo import _key as key
from tests.sources.providers.fake_yahoo import _varint as varint
from tests.sources.providers.fake_yahoo import _zigzag as zigzag

# ---- messages in any layout (fake_yahoo's encode_pricing writes number order only) ------------
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


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def expected(fields: list[tuple[str, Any]], now_ms: int) -> Tick | None:
    """The Tick the rules in decode_tick's docstring give, worked out from the fields (the last
    of a repeated field wins, floats as the float32 the wire holds)."""
    got = {name: (f32(v) if FIELDS[name][1] == F32 else v) for name, v in fields}
    if got.get("quote_type") == 7:
        return None
    hint = got.get("price_hint", 2)
    hint = hint if 0 <= hint <= 8 else 2
    x = got.get("price", 0.0)
    if not 0.0 < x < math.inf:
        return None
    price, places = f32_tidy(x, hint)
    prev = None
    pc = got.get("previous_close")
    if pc is not None and 0.0 < pc < math.inf:
        prev = f32_tidy(pc, hint)[0]
    elif "change" in got and -math.inf < got["change"] < math.inf:
        prev = round(price - got["change"], places)
    ts = got.get("time", 0)
    return Tick(
        got["id"],
        price,
        ts if ts > 0 else now_ms,
        got.get("last_size") or None,
        got.get("day_volume") or None,
        prev,
    )


def clear_caches() -> None:
    for cache in (*yp._tidy_cache, *yp._prev_cache):
        cache.clear()


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


def messages(seed: int, count: int) -> list[list[tuple[str, Any]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        fields = usual(rng)
        roll = rng.random()
        if roll < 0.15:  # out of number order
            rng.shuffle(fields)
        elif roll < 0.25:  # a field sent twice (the last one wins)
            fields.append(rng.choice(fields))
        elif roll < 0.35:  # fields the tick does not need
            extra = [("short_name", "Apple Inc."), ("bid", 1.5), ("market_cap", 2e12)]
            fields.insert(rng.randrange(len(fields) + 1), rng.choice(extra))
        elif roll < 0.4:  # a four-letter exchange
            fields.append(("exchange", "ABCD"))
        elif roll < 0.45:  # a price of any float32, NaN, inf and negatives included
            raw = struct.pack("<I", rng.getrandbits(32))
            fields[1] = ("price", struct.unpack("<f", raw)[0])
        out.append(fields)
    return out


def same(a: Tick | None, b: Tick | None) -> bool:
    """Equal, floats compared by repr too (-0.0 / 0.0)."""
    if a is None or b is None:
        return a is b
    return a == b and repr(a.prev_close) == repr(b.prev_close)


# ---- tests -------------------------------------------------------------------------------------
def test_tidy_price_matches_f32_tidy_on_random_float32s() -> None:
    rng = random.Random(20260906)
    clear_caches()
    for n in range(30_000):
        # odd n: any bit pattern (tiny, huge, negative, NaN, inf); even n: prices as quoted
        raw = struct.pack("<I", rng.getrandbits(32)) if n % 2 else struct.pack("<f", price(rng))
        x = struct.unpack("<f", raw)[0]
        hint = rng.randrange(9)
        want = f32_tidy(x, hint) if 0.0 < x < math.inf else None
        assert tidy_price(x, hint) == want, (raw, hint)
        assert tidy_price(x, hint) == want  # and again, from the cache


def test_round_places_is_round_on_random_floats() -> None:
    rng = random.Random(7)
    for n in range(100_000):
        if n % 3 == 0:  # any float32 bit pattern
            x = struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]
        elif n % 3 == 1:  # prices and changes as quoted, as float32
            x = f32(round(rng.uniform(-5000, 5000), rng.randrange(5)))
        else:  # any double, halves included
            x = rng.choice((rng.uniform(-1e6, 1e6), rng.randrange(-99999, 99999) / 2000))
        if not math.isfinite(x):
            continue
        d = rng.randrange(20)
        assert repr(round_places(x, d)) == repr(round(x, d)), (x, d)


def test_tidy_price_keeps_hints_apart() -> None:
    clear_caches()
    x = f32(24.535)
    assert tidy_price(x, 2) == (24.535, 3)
    assert tidy_price(x, 4) == f32_tidy(x, 4)
    assert tidy_price(x, 0) == f32_tidy(x, 0)


def test_random_usual_and_unusual_messages_give_the_expected_tick() -> None:
    for fields in messages(1, 3000):
        buf = encode(fields)
        want = expected(fields, 123)
        clear_caches()
        for _ in range(3):  # cold caches, then warm
            got = decode_tick(buf, 123)
            assert same(got, want), (fields, got, want)


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yp, "_CACHE_MAX", 50)
    clear_caches()
    rng = random.Random(11)
    for fields in messages(4, 500):
        assert same(decode_tick(encode(fields), 1), expected(fields, 1))
    for _ in range(500):
        decode_tick(encode(usual(rng, f"S{rng.randrange(10_000)}")), 1)
    assert max(len(c) for c in (*yp._tidy_cache, *yp._prev_cache)) <= 50
