"""Yahoo streamer frames: the ``PricingData`` protobuf, read by protobuf's own upb decoder.

The schema is yfinance's ``yfinance/pricing.proto`` (field numbers and types, matching
yliveticker's ``yaticker.proto``): 1 ``id`` string, 2 ``price`` float32, 3 ``time`` sint64 epoch
ms (zigzag), 4 ``currency``, 5 ``exchange``, 6 ``quote_type`` (9 index, 8 equity, 20 ETF),
7 ``market_hours`` (0 pre, 1 regular, 2 post), 8 ``change_percent``, 9 ``day_volume`` sint64,
10/11 ``day_high``/``day_low``, 12 ``change``, 15 ``open_price``, 16 ``previous_close``, 27
``price_hint`` (decimals to show), all floats float32. Equity frames in yfinance's and
yliveticker's tests carry no ``previous_close``, so it is ``price - change``.

The message class is built in code from :data:`FIELDS` (a ``FileDescriptorProto`` in a private
descriptor pool): no ``.proto`` file, no protoc, no generated module. Every field is declared
``optional`` (proto3 explicit presence), so "sent as 0" and "absent" stay apart: Yahoo sends
``market_hours=0`` (PRE_MARKET) on the wire, and a ``change`` of 0.0 that was sent means
``prev_close == price`` while an absent one means no previous close at all.

A frame is either the v2 JSON envelope ``{"type":"pricing","message":"<base64>"}`` or, on the
legacy endpoint, the bare base64 string. Unknown fields (and known numbers with the wrong wire
type) are skipped, a repeated field's last value wins, and a string that is not UTF-8 is an
error: the protobuf rules, applied by upb. ``price``/``change``/... are float32, so 168.99
arrives as 168.99000549316406 and is tidied to the shortest decimal with at least
``price_hint`` places that reads back as the same float32 (DKNG 24.535, price_hint 2).

:func:`decode_pricing` returns the whole message (tests, tools); :func:`decode_tick` is the hot
path that reads only what a :class:`Tick` needs. Both raise only :class:`ProtoDecodeError` on bad
input, whatever the bytes.
"""

from __future__ import annotations

import binascii
import math
import struct
import time
from typing import Any

import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from feeds.events import Tick


class ProtoDecodeError(ValueError):
    """The frame is not a well-formed Yahoo pricing message."""


_T = descriptor_pb2.FieldDescriptorProto
#: (number, name, protobuf type) of every PricingData field, from yfinance's pricing.proto (the
#: numbers and types match yliveticker's yaticker.proto). Field 20 follows yfinance (sint64), not
#: yliveticker's enum; it only matters for options.
FIELDS: tuple[tuple[int, str, int], ...] = (
    (1, "id", _T.TYPE_STRING),
    (2, "price", _T.TYPE_FLOAT),
    (3, "time", _T.TYPE_SINT64),
    (4, "currency", _T.TYPE_STRING),
    (5, "exchange", _T.TYPE_STRING),
    (6, "quote_type", _T.TYPE_INT32),
    (7, "market_hours", _T.TYPE_INT32),
    (8, "change_percent", _T.TYPE_FLOAT),
    (9, "day_volume", _T.TYPE_SINT64),
    (10, "day_high", _T.TYPE_FLOAT),
    (11, "day_low", _T.TYPE_FLOAT),
    (12, "change", _T.TYPE_FLOAT),
    (13, "short_name", _T.TYPE_STRING),
    (14, "expire_date", _T.TYPE_SINT64),
    (15, "open_price", _T.TYPE_FLOAT),
    (16, "previous_close", _T.TYPE_FLOAT),
    (17, "strike_price", _T.TYPE_FLOAT),
    (18, "underlying_symbol", _T.TYPE_STRING),
    (19, "open_interest", _T.TYPE_SINT64),
    (20, "options_type", _T.TYPE_SINT64),
    (21, "mini_option", _T.TYPE_SINT64),
    (22, "last_size", _T.TYPE_SINT64),
    (23, "bid", _T.TYPE_FLOAT),
    (24, "bid_size", _T.TYPE_SINT64),
    (25, "ask", _T.TYPE_FLOAT),
    (26, "ask_size", _T.TYPE_SINT64),
    (27, "price_hint", _T.TYPE_SINT64),
    (28, "vol_24hr", _T.TYPE_SINT64),
    (29, "vol_all_currencies", _T.TYPE_SINT64),
    (30, "from_currency", _T.TYPE_STRING),
    (31, "last_market", _T.TYPE_STRING),
    (32, "circulating_supply", _T.TYPE_DOUBLE),
    (33, "market_cap", _T.TYPE_DOUBLE),
)
#: float32 fields (doubles are exact: no tidy)
FLOAT32_FIELDS = frozenset(name for _, name, kind in FIELDS if kind == _T.TYPE_FLOAT)

QUOTE_TYPE_HEARTBEAT = 7
MARKET_HOURS = {0: "PRE_MARKET", 1: "REGULAR_MARKET", 2: "POST_MARKET", 3: "EXTENDED_HOURS_MARKET"}


def _message_class() -> Any:
    """The ``PricingData`` class, from a descriptor built here (every field proto3 optional)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="r2k/yahoo/pricing.proto", package="r2k.yahoo", syntax="proto3"
    )
    msg = file.message_type.add(name="PricingData")
    for number, name, kind in FIELDS:
        # proto3 `optional`: a synthetic one-field oneof per field gives it presence
        msg.field.add(
            name=name,
            number=number,
            type=kind,
            label=_T.LABEL_OPTIONAL,
            proto3_optional=True,
            oneof_index=len(msg.oneof_decl),
        )
        msg.oneof_decl.add(name=f"_{name}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("r2k.yahoo.PricingData"))


#: the message class (``PricingData.FromString(buf)``; ``HasField(name)`` tells sent from absent)
PricingData = _message_class()
_parse = PricingData.FromString
_DecodeError = message.DecodeError

_FLOAT32 = struct.Struct("<f")
_f32_pack = _FLOAT32.pack
_f32_unpack = _FLOAT32.unpack
_loads = orjson.loads
_a2b = binascii.a2b_base64


_P10 = tuple(10.0**d for d in range(23))  # exact doubles up to 1e22


def round_places(x: float, d: int) -> float:
    """``round(x, d)`` for ``0 <= d <= 22``, the same double, at half its cost.

    ``round`` goes through a correctly rounded decimal string. Here ``x * 10**d`` is rounded to
    the nearest integer ``n`` and ``n / 10**d`` is IEEE division of two exact doubles, so
    correctly rounded to the same decimal; only when ``x * 10**d`` lies near a half (where its
    own rounding error could pick the other neighbour) or beyond 2**52 does it ask ``round``.
    """
    y = x * _P10[d]
    if -4e15 < y < 4e15:
        n = math.floor(y + 0.5)
        if abs(y - n) < 0.4999:
            return n / _P10[d] if n else math.copysign(0.0, x)
    return round(x, d)


def f32_tidy(x: float, decimals: int = 0) -> tuple[float, int]:
    """The shortest decimal, with at least ``decimals`` places, that reads back as the float32
    ``x`` (168.99000549316406 -> 168.99), and the places it took.

    Rounding to ``price_hint`` alone would cut real digits: DKNG 24.535 arrives with price_hint
    2. Starting at ``price_hint`` the first try almost always fits, so this costs one pack/unpack.
    """
    for d in range(decimals, 20):
        r = round_places(x, d)
        if _f32_unpack(_f32_pack(r))[0] == x:
            return r, d
    return x, decimals


#: entries per cache, cleared when full: a price cache is ~2 MB at most, and a stream uses one or
#: two price hints (2 for stocks, 4 for FX)
_CACHE_MAX = 20_000
#: per price_hint (0..8): float32 value -> f32_tidy of it (only prices 0 < x < inf); prices repeat
#: all day, and rounding to a number of places (a decimal conversion) is the slow part
_tidy_cache: list[dict[float, tuple[float, int]]] = [{} for _ in range(9)]
#: per price_hint: (price, change) float32 values -> ``price - change`` to the price's places
_prev_cache: list[dict[tuple[float, float], float | None]] = [{} for _ in range(9)]
_MISSING = object()


def tidy_price(x: float, hint: int) -> tuple[float, int] | None:
    """:func:`f32_tidy` of the float32 value ``x`` with ``hint`` (0..8) places, memoised; None
    unless ``0 < x < inf``."""
    cache = _tidy_cache[hint]
    hit = cache.get(x)
    if hit is None:
        if not 0.0 < x < math.inf:
            return None
        hit = f32_tidy(x, hint)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[x] = hit
    return hit


def decode_pricing(buf: bytes) -> Any:
    """Every field of one protobuf message: a :data:`PricingData` message (absent fields read as
    their proto3 default; ``HasField`` tells them apart)."""
    try:
        return _parse(buf)
    except _DecodeError as exc:
        raise ProtoDecodeError(f"truncated or malformed message: {exc}") from exc


def pricing_dict(msg: Any) -> dict[str, Any]:
    """The fields present on the wire, by name, in field order (like yfinance's
    ``MessageToDict``, but keeping fields sent as 0 and 64-bit ints as ints)."""
    return {field.name: value for field, value in msg.ListFields()}


def decode_tick(buf: bytes, now_ms: int | None = None) -> Tick | None:
    """The hot path: one message -> Tick, or None for a message without a usable price
    (a heartbeat, a zero or non-finite price).

    Prices lose their float32 artefacts (:func:`f32_tidy` with ``price_hint`` places, 2 when
    absent or outside 0..8). ``prev_close`` is ``previous_close`` when sent and positive, else
    ``price - change`` when ``change`` was sent, else None. A message without a time stamp
    takes ``now_ms`` (default: the clock). Raises :class:`ProtoDecodeError` for a malformed
    message or one without a symbol.
    """
    try:
        m = _parse(buf)
    except _DecodeError as exc:
        raise ProtoDecodeError(f"truncated or malformed message: {exc}") from exc
    symbol = m.id
    if not symbol:
        raise ProtoDecodeError("pricing message without a symbol")
    if m.quote_type == QUOTE_TYPE_HEARTBEAT:
        return None
    # a field read costs about as much as the parse: HasField only where a 0 could be either
    # "sent as 0" or "absent"
    hint = m.price_hint
    if not 0 < hint <= 8 and (hint != 0 or not m.HasField("price_hint")):
        hint = 2
    x = m.price
    hit = tidy_price(x, hint)
    if hit is None:
        return None
    price, places = hit
    prev = None
    pc = m.previous_close  # 0.0 when absent, and a non-positive one is not used either
    if pc:
        got = tidy_price(pc, hint)
        if got is not None:
            prev = got[0]
    if prev is None:
        change = m.change
        if change or m.HasField("change"):
            # the difference of two float32s is not a float32: round to the price's places
            cache = _prev_cache[hint]
            key = (x, change)
            prev = cache.get(key, _MISSING)
            if prev is _MISSING:
                prev = (
                    round_places(price - change, places) if -math.inf < change < math.inf else None
                )
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[key] = prev
    ts = m.time
    return Tick(
        symbol,
        price,
        ts if ts > 0 else (now_ms if now_ms is not None else int(time.time() * 1000)),
        m.last_size or None,
        m.day_volume or None,
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
