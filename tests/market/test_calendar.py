"""NYSE calendar on known dates (America/New_York wall times)."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.market import calendar
from feeds.market.calendar import ET


def ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=ET).timestamp() * 1000)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("when", "phase"),
    [
        ((2025, 11, 4, 3, 59, 59), "closed"),  # Tuesday
        ((2025, 11, 4, 4, 0), "pre"),
        ((2025, 11, 4, 9, 29, 59), "pre"),
        ((2025, 11, 4, 9, 30), "open"),
        ((2025, 11, 4, 15, 59, 59), "open"),
        ((2025, 11, 4, 16, 0), "post"),
        ((2025, 11, 4, 19, 59, 59), "post"),
        ((2025, 11, 4, 20, 0), "closed"),
        ((2025, 11, 8, 11, 0), "closed"),  # Saturday
        ((2025, 11, 9, 11, 0), "closed"),  # Sunday
        ((2025, 12, 25, 11, 0), "closed"),  # Christmas
        ((2025, 11, 27, 11, 0), "closed"),  # Thanksgiving
        ((2025, 11, 28, 12, 59), "open"),  # early close at 13:00
        ((2025, 11, 28, 13, 0), "post"),
        ((2025, 11, 28, 17, 0), "closed"),  # extended hours end at 17:00 after an early close
        ((2025, 7, 3, 13, 30), "post"),  # early close before Independence Day
        ((2025, 3, 10, 9, 30), "open"),  # first Monday of daylight saving time
    ],
)
def test_session_phase(when: tuple[int, ...], phase: str) -> None:
    assert calendar.session_phase(ms(*when)) == phase


def test_session_open_close() -> None:
    assert calendar.session_open_close(ms(2025, 11, 4, 7, 0)) == (
        ms(2025, 11, 4, 9, 30),
        ms(2025, 11, 4, 16, 0),
    )
    assert calendar.session_open_close(ms(2025, 11, 28, 15, 0)) == (
        ms(2025, 11, 28, 9, 30),
        ms(2025, 11, 28, 13, 0),
    )
    assert calendar.session_open_close(ms(2025, 12, 25, 10, 0)) is None
    assert calendar.session_open_close(ms(2025, 11, 8, 10, 0)) is None


def test_latest_session_start() -> None:
    # Mid-session and after the close: today's open.
    assert calendar.latest_session_start(ms(2025, 11, 4, 12, 0)) == ms(2025, 11, 4, 9, 30)
    assert calendar.latest_session_start(ms(2025, 11, 4, 22, 0)) == ms(2025, 11, 4, 9, 30)
    # Before today's open: the previous trading day's.
    assert calendar.latest_session_start(ms(2025, 11, 4, 9, 29)) == ms(2025, 11, 3, 9, 30)
    assert calendar.latest_session_start(ms(2025, 11, 4, 9, 30)) == ms(2025, 11, 4, 9, 30)
    # Weekend -> Friday; the day after Christmas -> Christmas Eve.
    assert calendar.latest_session_start(ms(2025, 11, 9, 12, 0)) == ms(2025, 11, 7, 9, 30)
    assert calendar.latest_session_start(ms(2025, 12, 26, 8, 0)) == ms(2025, 12, 24, 9, 30)


def test_previous_sessions() -> None:
    got = calendar.previous_sessions(ms(2025, 12, 1, 10, 0), 4)
    assert got == [
        dt.date(2025, 11, 24),
        dt.date(2025, 11, 25),
        dt.date(2025, 11, 26),
        dt.date(2025, 11, 28),
    ]  # skips Thanksgiving and the weekend
    year = calendar.previous_sessions(ms(2025, 11, 5, 9, 30), 260)
    assert len(year) == 260 and year[-1] == dt.date(2025, 11, 4)
    assert dt.date(2024, 12, 31) in year and dt.date(2025, 1, 1) not in year
    assert year == sorted(year)


def test_et_date_and_repeated_calls_agree() -> None:
    t = ms(2025, 11, 4, 23, 59, 59)  # 04:59 UTC the next day
    assert calendar.et_date(t) == dt.date(2025, 11, 4)
    # The per-day cache must not leak across days.
    assert calendar.session_phase(t) == "closed"
    assert calendar.session_phase(t + 1000 + 4 * 3_600_000) == "pre"  # Wed 04:00:00
    assert calendar.session_phase(ms(2025, 11, 8, 10, 0)) == "closed"
    assert calendar.session_phase(ms(2025, 11, 4, 10, 0)) == "open"


def test_schedule_is_cached_on_disk_and_read_back(tmp_path, monkeypatch):
    from feeds.market import calendar as cal

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cal, "_schedule", None)
    monkeypatch.setattr(cal, "_last_day", None)
    thanksgiving_friday = cal._load()[dt.date(2025, 11, 28)]
    (cache,) = (tmp_path / "r2k").glob("xnys-*.json")
    monkeypatch.setattr(cal, "_schedule", None)
    assert cal._read_cache(cache)
    assert cal._schedule[dt.date(2025, 11, 28)] == thanksgiving_friday
    cache.write_text("{not json")
    monkeypatch.setattr(cal, "_schedule", None)
    assert not cal._read_cache(cache)  # a corrupt cache is rebuilt, never fatal


def test_cache_is_keyed_by_the_installed_version_read_without_importlib_metadata():
    # the dist-info directory's name, as importlib.metadata reads it, without its ~20 ms import
    from importlib.metadata import version

    from feeds.market import calendar as cal

    assert cal._calendars_version() == version("exchange-calendars")
    path = cal._cache_path()
    assert path is not None and path.name == f"xnys-{version('exchange-calendars')}.json"
