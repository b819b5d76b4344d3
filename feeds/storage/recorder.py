"""Record ticks in the replay format, so ``replay:PATH`` plays them back: Parquet or CSV.

The format follows the file's extension (:func:`recording_path`): ``.parquet`` (the default
when there is none) or ``.csv``; any other is refused. Rows are buffered and flushed at least
once a second, so a crash loses at most about a second of ticks:

* **CSV** (:class:`Recorder`) is only ever appended to (a recording is evidence; truncating it by
  re-running a command would lose a day); a row cut by a crash is removed when recording to the
  file resumes.
* **Parquet** (:class:`ParquetRecorder`) is written as one row group per flush. Its footer (the
  index of the row groups) is only written when the recording closes (Ctrl+C, the end of
  ``--duration``), so each flush also appends that row group's own footer to a journal beside
  the file (``PATH.journal``): after a crash, ``replay:PATH`` rebuilds the recording from it.
  A clean close removes the journal. A Parquet file cannot be appended to: an existing one is
  refused (never overwritten).

What a replay needs besides the ticks goes in too: each tick carries its symbol's previous close
(from the tick, or the latest one the feed sent in a ``Bars`` event), and the feed's daily
history (closes, with open/high/low where it gave bars; the members' closes of the sessions its
batch endpoints gave) and its ``estimates_indices`` flag go to the sidecar ``PATH.daily.csv``
(see :mod:`feeds.storage.replay`), merged with what is there and replaced atomically at the next
flush
after the feed sends some. A trade's
last-sale flags and id, and the cancels and corrections that later name it, are rows too, so a
replay takes back what the live run took back. A print stamped before the symbol's latest is
written as barred from the last sale (``sale_flags`` 1): the replay plays rows in time order,
where it would no longer look late.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import struct
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from feeds.atomic import write_atomic
from feeds.errors import InputFileError, path_reason
from feeds.events import (
    Bars,
    DailyBars,
    DailyCloses,
    Event,
    SessionCloses,
    Tick,
    TradeCancel,
    TradeCorrection,
)
from feeds.feed import Feed
from feeds.market.lastsale import NOT_LAST
from feeds.storage.journal import ENTRY as _ENTRY
from feeds.storage.journal import JOURNAL_SUFFIX
from feeds.storage.replay import (
    COLUMNS,
    DAILY_COLUMNS,
    DAILY_OPTIONAL,
    ESTIMATES_KEY,
    daily_path,
    load_daily,
)
from feeds.text import clean

HEADER = ",".join(COLUMNS)
FLUSH_EVERY_S = 1.0
#: recording formats by file extension; a path without one gets DEFAULT_SUFFIX
FORMATS = {".parquet": "parquet", ".csv": "csv"}
DEFAULT_SUFFIX = ".parquet"


def recording_path(path: str | Path) -> Path:
    """The file a recording goes to: ``PATH`` as given when it ends in ``.parquet`` or
    ``.csv``, ``PATH.parquet`` when it has no extension. Raises InputFileError (one line) for
    any other extension."""
    p = Path(path).expanduser()
    if not p.suffix:
        return p.with_name(p.name + DEFAULT_SUFFIX)
    if p.suffix.lower() not in FORMATS:
        raise InputFileError(
            f"cannot record to '{p}': unknown format {p.suffix!r}; end the file name in "
            ".parquet (the default) or .csv"
        )
    return p


def open_recorder(path: str | Path) -> Recorder:
    """A recorder for ``path`` in the format its extension names (see :func:`recording_path`).
    Raises InputFileError (one line) for a bad extension or a file that cannot be written."""
    p = recording_path(path)
    if FORMATS[p.suffix.lower()] == "parquet":
        return ParquetRecorder(p)
    return Recorder(p)


def _cell(x: float | None) -> str:
    if x is None:
        return ""
    return repr(x)  # shortest text that reads back as the same float


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_fitting(
    fd: int,
    n: int,
    encode: Callable[[int, int], bytes],
    after: Callable[[int, int, int, int], None] | None = None,
) -> tuple[int, OSError | None]:
    """Append rows ``[0, n)`` to ``fd`` keeping every whole row that fits: ``encode(lo, hi)``
    gives the bytes of rows ``lo..hi-1``; a piece that fails (ENOSPC, EFBIG) is cut off again
    and halved, down to one row, so a full disk costs only the rows that did not fit.
    ``after(lo, hi, start, length)`` runs once a piece is on disk (a journal entry; an OSError
    there cuts the piece off too). Returns (rows written, the error that stopped it or None)."""
    lo, size = 0, max(1, n)
    while lo < n:
        hi = min(n, lo + size)
        data = encode(lo, hi)
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            _write_all(fd, data)
            if after is not None:
                after(lo, hi, start, len(data))
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)  # a cut row would replay a wrong price
                os.lseek(fd, start, os.SEEK_SET)
            if hi - lo == 1:
                return lo, e
            size = (hi - lo) // 2
            continue
        lo = hi
    return lo, None


def _cut_partial_row(fd: int, path: Path) -> str | None:
    """A recording whose last byte is not a newline ends in a row cut by a crash: remove it
    (its price may read as another, 121.0 for 121.07). Returns what was done, or None."""
    size = os.fstat(fd).st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read()
    if not tail or tail.endswith(b"\n"):
        return None
    cut = len(tail) - tail.rfind(b"\n") - 1
    os.ftruncate(fd, size - cut)
    return (
        f"recording file '{path}': removed a cut last row ({cut} bytes from an interrupted write)"
    )


def _last_row_ms(path: Path) -> int | None:
    """The stamp (epoch ms, the first column) of a CSV recording's last row, or None."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 4096))
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    try:
        return int(float(lines[-1].split(b",", 1)[0])) if lines else None
    except ValueError:  # the header: no row yet
        return None


class Recorder:
    """Appends ticks as CSV rows; ``write`` per tick, ``flush`` at least once a second.

    The file only ever holds whole rows. A cut last row left by a crash is removed at open
    (:attr:`repaired` says so). A flush that fails (ENOSPC, EROFS, EIO) cuts the file back to
    its last whole row and stops recording: :attr:`stopped` is the one line to show, later
    ticks are counted in :attr:`lost` and nothing raises into the feed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.daily_path = daily_path(self.path)
        # appending to a recording: its sidecar's closes are kept (checked first, like the file)
        existing = load_daily(self.daily_path)
        self._closes: dict[str, dict[str, float]] = (
            {s: dict(rows) for s, rows in existing.closes.items()} if existing else {}
        )
        # each symbol's (open, high, low) by date, where the feed gave bars
        self._ranges: dict[str, dict[str, tuple[float | None, float | None, float | None]]] = (
            {s: dict(rows) for s, rows in existing.ohlc.items()} if existing else {}
        )
        self._daily_dirty = False  # daily rows not yet in the sidecar (written at a flush)
        self.estimates_indices = existing.estimates_indices if existing else False
        self._prev: dict[str, float] = {}  # each symbol's latest previous close
        self._latest: dict[str, int] = {}  # each symbol's latest stamp of a last sale (ms)
        self._safe: dict[str, str] = {}  # symbol -> as written (no control characters)
        self.rows = 0  # rows on disk (written by a successful flush)
        self.lost = 0  # ticks not recorded because recording stopped
        self.stopped: str | None = None  # why recording stopped, one line
        self.daily_error: str | None = None  # why the daily closes could not be saved
        self.repaired: str | None = None  # a cut last row removed at open
        #: this run created the file (and the sidecar): removed at close if no tick came
        self._created = False
        self._daily_created = existing is None
        self.discarded = False  # closed without a tick: the files this run made are gone
        #: the last row's stamp of the file appended to (epoch ms): new rows must not be older
        self.ends_ms: int | None = None
        self._pending = 0  # rows buffered, not yet flushed
        self._buf = io.StringIO()
        self._ends: list[int] = []  # where each buffered row ends in _buf (a full disk keeps rows)
        self._writer = csv.writer(self._buf, lineterminator="\n")
        self._last_flush = time.monotonic()
        self._fd = self._open()

    def _open(self) -> int:
        p = self.path
        label = f"recording file '{p}'"
        needs_header = True
        try:
            if p.exists() and p.stat().st_size > 0:
                with p.open("rb") as f:
                    first = f.readline().decode("utf-8-sig", "replace").strip()
                if first.replace(" ", "") != HEADER:
                    raise InputFileError(
                        f"{label} exists with header {first[:80]!r}, not {HEADER!r}; "
                        "record to a new file (--out PATH)"
                    )
                needs_header = False
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise InputFileError(
                f"cannot write {label} ({path_reason(p, e)}); choose a writable --out path"
            ) from None
        try:
            if not needs_header:
                self.repaired = _cut_partial_row(fd, p)
                self.ends_ms = _last_row_ms(p)
            if needs_header:
                _write_all(fd, (HEADER + "\n").encode())
                self._created = True
        except OSError as e:
            os.close(fd)
            raise InputFileError(
                f"cannot write {label} ({e.strerror}); free some disk space or choose "
                "another --out path"
            ) from None
        return fd

    def check_continues(self, now_ms: int) -> None:
        """Before the first row appended to an existing recording: the feed's clock (epoch ms)
        must not be before the file's last row, or the replay would drop the new rows as out
        of sequence. Raises InputFileError (one line); afterwards never checks again."""
        ends, self.ends_ms = self.ends_ms, None
        if ends is not None and now_ms < ends:
            from feeds.timefmt import exchange_time

            fmt = "%Y-%m-%d %H:%M:%S ET"
            raise InputFileError(
                f"recording file '{self.path}' ends at {exchange_time(ends).strftime(fmt)}, "
                f"after this feed's {exchange_time(now_ms).strftime(fmt)}: appended rows would "
                "replay out of sequence; record to a new file (--out PATH)"
            )

    def _fields(self, tick: Tick) -> tuple[str, float | None]:
        """The tick's symbol as written (no control characters) and its previous close (the
        tick's, else the latest one the feed sent, e.g. in a REST Bars event)."""
        prev = tick.prev_close
        if prev is None:
            prev = self._prev.get(tick.symbol)
        else:
            self._prev[tick.symbol] = prev
        symbol = self._safe.get(tick.symbol)
        if symbol is None:
            symbol = self._safe[tick.symbol] = clean(tick.symbol, 40)
        return symbol, prev

    def write(self, tick: Tick) -> None:
        if self.stopped is not None:
            self.lost += 1
            return
        symbol, prev = self._fields(tick)
        flags = tick.sale_flags
        if not flags:  # a late print is written as barred from the last sale
            if tick.ts < self._latest.get(tick.symbol, 0):
                flags = NOT_LAST
            else:
                self._latest[tick.symbol] = tick.ts
        self._row(
            tick.ts,
            symbol,
            tick.price,
            tick.size,
            prev,
            tick.day_volume,
            flags,
            tick.trade_id,
            None,
        )

    def write_amend(self, ev: TradeCancel | TradeCorrection) -> None:
        """a cancel (``amends`` = its trade, no ``trade_id``) or a correction
        (``amends`` = the original, ``trade_id`` = the corrected trade's id) as a row."""
        if self.stopped is not None:
            self.lost += 1
            return
        symbol = self._safe.get(ev.symbol) or clean(ev.symbol, 40)
        if type(ev) is TradeCancel:
            self._row(ev.ts, symbol, ev.price, None, None, None, 0, None, ev.trade_id)
            return
        assert isinstance(ev, TradeCorrection)
        new_id = ev.trade_id if ev.new_id is None else ev.new_id
        self._row(ev.ts, symbol, ev.price, ev.size, None, None, ev.sale_flags, new_id, ev.trade_id)

    def _row(
        self,
        ts: int,
        symbol: str,
        price: float,
        size: float | None,
        prev: float | None,
        volume: float | None,
        flags: int,
        trade_id: int | str | None,
        amends: int | str | None,
    ) -> None:
        """One row (the columns of :data:`feeds.storage.replay.COLUMNS`) into the buffer; flushed at
        least once a second."""
        self._buffer((ts, symbol, price, size, prev, volume, flags, trade_id, amends))
        self._pending += 1
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_EVERY_S:
            self.flush(now)

    def _buffer(self, row: tuple[Any, ...]) -> None:
        """A row as CSV text (a float as the shortest text that reads back the same)."""
        ts, symbol, price, size, prev, volume, flags, trade_id, amends = row
        self._writer.writerow(
            (
                ts,
                symbol,
                repr(price),
                _cell(size),
                _cell(prev),
                _cell(volume),
                flags or "",
                "" if trade_id is None else trade_id,
                "" if amends is None else amends,
            )
        )
        self._ends.append(self._buf.tell())

    def note_prev_close(self, symbol: str, prev_close: float) -> None:
        """A previous close the feed sent outside a tick: later ticks of ``symbol`` carry it."""
        self._prev[symbol] = prev_close

    def set_estimates_indices(self, flag: bool) -> None:
        """Record whether the feed estimates ^RUT/^GSPC (written now if it matters)."""
        changed = flag != self.estimates_indices
        self.estimates_indices = flag
        if flag or (changed and self.daily_path.exists()):
            self._write_daily()

    def write_daily(self, daily: DailyCloses | DailyBars | SessionCloses) -> None:
        """Merge the feed's daily history into the sidecar: one symbol's closes or bars, or many
        symbols' closes of one session. Written (replaced atomically) at the next flush; a
        failure leaves the previous sidecar whole and is reported by :meth:`problem`."""
        if isinstance(daily, SessionCloses):
            for symbol, close in daily.closes.items():
                self._closes.setdefault(symbol, {})[daily.date] = close
        elif isinstance(daily, DailyBars):
            closes = self._closes.setdefault(daily.symbol, {})
            ranges = self._ranges.setdefault(daily.symbol, {})
            for d, o, h, lo, c in daily.bars:
                closes[d] = c
                if o is not None or h is not None or lo is not None:
                    ranges[d] = (o, h, lo)
        else:
            self._closes.setdefault(daily.symbol, {}).update(daily.closes)
        self._daily_dirty = True

    def _save_daily(self) -> None:
        """Write the sidecar if the feed sent daily rows since the last time."""
        if not self._daily_dirty:
            return
        self._daily_dirty = False
        try:
            self._write_daily()
        except InputFileError as e:
            self.daily_error = str(e)
        else:
            self.daily_error = None

    def _write_daily(self) -> None:
        out = io.StringIO()
        out.write(f"# r2k daily closes for {self.path.name}; replay:{self.path.name} loads them\n")
        out.write(f"# {ESTIMATES_KEY}: {'true' if self.estimates_indices else 'false'}\n")
        rows = csv.writer(out, lineterminator="\n")
        ranged = any(self._ranges.values())
        rows.writerow((*DAILY_COLUMNS, *DAILY_OPTIONAL) if ranged else DAILY_COLUMNS)
        for symbol in sorted(self._closes):
            ranges = self._ranges.get(symbol, {})
            for d, c in sorted(self._closes[symbol].items()):
                if ranged:
                    o, h, lo = ranges.get(d, (None, None, None))
                    rows.writerow((symbol, d, repr(c), _cell(o), _cell(h), _cell(lo)))
                else:
                    rows.writerow((symbol, d, repr(c)))
        try:
            write_atomic(self.daily_path, out.getvalue())
        except OSError as e:
            raise InputFileError(
                f"cannot write daily closes file '{self.daily_path}' ({e.strerror}); "
                "choose a writable --out path"
            ) from None

    def flush(self, now: float | None = None) -> None:
        """Write the buffered rows. On failure: back to the last whole row, and stop."""
        self._last_flush = time.monotonic() if now is None else now
        self._save_daily()
        if not self._pending or self.stopped is not None:
            return
        text = self._buf.getvalue()
        ends = [0, *self._ends]
        pending, self._pending = self._pending, 0
        self._buf.seek(0)
        self._buf.truncate()
        self._ends = []
        written, err = write_fitting(
            self._fd, pending, lambda lo, hi: text[ends[lo] : ends[hi]].encode("utf-8")
        )
        self.rows += written
        if err is not None:
            self._stop(pending - written, err.strerror or str(err), "row")

    def _stop(self, lost: int, reason: str, unit: str) -> None:
        """Recording stops: ``lost`` rows not written, and the one line that says so truly."""
        self.lost += lost
        if self.rows:
            kept = f"the file ends at its last whole {unit} and replays as is"
        elif self._created:
            kept = "nothing was kept: the file is removed when the recording closes"
        else:
            kept = "the file is as it was before this run"
        self.stopped = (
            f"recording to '{self.path}' stopped after {self.rows:,} rows ({reason}); {kept}"
        )

    def problem(self) -> str | None:
        """One line while the recording is incomplete (stopped, or daily closes not saved)."""
        if self.stopped is not None:
            return f"{self.stopped}; {self.lost:,} ticks not recorded"
        return self.daily_error

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
            self._discard_if_empty()

    def _discard_if_empty(self) -> None:
        """A recording this run created that got nothing, neither a tick nor a daily close (a
        refused key, no network), is removed with its sidecar and journal: a header-only file
        replays nothing, and a Parquet one would refuse the same command once the fault is
        fixed ("cannot be appended to")."""
        if self.rows or not self._created:
            return  # ticks, or a file that was there before this run
        if not self.lost and (self._pending or self._closes):
            return  # daily history the feed sent (and no tick lost): a recording worth keeping
        made = [self.path, getattr(self, "journal_path", None)]
        if self._daily_created:
            made.append(self.daily_path)
        for p in made:
            if p is not None:
                with contextlib.suppress(OSError):
                    p.unlink()
        self.discarded = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _FdSink(io.RawIOBase):
    """The Parquet writer's output: every byte through ``os.write`` (so a full disk is an
    OSError like the CSV recorder's, and tests can make one), with the position kept."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data)
        _write_all(self.fd, view)
        self.pos += len(view)
        return len(view)

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:  # the recorder closes the descriptor itself
        pass


#: Parquet columns: the replay format's (feeds.storage.replay.COLUMNS), typed
def _schema():  # -> pa.Schema (pyarrow imported lazily: only Parquet recordings pay for it)
    import pyarrow as pa

    return pa.schema(
        [
            ("ts", pa.int64()),  # epoch ms
            ("symbol", pa.string()),
            ("price", pa.float64()),
            ("size", pa.float64()),
            ("prev_close", pa.float64()),
            ("day_volume", pa.float64()),
            # last-sale flags (0-3), the trade's id, the trade a cancel/correction names
            ("sale_flags", pa.int8()),
            ("trade_id", pa.string()),
            ("amends", pa.string()),
        ]
    )


# zstd: a day of ticks in a fraction of the CSV's size; no statistics keeps each row group's
# metadata (and so each journal entry) small
PARQUET_OPTIONS = {"compression": "zstd", "write_statistics": False}


def row_group_footer(table) -> bytes:  # table: pa.Table
    """The footer of ``table`` written alone as a Parquet file, without its 4-byte header and
    trailer: with ``b"PAR1"`` in front of the row group's bytes as the recording holds them, it
    makes that row group a Parquet file of its own (the writer's encoding is deterministic)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = pa.BufferOutputStream()
    pq.write_table(table, out, store_schema=False, **PARQUET_OPTIONS)
    data = out.getvalue().to_pybytes()
    (length,) = struct.unpack("<I", data[-8:-4])
    return data[len(data) - 8 - length :]


class ParquetRecorder(Recorder):
    """Writes ticks as Parquet, one row group per flush (at least once a second); see the
    module docstring for the journal that makes a crash lose at most that second.

    On a full or read-only disk the row group being written is cut off again, recording stops
    with one line (:attr:`stopped`) and the journal stays, so the file replays as far as its
    last whole row group."""

    def __init__(self, path: str | Path) -> None:
        self.journal_path = Path(path).expanduser().with_name(Path(path).name + JOURNAL_SUFFIX)
        self._cols: tuple[list, ...] = tuple([] for _ in range(9))
        self._jfd = -1
        self._broken = False  # a row group failed: the writer's own footer would be wrong
        super().__init__(path)

    def _open(self) -> int:
        import pyarrow.parquet as pq

        p = self.path
        label = f"recording file '{p}'"
        if p.exists():
            why = (
                "it is an interrupted recording (replay:PATH reads it)"
                if self.journal_path.exists()
                else "a Parquet file cannot be appended to"
            )
            raise InputFileError(
                f"{label} exists and {why}; record to a new file (a .csv recording is appended to)"
            )
        fd = -1
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            self._jfd = os.open(
                self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644
            )
            self._sink = _FdSink(fd)
            self._pq = pq.ParquetWriter(self._sink, _schema(), **PARQUET_OPTIONS)
            self._created = True
        except OSError as e:
            for d in (fd, self._jfd):
                if d >= 0:
                    os.close(d)
            with contextlib.suppress(OSError):
                if fd >= 0:
                    p.unlink()
                self.journal_path.unlink()
            raise InputFileError(
                f"cannot write {label} ({path_reason(p, e)}); free some disk space or choose "
                "another --out path"
            ) from None
        return fd

    def _buffer(self, row: tuple[Any, ...]) -> None:
        """A row into the columns of the next row group (trade ids as text)."""
        c = self._cols
        for k in range(7):
            c[k].append(row[k])
        c[7].append(None if row[7] is None else str(row[7]))
        c[8].append(None if row[8] is None else str(row[8]))

    def flush(self, now: float | None = None) -> None:
        """Write the buffered rows as one row group and its journal entry. On failure: the
        row group is cut off again, and recording stops."""
        import pyarrow as pa

        self._last_flush = time.monotonic() if now is None else now
        self._save_daily()
        if not self._pending or self.stopped is not None:
            return
        schema = _schema()
        table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(self._cols, schema, strict=True)],
            schema=schema,
        )
        pending, self._pending = self._pending, 0
        for column in self._cols:
            column.clear()
        if self._broken:  # an earlier flush failed: the writer's state is no longer the file's
            self._write_pieces(table)
            return
        start = self._sink.pos
        jstart = os.lseek(self._jfd, 0, os.SEEK_END)
        try:
            self._pq.write_table(table)
            entry = row_group_footer(table)
            _write_all(self._jfd, _ENTRY.pack(start, self._sink.pos - start, len(entry)) + entry)
        except (OSError, pa.ArrowException):
            # Cut the row group (and its journal entry) off again, then keep what fits in
            # smaller row groups written by hand: from now on the journal is the file's index.
            self._broken = True
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # a cut row group would not read back
                os.lseek(self._fd, start, os.SEEK_SET)
                os.ftruncate(self._jfd, jstart)
            self._sink.pos = start
            self._write_pieces(table)
            return
        self.rows += pending

    def _write_pieces(self, table: Any) -> None:
        """Write ``table``'s rows as row groups of their own, each with its journal entry,
        halving a piece that does not fit (see :func:`write_fitting`); stop at the first row
        that does not fit."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        pieces: dict[tuple[int, int], bytes] = {}

        def encode(lo: int, hi: int) -> bytes:
            out = pa.BufferOutputStream()
            pq.write_table(table.slice(lo, hi - lo), out, store_schema=False, **PARQUET_OPTIONS)
            data = out.getvalue().to_pybytes()
            (flen,) = struct.unpack("<I", data[-8:-4])
            cut = len(data) - 8 - flen
            pieces[(lo, hi)] = data[cut:]  # the footer the journal keeps
            return data[4:cut]  # the row group as the recording holds it

        def journal(lo: int, hi: int, start: int, length: int) -> None:
            entry = pieces.pop((lo, hi))
            jstart = os.lseek(self._jfd, 0, os.SEEK_END)
            try:
                _write_all(self._jfd, _ENTRY.pack(start, length, len(entry)) + entry)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._jfd, jstart)
                raise

        written, err = write_fitting(self._fd, table.num_rows, encode, journal)
        self._sink.pos = os.lseek(self._fd, 0, os.SEEK_END)
        self.rows += written
        if err is not None:
            self._stop(table.num_rows - written, err.strerror or str(err), "row group")

    def close(self) -> None:
        if self._fd < 0:
            return
        self.flush()
        done = False
        if not self._broken:
            end = self._sink.pos
            try:
                self._pq.close()  # the footer: from now on any Parquet reader reads the file
                done = True
            except (OSError, Exception) as e:  # pyarrow wraps the sink's OSError
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, end)
                reason = getattr(e, "strerror", None) or str(e).splitlines()[0]
                self.stopped = self.stopped or (
                    f"recording to '{self.path}' could not be closed ({reason}); it replays "
                    "as is (replay:PATH reads its journal)"
                )
        self._pq.is_open = False  # never let a late close write a footer that lists a cut group
        for fd in (self._fd, self._jfd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = self._jfd = -1
        if done:
            with contextlib.suppress(OSError):
                self.journal_path.unlink()
        self._discard_if_empty()


class RecordingFeed(Feed):
    """Wraps a feed and records every Tick it yields; otherwise transparent to the pipeline."""

    def __init__(self, inner: Feed, recorder: Recorder) -> None:
        super().__init__(inner.spec, inner.options)
        self.inner = inner
        self.recorder = recorder
        self.estimates_indices = inner.estimates_indices

    def now_ms(self) -> int:
        return self.inner.now_ms()

    @property
    def label(self) -> str:
        return self.inner.label

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        self.estimates_indices = self.inner.estimates_indices
        try:
            self.recorder.set_estimates_indices(self.estimates_indices)
        except BaseException:
            await self.aclose()
            raise
        return self

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.recorder.close()

    def problem(self) -> str | None:
        """The recorder's trouble, if any (the pipeline shows it; see Recorder.problem)."""
        return self.recorder.problem()

    async def _flush_loop(self) -> None:
        # When the feed goes quiet, rows written just before must still reach the disk.
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.recorder.flush()

    async def __aiter__(self) -> AsyncIterator[Event]:
        flusher = asyncio.create_task(self._flush_loop())
        write = self.recorder.write
        try:
            async for ev in self.inner:
                if self.recorder.ends_ms is not None and type(ev) is Tick:
                    # appending: the run must continue the file in time (checked once)
                    self.recorder.check_continues(self.inner.now_ms())
                yield ev
                # Written once the consumer asks for the next event, i.e. after it handled this
                # one: a consumer that stops at an event (a duration limit) leaves it unrecorded,
                # so the recording replays to exactly the state the consumer reached.
                if type(ev) is Tick:
                    write(ev)
                elif isinstance(ev, Bars):
                    if ev.prev_close is not None:
                        self.recorder.note_prev_close(ev.symbol, ev.prev_close)
                elif isinstance(ev, DailyCloses | DailyBars | SessionCloses):
                    self.recorder.write_daily(ev)
                elif isinstance(ev, TradeCancel | TradeCorrection):
                    self.recorder.write_amend(ev)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            self.recorder.flush()
