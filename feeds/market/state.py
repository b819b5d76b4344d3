"""MarketState: the latest per-symbol facts, updated in O(1) per tick.

The hot path (``apply``) touches plain Python lists indexed by a small integer symbol id and marks
the id dirty; it never formats, never calls pandas and never touches the UI. Everything derived
(returns, spread, ranking) is computed once per frame from these lists by
:mod:`feeds.market.analytics`.

Per-session values roll over at each new NYSE session on the data's own clock (a replay's days,
a monitor left running overnight): open, high, low, previous close, tick count, day volume and
the intraday chart. A session's day runs from midnight ET of a trading date until the next
trading date begins, so pre-market prints belong to the coming session and post-market prints
(and a weekend) to the last one. The per-tick cost is one integer compare against the next
boundary (the session's close, then the end of the day); what happens at a boundary is O(n) once.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from feeds.events import Bars, DailyBars, DailyCloses, SessionCloses, Tick
from feeds.market import lastsale
from feeds.market.history import Ring
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, TAPE_MASK
from feeds.symbols import HEADLINE

if TYPE_CHECKING:
    from feeds.market.calendar import Day

ANCHOR_MODES = ("prev", "open", "first", "ytd")

#: headline symbols keep one point a second for a whole extended day (04:00-20:00 ET, 16 h);
#: constituents one a minute for the same 16 h. The constituents' rings are most of the
#: process's data (2,000 names x 960 points x 16 bytes = 31 MB, allocated at each name's first
#: tick; 24 h of points was 46 MB: issue 12 §6, bench/screen.py session --trace).
EXTENDED_DAY_S = 16 * 3_600
HEADLINE_BUCKET_MS, HEADLINE_CAPACITY = 1_000, EXTENDED_DAY_S
CONSTITUENT_BUCKET_MS, CONSTITUENT_CAPACITY = 60_000, EXTENDED_DAY_S // 60
_NEVER = 1 << 62  # a boundary no data time reaches (pinned sessions in tests)
_NAN = float("nan")  # high/low of a symbol that has not traded yet this session


class MarketState:
    """Per-symbol last, anchors, session high/low, tick time and count, and chart history.

    The per-tick path does not even mark symbols dirty: a symbol changed since the last frame
    exactly when its tick count did, which the frame loop finds with one vectorised compare.

    ``high``/``low`` are NaN for a symbol that has not traded since its session rolled over;
    ``daily`` holds completed sessions' closes per symbol, from the feed and, at each rollover,
    the session's own closing prices (where the feed gave none for that date).
    """

    __slots__ = (
        "_closes",
        "_counts_seen",
        "_range_at_close",
        "_retired",
        "_session_until",
        "_tape",
        "count",
        "daily",
        "daily_ohlc",
        "daily_rev",
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
        "session",
        "session_close_ms",
        "session_date",
        "session_open_ms",
        "session_start_ms",
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
        # each symbol's daily (open, high, low) by session date, where known: from the
        # feed's daily bars and, for the headline symbols, each session seen at its rollover
        self.daily_ohlc: dict[str, dict[str, tuple[float | None, float | None, float | None]]] = {}
        self.next_bucket: list[int] = []  # ts at which each symbol's next chart bucket opens
        self.marked: set[int] = set()  # changed off the tick path (backfill, daily closes)
        self._counts_seen = np.zeros(0, dtype=np.int64)
        #: The session the data is in, learnt from the ticks' own time (a replay's day, not
        #: today's): a counter that moves at each rollover, its ET date, the ms its day starts
        #: (pre-market prints belong to it) and its regular open and close (ms); ticks from the
        #: open to the close set ``open`` and the session's range.
        self.session = 0
        self.session_date: dt.date | None = None
        self.session_start_ms = 0
        self.session_open_ms = 0
        self.session_close_ms = 0
        self._session_until = 0  # data time (ms) of the next boundary: the close, the day's end
        self._closes: list[float | None] | None = None  # each last price at the session's close
        # each (high, low) at the close: post-market prints do not move the session's range
        self._range_at_close: tuple[list[float | None], list[float | None]] | None = None
        self._retired = 0  # ticks counted in sessions that rolled over (for total_ticks)
        self.daily_rev = 0  # moves whenever ``daily`` changes (consumers cache on it)
        #: the recent trades a cancel or correction may name (feeds.market.lastsale); made at the
        #: first trade that has an id (a feed without cancels never pays for it)
        self._tape: lastsale.Tape | None = None
        for s in symbols:
            self.id_of(s)

    def __len__(self) -> int:
        return len(self.symbols)

    def started_over(self) -> MarketState:
        """A fresh state for a market that started over (:class:`feeds.events.MarketReset`):
        the same symbol ids, and the ticks applied so far still counted in ``total_ticks``;
        no price, session, chart or daily history carries over."""
        fresh = MarketState(self.symbols)
        fresh._retired = self.total_ticks
        return fresh

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

    def rename(self, old: str, new: str) -> bool:
        """Give ``old``'s id to ``new`` (a holding respelt as the feed spells it). Only while
        ``old`` has never had a price and ``new`` is unknown; returns whether it was renamed."""
        i = self.ids.get(old)
        if i is None or new in self.ids or (old in HEADLINE) != (new in HEADLINE):
            return False
        if self.last[i] is not None or self.count[i] or old in self.daily:
            return False  # its prices are the old spelling's
        del self.ids[old]
        self.ids[new] = i
        self.symbols[i] = new
        return True

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
        if ts >= self._session_until:  # the session closed or a new day began: twice a day
            self._cross(ts)
        stamps = self.ts
        if tick.sale_flags or ts < stamps[i]:
            return self._apply_irregular(i, tick)
        last = self.last
        before = last[i]
        last[i] = p
        tid = tick.trade_id
        if tid is not None:  # a trade a cancel may name later: remember what it moved
            tape = self._tape or self._new_tape()
            k = tape.pos
            tape.entries[k] = (
                tid, i, p, ts, 0, before, stamps[i], self.high[i], self.low[i], self.open[i]
            )  # fmt: skip
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
        stamps[i] = ts
        self.count[i] += 1
        if tick.prev_close is not None:
            self.prev_close[i] = tick.prev_close
        if tick.day_volume is not None:
            self.day_volume[i] = tick.day_volume
        return i

    def apply_ticks(self, events: Sequence[object], start: int = 0, stop_below: int = 0) -> int:
        """Apply the ticks of ``events[start:]`` in order, exactly as :meth:`apply` on each
        would (issue 12 §5: a provider frame's trades in one call, the columns looked up once,
        not per tick). Returns the index of the first event not applied (``len(events)`` when
        all were): it stops *before* an event that is not a :class:`Tick` (a status, bars) and
        before a tick whose symbol id is below ``stop_below`` (the headline symbols, whose
        levels the pipeline checks tick by tick; 0 never stops), which the caller handles.
        """
        ids = self.ids
        last, high, low = self.last, self.high, self.low
        next_bucket, stamps, count = self.next_bucket, self.ts, self.count
        prev_close, day_volume = self.prev_close, self.day_volume
        until = self._session_until
        tick_type = Tick
        for k in range(start, len(events)):
            tick = events[k]
            if tick.__class__ is not tick_type:
                return k
            try:
                i = ids[tick.symbol]  # type: ignore[attr-defined]
            except KeyError:
                i = self.id_of(tick.symbol)  # type: ignore[attr-defined]
            if i < stop_below:
                return k
            # from here on, apply()'s rules, inlined
            p = tick.price  # type: ignore[attr-defined]
            ts = tick.ts  # type: ignore[attr-defined]
            if ts >= until:
                self._cross(ts)
                until = self._session_until
            flags = tick.sale_flags  # type: ignore[attr-defined]
            if flags or ts < stamps[i]:
                if flags == NEITHER:  # most barred trades (odd lots, Form T): counted, no more
                    count[i] += 1
                    if tick.prev_close is not None:  # type: ignore[attr-defined]
                        prev_close[i] = tick.prev_close  # type: ignore[attr-defined]
                    if tick.day_volume is not None:  # type: ignore[attr-defined]
                        day_volume[i] = tick.day_volume  # type: ignore[attr-defined]
                    continue
                self._apply_irregular(i, tick)  # type: ignore[arg-type]
                continue
            before = last[i]
            last[i] = p
            tid = tick.trade_id  # type: ignore[attr-defined]
            if tid is not None:
                tape = self._tape or self._new_tape()
                slot = tape.pos
                tape.entries[slot] = (
                    tid, i, p, ts, 0, before, stamps[i], high[i], low[i], self.open[i]
                )  # fmt: skip
                tape.pos = (slot + 1) & TAPE_MASK
            if p != before:
                if before is None:
                    self._first_sale(i, p)
                elif p > high[i]:  # type: ignore[operator]
                    high[i] = p
                elif p < low[i]:  # type: ignore[operator]
                    low[i] = p
            if ts >= next_bucket[i]:
                self._roll(i, ts, p, before)
            stamps[i] = ts
            count[i] += 1
            if tick.prev_close is not None:  # type: ignore[attr-defined]
                prev_close[i] = tick.prev_close  # type: ignore[attr-defined]
            if tick.day_volume is not None:  # type: ignore[attr-defined]
                day_volume[i] = tick.day_volume  # type: ignore[attr-defined]
        return len(events)

    def _first_sale(self, i: int, p: float) -> None:
        """The symbol's first last sale; the high/low may already hold prints that could not
        be the last sale."""
        self.first[i] = p
        hi, lo = self.high[i], self.low[i]
        # None: never traded; NaN: not since the rollover
        self.high[i] = p if hi is None or hi != hi or p > hi else hi
        self.low[i] = p if lo is None or lo != lo or p < lo else lo

    # --- last-sale eligibility (feeds.market.lastsale)
    # -----------------------------------------------
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
        hi, lo, open_ = self.high[i], self.low[i], self.open[i]
        # the session's range: no print of an earlier session, none stamped before the open
        # once the open has started the range (feeds.market.state: the range starts at the open)
        in_range = ts >= self.session_start_ms and (open_ is None or ts >= self.session_open_ms)
        if not flags & NOT_HIGH_LOW and in_range:
            if hi is None or hi != hi or p > hi:  # None: never traded; NaN: not since the rollover
                self.high[i] = p
            if lo is None or lo != lo or p < lo:
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
            tape = self._tape or self._new_tape()
            k = tape.pos
            tape.entries[k] = (tid, i, p, ts, flags, before, before_ts, hi, lo, open_)
            tape.pos = (k + 1) & TAPE_MASK
        return i if sets_last else ~i

    def cancel(self, symbol: str, trade_id: int | str) -> bool:
        """Take a cancelled (or errored) trade out: ``last`` goes back to the latest trade still
        standing and the high/low forget its price. True if ``last`` changed.

        A trade no longer on the tape (the last :data:`feeds.market.lastsale.TAPE_SIZE` trades) or
        never seen changes nothing: it is long since not the last sale.
        """
        found = self._find_trade(symbol, trade_id)
        if found is None:
            return False
        i, k, removed = found
        self._tape.remove(k)  # type: ignore[union-attr]
        return self._revise(i, k, removed)

    def _find_trade(
        self, symbol: str, trade_id: int | str
    ) -> tuple[int, int, lastsale.Entry] | None:
        """(symbol id, tape slot, entry) of a trade still on the tape, or None."""
        tape = self._tape
        i = self.ids.get(symbol)
        k = -1 if i is None or tape is None else tape.find(i, trade_id)
        entry = None if k < 0 else tape.entries[k]  # type: ignore[union-attr]
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
        tape = self._tape
        assert tape is not None  # the trade was found on it
        if sale_flags & NOT_HIGH_LOW:
            tape.remove(k)  # corrected into a trade that sets nothing
        else:  # the correction keeps the original's time
            tid = trade_id if new_id is None else new_id
            tape.entries[k] = (tid, i, price, old[3], sale_flags, *old[5:])
        return self._revise(i, k, old)

    def _revise(self, i: int, k: int, old: lastsale.Entry) -> bool:
        """Replay symbol ``i``'s trades from slot ``k`` on from the values before ``old`` (the
        trade that was at ``k``); set last, its time, high, low and the chart points of the
        buckets touched."""
        session = (self.session_start_ms, self.session_open_ms, self.session_close_ms)
        tape = self._tape
        assert tape is not None
        rev = lastsale.replay(tape, tape.later(k), i, old, session)
        changed = rev.last != self.last[i]
        self.last[i], self.high[i], self.low[i] = rev.last, rev.high, rev.low
        self.open[i] = rev.open
        self.ts[i] = rev.ts
        ring = self.history[i]
        bucket = ring.bucket_ms
        for b in {old[3] // bucket} | {ts // bucket for ts, _ in rev.sales}:
            close = lastsale.close_at(rev.sales, (b + 1) * bucket)
            if close is not None:
                ring.revise(b, close)
        self.marked.add(i)
        return changed

    def _new_tape(self) -> lastsale.Tape:
        self._tape = lastsale.Tape()
        return self._tape

    def forget_trades(self) -> None:
        """Drop the tape of recent trades: at a new session, a cancel of yesterday's trade
        must not bring back yesterday's high and low (the values each trade replaced)."""
        self._tape = None

    def last_trade_id(self, symbol: str) -> int | str | None:
        """The id of the trade that set ``symbol``'s last sale, when it is a recent one."""
        i = self.ids.get(symbol)
        tape = self._tape
        if i is None or tape is None:
            return None
        return tape.last_trade_id(i, self.last[i], self.ts[i])

    def _roll(self, i: int, ts: int, p: float, before: float | None) -> None:
        """The tick opened a new chart bucket (at most once a second per symbol)."""
        ring = self.history[i]
        ring.roll(ts, p, before)
        self.next_bucket[i] = (ts // ring.bucket_ms + 1) * ring.bucket_ms
        high = self.high[i]
        if high != high:  # NaN: the first trade since the session rolled over
            self.high[i] = self.low[i] = p
        # The open can only be first seen in a new bucket: session opens fall on minute marks.
        # It is the session's first regular-hours price (a pre-market print is not the open),
        # and the session's range starts there too.
        if self.open[i] is None and 0 < self.session_open_ms <= ts <= self.session_close_ms:
            self.open[i] = self.high[i] = self.low[i] = p

    def _cross(self, ts: int) -> None:
        """The data clock reached the next boundary: the session's close (each symbol's last
        price then is its close), or a later day, which on a trading day starts a new session."""
        from feeds.market import calendar

        if self._closes is None and self.session_date is not None and ts > self.session_close_ms:
            self._closes = list(self.last)
            self._range_at_close = (list(self.high), list(self.low))
        day = calendar.day_of(ts)
        if day.open_ms is not None and day.date != self.session_date:
            self._new_session(day)
        if day.date == self.session_date and ts <= self.session_close_ms:
            self._session_until = self.session_close_ms + 1  # a print at the close is regular
        else:
            self._session_until = day.end_ms

    def _new_session(self, day: Day) -> None:
        """Roll every symbol over to the session of ``day`` (O(n), once a session)."""
        assert day.open_ms is not None and day.close_ms is not None
        old = self.session_date
        self.session += 1
        self.session_date = day.date
        self.session_start_ms = day.start_ms
        self.session_open_ms, self.session_close_ms = day.open_ms, day.close_ms
        if old is not None:
            # a cancel of the last session's trade must not bring its high and low back
            self.forget_trades()
            self._record_closes(old.isoformat(), self._closing_prices())
            self._record_ranges(old.isoformat())
            for i in range(len(self.symbols)):
                self._roll_symbol(i)
            self.marked.update(range(len(self.symbols)))
        self._closes = self._range_at_close = None
        for symbol in self.daily:
            self._set_ytd(self.ids[symbol])

    def _record_closes(self, date: str, closes: list[float | None]) -> None:
        """Each symbol's close of the session on ``date`` joins its daily closes, unless the
        feed gave that date's close (which wins). Only symbols that traded in regular hours."""
        for i, symbol in enumerate(self.symbols):
            close = closes[i]
            if close is None or self.open[i] is None:
                continue
            rows = self.daily.setdefault(symbol, [])
            if not rows or rows[-1][0] < date:
                rows.append((date, close))
        self.daily_rev += 1

    def _roll_symbol(self, i: int) -> None:
        """A new session for symbol ``i``: the previous close is the last session's close,
        however it was learnt (daily closes, the feed's own, its last price); a tick that
        carries ``prev_close`` still overrides it."""
        new = self.session_date.isoformat()  # type: ignore[union-attr]
        rows = self.daily.get(self.symbols[i], ())
        close = next((c for d, c in reversed(rows) if d < new), None)
        if close is None:
            close = self.last[i] if self.last[i] is not None else self.prev_close[i]
        self.prev_close[i] = close
        self.open[i] = None
        self.high[i] = self.low[i] = _NAN
        self.day_volume[i] = None
        self._retired += self.count[i]
        self.count[i] = 0
        self.history[i].clear()
        self.next_bucket[i] = 0  # the next tick opens a bucket, where high/low restart

    def _set_ytd(self, i: int) -> None:
        """The year-to-date base: the close of the previous year's last session (the latest
        close's year while no session is known). A close of an earlier day (a holdings as-of
        date in November) is not a year-end close: then the base stays unknown."""
        rows = self.daily.get(self.symbols[i])
        if not rows:
            return
        year = self.session_date.year if self.session_date else int(rows[-1][0][:4])
        start = f"{year:04d}-01-01"
        k = bisect.bisect_left(rows, (start,))
        if k and rows[k - 1][0] == _year_end(year - 1):
            self.ytd_base[i] = rows[k - 1][1]

    def pin_session_open(self, open_ms: int) -> None:
        """Use this session open instead of the calendar's, with no rollover (tests, synthetic
        data)."""
        self.session_open_ms = open_ms
        self.session_close_ms = _NEVER
        self._session_until = _NEVER

    @property
    def total_ticks(self) -> int:
        """Ticks applied since the start, across sessions."""
        return sum(self.count) + self._retired

    @property
    def last_tick_ts(self) -> int:
        """Data time of the newest tick (ms), 0 before any."""
        return max(self.ts, default=0)

    def chart(self, symbol: str) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, prices) of ``symbol``'s session, ending at its live last price and time."""
        i = self.ids.get(symbol)
        if i is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        times, prices = self.history[i].arrays(self.last[i])
        if len(times) and self.ts[i] > times[-1]:
            times[-1] = self.ts[i]
        return times, prices

    def _closing_prices(self) -> list[float | None]:
        """Each symbol's last price at the session's close (its last so far before the close)."""
        closes = self._closes
        if closes is None:
            return list(self.last)
        return closes + self.last[len(closes) :]  # symbols first seen after the close

    def session_range(self) -> tuple[list[float | None], list[float | None]]:
        """Each symbol's session (high, low): regular hours once the session opened (the
        pre-market's before), as they stood at the close once it closed; None or NaN where
        the symbol has not traded in the session's hours. Index by symbol id; do not modify."""
        at_close = self._range_at_close
        if at_close is None:
            return self.high, self.low
        high, low = at_close
        missing = len(self.high) - len(high)
        if missing:  # symbols first seen after the close: no regular-hours range
            high.extend([None] * missing)
            low.extend([None] * missing)
        return high, low

    def session_prices(self) -> np.ndarray:
        """Each symbol's price in the current session: its close once the session closed, else
        its last (NaN where unknown). One copy, for consumers that need "the price on date X"."""
        return np.array(self._closing_prices(), dtype=np.float64)

    def close_on(self, symbol: str, date: str) -> float | None:
        """``symbol``'s close on ``date`` (ISO) from daily closes, None when not known."""
        rows = self.daily.get(symbol)
        if not rows:
            return None
        k = bisect.bisect_left(rows, (date,))  # the rows are sorted by date
        return rows[k][1] if k < len(rows) and rows[k][0] == date else None

    def apply_bars(self, bars: Bars) -> None:
        """Backfill chart history; sets ``last`` only when the backfill is newer than any tick.

        Bars of a session before the current one are not today's: they are skipped.
        """
        i = self.id_of(bars.symbol)
        ring = self.history[i]
        if bars.points and bars.points[-1][0] >= self._session_until:
            self._cross(bars.points[-1][0])
        for ts, price in bars.points:
            if ts < self.session_start_ms:
                continue
            ring.add(ts, price)
            if self.open[i] is None and 0 < self.session_open_ms <= ts <= self.session_close_ms:
                self.open[i] = self.high[i] = self.low[i] = price
                continue
            hi, lo = self.high[i], self.low[i]
            # None: never traded; NaN: not since the rollover
            self.high[i] = price if hi is None or not hi >= price else hi
            self.low[i] = price if lo is None or not lo <= price else lo
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
                if self.high[i] is None:  # only an earlier session's bars: no range today yet
                    self.high[i] = self.low[i] = _NAN

    def apply_daily(self, daily: DailyCloses) -> None:
        """Keep completed sessions' closes (merged with those known, the feed's winning).

        The latest close before the current session is the previous close if none is known
        yet; one that replaces the close the previous close was taken from (a close learnt from
        ticks at the rollover, then the feed's official one) replaces it too. A previous close
        the feed gave otherwise (a tick's, a backfill's) is kept. The last close of a previous
        year is the YTD base."""
        i = self.id_of(daily.symbol)
        merged = dict(self.daily.get(daily.symbol, ()))
        now = self.session_date.isoformat() if self.session_date else "9999"
        before = next((c for d, c in sorted(merged.items(), reverse=True) if d < now), None)
        merged.update(daily.closes)
        closes = sorted(merged.items())
        self.daily[daily.symbol] = closes
        self.daily_rev += 1
        if not closes:
            return
        latest = next((c for d, c in reversed(closes) if d < now), None)
        prev = self.prev_close[i]
        if prev is None or (before is not None and prev == before):
            self.prev_close[i] = latest
        self._set_ytd(i)
        self.marked.add(i)

    # daily bars, one session's closes of many symbols, ranges at rollover
    def apply_daily_bars(self, bars: DailyBars) -> None:
        """Daily bars: the closes as :meth:`apply_daily` takes them, the (open, high, low) kept
        in :attr:`daily_ohlc` (the feed's winning over a session's own range)."""
        ohlc = self.daily_ohlc.setdefault(bars.symbol, {})
        for d, o, h, lo, _c in bars.bars:
            ohlc[d] = (o, h, lo)
        self.apply_daily(DailyCloses(bars.symbol, bars.closes()))

    def apply_session_closes(self, ev: SessionCloses) -> None:
        """One session's closes of many symbols (a batch endpoint's answer): each joins its
        symbol's daily closes (the feed's winning) and may set its YTD base. A previous close is
        set only by the close of the session right before the current one, and only where none
        is known (a November close is no previous close in January). O(symbols)."""
        from feeds.market.calendar import last_session_before

        date = ev.date
        sets_prev = False
        if self.session_date is not None:
            sets_prev = date == last_session_before(self.session_date).isoformat()
        for symbol, close in ev.closes.items():
            i = self.id_of(symbol)
            rows = self.daily.setdefault(symbol, [])
            k = bisect.bisect_left(rows, (date,))
            if k < len(rows) and rows[k][0] == date:
                rows[k] = (date, close)
            else:
                rows.insert(k, (date, close))
            if sets_prev and self.prev_close[i] is None:
                self.prev_close[i] = close
            self._set_ytd(i)
            self.marked.add(i)
        self.daily_rev += 1

    def _record_ranges(self, date: str) -> None:
        """The headline symbols' (open, high, low) of the session on ``date``, at its rollover,
        unless the feed gave that date's bar."""
        high, low = self.session_range()
        for symbol in HEADLINE:
            i = self.ids.get(symbol)
            if i is None or self.open[i] is None:
                continue
            rows = self.daily_ohlc.setdefault(symbol, {})
            if date not in rows:
                rows[date] = (self.open[i], _finite(high[i]), _finite(low[i]))

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


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x else x


def _year_end(year: int) -> str:
    """The ISO date of ``year``'s last NYSE session (its close is the next year's YTD base)."""
    return _YEAR_ENDS.get(year) or _year_end_uncached(year)


_YEAR_ENDS: dict[int, str] = {}


def _year_end_uncached(year: int) -> str:
    from feeds.market.calendar import last_session_before

    end = _YEAR_ENDS[year] = last_session_before(dt.date(year + 1, 1, 1)).isoformat()
    return end
