"""Daily history for the scoreboard, shared by every live provider (issue 11).

* **Index bars**: daily open/high/low/close of ^RUT, ^GSPC and MAGS as far back as the
  provider gives (from :data:`HISTORY_START`, ^RUT's first session at Yahoo, on: nothing the
  scoreboard compares goes further back), completed sessions only.
* **Session closes**: every member's close of the previous year's last session (the YTD
  anchor) and, for members whose holdings file publishes no price, of the holdings' as-of date
  (weights at the anchor), from the provider's batch endpoints: many symbols per request, or
  all symbols of a date, never one request per symbol in a row.

Both are kept on disk (the user cache directory, one folder per provider and base URL) and
refreshed once a day: an entry fetched after the latest session's close (plus
:data:`SETTLE_MS`, while closing prints settle) is fresh; a stale one is emitted at once (the
scoreboard fills before the network answers) and then brought up to date, index bars by
fetching only the sessions since the cached ones. Everything runs as the feed's background
task, with disk and JSON work in worker threads, so the first frame never waits for it;
progress goes out as :class:`~feeds.events.HistoryProgress` events and a status note.

A provider supplies a :class:`HistorySource`; :class:`HistoryLoader` does the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from feeds.events import DailyBar, DailyBars, Event, HistoryProgress, SessionCloses
from feeds.symbols import MAGS, RUT, SPX

if TYPE_CHECKING:
    from feeds.feed import Feed
    from feeds.reference.holdings import Holdings
    from feeds.sources.providers.http import RestClient
    from feeds.sources.providers.yahoo_rest import YahooHistory

INDICES = (RUT, SPX, MAGS)
HISTORY_START = "1987-09-10"  # ^RUT's first daily bar at Yahoo [U: Yahoo's depth, not a spec]
SETTLE_MS = 3_600_000  # an hour after a close its daily bar is final at every provider [U]
OVERLAP_DAYS = 10  # an update re-fetches this many days before the latest cached session
ANCHORS = "YTD anchors"
ASOF = "as-of closes"
DAILY = "daily history"

T = TypeVar("T")
Emit = Callable[[list[Event]], None]
Note = Callable[[str], None]


class HistorySource(Protocol):
    """One provider's history endpoints. Methods raise on failure (any exception: the loader
    words it as a note and goes on)."""

    #: symbols per :meth:`session_closes` request (all of them: the endpoint takes a date)
    batch_size: int

    async def index_bars(self, symbol: str, since: dt.date | None) -> list[DailyBar]:
        """Daily bars of ``symbol`` from ``since`` (None: as far back as there are), oldest
        first; may include sessions that are not complete (the loader drops them)."""
        ...

    async def session_closes(self, symbols: Sequence[str], day: dt.date) -> dict[str, float]:
        """Closes of ``day`` for ``symbols`` (canonical), in one request (a batch); symbols
        without a close that day are left out."""
        ...


# --- what is needed -------------------------------------------------------------------------


@dataclass(slots=True)
class Needs:
    """Index symbols to keep daily bars of, and the members' closes needed, by session."""

    indices: tuple[str, ...] = INDICES
    #: ISO date -> (what it is for: ANCHORS or ASOF, the symbols)
    sessions: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


def needs_for(holdings: Holdings | None, symbols: Iterable[str], now_ms: int) -> Needs:
    """The YTD anchor (the previous year's last session) of every member the feed streams, and
    the as-of date's close of the members whose file publishes no price on that date."""
    from feeds.market import calendar

    needs = Needs()
    if holdings is None:
        return needs
    streamed = set(symbols)
    members = [c.symbol for c in holdings.constituents if c.symbol in streamed]
    year = calendar.et_date(now_ms).year
    anchor = calendar.last_session_before(dt.date(year, 1, 1)).isoformat()
    if members:
        needs.sessions[anchor] = (ANCHORS, members)
    unpriced = [c.symbol for c in holdings.constituents if c.price is None and c.symbol in streamed]
    asof = holdings.as_of
    if unpriced and calendar.sessions_between(asof, asof) and asof.isoformat() != anchor:
        needs.sessions[asof.isoformat()] = (ASOF, unpriced)
    return needs


def last_complete(now_ms: int) -> dt.date:
    """The latest session whose close is at or before ``now_ms``."""
    from feeds.market import calendar

    day = calendar.et_date(now_ms)
    oc = calendar.session_open_close(now_ms)
    if oc is not None and now_ms >= oc[1]:
        return day
    return calendar.last_session_before(day)


def fresh_since(now_ms: int) -> int:
    """Epoch ms from which a fetch is fresh: the latest close that has settled (SETTLE_MS)."""
    from feeds.market import calendar

    day = last_complete(now_ms - SETTLE_MS)
    noon = int(dt.datetime.combine(day, dt.time(12), calendar.ET).timestamp() * 1000)
    oc = calendar.session_open_close(noon)
    return (oc[1] if oc else noon) + SETTLE_MS


# --- the disk cache -------------------------------------------------------------------------


class HistoryCache:
    """Daily bars per symbol and closes per session, as small CSV files with the time they
    were fetched (``# fetched_ms: N``). Unreadable files count as absent (fetched again)."""

    def __init__(self, provider: str, base_url: str, root: Path | None = None) -> None:
        if root is None:
            import platformdirs

            root = platformdirs.user_cache_path("r2k", appauthor=False) / "history"
        tag = hashlib.sha1(base_url.encode()).hexdigest()[:10]
        self.dir = root / f"{provider}-{tag}"

    def _path(self, kind: str, key: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
        return self.dir / f"{kind}-{safe}.csv"

    def load_bars(self, symbol: str) -> tuple[int, list[DailyBar]] | None:
        rows = self._read(self._path("bars", symbol))
        if rows is None:
            return None
        fetched, body = rows
        try:
            bars = [(d, _opt(o), _opt(h), _opt(lo), float(c)) for d, o, h, lo, c in body]
        except ValueError:
            return None
        return fetched, bars

    def save_bars(self, symbol: str, bars: Sequence[DailyBar], fetched_ms: int) -> None:
        self._write(self._path("bars", symbol), fetched_ms, bars)

    def load_closes(self, day: str) -> tuple[int, dict[str, float]] | None:
        rows = self._read(self._path("closes", day))
        if rows is None:
            return None
        fetched, body = rows
        try:
            return fetched, {s: float(c) for s, c in body}
        except ValueError:
            return None

    def save_closes(self, day: str, closes: dict[str, float], fetched_ms: int) -> None:
        self._write(self._path("closes", day), fetched_ms, sorted(closes.items()))

    @staticmethod
    def _read(path: Path) -> tuple[int, list[list[str]]] | None:
        try:
            text = path.read_text(encoding="utf-8")
            head, _, body = text.partition("\n")
            fetched = int(head.removeprefix("# fetched_ms:").strip())
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        return fetched, list(csv.reader(io.StringIO(body)))

    @staticmethod
    def _write(path: Path, fetched_ms: int, rows: Iterable[Sequence[object]]) -> None:
        from feeds.atomic import write_atomic

        out = io.StringIO()
        out.write(f"# fetched_ms: {fetched_ms}\n")
        csv.writer(out, lineterminator="\n").writerows(
            ["" if x is None else x for x in row] for row in rows
        )
        with contextlib.suppress(OSError):  # a read-only cache costs a fetch, nothing more
            write_atomic(path, out.getvalue())


def _opt(text: str) -> float | None:
    return float(text) if text else None


def merge_bars(old: Sequence[DailyBar], new: Sequence[DailyBar]) -> list[DailyBar]:
    """``old`` and ``new`` by date, ``new`` winning, oldest first."""
    by_day = {b[0]: b for b in old}
    by_day.update({b[0]: b for b in new})
    return [by_day[d] for d in sorted(by_day)]


# --- the loader -----------------------------------------------------------------------------


class HistoryLoader:
    """Runs the history download for one feed: the cache first, then what is stale."""

    def __init__(
        self,
        source: HistorySource,
        cache: HistoryCache | None,
        emit: Emit,
        note: Note,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        cutoff: Callable[[str], str | None] | None = None,
    ) -> None:
        """``cutoff(symbol)``: the last session (ISO) of ``symbol`` to emit, if earlier than the
        last completed one (an ETF-only feed keeps each index to its ETF's previous-close
        session, so ``index close / ETF close`` divides closes of one session)."""
        self.source = source
        self.cache = cache
        self.emit = emit
        self.note = note
        self.now_ms = now_ms
        self.cutoff = cutoff
        self.failures: list[str] = []
        self.requests = 0

    async def run(self, needs: Needs) -> None:
        """Index bars, then the members' closes; a failure is kept for the note, never raised."""
        now = self.now_ms()
        until = last_complete(now).isoformat()
        due = fresh_since(now)
        stale: list[tuple[str, list[DailyBar] | None]] = []
        for symbol in needs.indices:
            cached = await self._load(lambda s=symbol: self.cache.load_bars(s))  # type: ignore[union-attr]
            if cached is not None:
                self.emit([DailyBars(symbol, _complete(cached[1], self._until(symbol, until)))])
            if cached is None or cached[0] < due:
                stale.append((symbol, cached[1] if cached else None))
        for n, (symbol, old) in enumerate(stale):
            self._progress(DAILY, n, len(stale))
            await self._update_bars(symbol, old, until, now)
        if stale:
            self._progress(DAILY, len(stale), len(stale))
        for day, (what, symbols) in needs.sessions.items():
            await self._session(what, day, symbols, due, now)
        if self.failures:
            more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
            self.note(f"no history for {self.failures[0]}{more}")

    async def _load(self, read: Callable[[], T]) -> T | None:
        if self.cache is None:
            return None
        return await asyncio.to_thread(read)

    async def _update_bars(
        self, symbol: str, old: list[DailyBar] | None, until: str, now: int
    ) -> None:
        since = None
        if old:
            last = dt.date.fromisoformat(old[-1][0])
            since = last - dt.timedelta(days=OVERLAP_DAYS)
        try:
            self.requests += 1
            new = await self.source.index_bars(symbol, since)
        except Exception as exc:  # a provider's trouble is a note, never the stream's end
            self.failures.append(f"{symbol}: {_why(exc)}")
            return
        bars = _complete(merge_bars(old or (), [b for b in new if b[0] >= HISTORY_START]), until)
        if not bars:
            return
        self.emit([DailyBars(symbol, _complete(bars, self._until(symbol, until)))])
        if self.cache is not None:
            await asyncio.to_thread(self.cache.save_bars, symbol, bars, now)

    async def _session(self, what: str, day: str, symbols: list[str], due: int, now: int) -> None:
        cached = await self._load(lambda: self.cache.load_closes(day))  # type: ignore[union-attr]
        if cached is not None:
            self.emit([SessionCloses(day, cached[1])])
            if cached[0] >= due:
                return
        size = max(1, self.source.batch_size)
        batches = [symbols[i : i + size] for i in range(0, len(symbols), size)]
        closes: dict[str, float] = {}
        failed = 0
        for n, batch in enumerate(batches):
            self._progress(what, n, len(batches))
            try:
                self.requests += 1
                got = await self.source.session_closes(batch, dt.date.fromisoformat(day))
            except Exception as exc:
                failed += 1
                if failed == 1:
                    self.failures.append(f"{what} of {day}: {_why(exc)}")
                continue
            got = {s: c for s, c in got.items() if c > 0}
            if got:
                closes.update(got)
                self.emit([SessionCloses(day, got)])  # the board fills in as batches arrive
        detail = f"{failed} of {len(batches)} requests failed" if failed else ""
        self._progress(what, len(batches), len(batches), detail)
        if closes and self.cache is not None and not failed:
            await asyncio.to_thread(self.cache.save_closes, day, closes, now)

    def _until(self, symbol: str, until: str) -> str:
        cut = self.cutoff(symbol) if self.cutoff is not None else None
        return min(until, cut) if cut else until

    def _progress(self, what: str, done: int, total: int, detail: str = "") -> None:
        self.emit([HistoryProgress(what, done, total, detail)])
        self.note(f"{what} {done}/{total}" if done < total else "")


def _complete(bars: Sequence[DailyBar], until: str) -> list[DailyBar]:
    """The bars of completed sessions only (a running session's bar is no close)."""
    return [b for b in bars if b[0] <= until]


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return text or type(exc).__name__


async def run_for_feed(
    feed: Feed,
    source: HistorySource,
    provider: str,
    base_url: str,
    note: Note,
    emit: Emit,
    cutoff: Callable[[str], str | None] | None = None,
) -> None:
    """Run the history of ``feed`` (its holdings and symbols, on its clock) from ``source``,
    cached under ``provider`` and ``base_url``: what each live provider's warm-up spawns."""
    loader = HistoryLoader(
        source, HistoryCache(provider, base_url), emit, note, feed.now_ms, cutoff
    )
    o = feed.options
    await loader.run(needs_for(o.holdings, o.symbols, feed.now_ms()))


def session_cutoff(
    etf_dates: dict[str, dt.date | None], ref: dt.date | None
) -> Callable[[str], str | None]:
    """For an ETF-only feed: each index's last session is its ETF's previous-close session
    (:func:`feeds.sources.providers.closes.cutoffs_for`), read when the bars are emitted."""
    from feeds.sources.providers.closes import cutoffs_for

    def cutoff(symbol: str) -> str | None:
        day = cutoffs_for(etf_dates, ref).get(symbol)
        return day.isoformat() if day is not None else None

    return cutoff


async def run_for_etf_feed(
    feed: Feed,
    provider: str,
    rest: RestClient,
    make_source: Callable[[YahooHistory], HistorySource],
    note: Note,
    emit: Emit,
    etf_dates: dict[str, dt.date | None],
    ref: dt.date | None,
    yahoo_url: str,
) -> None:
    """:func:`run_for_feed` for an ETF-only feed (Alpaca, Finnhub): its source, built on Yahoo's
    keyless chart for the indices (``yahoo_url``), each index kept to its ETF's previous-close
    session; ``rest`` (the provider's client) and Yahoo's are closed at the end."""
    from feeds.sources.providers.yahoo_rest import YahooHistory, YahooRest

    yahoo = YahooRest(yahoo_url, min_interval=0.25, retries=1)
    try:
        source = make_source(YahooHistory(yahoo))
        base = str(rest.base_url)
        await run_for_feed(feed, source, provider, base, note, emit, session_cutoff(etf_dates, ref))
    finally:
        await rest.aclose()
        await yahoo.aclose()
