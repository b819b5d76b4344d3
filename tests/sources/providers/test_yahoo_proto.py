"""The PricingData decoder (protobuf's upb, a descriptor built in code) against every real
Yahoo frame we know of."""

from __future__ import annotations

import contextlib
import random

import pytest

from feeds.events import Tick
from feeds.sources.providers.yahoo_proto import (
    ProtoDecodeError,
    decode_frame,
    decode_pricing,
    decode_tick,
    f32_tidy,
    frame_payload,
    pricing_dict,
)
from tests.sources.providers.fake_yahoo import _key, _varint, b64, encode_pricing, envelope

# Real captures: BTC from yfinance tests/test_live.py, DKNG from a JS test (v2 envelope), AAPL from
# a C# PricingData test, SPY from a Rust test (market_hours 0 on the wire), MSFT from yliveticker
# tests/yliveticker_test.py, KRW=X from a JS protobufhandler test.
BTC = (
    "CgdCVEMtVVNEFYoMuUcYwLCVgIplIgNVU0QqA0NDQzApOAFFPWrEP0iAgOrxvANVx/25R12csrRHZYD8skR9/7i0R7AB"
    "gIDq8bwD2AEE4AGAgOrxvAPoAYCA6vG8A/IBA0JUQ4ECAAAAwPrjckGJAgAA2P5ZT3tC"
)
DKNG_V2 = (
    '{"type":"pricing","message":"CgRES05HFa5HxEEYkJu3uYxoKgNOTVMwCDgBRet8lUBIpqS0BmXwKIw/2AEE"}'
)
AAPL = "CgRBQVBMFXH9KEMYsN7m18JjKgNOTVMwCDgBRQoLKr9IlIq+M2WAo5C/2AEE"
SPY = "CgNTUFkVCpfXQxiQyc6C6F8qA1BDWDAUOABFIBzAv2WAPdLA2AEE"
MSFT = "CgRNU0ZUFYVrMUMY0KLMjcNcKgNOTVMwCDgBRZ+B3L9IuPn8CVU0IjRDXYVrMUNlQApHwNgBBA=="
KRW = "CgVLUlc9WBWFW6hEGJCgpJ7wYyoDQ0NZMA44AUVwq7G+ZQAVlsC9AYVbqETNAYV7qETYAQg="
# synthetic index frame (values invented), same schema
RUT_V2 = '{"type":"pricing","message":"CgReUlVUFeylCkUYgMiN4I1oKgNXQ0IwCTgBRT0K175lrkcVwdgBBA=="}'

ALL_FRAMES = [BTC, DKNG_V2, AAPL, SPY, MSFT, KRW, RUT_V2]
BIG_FIELDS = {"circulating_supply", "market_cap"}  # doubles: no float32 tidy


def shown(frame: str) -> dict[str, object]:
    """The fields on the wire, floats as protobuf prints float32 (shortest round-trip)."""
    data = pricing_dict(decode_pricing(frame_payload(frame) or b""))
    return {
        k: (f32_tidy(v)[0] if isinstance(v, float) and k not in BIG_FIELDS else v)
        for k, v in data.items()
    }


def test_btc_matches_yfinance_expected_dict() -> None:
    # yfinance tests/test_live.py expects exactly this (its 64-bit ints are strings there)
    assert shown(BTC) == {
        "id": "BTC-USD",
        "price": 94745.08,
        "time": 1736509140000,
        "currency": "USD",
        "exchange": "CCC",
        "quote_type": 41,
        "market_hours": 1,
        "change_percent": 1.5344921,
        "day_volume": 59712028672,
        "day_high": 95227.555,
        "day_low": 92517.22,
        "change": 1431.8906,
        "open_price": 92529.99,
        "last_size": 59712028672,
        "price_hint": 2,
        "vol_24hr": 59712028672,
        "vol_all_currencies": 59712028672,
        "from_currency": "BTC",
        "circulating_supply": 19808172.0,
        "market_cap": 1876726640000.0,
    }


def test_dkng_v2_envelope() -> None:
    assert shown(DKNG_V2) == {
        "id": "DKNG",
        "price": 24.535,
        "time": 1788377229000,
        "exchange": "NMS",
        "quote_type": 8,
        "market_hours": 1,
        "change_percent": 4.671499,
        "day_volume": 6719763,
        "change": 1.0949993,
        "price_hint": 2,
    }


def test_aapl() -> None:
    assert shown(AAPL) == {
        "id": "AAPL",
        "price": 168.99,
        "time": 1709757487000,
        "exchange": "NMS",
        "quote_type": 8,
        "market_hours": 1,
        "change_percent": -0.66423094,
        "day_volume": 53985930,
        "change": -1.1299896,
        "price_hint": 2,
    }
    # the raw float32 artefact the tidy removes
    assert decode_pricing(frame_payload(AAPL) or b"").price == 168.99000549316406


def test_spy_market_hours_zero_is_on_the_wire() -> None:
    d = decode_pricing(frame_payload(SPY) or b"")
    assert d.market_hours == 0 and d.HasField("market_hours")  # explicit PRE_MARKET
    assert shown(SPY) == {
        "id": "SPY",
        "price": 431.18,
        "time": 1646048957000,
        "exchange": "PCX",
        "quote_type": 20,
        "market_hours": 0,
        "change_percent": -1.5008583,
        "change": -6.5700073,
        "price_hint": 2,
    }


def test_msft_day_high_and_low() -> None:
    s = shown(MSFT)
    assert s["id"] == "MSFT" and s["price"] == 177.42 and s["time"] == 1589554809000
    assert s["day_high"] == 180.1336 and s["day_low"] == 177.42
    assert s["day_volume"] == 10460764 and s["market_hours"] == 1
    assert round(s["change"], 2) == -3.11  # type: ignore[arg-type]


def test_krw_fx_with_bid_ask_and_price_hint_4() -> None:
    s = shown(KRW)
    assert (s["id"], s["price"], s["exchange"], s["quote_type"]) == ("KRW=X", 1346.86, "CCY", 14)
    assert (s["bid"], s["ask"], s["price_hint"]) == (1346.86, 1347.86, 4)


def test_synthetic_rut_index_frame() -> None:
    assert shown(RUT_V2) == {
        "id": "^RUT",
        "price": 2218.37,
        "time": 1788552000000,
        "exchange": "WCB",
        "quote_type": 9,
        "market_hours": 1,
        "change_percent": -0.42,
        "change": -9.33,
        "price_hint": 2,
    }


@pytest.mark.parametrize(
    ("frame", "tick"),
    [
        (AAPL, Tick("AAPL", 168.99, 1709757487000, None, 53985930, 170.12)),
        (DKNG_V2, Tick("DKNG", 24.535, 1788377229000, None, 6719763, 23.44)),
        (SPY, Tick("SPY", 431.18, 1646048957000, None, None, 437.75)),
        (MSFT, Tick("MSFT", 177.42, 1589554809000, None, 10460764, 180.53)),
        (RUT_V2, Tick("^RUT", 2218.37, 1788552000000, None, None, 2227.7)),
        (KRW, Tick("KRW=X", 1346.86, 1715871189000, None, None, 1351.5501)),
        (BTC, Tick("BTC-USD", 94745.08, 1736509140000, 59712028672, 59712028672, 93313.19)),
    ],
)
def test_frame_to_tick(frame: str, tick: Tick) -> None:
    assert decode_frame(frame) == tick


def test_price_keeps_digits_beyond_price_hint() -> None:
    # DKNG 24.535 comes with price_hint 2: plain rounding would report 24.53
    assert f32_tidy(24.53499984741211, 2) == (24.535, 3)
    assert f32_tidy(168.99000549316406, 2) == (168.99, 2)


def test_v2_envelope_and_legacy_bare_body_agree() -> None:
    for frame in (AAPL, SPY, MSFT):
        assert decode_frame(envelope(frame)) == decode_frame(frame)
        assert decode_frame(frame.encode()) == decode_frame(frame)  # a binary frame too


def test_other_types_are_ignored_not_errors() -> None:
    assert decode_frame('{"type":"ping"}') is None
    assert decode_frame('{"type":"status","message":"x"}') is None
    # yfinance never checks the type: a bare message key is pricing
    assert decode_frame('{"message":"' + AAPL + '"}') == decode_frame(AAPL)


def test_absent_market_hours_defaults_to_pre_market() -> None:
    d = decode_pricing(encode_pricing(id="IWM", price=200.0, time=1))
    assert d.market_hours == 0 and not d.HasField("market_hours")


def test_previous_close_preferred_then_price_minus_change_then_none() -> None:
    both = encode_pricing(id="X", price=10.5, time=5, change=0.5, previous_close=9.99)
    assert decode_tick(both) == Tick("X", 10.5, 5, None, None, 9.99)
    no_prev = encode_pricing(id="X", price=10.5, time=5, change=0.5)
    assert decode_tick(no_prev) == Tick("X", 10.5, 5, None, None, 10.0)
    bare = encode_pricing(id="X", price=10.5, time=5, last_size=300, day_volume=1000)
    assert decode_tick(bare) == Tick("X", 10.5, 5, 300, 1000, None)


def test_heartbeat_and_priceless_messages_are_not_ticks() -> None:
    assert decode_tick(encode_pricing(id="X", time=5, quote_type=7, price=1.0)) is None
    assert decode_tick(encode_pricing(id="X", time=5)) is None  # price absent = 0
    assert decode_tick(encode_pricing(id="X", price=float("nan"), time=5)) is None


def test_missing_time_uses_the_clock() -> None:
    tick = decode_tick(encode_pricing(id="X", price=1.25), now_ms=123)
    assert tick is not None and tick.ts == 123


def test_unknown_fields_are_skipped_by_wire_type() -> None:
    base = frame_payload(AAPL) or b""
    extra = (
        _key(99, 0)
        + _varint(1 << 40)  # varint
        + _key(50, 2)
        + _varint(3)
        + b"abc"  # length-delimited
        + _key(40, 1)
        + b"\x00" * 8  # fixed64
        + _key(41, 5)
        + b"\x00" * 4  # fixed32
        + _key(2, 0)
        + _varint(7)  # a known number with the wrong wire type: unknown, skipped
    )
    assert decode_tick(extra + base) == decode_tick(base)
    assert decode_tick(base + extra) == decode_tick(base)
    full = decode_pricing(base + extra)
    assert pricing_dict(full) == pricing_dict(decode_pricing(base))


def test_negative_int32_enum_reads_back_signed() -> None:
    d = decode_pricing(_key(1, 2) + b"\x01X" + _key(6, 0) + _varint(-1))
    assert d.quote_type == -1


@pytest.mark.parametrize(
    "bad",
    [
        b"\x0a\x05AB",  # string longer than the message
        b"\x15\x00\x00",  # float cut short
        b"\x18\xff\xff",  # varint cut short
        b"\x18" + b"\xff" * 11,  # varint over 10 bytes
        b"\x0b",  # wire type 3 (group)
        b"\x0f",  # wire type 7
        b"\x00\x01",  # field number 0
        b"\x0a\x02\xff\xfe",  # symbol not UTF-8
        b"\x15\x00\x00\x80\x3f",  # a price but no symbol
    ],
)
def test_malformed_messages_raise_the_decode_error(bad: bytes) -> None:
    with pytest.raises(ProtoDecodeError):
        decode_tick(bad)
    if bad != b"\x15\x00\x00\x80\x3f":  # decode_pricing does not need a symbol
        with pytest.raises(ProtoDecodeError):
            decode_pricing(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "not json {",
        '{"type":"pricing","message":"!!!"}',
        '{"type":"pricing"}',
        '{"type":"pricing","message":42}',
        "[1,2]",
        '{"type":"pricing",',
        "hello world",
        "",
        "CgRBQVA=",  # base64 of a cut message (id says 4 bytes, 3 follow)
        b"\xff\xfe",
    ],
)
def test_garbage_frames_raise_the_decode_error(bad: str | bytes) -> None:
    with pytest.raises(ProtoDecodeError):
        decode_frame(bad)


def test_every_truncation_of_every_real_frame() -> None:
    for frame in ALL_FRAMES:
        buf = frame_payload(frame) or b""
        for cut in range(len(buf)):
            for fn in (decode_tick, decode_pricing):
                with contextlib.suppress(ProtoDecodeError):
                    fn(buf[:cut])


def test_fuzz_random_bytes_only_ever_raise_the_decode_error() -> None:
    rng = random.Random(20260906)
    seeds = [frame_payload(f) or b"" for f in ALL_FRAMES]
    for n in range(20000):
        if n % 2:
            buf = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        else:  # mutate a real frame: flips, inserts, deletes
            b = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                op, pos = rng.randrange(3), rng.randrange(len(b) + 1)
                if op == 0 and pos < len(b):
                    b[pos] ^= 1 << rng.randrange(8)
                elif op == 1:
                    b.insert(pos, rng.randrange(256))
                elif pos < len(b):
                    del b[pos]
            buf = bytes(b)
        for fn in (decode_tick, decode_pricing):
            with contextlib.suppress(ProtoDecodeError):
                fn(buf)
        with contextlib.suppress(ProtoDecodeError):
            decode_frame(b64(buf) if n % 3 else envelope(b64(buf)))
