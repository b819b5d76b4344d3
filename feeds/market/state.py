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
boundary (the session's close, then the end of the day); what happens at a boundary is O(n) once,
in :class:`feeds.market.daily.DailyRecord`, which also keeps the completed sessions' closes.
Cancels and corrections of recent trades are :class:`feeds.market.lastsale.Busts`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from feeds.events import SessionRange, Tick
from feeds.market import lastsale
from feeds.market.daily import DailyRecord
from feeds.market.history import Ring
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, TAPE_MASK
from feeds.symbols import HEADLINE

ANCHOR_MODES = ("prev", "open", "first", "ytd")

#: headline symbols keep one point a second for a whole extended day (04:00-20:00 ET, 16 h);
#: constituents one a minute for the same 16 h. The constituents' rings are most of the
#: process's data (2,000 names x 960 points x 16 bytes = 31 MB, allocated at each name's first
#: tick; 24 h of points was 46 MB: issue 12 §6, bench/screen.py session --trace).
EXTENDED_DAY_S = 16 * 3_600
HEADLINE_BUCKET_MS, HEADLINE_CAPACITY = 1_000, EXTENDED_DAY_S
CONSTITUENT_BUCKET_MS, CONSTITUENT_CAPACITY = 60_000, EXTENDED_DAY_S // 60
_NEVER = 1 << 62  # a boundary no data time reaches (pinned sessions in tests)


class MarketState:
    """Per-symbol last, anchors, session high/low, tick time and count, and chart history.

    The per-tick path does not even mark symbols dirty: a symbol changed since the last frame
    exactly when its tick count did, which the frame loop finds with one vectorised compare.

    ``high``/``low`` are NaN for a symbol that has not traded since its session rolled over.
    It composes the per-session daily record (``daily``: the rollover, the completed sessions'
    closes, previous close and YTD base) and the cancels and corrections of recent trades
    (``busts``); both read and write these columns, which are never rebound.
    """

    __slots__ = (
        "__weakref__",  # its parts hold it weakly (feeds.market.daily)
        "_counts_seen",
        "_session_until",
        "_tape",
        "busts",
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
        "retired",
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
        self.retired = 0  # ticks counted in sessions that rolled over (for total_ticks)
        #: the recent trades a cancel or correction may name (feeds.market.lastsale); made at the
        #: first trade that has an id (a feed without cancels never pays for it); read by busts
        self._tape: lastsale.Tape | None = None
        self.daily = DailyRecord(self)  # sets the session fields above at each boundary
        self.busts = lastsale.Busts(self)
        for s in symbols:
            self.id_of(s)

    def __len__(self) -> int:
        return len(self.symbols)

    def started_over(self) -> MarketState:
        """A fresh state for a market that started over (:class:`feeds.events.MarketReset`):
        the same symbol ids, and the ticks applied so far still counted in ``total_ticks``;
        no price, session, chart or daily history carries over."""
        fresh = MarketState(self.symbols)
        fresh.retired = self.total_ticks
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
        if self.last[i] is not None or self.count[i] or old in self.daily.closes:
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

    def apply_range(self, rng: SessionRange) -> None:
        """Take a relay's session open, high and low for ``rng.symbol`` (a late joiner's catch-up,
        :class:`feeds.events.SessionRange`): the open as the relay has it, the high and low
        widened to include the relay's (this board may already hold later prints). Ignored for a
        symbol this state has not seen, or when ``rng.ts`` is before this state's session (the
        relay's figures are of a session this board has rolled past)."""
        i = self.ids.get(rng.symbol)
        if i is None or rng.ts < self.session_start_ms:
            return
        if rng.open is not None:
            self.open[i] = rng.open
        hi, lo = rng.high, rng.low
        if hi is not None and hi == hi:
            h = self.high[i]
            self.high[i] = hi if h is None or h != h or hi > h else h
        if lo is not None and lo == lo:
            low = self.low[i]
            self.low[i] = lo if low is None or low != low or lo < low else low

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

    def _new_tape(self) -> lastsale.Tape:
        self._tape = lastsale.Tape()
        return self._tape

    def forget_trades(self) -> None:
        """Drop the tape of recent trades: at a new session, a cancel of yesterday's trade
        must not bring back yesterday's high and low (the values each trade replaced)."""
        self._tape = None

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
        """The data clock reached the next boundary: the session's close or a new day
        (:meth:`feeds.market.daily.DailyRecord.cross`)."""
        self._session_until = self.daily.cross(ts)

    def pin_session_open(self, open_ms: int) -> None:
        """Use this session open instead of the calendar's, with no rollover (tests, synthetic
        data)."""
        self.session_open_ms = open_ms
        self.session_close_ms = _NEVER
        self._session_until = _NEVER

    @property
    def total_ticks(self) -> int:
        """Ticks applied since the start, across sessions."""
        return sum(self.count) + self.retired

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
