"""Yahoo streamer frames: the ``PricingData`` protobuf, decoded by hand.

The schema is yfinance's ``yfinance/pricing.proto`` (field numbers and types, matching
yliveticker's ``yaticker.proto``): 1 ``id`` string, 2 ``price`` float32, 3 ``time`` sint64 epoch
ms (zigzag), 4 ``currency``, 5 ``exchange``, 6 ``quote_type`` (9 index, 8 equity, 20 ETF),
7 ``market_hours`` (0 pre, 1 regular, 2 post), 8 ``change_percent``, 9 ``day_volume`` sint64,
10/11 ``day_high``/``day_low``, 12 ``change``, 15 ``open_price``, 16 ``previous_close``, 27
``price_hint`` (decimals to show), all floats float32. Equity frames in yfinance's and
yliveticker's tests carry no ``previous_close``, so it is ``price - change``.

A frame is either the v2 JSON envelope ``{"type":"pricing","message":"<base64>"}`` or, on the
legacy endpoint, the bare base64 string. The message is proto3: an absent field means its default
(so ``market_hours`` absent is 0 = PRE_MARKET), unknown fields are skipped by wire type, and
``price``/``change``/... are float32, so 168.99 arrives as 168.99000549316406 and is rounded to
``price_hint`` decimals, or more when the float32 holds more (DKNG 24.535, price_hint 2).

Two decoders share the wire helpers: :func:`decode_pricing` returns every field (tests, tools);
:func:`decode_tick` is the hot path that reads only what a :class:`Tick` needs. Both raise only
:class:`ProtoDecodeError` on bad input, whatever the bytes.

The hot path has two gears. A stock or index update from Yahoo always has the same layout (the
fields in number order, one-byte varints for the enums, a three-letter exchange), so one compiled
regular expression matches the whole message after the symbol and hands back the raw bytes of the
fields a Tick needs: no Python loop over the bytes. Anything else (other fields, another order,
repeated or unknown fields, odd encodings, garbage) goes to :func:`_decode_tick_general`, the
field-by-field walk, which is also the reference the fast path is tested against. Symbols, times,
tidied prices and ``price - change`` are memoised by their raw bytes in bounded caches (prices and
time stamps repeat all day; rounding to a number of places is what made the walk slow).
"""

from __future__ import annotations

import binascii
import math
import re
import struct
import time
from dataclasses import dataclass, fields
from typing import Any

import orjson

from feeds.events import Tick


class ProtoDecodeError(ValueError):
    """The frame is not a well-formed Yahoo pricing message."""


# field kinds
_STR, _F32, _F64, _SINT, _INT = range(5)

# field number -> (name, kind). Field 20 follows yfinance's pricing.proto (sint64), not
# yliveticker's enum; it only matters for options.
_SCHEMA: dict[int, tuple[str, int]] = {
    1: ("id", _STR),
    2: ("price", _F32),
    3: ("time", _SINT),
    4: ("currency", _STR),
    5: ("exchange", _STR),
    6: ("quote_type", _INT),
    7: ("market_hours", _INT),
    8: ("change_percent", _F32),
    9: ("day_volume", _SINT),
    10: ("day_high", _F32),
    11: ("day_low", _F32),
    12: ("change", _F32),
    13: ("short_name", _STR),
    14: ("expire_date", _SINT),
    15: ("open_price", _F32),
    16: ("previous_close", _F32),
    17: ("strike_price", _F32),
    18: ("underlying_symbol", _STR),
    19: ("open_interest", _SINT),
    20: ("options_type", _SINT),
    21: ("mini_option", _SINT),
    22: ("last_size", _SINT),
    23: ("bid", _F32),
    24: ("bid_size", _SINT),
    25: ("ask", _F32),
    26: ("ask_size", _SINT),
    27: ("price_hint", _SINT),
    28: ("vol_24hr", _SINT),
    29: ("vol_all_currencies", _SINT),
    30: ("from_currency", _STR),
    31: ("last_market", _STR),
    32: ("circulating_supply", _F64),
    33: ("market_cap", _F64),
}
# the wire type each kind must arrive with; anything else is treated as an unknown field
_WIRE_OF_KIND = {_STR: 2, _F32: 5, _F64: 1, _SINT: 0, _INT: 0}

QUOTE_TYPE_HEARTBEAT = 7
MARKET_HOURS = {0: "PRE_MARKET", 1: "REGULAR_MARKET", 2: "POST_MARKET", 3: "EXTENDED_HOURS_MARKET"}

_FLOAT32 = struct.Struct("<f")
_f32 = _FLOAT32.unpack_from
_f32_pack = _FLOAT32.pack
_f32_unpack = _FLOAT32.unpack
_f64 = struct.Struct("<d").unpack_from
_loads = orjson.loads
_a2b = binascii.a2b_base64
_BAD = (IndexError, struct.error, UnicodeDecodeError, OverflowError)


@dataclass(slots=True)
class PricingData:
    """Every field of Yahoo's ``PricingData``, proto3 defaults when absent."""

    id: str = ""
    price: float = 0.0
    time: int = 0
    currency: str = ""
    exchange: str = ""
    quote_type: int = 0
    market_hours: int = 0  # absent = 0 = PRE_MARKET
    change_percent: float = 0.0
    day_volume: int = 0
    day_high: float = 0.0
    day_low: float = 0.0
    change: float = 0.0
    short_name: str = ""
    expire_date: int = 0
    open_price: float = 0.0
    previous_close: float = 0.0
    strike_price: float = 0.0
    underlying_symbol: str = ""
    open_interest: int = 0
    options_type: int = 0
    mini_option: int = 0
    last_size: int = 0
    bid: float = 0.0
    bid_size: int = 0
    ask: float = 0.0
    ask_size: int = 0
    price_hint: int = 0
    vol_24hr: int = 0
    vol_all_currencies: int = 0
    from_currency: str = ""
    last_market: str = ""
    circulating_supply: float = 0.0
    market_cap: float = 0.0
    #: field numbers seen on the wire (so "sent as 0" and "absent" can be told apart)
    present: frozenset[int] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The fields present on the wire, by name (like yfinance's dict, but keeping zeros)."""
        names = {num: name for num, (name, _) in _SCHEMA.items()}
        return {names[n]: getattr(self, names[n]) for n in sorted(self.present) if n in names}


assert {f.name for f in fields(PricingData)} - {"present"} == {n for n, _ in _SCHEMA.values()}


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    """(value, next index) of the varint at ``i``."""
    result = 0
    shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7
        if shift >= 70:
            raise ProtoDecodeError("varint longer than 10 bytes")


def _skip(buf: bytes, i: int, wire: int, n: int) -> int:
    """Index after an unknown field's payload of wire type ``wire``."""
    if wire == 0:
        return _varint(buf, i)[1]
    if wire == 1:
        i += 8
    elif wire == 5:
        i += 4
    elif wire == 2:
        length, i = _varint(buf, i)
        i += length
    else:  # 3/4 are deprecated groups, 6/7 do not exist
        raise ProtoDecodeError(f"unsupported wire type {wire}")
    if i > n:
        raise ProtoDecodeError("field runs past the end of the message")
    return i


def _signed64(v: int) -> int:
    """A plain varint read as int32/int64 (negatives arrive as 10-byte two's complement)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def f32_tidy(x: float, decimals: int = 0) -> tuple[float, int]:
    """The shortest decimal, with at least ``decimals`` places, that reads back as the float32
    ``x`` (168.99000549316406 -> 168.99), and the places it took.

    Rounding to ``price_hint`` alone would cut real digits: DKNG 24.535 arrives with price_hint
    2. Starting at ``price_hint`` the first try almost always fits, so this costs one pack/unpack.
    """
    for d in range(decimals, 20):
        r = round(x, d)
        if _f32_unpack(_f32_pack(r))[0] == x:
            return r, d
    return x, decimals


def decode_pricing(buf: bytes) -> PricingData:
    """Every field of one protobuf message."""
    out = PricingData()
    seen: set[int] = set()
    n = len(buf)
    i = 0
    try:
        while i < n:
            key, i = _varint(buf, i)
            num, wire = key >> 3, key & 7
            if num == 0:
                raise ProtoDecodeError("field number 0")
            spec = _SCHEMA.get(num)
            if spec is None or _WIRE_OF_KIND[spec[1]] != wire:
                i = _skip(buf, i, wire, n)
                continue
            name, kind = spec
            if kind == _SINT:
                v, i = _varint(buf, i)
                value: Any = (v >> 1) ^ -(v & 1)
            elif kind == _INT:
                v, i = _varint(buf, i)
                value = _signed64(v)
            elif kind == _F32:
                value = _f32(buf, i)[0]
                i += 4
            elif kind == _F64:
                value = _f64(buf, i)[0]
                i += 8
            else:
                length, i = _varint(buf, i)
                end = i + length
                if end > n:
                    raise ProtoDecodeError("string runs past the end of the message")
                value = buf[i:end].decode()
                i = end
            setattr(out, name, value)
            seen.add(num)
    except _BAD as exc:
        raise ProtoDecodeError(f"truncated or malformed message: {type(exc).__name__}") from exc
    out.present = frozenset(seen)
    return out


# ---- the hot path ----------------------------------------------------------------------------
# A varint of at most 10 bytes (as the general walk accepts), a float32, a one-byte varint. Every
# quantifier is possessive (``?+``): the field keys are all different and a varint's continuation
# bytes never look like its last one, so backtracking could never find another parse; ruling it
# out halves the match time.
_V = rb"([\x80-\xff]{0,9}+[\x00-\x7f])"
_F = rb"(.{4})"
_B = rb"([\x00-\x7f])"
#: Everything after the symbol of a usual update, each field at most once and in number order:
#: price, time (both required), currency and exchange (3 letters), quote type, market hours,
#: change %, day volume, day high/low, change, open, previous close, last size, price hint. The
#: groups: price, time, quote type, day volume, change, previous close, last size, price hint.
_USUAL = re.compile(
    rb"\x15" + _F + rb"\x18" + _V + rb"(?:\x22\x03...)?+(?:\x2a\x03...)?+(?:\x30" + _B + rb")?+"
    rb"(?:\x38[\x00-\x7f])?+(?:\x45....)?+(?:\x48" + _V + rb")?+(?:\x55....)?+(?:\x5d....)?+"
    rb"(?:\x65" + _F + rb")?+(?:\x7d....)?+(?:\x85\x01" + _F + rb")?+(?:\xb0\x01" + _V + rb")?+"
    rb"(?:\xd8\x01" + _B + rb")?+",
    re.DOTALL,
).fullmatch

#: entries per cache, cleared when full: a price cache is ~4 MB at most, the others less, and a
#: stream uses one or two price hints (2 for stocks, 4 for FX)
_CACHE_MAX = 20_000
#: per price_hint (0..8): raw float32 bytes -> f32_tidy of it (only prices 0 < x < inf)
_tidy_cache: list[dict[bytes, tuple[float, int]]] = [{} for _ in range(9)]
_symbol_cache: dict[bytes, str] = {}  # raw UTF-8 -> str (also one str object per symbol)
_time_cache: dict[bytes, int] = {}  # raw varint bytes of the time field -> zigzag-decoded ms
#: per price_hint: raw price + change bytes -> ``price - change`` rounded to the price's places
_prev_cache: list[dict[bytes, float | None]] = [{} for _ in range(9)]
_MISSING = object()


def tidy_raw(raw: bytes, hint: int) -> tuple[float, int] | None:
    """:func:`f32_tidy` of the little-endian float32 in ``raw`` with ``hint`` (0..8) places,
    memoised by the 4 bytes; None unless ``0 < x < inf``."""
    cache = _tidy_cache[hint]
    hit = cache.get(raw)
    if hit is None:
        x = _f32_unpack(raw)[0]
        if not 0.0 < x < math.inf:
            return None
        hit = f32_tidy(x, hint)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[raw] = hit
    return hit


def _uvarint(raw: bytes) -> int:
    """The value of the complete varint ``raw`` (its bytes, the last one < 0x80)."""
    v = raw[0]
    if v < 0x80:
        return v
    v &= 0x7F
    shift = 7
    for b in raw[1:]:
        v |= (b & 0x7F) << shift
        shift += 7
    return v


def decode_tick(buf: bytes, now_ms: int | None = None) -> Tick | None:
    """The hot path: one message -> Tick, or None for a message without a usable price
    (a heartbeat, a zero or non-finite price).

    Prices lose their float32 artefacts: the shortest decimal with at least ``price_hint``
    places that is the same float32 (:func:`f32_tidy`). ``prev_close`` is
    ``previous_close`` when sent, else ``price - change`` when ``change`` was sent, else None.
    Same result as :func:`_decode_tick_general` for every input, only faster on the usual one.
    """
    # the symbol field first, 1-127 bytes long, then the rest of a usual update
    if len(buf) < 8 or buf[0] != 0x0A or not 0 < buf[1] < 0x80:
        return _decode_tick_general(buf, now_ms)
    end = 2 + buf[1]
    m = _USUAL(buf, end)
    if m is None:
        return _decode_tick_general(buf, now_ms)
    price_raw, time_raw, quote_type, volume, change_raw, prev_raw, size, hint_raw = m.groups()
    raw = buf[2:end]
    symbol = _symbol_cache.get(raw)
    if symbol is None:
        return _decode_tick_general(buf, now_ms)  # decodes (or rejects) it, then caches it
    if quote_type == b"\x07":
        return None  # QUOTE_TYPE_HEARTBEAT
    if hint_raw is None:
        hint = 2
    else:
        hint = hint_raw[0]
        hint = (hint >> 1) ^ -(hint & 1)
        if not 0 <= hint <= 8:
            hint = 2
    hit = tidy_raw(price_raw, hint)
    if hit is None:
        return None
    price, places = hit
    prev = None
    if prev_raw is not None:
        got = tidy_raw(prev_raw, hint)
        if got is not None:
            prev = got[0]
    if prev is None and change_raw is not None:
        # round() to a number of places is slow (a decimal conversion): memoise per price/change
        cache = _prev_cache[hint]
        key = price_raw + change_raw
        prev = cache.get(key, _MISSING)
        if prev is _MISSING:
            change = _f32_unpack(change_raw)[0]
            prev = round(price - change, places) if -math.inf < change < math.inf else None
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[key] = prev
    ts = _time_cache.get(time_raw)
    if ts is None:
        ts = _uvarint(time_raw)
        ts = (ts >> 1) ^ -(ts & 1)
        if len(_time_cache) >= _CACHE_MAX:
            _time_cache.clear()
        _time_cache[time_raw] = ts
    if volume is not None:
        volume = _uvarint(volume)
        volume = ((volume >> 1) ^ -(volume & 1)) or None
    if size is not None:
        size = _uvarint(size)
        size = ((size >> 1) ^ -(size & 1)) or None
    return Tick(
        symbol,
        price,
        ts if ts > 0 else (now_ms if now_ms is not None else int(time.time() * 1000)),
        size,
        volume,
        prev,
    )


def _decode_tick_general(buf: bytes, now_ms: int | None = None) -> Tick | None:
    """:func:`decode_tick` by walking every field: any layout, any field order, and every
    malformation raised as :class:`ProtoDecodeError`."""
    n = len(buf)
    i = 0
    symbol = ""
    price = 0.0
    ts = 0
    day_volume = 0
    size = 0
    hint = 2
    change: float | None = None
    prev: float | None = None
    quote_type = 0
    try:
        while i < n:
            key = buf[i]
            i += 1
            if key >= 0x80:  # fields 16+ have two-byte keys
                key, i = _varint(buf, i - 1)
            wire = key & 7
            if wire == 0:
                # varint, inlined: the time (6 bytes) and volume are in every frame
                v = buf[i]
                i += 1
                if v >= 0x80:
                    v &= 0x7F
                    shift = 7
                    while True:
                        b = buf[i]
                        i += 1
                        v |= (b & 0x7F) << shift
                        if b < 0x80:
                            break
                        shift += 7
                        if shift >= 70:
                            raise ProtoDecodeError("varint longer than 10 bytes")
                if key == 0x18:  # 3 time
                    ts = (v >> 1) ^ -(v & 1)
                elif key == 0x48:  # 9 day_volume
                    day_volume = (v >> 1) ^ -(v & 1)
                elif key == 0xD8:  # 27 price_hint
                    hint = (v >> 1) ^ -(v & 1)
                elif key == 0xB0:  # 22 last_size
                    size = (v >> 1) ^ -(v & 1)
                elif key == 0x30:  # 6 quote_type
                    quote_type = v
            elif wire == 5:
                # unpack_from raises struct.error on a short buffer; the check covers the rest
                if key == 0x15:  # 2 price
                    price = _f32(buf, i)[0]
                elif key == 0x65:  # 12 change
                    change = _f32(buf, i)[0]
                elif key == 0x85:  # 16 previous_close
                    prev = _f32(buf, i)[0]
                i += 4
                if i > n:
                    raise ProtoDecodeError("float runs past the end of the message")
            elif wire == 2:
                length = buf[i]
                i += 1
                if length >= 0x80:
                    length, i = _varint(buf, i - 1)
                end = i + length
                if end > n:
                    raise ProtoDecodeError("string runs past the end of the message")
                if key == 0x0A:  # 1 id
                    raw = buf[i:end]
                    symbol = raw.decode()
                    if len(_symbol_cache) >= _CACHE_MAX:
                        _symbol_cache.clear()
                    _symbol_cache[raw] = symbol
                i = end
            elif wire == 1:
                i += 8
                if i > n:
                    raise ProtoDecodeError("double runs past the end of the message")
            else:
                raise ProtoDecodeError(f"unsupported wire type {wire}")
            if key < 8:
                raise ProtoDecodeError("field number 0")
    except _BAD as exc:
        raise ProtoDecodeError(f"truncated or malformed message: {type(exc).__name__}") from exc
    if not symbol:
        raise ProtoDecodeError("pricing message without a symbol")
    if quote_type == QUOTE_TYPE_HEARTBEAT or not 0.0 < price < math.inf:
        return None
    if not 0 <= hint <= 8:
        hint = 2
    price, places = f32_tidy(price, hint)
    if prev is not None and 0.0 < prev < math.inf:
        prev = f32_tidy(prev, hint)[0]
    elif change is not None and -math.inf < change < math.inf:
        # the difference of two float32s is not a float32: round to the price's places
        prev = round(price - change, places)
    else:
        prev = None
    return Tick(
        symbol,
        price,
        ts if ts > 0 else (now_ms if now_ms is not None else int(time.time() * 1000)),
        size or None,
        day_volume or None,
        prev,
    )


def frame_payload(raw: str | bytes) -> bytes | None:
    """The protobuf bytes in one frame, or None for a JSON frame of another ``type``.

    v2: ``{"type":"pricing","message":"<b64>"}`` (a missing ``type`` is read as pricing, like
    yfinance, which never checks it). Legacy: the frame body is the bare base64 string.
    """
    try:
        first = raw[:1]
        if first == "{" or first == b"{":
            msg = _loads(raw)
            if msg.__class__ is not dict:
                raise ProtoDecodeError("JSON frame is not an object")
            if msg.get("type", "pricing") != "pricing":
                return None  # e.g. a ping: not data, not an error
            b64 = msg.get("message")
            if b64.__class__ is not str:
                raise ProtoDecodeError("pricing frame without a base64 message")
        else:
            b64 = raw
        # strict: a frame of plain text is garbage, not base64 with the junk skipped
        return _a2b(b64, strict_mode=True)
    except ProtoDecodeError:
        raise
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError and binascii.Error too
        raise ProtoDecodeError(f"not a pricing frame: {type(exc).__name__}") from exc


def decode_frame(raw: str | bytes, now_ms: int | None = None) -> Tick | None:
    """One websocket frame (v2 envelope or legacy bare base64) -> Tick or None.

    The benchmark entry point for Yahoo frames (decode cost per update). Raises only
    :class:`ProtoDecodeError`.
    """
    payload = frame_payload(raw)
    if payload is None:
        return None
    return decode_tick(payload, now_ms)
