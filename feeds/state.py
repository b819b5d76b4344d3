"""MarketState: the latest per-symbol facts, updated in O(1) per tick.

The hot path (``apply``) touches plain Python lists indexed by a small integer symbol id and marks
the id dirty; it never formats, never calls pandas and never touches the UI. Everything derived
(returns, spread, ranking) is computed once per frame from these lists by :mod:`feeds.analytics`.
"""

from __future__ import annotations

import numpy as np

from feeds import lastsale
from feeds.events import Bars, DailyCloses, Tick
from feeds.history import Ring
from feeds.lastsale import NEITHER, NOT_HIGH_LOW, TAPE_MASK
from feeds.symbols import HEADLINE

ANCHOR_MODES = ("prev", "open", "first", "ytd")

#: headline symbols keep one point a second for a whole extended day; constituents one a minute.
HEADLINE_BUCKET_MS, HEADLINE_CAPACITY = 1_000, 16 * 3_600
CONSTITUENT_BUCKET_MS, CONSTITUENT_CAPACITY = 60_000, 24 * 60


class MarketState:
    """Per-symbol last, anchors, session high/low, tick time and count, and chart history.

    The per-tick path does not even mark symbols dirty: a symbol changed since the last frame
    exactly when its tick count did, which the frame loop finds with one vectorised compare.
    """

    __slots__ = (
        "_counts_seen",
        "_session_until",
        "_tape",
        "count",
        "daily",
        "day_volume",
        "first",
        "high",
        "history",
        "ids",
        "last",
        "low",
        "marked",
        "next_bucket",
        "open",
        "prev_close",
        "session_open_ms",
        "symbols",
        "ts",
        "ytd_base",
    )

    def __init__(self, symbols: list[str] | tuple[str, ...] = ()) -> None:
        self.ids: dict[str, int] = {}
        self.symbols: list[str] = []
        self.last: list[float | None] = []
        self.prev_close: list[float | None] = []
        self.open: list[float | None] = []
        self.first: list[float | None] = []
        self.high: list[float | None] = []
        self.low: list[float | None] = []
        self.ts: list[int] = []
        self.count: list[int] = []
        self.day_volume: list[float | None] = []
        self.ytd_base: list[float | None] = []
        self.history: list[Ring] = []
        self.daily: dict[str, list[tuple[str, float]]] = {}
        self.next_bucket: list[int] = []  # ts at which each symbol's next chart bucket opens
        self.marked: set[int] = set()  # changed off the tick path (backfill, daily closes)
        self._counts_seen = np.zeros(0, dtype=np.int64)
        #: regular-session open of the data's current day (ms); ticks at/after it set ``open``.
        #: Learnt from the ticks' own time (a replay's day, not today's), once per day.
        self.session_open_ms = 0
        self._session_until = 0  # data time (ms) up to which session_open_ms holds; -1: pinned
        #: the recent trades a cancel or correction may name (feeds.lastsale)
        self._tape = lastsale.Tape()
        for s in symbols:
            self.id_of(s)

    def __len__(self) -> int:
        return len(self.symbols)

    def id_of(self, symbol: str) -> int:
        """The id of ``symbol``, registering it on first sight."""
        i = self.ids.get(symbol)
        if i is not None:
            return i
        i = len(self.symbols)
        self.ids[symbol] = i
        self.symbols.append(symbol)
        for column in (
            self.last,
            self.prev_close,
            self.open,
            self.first,
            self.high,
            self.low,
            self.day_volume,
            self.ytd_base,
        ):
            column.append(None)
        self.ts.append(0)
        self.count.append(0)
        self.next_bucket.append(0)
        if symbol in HEADLINE:
            self.history.append(Ring(HEADLINE_BUCKET_MS, HEADLINE_CAPACITY))
        else:
            self.history.append(Ring(CONSTITUENT_BUCKET_MS, CONSTITUENT_CAPACITY))
        return i

    def apply(self, tick: Tick) -> int:
        """Apply one tick; returns the symbol id if it set the last sale, else ``~id`` (< 0).

        The per-tick hot path: keep it lean. A trade its conditions keep from the last sale
        (``tick.sale_flags``) or stamped before the current last goes the way of
        :meth:`_apply_irregular`.
        """
        try:
            i = self.ids[tick.symbol]  # a subscript, not .get(): no method call
        except KeyError:
            i = self.id_of(tick.symbol)
        p = tick.price
        ts = tick.ts
        if tick.sale_flags or ts < self.ts[i]:
            return self._apply_irregular(i, tick)
        last = self.last
        before = last[i]
        last[i] = p
        tid = tick.trade_id
        if tid is not None:  # a trade a cancel may name later: remember what it moved
            tape = self._tape
            k = tape.pos
            tape.entries[k] = (tid, i, p, ts, 0, before, self.ts[i], self.high[i], self.low[i])
            tape.pos = (k + 1) & TAPE_MASK
        # low <= last <= high always holds, so a trade at the last price (a third of them) moves
        # neither; NaN compares false either way, as before
        if p != before:
            if before is None:
                self._first_sale(i, p)
            elif p > self.high[i]:  # type: ignore[operator]
                self.high[i] = p
            elif p < self.low[i]:  # type: ignore[operator]
                self.low[i] = p
        if ts >= self.next_bucket[i]:
            self._roll(i, ts, p, before)
        self.ts[i] = ts
        self.count[i] += 1
        if tick.prev_close is not None:
            self.prev_close[i] = tick.prev_close
        if tick.day_volume is not None:
            self.day_volume[i] = tick.day_volume
        return i

    def _first_sale(self, i: int, p: float) -> None:
        """The symbol's first last sale; the high/low may already hold prints that could not
        be the last sale."""
        self.first[i] = p
        hi, lo = self.high[i], self.low[i]
        self.high[i] = p if hi is None or p > hi else hi
        self.low[i] = p if lo is None or p < lo else lo

    # --- last-sale eligibility (feeds.lastsale) -----------------------------------------------
    def _apply_irregular(self, i: int, tick: Tick) -> int:
        """A trade that is not a plain last sale: its conditions keep it from the last sale or
        the high/low (``tick.sale_flags``), or it is stamped before the current last sale (a
        late print updates the high/low only, as the tape's sold-out-of-sequence ``Z`` does).
        It still counts as a tick. Returns ``i`` if it set the last sale, else ``~i``.

        A trade barred from the high/low never sets the last sale here either: the tapes
        publish no condition that allows one and not the other, and ``low <= last <= high``
        must hold (the per-tick path relies on it; a last outside the range reads as an error).
        """
        # still a tick (counted, its previous close and day volume kept: apply()'s tail)
        self.count[i] += 1
        if tick.prev_close is not None:
            self.prev_close[i] = tick.prev_close
        if tick.day_volume is not None:
            self.day_volume[i] = tick.day_volume
        p, ts, flags = tick.price, tick.ts, tick.sale_flags
        if flags == NEITHER:  # most barred trades (odd lots, Form T): nothing more
            return ~i
        before, before_ts = self.last[i], self.ts[i]
        hi, lo = self.high[i], self.low[i]
        if not flags & NOT_HIGH_LOW:
            if hi is None or p > hi:
                self.high[i] = p
            if lo is None or p < lo:
                self.low[i] = p
        sets_last = not flags and ts >= before_ts
        if sets_last:
            self.last[i] = p
            if before is None:
                self.first[i] = p
            if ts >= self.next_bucket[i]:
                self._roll(i, ts, p, before)
            self.ts[i] = ts
        tid = tick.trade_id
        if tid is not None and not flags & NOT_HIGH_LOW:  # it may have moved something
            tape = self._tape
            k = tape.pos
            tape.entries[k] = (tid, i, p, ts, flags, before, before_ts, hi, lo)
            tape.pos = (k + 1) & TAPE_MASK
        return i if sets_last else ~i

    def cancel(self, symbol: str, trade_id: int | str) -> bool:
        """Take a cancelled (or errored) trade out: ``last`` goes back to the latest trade still
        standing and the high/low forget its price. True if ``last`` changed.

        A trade no longer on the tape (the last :data:`feeds.lastsale.TAPE_SIZE` trades) or
        never seen changes nothing: it is long since not the last sale.
        """
        found = self._find_trade(symbol, trade_id)
        if found is None:
            return False
        i, k, removed = found
        self._tape.remove(k)
        return self._revise(i, k, removed)

    def _find_trade(
        self, symbol: str, trade_id: int | str
    ) -> tuple[int, int, lastsale.Entry] | None:
        """(symbol id, tape slot, entry) of a trade still on the tape, or None."""
        i = self.ids.get(symbol)
        k = -1 if i is None else self._tape.find(i, trade_id)
        entry = None if k < 0 else self._tape.entries[k]
        return None if i is None or entry is None else (i, k, entry)

    def correct(
        self,
        symbol: str,
        trade_id: int | str,
        price: float,
        *,
        sale_flags: int = 0,
        new_id: int | str | None = None,
    ) -> bool:
        """Replace a trade's price and conditions (a correction keeps the original's time):
        ``last``, high and low become what they would have been. True if ``last`` changed.

        A trade not among the recent ones changes nothing (see :meth:`cancel`).
        """
        found = self._find_trade(symbol, trade_id)
        if found is None:
            return False
        i, k, old = found
        if sale_flags & NOT_HIGH_LOW:
            self._tape.remove(k)  # corrected into a trade that sets nothing
        else:  # the correction keeps the original's time
            tid = trade_id if new_id is None else new_id
            self._tape.entries[k] = (tid, i, price, old[3], sale_flags, *old[5:])
        return self._revise(i, k, old)

    def _revise(self, i: int, k: int, old: lastsale.Entry) -> bool:
        """Replay symbol ``i``'s trades from slot ``k`` on from the values before ``old`` (the
        trade that was at ``k``); set last, its time, high, low and the chart points of the
        buckets touched."""
        rev = lastsale.replay(self._tape, self._tape.later(k), i, old)
        changed = rev.last != self.last[i]
        self.last[i], self.high[i], self.low[i] = rev.last, rev.high, rev.low
        self.ts[i] = rev.ts
        ring = self.history[i]
        bucket = ring.bucket_ms
        for b in {old[3] // bucket} | {ts // bucket for ts, _ in rev.sales}:
            close = lastsale.close_at(rev.sales, (b + 1) * bucket)
            if close is not None:
                ring.revise(b, close)
        self.marked.add(i)
        return changed

    def forget_trades(self) -> None:
        """Drop the tape of recent trades: at a new session, a cancel of yesterday's trade
        must not bring back yesterday's high and low (the values each trade replaced)."""
        self._tape = lastsale.Tape()

    def last_trade_id(self, symbol: str) -> int | str | None:
        """The id of the trade that set ``symbol``'s last sale, when it is a recent one."""
        i = self.ids.get(symbol)
        return None if i is None else self._tape.last_trade_id(i, self.last[i], self.ts[i])

    def _roll(self, i: int, ts: int, p: float, before: float | None) -> None:
        """The tick opened a new chart bucket (at most once a second per symbol)."""
        ring = self.history[i]
        ring.roll(ts, p, before)
        self.next_bucket[i] = (ts // ring.bucket_ms + 1) * ring.bucket_ms
        if ts >= self._session_until >= 0:
            self._learn_session(ts)
        # The open can only be first seen in a new bucket: session opens fall on minute marks.
        if self.open[i] is None and self.session_open_ms and ts >= self.session_open_ms:
            self.open[i] = p

    def _learn_session(self, ts: int) -> None:
        """The regular open of the ET day of ``ts`` (0 on a day the market is shut)."""
        from feeds import calendar

        bounds = calendar.session_open_close(ts)
        self.session_open_ms = bounds[0] if bounds else 0
        self._session_until = calendar.day_end(ts)

    def pin_session_open(self, open_ms: int) -> None:
        """Use this session open instead of the calendar's (tests, synthetic data)."""
        self.session_open_ms = open_ms
        self._session_until = -1

    @property
    def total_ticks(self) -> int:
        return sum(self.count)

    @property
    def last_tick_ts(self) -> int:
        """Data time of the newest tick (ms), 0 before any."""
        return max(self.ts, default=0)

    def chart(self, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, prices) of ``symbol``'s history, the newest point at the live price."""
        i = self.ids.get(symbol)
        if i is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return self.history[i].arrays(self.last[i])

    def apply_bars(self, bars: Bars) -> None:
        """Backfill chart history; sets ``last`` only when the backfill is newer than any tick."""
        i = self.id_of(bars.symbol)
        ring = self.history[i]
        for ts, price in bars.points:
            ring.add(ts, price)
            if self.open[i] is None and ts >= self.session_open_ms and self.session_open_ms:
                self.open[i] = price
            hi, lo = self.high[i], self.low[i]
            self.high[i] = price if hi is None or price > hi else hi
            self.low[i] = price if lo is None or price < lo else lo
        if bars.prev_close is not None:
            self.prev_close[i] = bars.prev_close
        if bars.points:
            ts, price = bars.points[-1]
            following = (ts // ring.bucket_ms + 1) * ring.bucket_ms
            self.next_bucket[i] = max(self.next_bucket[i], following)
            if ts >= self.ts[i]:
                if self.first[i] is None:
                    self.first[i] = bars.points[0][1]
                self.last[i] = price
                self.ts[i] = ts
                self.marked.add(i)

    def apply_daily(self, daily: DailyCloses) -> None:
        """Keep completed sessions' closes; the last close of a previous year is the YTD base."""
        i = self.id_of(daily.symbol)
        closes = sorted(daily.closes)
        self.daily[daily.symbol] = closes
        if not closes:
            return
        if self.prev_close[i] is None:
            self.prev_close[i] = closes[-1][1]
        year = closes[-1][0][:4]
        before = [c for d, c in closes if d[:4] < year]
        if before:
            self.ytd_base[i] = before[-1]
        self.marked.add(i)

    def take_dirty(self) -> set[int]:
        """The ids changed since the last call (the frame loop's conflation point)."""
        counts = np.array(self.count, dtype=np.int64)
        seen = self._counts_seen
        if len(seen) < len(counts):
            seen = np.concatenate([seen, np.zeros(len(counts) - len(seen), dtype=np.int64)])
        changed = set(np.flatnonzero(counts != seen).tolist())
        self._counts_seen = counts
        if self.marked:
            changed |= self.marked
            self.marked = set()
        return changed

    def anchor_column(self, mode: str) -> list[float | None]:
        if mode == "prev":
            return self.prev_close
        if mode == "open":
            return self.open
        if mode == "first":
            return self.first
        if mode == "ytd":
            return self.ytd_base
        raise ValueError(f"unknown anchor {mode!r}; use one of {', '.join(ANCHOR_MODES)}")

    def anchor(self, symbol: str, mode: str) -> float | None:
        i = self.ids.get(symbol)
        return None if i is None else self.anchor_column(mode)[i]

    def price(self, symbol: str) -> float | None:
        i = self.ids.get(symbol)
        return None if i is None else self.last[i]

    def arrays(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """(last, anchor) as float arrays over all ids, NaN where unknown: one copy per frame."""
        last = np.array(self.last, dtype=np.float64)
        anchor = np.array(self.anchor_column(mode), dtype=np.float64)
        return last, anchor
