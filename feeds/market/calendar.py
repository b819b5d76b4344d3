"""NYSE sessions on epoch milliseconds: phase (pre/open/post/closed), open/close, past sessions.

Holidays and early closes come from ``exchange_calendars`` (XNYS), imported on first use: it
pulls in pandas and takes ~0.5 s, which the TUI's first frame must not wait for. The schedule is
flattened once into a dict of date -> (open_ms, close_ms); the frame loop calls these functions
at 4 Hz, so the answer for the current day is cached and a call is a few comparisons.

Outside the calendar's range (2015 to two years ahead) weekdays 09:30-16:00 are assumed.

The flattened schedule is cached on disk (``$XDG_CACHE_HOME/r2k``), keyed by the
exchange_calendars version, so only the first start on a machine pays for the import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
_CAL_START = dt.date(2015, 1, 1)
_PRE_START = dt.time(4, 0)
_POST_END = dt.time(20, 0)
# Extended-hours trading ends at 17:00 on early-close days (day after Thanksgiving, Christmas
# Eve), not at 20:00.
_POST_END_EARLY = dt.time(17, 0)
_REGULAR_CLOSE = dt.time(16, 0)

_schedule: dict[dt.date, tuple[int, int]] | None = None
_range: tuple[dt.date, dt.date] = (_CAL_START, _CAL_START)
_lock = threading.Lock()  # the sim may warm the calendar in a worker thread


@dataclass(slots=True, frozen=True)
class Day:
    """One ET calendar day: its date, its ms span and, on a trading day, the phase boundaries
    (epoch ms; ``open_ms`` is None on a day the market is shut)."""

    date: dt.date
    start_ms: int
    end_ms: int
    pre_ms: int | None = None
    open_ms: int | None = None
    close_ms: int | None = None
    post_end_ms: int | None = None


_last_day: Day | None = None


def _ms(d: dt.date, t: dt.time) -> int:
    return int(dt.datetime.combine(d, t, ET).timestamp() * 1000)


def et_date(ts_ms: int) -> dt.date:
    """The America/New_York calendar date of an epoch-ms instant."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, ET).date()


def _calendars_version() -> str | None:
    """The installed exchange_calendars version, without importing it (pandas) or
    importlib.metadata (~20 ms of the monitor's start-up, the email parser under it): the name of
    the ``exchange_calendars-<version>.dist-info`` directory beside the package (the wheel
    format's rule, PEP 427/491). Elsewhere (an egg, a zip) importlib.metadata answers."""
    from importlib.util import find_spec

    spec = find_spec("exchange_calendars")
    if spec is None or spec.origin is None:
        return None
    prefix = "exchange_calendars-"
    with contextlib.suppress(OSError):
        for entry in os.scandir(Path(spec.origin).parent.parent):
            name = entry.name
            if name.startswith(prefix) and name.endswith(".dist-info"):
                return name[len(prefix) : -len(".dist-info")]
    from importlib.metadata import version

    return version("exchange-calendars")


def _cache_path() -> Path | None:
    try:
        tag = _calendars_version()
    except Exception:
        return None
    if tag is None:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "r2k" / f"xnys-{tag}.json"


def _read_cache(path: Path | None) -> bool:
    """Load the schedule from the disk cache if it is there and reaches a year ahead."""
    global _schedule, _range
    if path is None or not path.exists():
        return False
    try:
        import orjson

        data = orjson.loads(path.read_bytes())
        first, last = (dt.date.fromisoformat(x) for x in data["range"])
        if last < dt.date.today() + dt.timedelta(days=365):
            return False
        schedule = {dt.date.fromisoformat(d): (int(o), int(c)) for d, o, c in data["sessions"]}
    except Exception:
        return False  # a corrupt or old cache is rebuilt, never fatal
    _range = (first, last)
    _schedule = schedule
    return True


def _write_cache(path: Path | None) -> None:
    if path is None or _schedule is None:
        return
    with contextlib.suppress(Exception):  # a read-only home must not stop the monitor
        import orjson

        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "range": [_range[0].isoformat(), _range[1].isoformat()],
            "sessions": [[d.isoformat(), o, c] for d, (o, c) in sorted(_schedule.items())],
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(data))
        tmp.replace(path)


def _load() -> dict[dt.date, tuple[int, int]]:
    global _schedule, _range
    if _schedule is not None:
        return _schedule
    with _lock:
        if _schedule is not None:
            return _schedule
        cache = _cache_path()
        if _read_cache(cache):
            return _schedule  # type: ignore[return-value]
        import exchange_calendars as xc  # slow import: deferred to the first call

        end = dt.date.today() + dt.timedelta(days=730)
        with warnings.catch_warnings():
            # exchange_calendars 4.x trips a pandas 3.1 deprecation internally; not ours to fix.
            warnings.filterwarnings("ignore", message=r"Series\.values returning")
            cal = xc.get_calendar("XNYS", start=_CAL_START.isoformat(), end=end.isoformat())
            # Via Timestamp.timestamp(): independent of the datetime64 unit pandas chose.
            schedule = {
                s.date(): (round(o.timestamp() * 1000), round(c.timestamp() * 1000))
                for s, o, c in zip(cal.sessions, cal.opens, cal.closes, strict=True)
            }
        _range = (cal.first_session.date(), cal.last_session.date())
        _schedule = schedule  # published last: readers that see it also see _range
        _write_cache(cache)
        return _schedule


def _session(d: dt.date) -> tuple[int, int] | None:
    """Regular open/close (ms) of the session on ET date ``d``, or None if the market is shut."""
    schedule = _load()
    if _range[0] <= d <= _range[1]:
        return schedule.get(d)
    if d.weekday() >= 5:  # beyond the calendar: weekdays, no holidays
        return None
    return _ms(d, dt.time(9, 30)), _ms(d, _REGULAR_CLOSE)


def day_of(ts_ms: int) -> Day:
    """The ET day of ``ts_ms`` with its session boundaries (cached: a call is two compares)."""
    return _day(ts_ms)


def _day(ts_ms: int) -> Day:
    global _last_day
    day = _last_day
    if day is not None and day.start_ms <= ts_ms < day.end_ms:
        return day
    d = et_date(ts_ms)
    start, end = _ms(d, dt.time(0)), _ms(d + dt.timedelta(days=1), dt.time(0))
    s = _session(d)
    if s is None:
        day = Day(d, start, end)
    else:
        open_ms, close_ms = s
        early = close_ms < _ms(d, _REGULAR_CLOSE)
        post_end = _ms(d, _POST_END_EARLY if early else _POST_END)
        day = Day(d, start, end, _ms(d, _PRE_START), open_ms, close_ms, post_end)
    _last_day = day
    return day


def session_phase(ts_ms: int) -> str:
    """ "pre" (04:00-open), "open", "post" (close-20:00, 17:00 after an early close) or "closed"."""
    day = _day(ts_ms)
    if day.open_ms is None:
        return "closed"
    assert day.pre_ms is not None and day.close_ms is not None and day.post_end_ms is not None
    if ts_ms < day.pre_ms:
        return "closed"
    if ts_ms < day.open_ms:
        return "pre"
    if ts_ms < day.close_ms:
        return "open"
    if ts_ms < day.post_end_ms:
        return "post"
    return "closed"


def session_open_close(ts_ms: int) -> tuple[int, int] | None:
    """Regular open and close (ms) of the ET day of ``ts_ms`` if it is a trading day."""
    day = _day(ts_ms)
    if day.open_ms is None or day.close_ms is None:
        return None
    return day.open_ms, day.close_ms


def day_end(ts_ms: int) -> int:
    """Midnight (ms) that ends the America/New_York day of ``ts_ms``."""
    return _day(ts_ms).end_ms


def extended_end(ts_ms: int) -> int | None:
    """When post-market trading ends (ms) on the ET day of ``ts_ms``, if it is a trading day."""
    return _day(ts_ms).post_end_ms


def latest_session_start(now_ms: int) -> int:
    """Open (ms) of the latest session that has opened at or before ``now_ms``."""
    today = session_open_close(now_ms)
    if today is not None and today[0] <= now_ms:
        return today[0]
    return _latest_before(et_date(now_ms))


@lru_cache(maxsize=64)
def _latest_before(d: dt.date) -> int:
    for back in range(1, 30):
        s = _session(d - dt.timedelta(days=back))
        if s is not None:
            return s[0]
    raise ValueError(f"no NYSE session in the 30 days before {d}")  # pragma: no cover


def previous_sessions(ts_ms: int, n: int) -> list[dt.date]:
    """The ``n`` sessions on ET dates before the date of ``ts_ms``, oldest first.

    "Completed" assumes ``ts_ms`` is within its own day's session or before it: the session of
    that date (if any) is never included, even after its close.
    """
    return list(_previous(et_date(ts_ms), n))


@lru_cache(maxsize=64)
def _previous(d: dt.date, n: int) -> tuple[dt.date, ...]:
    out: list[dt.date] = []
    day = d
    while len(out) < n:
        day -= dt.timedelta(days=1)
        if _session(day) is not None:
            out.append(day)
    return tuple(reversed(out))


# sessions over a span, for the scoreboard's bases and the YTD anchor
@lru_cache(maxsize=64)
def sessions_between(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """Every NYSE session from ``first`` to ``last`` (both included), oldest first."""
    out: list[dt.date] = []
    day = first
    while day <= last:
        if _session(day) is not None:
            out.append(day)
        day += dt.timedelta(days=1)
    return tuple(out)


def last_session_before(d: dt.date) -> dt.date:
    """The latest NYSE session on a date before ``d`` (``d`` = Jan 1: the year-end session)."""
    return _previous(d, 1)[0]
