"""Record ticks to a CSV file in the replay format, so ``replay:PATH`` plays them back.

The file is only ever appended to (a recording is evidence; truncating it by re-running a
command would lose a day). Rows are buffered and flushed at least once a second, so a crash
loses at most about a second of ticks.

What a replay needs besides the ticks goes in too: each tick carries its symbol's previous close
(from the tick, or the latest one the feed sent in a ``Bars`` event), and the feed's daily closes
and its ``estimates_indices`` flag go to the sidecar ``PATH.daily.csv`` (see :mod:`feeds.replay`),
merged with what is there and replaced atomically each time the feed sends daily closes. A trade's
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
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Self

from feeds.atomic import write_atomic
from feeds.errors import InputFileError
from feeds.events import Bars, DailyCloses, Event, Tick, TradeCancel, TradeCorrection
from feeds.feed import Feed
from feeds.lastsale import NOT_LAST
from feeds.replay import COLUMNS, DAILY_COLUMNS, ESTIMATES_KEY, daily_path, load_daily
from feeds.text import clean

HEADER = ",".join(COLUMNS)
FLUSH_EVERY_S = 1.0


def _cell(x: float | None) -> str:
    if x is None:
        return ""
    return repr(x)  # shortest text that reads back as the same float


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
        self.estimates_indices = existing.estimates_indices if existing else False
        self._prev: dict[str, float] = {}  # each symbol's latest previous close
        self._latest: dict[str, int] = {}  # each symbol's latest stamp of a last sale (ms)
        self._safe: dict[str, str] = {}  # symbol -> as written (no control characters)
        self.rows = 0  # rows on disk (written by a successful flush)
        self.lost = 0  # ticks not recorded because recording stopped
        self.stopped: str | None = None  # why recording stopped, one line
        self.daily_error: str | None = None  # why the daily closes could not be saved
        self.repaired: str | None = None  # a cut last row removed at open
        self._pending = 0  # rows buffered, not yet flushed
        self._buf = io.StringIO()
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
                f"cannot write {label} ({e.strerror}); choose a writable --out path"
            ) from None
        try:
            if not needs_header:
                self.repaired = _cut_partial_row(fd, p)
            if needs_header:
                _write_all(fd, (HEADER + "\n").encode())
        except OSError as e:
            os.close(fd)
            raise InputFileError(
                f"cannot write {label} ({e.strerror}); free some disk space or choose "
                "another --out path"
            ) from None
        return fd

    def write(self, tick: Tick) -> None:
        if self.stopped is not None:
            self.lost += 1
            return
        prev = tick.prev_close
        if prev is None:
            prev = self._prev.get(tick.symbol)  # sent earlier, e.g. in a REST Bars event
        else:
            self._prev[tick.symbol] = prev
        self._row(
            (
                tick.ts,
                self._symbol(tick.symbol),
                repr(tick.price),
                _cell(tick.size),
                _cell(prev),
                _cell(tick.day_volume),
                self._flags(tick) or "",
                "" if tick.trade_id is None else tick.trade_id,
                "",
            )
        )

    def _symbol(self, symbol: str) -> str:
        safe = self._safe.get(symbol)
        if safe is None:
            safe = self._safe[symbol] = clean(symbol, 40)
        return safe

    def _flags(self, tick: Tick) -> int:
        """The tick's sale flags, with NOT_LAST added to a late print (see the module doc)."""
        flags = tick.sale_flags
        if not flags:
            latest = self._latest.get(tick.symbol, 0)
            if tick.ts < latest:
                return NOT_LAST
            self._latest[tick.symbol] = tick.ts
        return flags

    def write_amend(self, ev: TradeCancel | TradeCorrection) -> None:
        """A cancel (``amends`` = its trade, no ``trade_id``) or a correction (``amends`` = the
        original, ``trade_id`` = the corrected trade's id) as a row of its own."""
        if self.stopped is not None:
            self.lost += 1
            return
        symbol = self._symbol(ev.symbol)
        if type(ev) is TradeCancel:
            self._row((ev.ts, symbol, repr(ev.price), "", "", "", "", "", ev.trade_id))
            return
        assert isinstance(ev, TradeCorrection)
        new_id = ev.trade_id if ev.new_id is None else ev.new_id
        flags = ev.sale_flags or ""
        self._row(
            (ev.ts, symbol, repr(ev.price), _cell(ev.size), "", "", flags, new_id, ev.trade_id)
        )

    def _row(self, row: tuple[object, ...]) -> None:
        """One row into the buffer; flushed at least once a second."""
        self._writer.writerow(row)
        self._pending += 1
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_EVERY_S:
            self.flush(now)

    def note_prev_close(self, symbol: str, prev_close: float) -> None:
        """A previous close the feed sent outside a tick: later ticks of ``symbol`` carry it."""
        self._prev[symbol] = prev_close

    def set_estimates_indices(self, flag: bool) -> None:
        """Record whether the feed estimates ^RUT/^GSPC (written now if it matters)."""
        changed = flag != self.estimates_indices
        self.estimates_indices = flag
        if flag or (changed and self.daily_path.exists()):
            self._write_daily()

    def write_daily(self, daily: DailyCloses) -> None:
        """Merge one symbol's daily closes into the sidecar (replaced atomically).

        A failure leaves the previous sidecar whole and is reported by :meth:`problem`.
        """
        if not daily.closes:
            return
        self._closes.setdefault(daily.symbol, {}).update(daily.closes)
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
        rows.writerow(DAILY_COLUMNS)
        for symbol in sorted(self._closes):
            rows.writerows((symbol, d, repr(c)) for d, c in sorted(self._closes[symbol].items()))
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
        if not self._pending or self.stopped is not None:
            return
        data = self._buf.getvalue().encode("utf-8")
        pending, self._pending = self._pending, 0
        self._buf.seek(0)
        self._buf.truncate()
        fd = self._fd
        try:
            start = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)  # a cut row would replay a wrong price
                raise
        except OSError as e:
            self.lost += pending
            self.stopped = (
                f"recording to '{self.path}' stopped after {self.rows:,} rows "
                f"({e.strerror or e}); the file ends at its last whole row and replays as is"
            )
            return
        self.rows += pending

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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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
                yield ev
                # Written once the consumer asks for the next event, i.e. after it handled this
                # one: a consumer that stops at an event (a duration limit) leaves it unrecorded,
                # so the recording replays to exactly the state the consumer reached.
                if type(ev) is Tick:
                    write(ev)
                elif isinstance(ev, Bars):
                    if ev.prev_close is not None:
                        self.recorder.note_prev_close(ev.symbol, ev.prev_close)
                elif isinstance(ev, DailyCloses):
                    self.recorder.write_daily(ev)
                elif isinstance(ev, TradeCancel | TradeCorrection):
                    self.recorder.write_amend(ev)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            self.recorder.flush()
