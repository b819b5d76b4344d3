"""Alpaca's RFC-3339 parser, cached fast paths included, against ``datetime.fromisoformat``."""

from __future__ import annotations

import datetime as dt
import random

import orjson
import pytest

from feeds.feed import FeedOptions
from feeds.sources.providers import alpaca
from feeds.sources.providers.alpaca import AlpacaFeed, rfc3339_ms

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


def expected_ms(text: str) -> int:
    """The reference: Python's own ISO parser, floored to the millisecond (as the feed is)."""
    iso = text[:-1] + "Z" if text.endswith("z") else text
    return (dt.datetime.fromisoformat(iso) - EPOCH) // MS


def clear_caches() -> None:
    alpaca._second_cache.clear()
    alpaca._day_cache.clear()


def parse_all_ways(text: str) -> set[int]:
    """rfc3339_ms cold, warm, and through AlpacaFeed.decode's inlined fast path: one answer."""
    clear_caches()
    cold = rfc3339_ms(text)
    warm = rfc3339_ms(text)
    frame = orjson.dumps([{"T": "t", "S": "AAPL", "p": 1.5, "s": 1, "t": text}])
    decoded = FEED.decode(frame)[0].ts  # type: ignore[union-attr]
    return {cold, warm, decoded}


FEED = AlpacaFeed(
    "alpaca:sip",
    "sip",
    FeedOptions(symbols=["AAPL"], env={"R2K_ALPACA_KEY": "k", "R2K_ALPACA_SECRET": "s"}),
)


def stamp(
    when: dt.datetime, digits: int, zone: str, sep: str = "T", frac: str | None = None
) -> str:
    """RFC-3339 text of ``when`` (naive, read as local time in ``zone``)."""
    text = when.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if digits:
        text += "." + (frac if frac is not None else f"{when.microsecond:06d}000")[:digits]
    return text + zone


def random_zone(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.5:
        return "Z"
    if pick < 0.6:
        return "z"
    sign = rng.choice("+-")
    return f"{sign}{rng.randrange(24):02d}:{rng.randrange(60):02d}"


def test_matches_fromisoformat_on_many_random_stamps() -> None:
    rng = random.Random(20260915)
    start = dt.datetime(1971, 1, 1)
    span = (dt.datetime(2099, 12, 31) - start).total_seconds()
    for _ in range(4000):
        when = start + dt.timedelta(seconds=rng.uniform(0, span))
        digits = rng.randrange(10)
        frac = "".join(rng.choice("0123456789") for _ in range(9))
        sep = rng.choice(("T", "T", "T", "t", " "))
        text = stamp(when, digits, random_zone(rng), sep, frac)
        assert parse_all_ways(text) == {expected_ms(text)}, text


def test_alpaca_layout_every_fraction_length_and_both_sides_of_midnight() -> None:
    for day in ("2024-02-28", "2024-02-29", "2024-03-01", "2025-12-31", "2026-01-01"):
        for clock in ("00:00:00", "00:00:01", "12:34:56", "23:59:59"):
            for digits in range(10):
                frac = "987654321"[:digits]
                text = f"{day}T{clock}" + (f".{frac}" if digits else "") + "Z"
                assert parse_all_ways(text) == {expected_ms(text)}, text
    # an offset that moves the instant over midnight, either way
    for text in (
        "2026-01-01T00:30:00.5+01:00",
        "2025-12-31T23:30:00.999-01:00",
        "2024-02-29T23:59:59.999999999-00:01",
    ):
        assert parse_all_ways(text) == {expected_ms(text)}, text


def test_a_stream_of_trades_through_one_day_and_into_the_next() -> None:
    """Consecutive stamps (many per second, seconds in order) as a live stream sends them."""
    clear_caches()
    rng = random.Random(7)
    ns = (
        (dt.datetime(2026, 9, 15, 23, 58) - EPOCH.replace(tzinfo=None))
        // dt.timedelta(microseconds=1)
        * 1000
    )
    for _ in range(5000):
        ns += rng.randrange(1, 80_000_000)
        sec, frac = divmod(ns, 1_000_000_000)
        text = dt.datetime.fromtimestamp(sec, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        digits = f"{frac:09d}".rstrip("0")
        text += f".{digits}Z" if digits else "Z"
        assert rfc3339_ms(text) == expected_ms(text) == ns // 1_000_000, text


def test_day_cache_and_second_cache_stay_bounded() -> None:
    clear_caches()
    limit = alpaca._CACHE_MAX
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for k in range(limit + 10):
        text = (base + dt.timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%S") + ".5Z"
        assert rfc3339_ms(text) == expected_ms(text)
    assert len(alpaca._second_cache) <= limit
    assert len(alpaca._day_cache) <= 1_000


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "2021-02-22T15:51",
        "2021-02-22T15:51:44",  # no zone
        "2021-02-22T15:51:44.Z",  # a point without digits
        "2021-02-22T15:51:44.123",  # digits but no zone
        "2021/02/22T15:51:44Z",
        "2021-02-22T15:51:44+0500",  # offset without the colon
        "2021-02-22T24:00:00.000Z",  # hour 24
        "2021-02-22T15:60:00.000Z",
        "2021-02-22T15:51:60.000Z",  # no leap seconds
        "2021-02-30T15:51:44.000Z",  # no such day
        "2021-13-01T15:51:44.000Z",
        "2021-02-22T15:51:44.000+24:00",
        "+021-02-22T15:51:44.000Z",  # int() would take "+021"
        "2021-02-22T15:51:44.1_2Z",  # int() would take "1_2"
        "2021-02-22T15:51:44. 12Z",
        "2021-02-22T15:51:44.12a4Z",
        "2021-02-22T15:51:4٤.123Z",  # a non-ASCII digit
        "2021-02-22X15:51:44.123Z",
        "2021-02-22T15:51:44.123ZZ",
    ],
)
def test_rejects_malformed_text_cold(bad: str) -> None:
    clear_caches()
    with pytest.raises(ValueError):
        rfc3339_ms(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "2021-02-22T15:51:44.Z",
        "2021-02-22T15:51:44.1Z2",
        "2021-02-22T15:51:44.12",
        "2021-02-22T15:51:44.1_2Z",
        "2021-02-22T15:51:44.+05:00",
        "2021-02-22T15:51:44.123+0500",
    ],
)
def test_rejects_malformed_text_when_its_second_is_cached(bad: str) -> None:
    clear_caches()
    rfc3339_ms("2021-02-22T15:51:44.000Z")  # the prefix "...44." is now cached
    with pytest.raises(ValueError):
        rfc3339_ms(bad)
    frame = orjson.dumps([{"T": "t", "S": "AAPL", "p": 1.5, "s": 1, "t": bad}])
    with pytest.raises(ValueError):
        FEED.decode(frame)
