"""The relay's wire format carries every event type in ``feeds.events.Event``, ticks fast."""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing

import msgspec
import orjson
import pytest

from feeds.events import Event, FeedState, FeedStatus, SessionRange, Tick
from feeds.sources.relay import codec


def sample(hint: object, n: int) -> object:
    """A non-default value of type ``hint`` (``n`` varies it); fails on a type it cannot make.

    A new event field of a type the wire cannot carry makes this test fail, not production.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return sample(real[0], n)
    if origin is list:
        return [sample(args[0], n + k) for k in range(2)]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(sample(args[0], n + k) for k in range(2))
        return tuple(sample(a, n + k) for k, a in enumerate(args))
    if origin is dict:
        return {sample(args[0], n): sample(args[1], n)}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = list(hint)
        return members[n % len(members)]
    if hint is bool:
        return n % 2 == 0
    if hint is int:
        return 1_700_000_000_000 + n
    if hint is float:
        return 2450.25 + n
    if hint is str:
        return f"S{n}-é"
    if isinstance(hint, type) and (
        dataclasses.is_dataclass(hint) or issubclass(hint, msgspec.Struct)
    ):
        return build(hint, n)
    raise AssertionError(f"the relay test cannot make a {hint!r}: teach sample() and the codec")


def build(cls: type, n: int) -> object:
    hints = typing.get_type_hints(cls)
    names = (
        cls.__struct_fields__
        if issubclass(cls, msgspec.Struct)  # the Tick (feeds.events)
        else [f.name for f in dataclasses.fields(cls)]
    )
    return cls(**{name: sample(hints[name], n + k) for k, name in enumerate(names)})


EVENT_CLASSES = typing.get_args(Event)


def roundtrip(events: list[object]) -> list[object]:
    data = codec.encode_batch("ep", 7, 1.0, 1.0, 5, codec.encode_items(events))  # type: ignore[arg-type]
    batch = codec.decode_batch(data)
    assert (batch.epoch, batch.seq) == ("ep", 7)
    out, unknown = codec.decode_items(batch.items)
    assert unknown == 0
    return out


def test_every_event_type_is_registered() -> None:
    assert set(codec.EVENT_TYPES) == {c.__name__ for c in EVENT_CLASSES}
    assert len(EVENT_CLASSES) >= 4


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_each_event_type_roundtrips_alone_and_between_ticks(cls: type) -> None:
    ev = build(cls, 1)
    assert roundtrip([ev]) == [ev]
    mixed = [build(Tick, 2), ev, build(Tick, 3), build(Tick, 4), ev]
    assert roundtrip(mixed) == mixed


def test_tick_runs_are_columns_and_keep_order() -> None:
    ticks = [Tick("A", 1.5, 10, None, 2.0, 1.0), Tick("B", 2.25, 11, 100.0, None, None)]
    status = FeedStatus(FeedState.LIVE, "x", 3)
    items = codec.encode_items([ticks[0], status, *ticks])
    assert [name for name, _ in items] == ["Tick", "FeedStatus", "Tick"]
    assert items[2][1][0] == ("A", "B")  # the symbol column
    assert roundtrip([ticks[0], status, *ticks]) == [ticks[0], status, *ticks]


def test_a_nan_price_survives_json() -> None:
    (tick,) = roundtrip([Tick("A", math.nan, 1)])
    assert isinstance(tick, Tick) and math.isnan(tick.price)


def test_redaction_reaches_every_string_of_an_event() -> None:
    ev = FeedStatus(FeedState.ERROR, "bad key SECRET123", 1)
    items = codec.encode_items([ev], redact=lambda s: s.replace("SECRET123", "***"))
    assert b"SECRET123" not in orjson.dumps(items)


def test_an_unknown_event_type_is_skipped_and_counted() -> None:
    items = [["TradeFromTheFuture", {"x": 1}], ["Tick", codec.tick_columns([Tick("A", 1.0, 1)])]]
    events, unknown = codec.decode_items(items)
    assert unknown == 1 and events == [Tick("A", 1.0, 1)]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x00garbage", "not JSON"),
        (b"{}", "not a relay message"),
        (b'[99, "e", 1, 0, 0, 0, []]', "wire version 99"),
        (b'[1, "e", 1]', "fields"),
    ],
)
def test_garbage_is_a_codec_error(data: bytes, fragment: str) -> None:
    with pytest.raises(codec.CodecError, match=fragment):
        codec.decode_batch(data)


def test_a_bad_tick_run_is_a_codec_error() -> None:
    with pytest.raises(codec.CodecError):
        codec.decode_items([["Tick", [["A"], [1.0]]]])
    with pytest.raises(codec.CodecError):
        codec.decode_items([["FeedStatus", {"state": "melting"}]])


def test_snapshot_chunk_meta_and_history_roundtrip() -> None:
    ticks = [Tick("A", 1.0, 5, None, 10.0, 0.9)]
    chunk = codec.decode_chunk(codec.encode_chunk("ep", 9, 3, 8, ticks, [7]))
    assert (chunk.seq, chunk.shard, chunk.shards, chunk.ticks, chunk.tick_seqs) == (
        9,
        3,
        8,
        ticks,
        [7],
    )
    assert codec.decode_meta(codec.encode_meta("ep", 9, {"label": "sim"})) == (
        "ep",
        9,
        {"label": "sim"},
    )
    entries = [(4, build(cls, 1)) for cls in EVENT_CLASSES if cls is not Tick]
    assert codec.decode_hist(codec.encode_hist("ep", 9, entries)) == ("ep", 9, entries)  # type: ignore[arg-type]


def test_snapshot_chunk_carries_each_symbols_session_open_high_and_low() -> None:
    ticks = [Tick("^RUT", 2453.28, 1_000, None, None, 2440.0), Tick("AAA", 9.5, 1_001)]
    ranges = ([2446.68, None], [2455.1, math.nan], [2446.68, None])  # AAA: none yet (NaN, None)
    data = codec.encode_chunk("ep", 9, 3, 8, ticks, [7, 8], ranges)
    chunk = codec.decode_chunk(data)
    assert chunk.ticks == ticks and chunk.tick_seqs == [7, 8]
    assert chunk.ranges == [
        SessionRange("^RUT", 1_000, 2446.68, 2455.1, 2446.68),
        SessionRange("AAA", 1_001, None, None, None),
    ]
    # compact: three numbers a symbol, as columns, not an object per symbol
    assert len(data) - len(codec.encode_chunk("ep", 9, 3, 8, ticks, [7, 8])) < 40


def test_a_chunk_without_ranges_or_with_fields_from_a_newer_relay_still_reads() -> None:
    ticks = [Tick("AAA", 9.5, 1)]
    cols = codec.tick_columns(ticks)
    older = orjson.dumps([codec.VERSION, "ep", 9, 0, 1, cols, [4]])  # a relay before ranges
    chunk = codec.decode_chunk(older)
    assert chunk.ticks == ticks and chunk.ranges == []
    newer = orjson.dumps([codec.VERSION, "ep", 9, 0, 1, cols, [4], [[1.0], [2.0], [0.5]], "x"])
    assert codec.decode_chunk(newer).ranges == [SessionRange("AAA", 1, 1.0, 2.0, 0.5)]
    batch = orjson.dumps([codec.VERSION, "ep", 2, 1.0, 1.0, 5, [], {"later": 1}])
    assert codec.decode_batch(batch).seq == 2


def test_a_chunk_with_ranges_that_do_not_fit_its_ticks_is_malformed() -> None:
    cols = codec.tick_columns([Tick("AAA", 9.5, 1)])
    for bad in (
        [[1.0], [2.0]],
        [[1.0, 2.0], [2.0], [0.5]],
        [["x"], 3, None],
        [["x"], [2.0], [0.5]],
    ):
        data = orjson.dumps([codec.VERSION, "ep", 9, 0, 1, cols, [4], bad])
        with pytest.raises(codec.CodecError):
            codec.decode_chunk(data)
