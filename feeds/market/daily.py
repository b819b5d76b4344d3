"""The per-session daily record of a :class:`~feeds.market.state.MarketState`: each symbol's
completed sessions (closes, the headline symbols' open/high/low), the previous close and the
year-to-date base that follow from them, and the rollover from one session to the next.

The tick path never calls in here but at a boundary (:meth:`DailyRecord.cross`, twice a day on
the data's own clock): the session's close, where each symbol's last price becomes its close and
its high/low stop moving, and the start of the next trading date, where every symbol rolls over
(O(symbols), once a session). The feed's history lands here too: the session's intraday
:class:`~feeds.events.Bars` (a backfill of the chart, the open and the range) and completed
sessions' :class:`~feeds.events.DailyCloses`, :class:`~feeds.events.DailyBars` and
:class:`~feeds.events.SessionCloses`, each O(its rows).

Dates are ISO strings (``"2025-11-26"``): they sort as the dates do, so each symbol's closes are
one list sorted by date and a date is found by bisection.
"""

from __future__ import annotations

import bisect
import datetime as dt
import weakref
from typing import TYPE_CHECKING

import numpy as np

from feeds.events import Bars, DailyBars, DailyCloses, SessionCloses
from feeds.symbols import HEADLINE

if TYPE_CHECKING:
    from feeds.market.calendar import Day
    from feeds.market.state import MarketState

_NAN = float("nan")  # high/low of a symbol that has not traded yet this session


class DailyRecord:
    """The completed sessions of a :class:`~feeds.market.state.MarketState`'s symbols, and the
    session rollover that adds to them.

    ``closes`` holds each symbol's completed sessions' closes, [(ISO date, close)] sorted by
    date, from the feed and, at each rollover, the session's own closing prices (where the feed
    gave none for that date). ``ohlc`` holds each symbol's daily (open, high, low) by date where
    known: from the feed's daily bars and, for the headline symbols, each session seen at its
    rollover. ``rev`` moves whenever ``closes`` changes (consumers cache on it).

    The session's clock (its number, date, start, open and close) lives on the state, where the
    tick path reads it; this record sets it at each boundary and rolls the state's per-session
    columns (open, high, low, previous close, day volume, tick count, the chart).
    """

    __slots__ = ("_at_close", "_range_at_close", "_state", "closes", "ohlc", "rev")

    def __init__(self, state: MarketState) -> None:
        # a weak reference: no cycle, so a state that started over (a replay played again) is
        # freed with its charts at once, without waiting for (or escaping) the cyclic collector
        self._state: MarketState = weakref.proxy(state)
        self.closes: dict[str, list[tuple[str, float]]] = {}
        self.ohlc: dict[str, dict[str, tuple[float | None, float | None, float | None]]] = {}
        self.rev = 0
        self._at_close: list[float | None] | None = None  # each last price at the session's close
        # each (high, low) at the close: post-market prints do not move the session's range
        self._range_at_close: tuple[list[float | None], list[float | None]] | None = None

    # --- the rollover, at the boundaries the tick path meets -----------------------------------
    def cross(self, ts: int) -> int:
        """The data clock reached the next boundary: the session's close (each symbol's last
        price then is its close), or a later day, which on a trading day starts a new session.
        Returns the data time (epoch ms) of the boundary after ``ts``."""
        from feeds.market import calendar

        st = self._state
        if self._at_close is None and st.session_date is not None and ts > st.session_close_ms:
            self._at_close = list(st.last)
            self._range_at_close = (list(st.high), list(st.low))
        day = calendar.day_of(ts)
        if day.open_ms is not None and day.date != st.session_date:
            self._new_session(day)
        if day.date == st.session_date and ts <= st.session_close_ms:
            return st.session_close_ms + 1  # a print at the close is regular
        return day.end_ms

    def _new_session(self, day: Day) -> None:
        """Roll every symbol over to the session of ``day`` (O(n), once a session)."""
        assert day.open_ms is not None and day.close_ms is not None
        st = self._state
        old = st.session_date
        st.session += 1
        st.session_date = day.date
        st.session_start_ms = day.start_ms
        st.session_open_ms, st.session_close_ms = day.open_ms, day.close_ms
        if old is not None:
            # a cancel of the last session's trade must not bring its high and low back
            st.forget_trades()
            self._record_closes(old.isoformat(), self._closing_prices())
            self._record_ranges(old.isoformat())
            for i in range(len(st.symbols)):
                self._roll_symbol(i)
            st.marked.update(range(len(st.symbols)))
        self._at_close = self._range_at_close = None
        for symbol in self.closes:
            self._set_ytd(st.ids[symbol])

    def _record_closes(self, date: str, closes: list[float | None]) -> None:
        """Each symbol's close of the session on ``date`` joins its daily closes, unless the
        feed gave that date's close (which wins). Only symbols that traded in regular hours."""
        st = self._state
        for i, symbol in enumerate(st.symbols):
            close = closes[i]
            if close is None or st.open[i] is None:
                continue
            rows = self.closes.setdefault(symbol, [])
            if not rows or rows[-1][0] < date:
                rows.append((date, close))
        self.rev += 1

    def _record_ranges(self, date: str) -> None:
        """The headline symbols' (open, high, low) of the session on ``date``, at its rollover,
        unless the feed gave that date's bar."""
        st = self._state
        high, low = self.session_range()
        for symbol in HEADLINE:
            i = st.ids.get(symbol)
            if i is None or st.open[i] is None:
                continue
            rows = self.ohlc.setdefault(symbol, {})
            if date not in rows:
                rows[date] = (st.open[i], _finite(high[i]), _finite(low[i]))

    def _roll_symbol(self, i: int) -> None:
        """A new session for symbol ``i``: the previous close is the last session's close,
        however it was learnt (daily closes, the feed's own, its last price); a tick that
        carries ``prev_close`` still overrides it."""
        st = self._state
        new = st.session_date.isoformat()  # type: ignore[union-attr]
        rows = self.closes.get(st.symbols[i], ())
        close = next((c for d, c in reversed(rows) if d < new), None)
        if close is None:
            close = st.last[i] if st.last[i] is not None else st.prev_close[i]
        st.prev_close[i] = close
        st.open[i] = None
        st.high[i] = st.low[i] = _NAN
        st.day_volume[i] = None
        st.retired += st.count[i]
        st.count[i] = 0
        st.history[i].clear()
        st.next_bucket[i] = 0  # the next tick opens a bucket, where high/low restart

    def _set_ytd(self, i: int) -> None:
        """The year-to-date base: the close of the previous year's last session (the latest
        close's year while no session is known). A close of an earlier day (a holdings as-of
        date in November) is not a year-end close: then the base stays unknown."""
        st = self._state
        rows = self.closes.get(st.symbols[i])
        if not rows:
            return
        year = st.session_date.year if st.session_date else int(rows[-1][0][:4])
        start = f"{year:04d}-01-01"
        k = bisect.bisect_left(rows, (start,))
        if k and rows[k - 1][0] == _year_end(year - 1):
            st.ytd_base[i] = rows[k - 1][1]

    # --- the session's values at its close -----------------------------------------------------
    def _closing_prices(self) -> list[float | None]:
        """Each symbol's last price at the session's close (its last so far before the close)."""
        last = self._state.last
        closes = self._at_close
        if closes is None:
            return list(last)
        return closes + last[len(closes) :]  # symbols first seen after the close

    def session_range(self) -> tuple[list[float | None], list[float | None]]:
        """Each symbol's session (high, low): regular hours once the session opened (the
        pre-market's before), as they stood at the close once it closed; None or NaN where
        the symbol has not traded in the session's hours. Index by symbol id; do not modify."""
        st = self._state
        at_close = self._range_at_close
        if at_close is None:
            return st.high, st.low
        high, low = at_close
        missing = len(st.high) - len(high)
        if missing:  # symbols first seen after the close: no regular-hours range
            high.extend([None] * missing)
            low.extend([None] * missing)
        return high, low

    def session_prices(self) -> np.ndarray:
        """Each symbol's price in the current session: its close once the session closed, else
        its last (NaN where unknown). One copy, for consumers that need "the price on date X"."""
        return np.array(self._closing_prices(), dtype=np.float64)

    # --- the feed's history: the session's bars, completed sessions' closes and bars ---------
    def close_on(self, symbol: str, date: str) -> float | None:
        """``symbol``'s close on ``date`` (ISO) from daily closes, None when not known."""
        rows = self.closes.get(symbol)
        if not rows:
            return None
        k = bisect.bisect_left(rows, (date,))  # the rows are sorted by date
        return rows[k][1] if k < len(rows) and rows[k][0] == date else None

    def apply_bars(self, bars: Bars) -> None:
        """The session's intraday bars (a backfill): the chart history, the open and the range;
        sets ``last`` only when the backfill is newer than any tick.

        Bars of a session before the current one are not today's: they are skipped.
        """
        st = self._state
        i = st.id_of(bars.symbol)
        ring = st.history[i]
        # the state's clock, as its tick path moves it (the boundary it caches, then cross())
        if bars.points and bars.points[-1][0] >= st._session_until:
            st._cross(bars.points[-1][0])
        for ts, price in bars.points:
            if ts < st.session_start_ms:
                continue
            ring.add(ts, price)
            if st.open[i] is None and 0 < st.session_open_ms <= ts <= st.session_close_ms:
                st.open[i] = st.high[i] = st.low[i] = price
                continue
            hi, lo = st.high[i], st.low[i]
            # None: never traded; NaN: not since the rollover
            st.high[i] = price if hi is None or not hi >= price else hi
            st.low[i] = price if lo is None or not lo <= price else lo
        if bars.prev_close is not None:
            st.prev_close[i] = bars.prev_close
        if bars.points:
            ts, price = bars.points[-1]
            following = (ts // ring.bucket_ms + 1) * ring.bucket_ms
            st.next_bucket[i] = max(st.next_bucket[i], following)
            if ts >= st.ts[i]:
                if st.first[i] is None:
                    st.first[i] = bars.points[0][1]
                st.last[i] = price
                st.ts[i] = ts
                st.marked.add(i)
                if st.high[i] is None:  # only an earlier session's bars: no range today yet
                    st.high[i] = st.low[i] = _NAN

    def apply_daily(self, daily: DailyCloses) -> None:
        """Keep completed sessions' closes (merged with those known, the feed's winning).

        The latest close before the current session is the previous close if none is known
        yet; one that replaces the close the previous close was taken from (a close learnt from
        ticks at the rollover, then the feed's official one) replaces it too. A previous close
        the feed gave otherwise (a tick's, a backfill's) is kept. The last close of a previous
        year is the YTD base."""
        st = self._state
        i = st.id_of(daily.symbol)
        merged = dict(self.closes.get(daily.symbol, ()))
        now = st.session_date.isoformat() if st.session_date else "9999"
        before = next((c for d, c in sorted(merged.items(), reverse=True) if d < now), None)
        merged.update(daily.closes)
        closes = sorted(merged.items())
        self.closes[daily.symbol] = closes
        self.rev += 1
        if not closes:
            return
        latest = next((c for d, c in reversed(closes) if d < now), None)
        prev = st.prev_close[i]
        if prev is None or (before is not None and prev == before):
            st.prev_close[i] = latest
        self._set_ytd(i)
        st.marked.add(i)

    def apply_daily_bars(self, bars: DailyBars) -> None:
        """Daily bars: the closes as :meth:`apply_daily` takes them, the (open, high, low) kept
        in :attr:`ohlc` (the feed's winning over a session's own range)."""
        ohlc = self.ohlc.setdefault(bars.symbol, {})
        for d, o, h, lo, _c in bars.bars:
            ohlc[d] = (o, h, lo)
        self.apply_daily(DailyCloses(bars.symbol, bars.closes()))

    def apply_session_closes(self, ev: SessionCloses) -> None:
        """One session's closes of many symbols (a batch endpoint's answer): each joins its
        symbol's daily closes (the feed's winning) and may set its YTD base. A previous close is
        set only by the close of the session right before the current one, and only where none
        is known (a November close is no previous close in January). O(symbols)."""
        from feeds.market.calendar import last_session_before

        st = self._state
        date = ev.date
        sets_prev = False
        if st.session_date is not None:
            sets_prev = date == last_session_before(st.session_date).isoformat()
        for symbol, close in ev.closes.items():
            i = st.id_of(symbol)
            rows = self.closes.setdefault(symbol, [])
            k = bisect.bisect_left(rows, (date,))
            if k < len(rows) and rows[k][0] == date:
                rows[k] = (date, close)
            else:
                rows.insert(k, (date, close))
            if sets_prev and st.prev_close[i] is None:
                st.prev_close[i] = close
            self._set_ytd(i)
            st.marked.add(i)
        self.rev += 1


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
