"""The ``replay:PATH`` feed: plays a recorded CSV or Parquet file of ticks.

Format (what :mod:`feeds.storage.recorder` writes): a header row, then ``ts`` (epoch milliseconds,
or
ISO-8601 with a UTC offset), ``symbol``, ``price`` and optionally ``size``, ``prev_close``,
``day_volume``, and the tape's amendments: ``sale_flags`` (what the trade's conditions keep it
from: 1 the last sale, 2 the high/low, 3 both; empty or 0 a regular sale), ``trade_id`` (the
provider's trade id) and ``amends``. A row with ``amends`` set takes back the trade it names: a
cancel when ``trade_id`` is empty (``price`` is the cancelled trade's), else a correction to
``price``/``size``/``sale_flags`` under id ``trade_id`` (see :mod:`feeds.market.lastsale`).

The whole file is loaded and validated when the feed is built, so a bad file is reported as one
line (file, line, problem, fix) before anything is shown, and then played at ``options.speed``
times the original pacing (0 = as fast as possible).

Line numbers are those of a text editor (the header is line 1); a quoted cell spanning lines
would shift them, but recordings never contain one. Parquet files have no lines: errors name the
data row instead.

A recording's daily closes (the streak, the YTD anchor) live beside it in ``PATH.daily.csv``:
``# estimates_indices: true|false`` (whether the recorded feed estimated ^RUT/^GSPC from IWM/SPY),
then ``symbol,date,close`` rows. When present it is loaded and checked with the file; the replay
yields the closes of the sessions before each day it plays, so nothing looks ahead.

A recording spanning several days is not paused for the nights and weekends between them: the
first row of each new (New York) date is released at most ``DAY_GAP_S`` after the previous row.
"""

from __future__ import annotations

import asyncio
import csv
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feeds.errors import FeedSpecError, InputFileError, path_reason
from feeds.events import (
    DailyBars,
    DailyCloses,
    Event,
    FeedState,
    FeedStatus,
    SessionCloses,
    Tick,
    TradeCancel,
    TradeCorrection,
)
from feeds.feed import Feed, FeedOptions, register

if TYPE_CHECKING:
    from feeds.reference.directory import SymbolDirectory

REQUIRED = ("ts", "symbol", "price")
OPTIONAL = ("size", "prev_close", "day_volume", "sale_flags", "trade_id", "amends")
COLUMNS = REQUIRED + OPTIONAL
TEXT_COLUMNS = ("trade_id", "amends")  # ids are kept as written

CHUNK = 4096  # rows converted from arrays to Python objects at a time (bounds memory)
YIELD_EVERY = 2048  # at full speed, give the event loop a turn this often so the UI stays live
MIN_SLEEP = 0.002  # a row due sooner than this is released now: no timer per row at high rates
DAY_GAP_S = 2.0  # the longest wait (wall s) for the first row of a new day: nights are skipped
# Epoch-millisecond values outside this range are almost surely seconds or nanoseconds.
MS_RANGE = (10**11, 10**14)  # 1973 .. 5138
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# A time with a UTC offset at the end (a date alone ending in "-05" must not pass for one).
_ISO_WITH_OFFSET = (
    r"(?i)^\d{4}-\d{2}-\d{2}[T ]\d{2}(:?\d{2}){0,2}([.,]\d+)?(Z|[+-]\d{2}(:?\d{2})?)$"
)
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

DAILY_SUFFIX = ".daily.csv"
DAILY_COLUMNS = ("symbol", "date", "close")
DAILY_OPTIONAL = ("open", "high", "low")  # a daily bar's range, where known
ESTIMATES_KEY = "estimates_indices"


class ReplayData:
    """A validated replay file as column arrays, sorted by ``ts`` (stable).

    Symbols are stored as codes into ``names``, so each Tick shares one str per symbol.
    """

    def __init__(
        self,
        ts: np.ndarray,
        codes: np.ndarray,
        names: list[str],
        price: np.ndarray,
        optional: dict[str, np.ndarray],
        note: str = "",
    ) -> None:
        self.note = note  # what was skipped while loading (a cut last row), for the status
        order = np.argsort(ts, kind="stable")
        self.ts = ts[order]
        self.codes = codes[order]
        self.names = names
        self.price = price[order]
        self.optional = {k: v[order] for k, v in optional.items()}

    def __len__(self) -> int:
        return len(self.ts)

    def symbols(self, start: int = 0, stop: int | None = None) -> list[str]:
        names = self.names
        return [names[c] for c in self.codes[start:stop].tolist()]


def load_replay(path: Path) -> ReplayData:
    """Read and validate a replay file. Raises InputFileError with one line on any problem."""
    label = f"replay file '{path}'"
    if not path.exists():
        raise InputFileError(f"{label} not found; check the path in --feed replay:PATH")
    if path.is_dir():
        raise InputFileError(f"{label} is a directory; point replay: at a .csv or .parquet file")
    parquet = path.suffix.lower() in (".parquet", ".pq")
    frame, note = _read_parquet(path, label) if parquet else (_read_csv(path, label), "")

    def where(i: int) -> str:
        # CSV: the frame keeps blank lines as rows, so row i is text line i + 2 (header = 1).
        return f"{label} row {i + 1}" if parquet else f"{label} line {i + 2}"

    header_where = label if parquet else f"{label} line 1"
    names = [str(c).strip().lower() for c in frame.columns]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise InputFileError(
            f"{header_where}: unknown column {unknown[0]!r}; valid columns are "
            f"{', '.join(COLUMNS)} (the first three required)"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(f"{header_where}: column {dupes[0]!r} appears twice; keep one")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputFileError(
            f"{header_where}: missing column(s) {', '.join(missing)}; the header needs "
            f"{','.join(REQUIRED)} (optional {','.join(OPTIONAL)})"
        )
    frame.columns = names
    if not parquet and len(frame) and _drop_cut_last_row(path, names):
        note = f"line {len(frame) + 1} was cut short by an interrupted write and is skipped"
        frame = frame.iloc[:-1]
    if not parquet:
        # Blank lines came through as all-empty rows (to keep line numbers); drop them now.
        blank = np.logical_and.reduce([_empty_mask(frame[c]) for c in names])
        frame = frame[~blank]
    if len(frame) == 0:
        raise InputFileError(
            f"{label} has no data rows after the header; record some with 'r2k record'"
        )
    rows = frame.index.to_numpy()  # original positions, for line numbers

    problems: list[tuple[int, str]] = []  # (position in file, message); the earliest is shown
    ts = _timestamps(frame["ts"], problems)
    codes, symbol_names = _symbols(frame["symbol"], problems)
    price = _numbers(frame["price"], "price", problems, positive=True, required=True)
    optional = {
        c: _numbers(frame[c], c, problems, positive=c == "prev_close", required=False)
        for c in OPTIONAL
        if c in names and c not in TEXT_COLUMNS
    }
    if "sale_flags" in optional:
        _check_flags(optional["sale_flags"], frame["sale_flags"], problems)
    for c in TEXT_COLUMNS:
        if c in names:
            optional[c] = frame[c].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    if problems:
        k, message = min(problems, key=lambda p: p[0])
        raise InputFileError(f"{where(int(rows[k]))}: {message}")
    return ReplayData(ts, codes, symbol_names, price, optional, note)


def _drop_cut_last_row(path: Path, names: list[str]) -> bool:
    """True when the file's last row was cut by an interrupted write and must not be played.

    Every row the recorder writes ends with a newline, so in a recording (its exact header) a
    last row without one is cut, even when it parses: ``121.07`` cut after ``121.0`` still
    reads as a price. In any other CSV a missing final newline is common; there the row counts
    as cut only when it has fewer values than the header.
    """
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            tail = f.read()
    except OSError:
        return False
    if not tail or tail.endswith((b"\n", b"\r")):
        return False
    if names == list(COLUMNS):
        return True
    last = tail[tail.rfind(b"\n") + 1 :].decode("utf-8", "replace")
    cells = next(csv.reader([last]), [])
    return 0 < len(cells) < len(names)


def _read_csv(path: Path, label: str):  # -> pd.DataFrame (pandas imported lazily)
    import pandas as pd

    try:
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"{label} is empty; it needs a header line {','.join(REQUIRED)} and data rows"
        ) from None
    except pd.errors.ParserError as e:
        # pandas: "Error tokenizing data. C error: Expected 3 fields in line 4, saw 4"
        m = _FIELDS.search(str(e))
        if m:
            want, line, got = m.groups()
            raise InputFileError(
                f"{label} line {line}: {got} values but the header has {want} columns; "
                "fix or delete the row"
            ) from None
        detail = str(e).split("error:", 1)[-1].strip().rstrip(".")
        raise InputFileError(f"{label}: {detail}; fix the CSV syntax") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{label} is not UTF-8 text; save it as a UTF-8 CSV") from None
    except OSError as e:
        raise InputFileError(f"{label} cannot be read ({path_reason(path, e)}); check it") from None


def _read_parquet(path: Path, label: str):  # -> (pd.DataFrame, note)
    """The file's rows; an interrupted r2k recording (no footer yet) is rebuilt from its
    journal (``PATH.journal``, see :mod:`feeds.storage.recorder`) and the note says so."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas(), ""
    except (pa.ArrowException, OSError) as e:
        from feeds.storage.journal import JOURNAL_SUFFIX, read_journal

        recovered = read_journal(path, path.with_name(path.name + JOURNAL_SUFFIX))
        if recovered is not None:
            table, skipped = recovered
            note = f"an interrupted recording, read from its journal ({table.num_rows:,} rows"
            note += (
                f"; {skipped:,} bytes after the last whole row group skipped)" if skipped else ")"
            )
            return table.to_pandas(), note
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputFileError(
            f"{label} is not a readable Parquet file ({first}); re-export it or use CSV"
        ) from None


def _is_text(series) -> bool:
    import pandas as pd

    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _empty_mask(series) -> np.ndarray:
    """Cells that are null or only blanks (vectorised: files can hold millions of rows)."""
    empty = series.isna().to_numpy(dtype=bool)
    if _is_text(series):
        blank = series.fillna("").astype(str).str.strip().eq("").to_numpy(dtype=bool)
        empty = empty | blank  # not |=: pandas may hand out a read-only array
    return empty


def _cell(series, i: int) -> str:
    v = series.iloc[i]
    return "" if v is None or v != v else str(v).strip()


def _timestamps(series, problems: list[tuple[int, str]]) -> np.ndarray:
    """Epoch ms per row from epoch-ms numbers, ISO-8601 strings with an offset, or tz-aware
    Parquet timestamps. Offset-less ISO times are refused: the zone would be a guess."""
    import pandas as pd

    n = len(series)
    out = np.zeros(n, dtype=np.int64)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        nat = series.isna().to_numpy()
        if nat.any():
            problems.append((int(np.argmax(nat)), "ts is empty; fill it in or delete the row"))
            return out
        return ((series - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).to_numpy(
            dtype=np.int64
        )
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        problems.append(
            (0, "ts is a timestamp without a time zone (ambiguous); store UTC or epoch ms")
        )
        return out
    numeric = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    is_num = ~np.isnan(numeric)
    lo, hi = MS_RANGE
    with np.errstate(invalid="ignore"):
        out_of_range = is_num & ((numeric < lo) | (numeric >= hi))
    first_bad = int(np.argmax(out_of_range)) if out_of_range.any() else n
    with np.errstate(all="ignore"):  # a stamp past int64 is named below, never warned about
        out[is_num] = np.round(numeric[is_num]).astype(np.int64)
    text_rows = np.flatnonzero(~is_num)
    text_rows = text_rows[text_rows < first_bad]  # only rows before the first bad number matter
    if len(text_rows):
        bad = _iso_ms(series.iloc[text_rows], out, text_rows)
        if bad is not None:
            problems.append(bad)
            return out
    if first_bad < n:
        x = numeric[first_bad]
        hint = "seconds" if 0 < x < lo else "not epoch milliseconds"
        problems.append(
            (first_bad, f"ts {_cell(series, first_bad)!r} looks like {hint}; use epoch ms")
        )
    return out


def _iso_ms(texts, out: np.ndarray, rows: np.ndarray) -> tuple[int, str] | None:
    """Fill ``out[rows]`` from ISO-8601 strings; returns the first problem, if any.

    The common case (every string has a time and an offset) is parsed vectorised; anything
    else goes row by row so the message names the first bad row exactly.
    """
    import pandas as pd

    strings = texts.fillna("").astype(str).str.strip()
    if bool(strings.str.match(_ISO_WITH_OFFSET).all()):
        try:
            when = pd.to_datetime(strings, format="ISO8601", utc=True)
            ms = (when - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
            out[rows] = ms.to_numpy(dtype=np.int64)
            return None
        except (ValueError, OverflowError):
            pass  # fall through: the loop finds the row and says what is wrong with it
    for i, text in zip(rows.tolist(), strings.tolist(), strict=True):
        if not text:
            return i, "ts is empty; fill it in or delete the row"
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return (
                i,
                f"ts {text!r} is neither epoch milliseconds nor ISO-8601; fix or delete the row",
            )
        if when.tzinfo is None:
            return (
                i,
                f"ts {text!r} has no UTC offset (ambiguous); add one, e.g. "
                f"{text}+00:00 or {text}-05:00",
            )
        out[i] = (when - _EPOCH) // _MS
    return None


def _symbols(series, problems: list[tuple[int, str]]) -> tuple[np.ndarray, list[str]]:
    import pandas as pd

    text = series.fillna("").astype(str).str.strip()
    empty = text.eq("").to_numpy(dtype=bool) | text.str.lower().eq("nan").to_numpy(dtype=bool)
    if empty.any():
        problems.append((int(np.argmax(empty)), "symbol is empty; fill it in or delete the row"))
    codes, uniques = pd.factorize(text)
    return codes.astype(np.int32), [str(u) for u in uniques]


def _numbers(
    series, column: str, problems: list[tuple[int, str]], *, positive: bool, required: bool
) -> np.ndarray:
    """Floats (NaN where an optional cell is empty); records the first bad cell."""
    import pandas as pd

    numeric = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    empty = _empty_mask(series)
    with np.errstate(invalid="ignore"):
        bad_value = ~empty & ~np.isfinite(numeric)
        out_of_range = ~empty & np.isfinite(numeric) & (numeric <= 0 if positive else numeric < 0)
    bound = "above" if positive else "at least"
    checks: list[tuple[np.ndarray, Callable[[str], str]]] = [
        (bad_value, lambda v: f"{column} {v!r} is not a number; fix or delete the row"),
        (out_of_range, lambda v: f"{column} {v!r} must be {bound} 0; fix or delete the row"),
    ]
    if required:
        checks.append((empty, lambda v: f"{column} is empty; fill it in or delete the row"))
    for mask, message in checks:
        if mask.any():
            i = int(np.argmax(mask))
            problems.append((i, message(_cell(series, i))))
    return numeric


def _check_flags(flags: np.ndarray, series, problems: list[tuple[int, str]]) -> None:
    """sale_flags are whole numbers 0-3 (feeds.market.lastsale.NOT_LAST | NOT_HIGH_LOW)."""
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(flags) & ((flags > 3) | (flags != np.round(flags)))
    if bad.any():
        i = int(np.argmax(bad))
        problems.append(
            (
                i,
                f"sale_flags {_cell(series, i)!r} must be 0-3 (1: not the last sale, 2: not the "
                "high/low, 3: neither); fix or delete the row",
            )
        )


def daily_path(path: Path) -> Path:
    """The daily-closes sidecar of a recording: ``PATH.daily.csv``."""
    return path.with_name(path.name + DAILY_SUFFIX)


@dataclass(slots=True)
class DailyData:
    """A recording's sidecar: each symbol's daily closes (oldest first), the (open, high, low)
    of those rows that have them, and the feed's flag."""

    closes: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    estimates_indices: bool = False
    # symbol -> date -> (open, high, low), for rows with a range
    ohlc: dict[str, dict[str, tuple[float | None, float | None, float | None]]] = field(
        default_factory=dict
    )
    #: rows skipped as inconsistent, one line naming them (for the replay's status)
    note: str = ""

    def before(self, day: str) -> list[Event]:
        """What the feed gave of the sessions before ``day`` (ISO date): the index-level symbols'
        histories (:class:`DailyBars` where the sidecar has ranges, else :class:`DailyCloses`),
        and every other symbol's closes grouped by session (:class:`SessionCloses`: members'
        YTD anchors and as-of closes, as the batch endpoints gave them; they set no previous
        close, which a recording's ticks carry)."""
        from feeds.symbols import HEADLINE

        out: list[Event] = []
        sessions: dict[str, dict[str, float]] = {}
        for s, rows in self.closes.items():
            past = [(d, c) for d, c in rows if d < day]
            if s not in HEADLINE:
                for d, c in past:
                    sessions.setdefault(d, {})[s] = c
                continue
            ranges = self.ohlc.get(s)
            if ranges:
                bars = [(d, *ranges.get(d, (None, None, None)), c) for d, c in past]
                out.append(DailyBars(s, bars))  # type: ignore[arg-type]
            else:
                out.append(DailyCloses(s, past))
        out += [SessionCloses(d, closes) for d, closes in sorted(sessions.items())]
        return out


def _daily_row(
    cells: list[str], columns: dict[str, int]
) -> tuple[str, str, float, tuple[float | None, float | None, float | None] | None]:
    """(symbol, date, close, (open, high, low) or None) from one row; raises ValueError with
    the problem and the fix."""
    if len(cells) != len(columns):
        raise ValueError(
            f"{len(cells)} values but the header has {len(columns)} columns; fix or delete the row"
        )
    cells = [c.strip() for c in cells]
    symbol, day, close = (cells[columns[c]] for c in DAILY_COLUMNS)
    if not symbol:
        raise ValueError("symbol is empty; fill it in or delete the row")
    try:
        if len(day) != 10:
            raise ValueError
        date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"date {day!r} is not YYYY-MM-DD; fix or delete the row") from None
    x = _positive("close", close)
    extra: list[float | None] = []
    for name in DAILY_OPTIONAL:
        k = columns.get(name)
        text = cells[k] if k is not None else ""
        extra.append(_positive(name, text) if text else None)
    o, h, lo = extra
    if h is not None:
        top = max(x, *(v for v in (o, lo) if v is not None))
        if h < top and not _same_price(h, top):
            raise InconsistentRow(symbol, day, f"high {h:.10g} is below the close, open or low")
        h = max(h, top)  # the same price written two ways: the range holds the bar
    if lo is not None:
        bottom = min(x, *(v for v in (o,) if v is not None))
        if lo > bottom and not _same_price(lo, bottom):
            raise InconsistentRow(symbol, day, f"low {lo:.10g} is above the close or open")
        lo = min(lo, bottom)
    return symbol, day, x, None if o is None and h is None and lo is None else (o, h, lo)


#: Two prices this close (relative) are the same price: adjusted prices in floating point
#: (yfinance writes a high of 24.17236518859863 beside a close of 24.17236518859864). A
#: quote has at most 6 significant decimals of meaning, so 1e-9 is far below any real tick.
PRICE_REL_TOL = 1e-9


def _same_price(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=PRICE_REL_TOL, abs_tol=0.0)


class InconsistentRow(ValueError):
    """A sidecar row whose numbers contradict each other (a high below the close): the row is
    skipped with a note, the rest of the history is used."""

    def __init__(self, symbol: str, day: str, problem: str) -> None:
        super().__init__(f"{symbol} {day}: {problem}")


def _positive(name: str, text: str) -> float:
    """A sidecar cell as a number above 0; ValueError with the problem and the fix."""
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number; fix or delete the row") from None
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} {text!r} must be a number above 0; fix or delete the row")
    return x


def load_daily(path: Path) -> DailyData | None:
    """Read and check a daily-closes sidecar; None when there is none. Raises InputFileError."""
    label = f"daily closes file '{path}'"
    if path.is_dir():
        raise InputFileError(f"{label} is a directory; move it away or make it a CSV")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise InputFileError(f"{label} is not UTF-8 text; save it as a UTF-8 CSV") from None
    except OSError as e:
        raise InputFileError(f"{label} cannot be read ({path_reason(path, e)}); check it") from None
    data = DailyData()
    skipped: list[str] = []  # inconsistent rows: one note, the rest of the history is used
    by_symbol: dict[str, dict[str, float]] = {}
    columns: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep and key.strip() == ESTIMATES_KEY:
                flag = value.strip().lower()
                if flag not in ("true", "false"):
                    raise InputFileError(
                        f"{label} line {n}: {ESTIMATES_KEY} must be true or false, not "
                        f"{value.strip()!r}"
                    )
                data.estimates_indices = flag == "true"
            continue
        if not columns:
            names = [c.strip().lower() for c in stripped.split(",")]
            known = set(DAILY_COLUMNS) | set(DAILY_OPTIONAL)
            if not set(DAILY_COLUMNS) <= set(names) <= known or len(set(names)) != len(names):
                raise InputFileError(
                    f"{label} line {n}: expected the header {','.join(DAILY_COLUMNS)} (and "
                    f"optionally {','.join(DAILY_OPTIONAL)}), not {stripped[:80]!r}; fix it or "
                    "delete the file"
                )
            columns = {c: k for k, c in enumerate(names)}
            continue
        try:
            symbol, day, close, ranges = _daily_row(next(csv.reader([line])), columns)
        except InconsistentRow as e:
            skipped.append(f"line {n} ({e})")
            continue
        except ValueError as e:
            raise InputFileError(f"{label} line {n}: {e}") from None
        by_symbol.setdefault(symbol, {})[day] = close
        if ranges is not None:
            data.ohlc.setdefault(symbol, {})[day] = ranges
    if not columns:
        raise InputFileError(
            f"{label} has no header {','.join(DAILY_COLUMNS)}; fix it or delete the file"
        )
    data.closes = {s: sorted(rows.items()) for s, rows in by_symbol.items()}
    if skipped:
        more = f" and {len(skipped) - 3:,} more" if len(skipped) > 3 else ""
        data.note = (
            f"daily closes file {path.name}: skipped {len(skipped):,} inconsistent "
            f"row{'s' if len(skipped) > 1 else ''}: {'; '.join(skipped[:3])}{more}"
        )
    return data


def _day_starts(ts: np.ndarray) -> dict[int, str]:
    """Row index -> exchange (New York) date, for each row that starts a new date."""
    import pandas as pd

    local = pd.to_datetime(ts, unit="ms", utc=True).tz_convert("America/New_York")
    days = local.tz_localize(None).to_numpy().astype("datetime64[D]")
    starts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist()]
    return {i: str(days[i]) for i in starts}


class ReplayFeed(Feed):
    """Plays a :class:`ReplayData` at ``options.speed`` against a monotonic schedule."""

    # Injected so tests can check the schedule with a fake clock (no sleeping, no timing).
    clock: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    def __init__(self, spec: str, path: Path, options: FeedOptions) -> None:
        super().__init__(spec, options)
        if options.speed < 0:
            raise FeedSpecError(
                f"replay speed must be >= 0 (0 = as fast as possible), not {options.speed}"
            )
        self.path = path
        self.data = load_replay(path)
        self.daily = load_daily(daily_path(path))
        # row -> the daily closes released before it: at each new day's first row, the closes
        # of the sessions before that day
        self._daily_at: dict[int, list[Event]] = {}
        days = _day_starts(self.data.ts)
        self._day_starts = sorted(days)[1:]  # rows that start a later day (nights are skipped)
        if self.daily is not None:
            self.estimates_indices = self.daily.estimates_indices
            if self.daily.closes:
                self._daily_at = {i: self.daily.before(day) for i, day in days.items()}
        self._cursor = int(self.data.ts[0])
        self.released = 0
        #: (wall s, data ms) the schedule runs from, and the next row's data time, while paced
        self._schedule: tuple[float, int] | None = None
        self._next_ts = self._cursor

    def now_ms(self) -> int:
        """The recording's clock (epoch ms): at a speed above 0 it runs on with the wall clock
        times the speed between prints, as a live feed's clock does (up to the next print,
        which is released when the clock gets there); at speed 0 (as fast as possible), the
        data time of the last event released (before the first: the first row's)."""
        schedule = self._schedule
        if schedule is None:
            return self._cursor
        wall0, data0 = schedule
        running = data0 + int((self.clock() - wall0) * 1000.0 * self.options.speed)
        return max(self._cursor, min(running, self._next_ts))

    @property
    def label(self) -> str:
        return f"replay {self.path.name}"

    def listed(self) -> SymbolDirectory:
        """Every symbol in the file: holdings tickers are spelt as the recording spells them."""
        from feeds.reference.directory import of_symbols

        return of_symbols(self.data.names, f"the replay file {self.path.name}")

    async def __aiter__(self) -> AsyncIterator[Event]:
        data = self.data
        n = len(data)
        name = self.path.name
        notes = [t for t in (data.note, self.daily.note if self.daily else "") if t]
        note = f" ({'; '.join(notes)})" if notes else ""
        yield FeedStatus(FeedState.LIVE, f"replay of {name}, {n:,} rows{note}", self._cursor)
        speed = self.options.speed
        t0_data = int(data.ts[0])
        clock, sleep = self.clock, self.sleep
        t0_wall = clock()
        stale_after = self.options.stale_after
        live_detail = f"replay of {name}, {n:,} rows{note}"
        stale = False
        since_yield = 0
        daily_at = self._daily_at
        day_starts = set(self._day_starts)
        cuts = sorted({*range(0, n, CHUNK), *daily_at, *day_starts})
        for start, stop in zip(cuts, [*cuts[1:], n], strict=True):
            if start in day_starts and speed > 0:
                # the market was shut in between: wait at most DAY_GAP_S for the new day
                gap = int(data.ts[start] - data.ts[start - 1]) / (1000.0 * speed)
                if gap > DAY_GAP_S:
                    t0_wall -= gap - DAY_GAP_S
            if speed > 0:
                self._schedule = (t0_wall, t0_data)
            for closes in daily_at.get(start, ()):
                yield closes
            ts = data.ts[start:stop].tolist()
            price = data.price[start:stop].tolist()
            symbols = data.symbols(start, stop)
            size = _optional_list(data, "size", start, stop)
            prev = _optional_list(data, "prev_close", start, stop)
            vol = _optional_list(data, "day_volume", start, stop)
            flags = [int(f) if f else 0 for f in _optional_list(data, "sale_flags", start, stop)]
            ids = _optional_list(data, "trade_id", start, stop)
            amends = _optional_list(data, "amends", start, stop)
            for k in range(stop - start):
                t = ts[k]
                if speed > 0:
                    self._next_ts = t
                    # Scheduled against the start, not the previous row, so pacing never drifts.
                    wait = t0_wall + (t - t0_data) / (1000.0 * speed) - clock()
                    if wait > stale_after > 0 and not stale:
                        # a gap in the recording longer than stale_after: stale, as a live
                        # feed is after that long without a tick (issue 18 §4)
                        await sleep(stale_after)
                        stale = True
                        yield FeedStatus(
                            FeedState.STALE,
                            f"no prints for over {stale_after:.0f} s (a gap in {name})",
                            self.now_ms(),
                        )
                        wait = t0_wall + (t - t0_data) / (1000.0 * speed) - clock()
                    if wait > MIN_SLEEP:
                        await sleep(wait)
                        since_yield = 0
                    if stale:
                        stale = False
                        yield FeedStatus(FeedState.LIVE, live_detail, t)
                self._cursor = t
                self.released += 1
                amended = amends[k]
                if amended is None:
                    yield Tick(symbols[k], price[k], t, size[k], vol[k], prev[k], flags[k], ids[k])
                elif ids[k] is None:
                    yield TradeCancel(symbols[k], amended, price[k], t)
                else:
                    new_id = None if ids[k] == amended else ids[k]
                    yield TradeCorrection(
                        symbols[k], amended, price[k], t, size[k], flags[k], new_id
                    )
                since_yield += 1
                if since_yield >= YIELD_EVERY:
                    await sleep(0)
                    since_yield = 0
        yield FeedStatus(FeedState.ENDED, f"replay of {name} ended after {n:,} rows", self._cursor)


def _optional_list(data: ReplayData, column: str, start: int, stop: int) -> list[Any]:
    """A column's cells as Python values, None where empty (NaN, or "" in a text column)."""
    arr = data.optional.get(column)
    if arr is None:
        return [None] * (stop - start)
    if column in TEXT_COLUMNS:
        return [x or None for x in arr[start:stop].tolist()]
    return [None if x != x else x for x in arr[start:stop].tolist()]  # NaN -> None


@register("replay")
def open_replay(spec: str, arg: str, options: FeedOptions) -> Feed:
    if not arg:
        raise FeedSpecError("the replay feed needs a file: --feed replay:PATH (CSV or Parquet)")
    return ReplayFeed(spec, Path(arg).expanduser(), options)
