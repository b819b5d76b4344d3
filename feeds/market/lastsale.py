"""Last-sale eligibility: which trades may set ``last`` and the session high/low, and how a
cancelled or corrected trade is taken back out.

The consolidated tape (the CTA and UTP SIPs) publishes, for every sale condition, whether a trade
carrying it updates the consolidated last sale and the high/low; a trade whose conditions say no
(a contingent trade, an odd lot, an average-price or extended-hours print...) is still a trade,
but not the last sale. The providers' decoders turn condition codes into the two flags below
(:mod:`feeds.market.conditions`) and set them on the :class:`~feeds.events.Tick`; plain price
updates
(the sim, Yahoo, index values) carry none.

A print stamped before the current last sale does not replace it either (it updates the high/low
as a sold-out-of-sequence print does: CTA/UTP condition ``Z``).

Cancels and corrections (Alpaca ``T: "x"`` / ``T: "c"``) name a trade reported earlier. To take
one back out, :class:`~feeds.market.state.MarketState` keeps a :class:`Tape`: the last
:data:`TAPE_SIZE` trades that set anything, across symbols, each with the values its arrival
replaced. Undoing one (:class:`Busts`) replays its symbol's trades after it from those values
(:func:`replay`), so ``last`` returns to the latest trade still standing and the high/low forget
the removed price.

The tape is one ring written in order, not a record per symbol: a stream touches its symbols in
random order, and a per-symbol record costs a cache miss or two on every trade (measured: over a
microsecond a trade with 2,000 symbols), where the ring's next slot is always warm. The window is
the same for every symbol: 65,536 trades, some 15-30 s of the full SIP at its busiest and far
longer on IEX's 30 symbols; a cancel older than that is of a trade long since replaced as the
last sale.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from feeds.market.state import MarketState

#: the trade does not update the consolidated last sale (nor the open/close)
NOT_LAST = 1
#: the trade does not update the consolidated high/low
NOT_HIGH_LOW = 2
#: a trade that updates neither: it changes no price the monitor shows, so it is not recorded
NEITHER = NOT_LAST | NOT_HIGH_LOW

TAPE_SIZE = 1 << 16  # trades kept for cancels and corrections (see above); a power of two
TAPE_MASK = TAPE_SIZE - 1

# A recorded trade: (trade id, symbol id, price, ts, sale flags, then the symbol's last, its ts,
# high, low and open before the trade). Only atoms, never the Tick: CPython stops tracking such a
# tuple at its first collection, so a full tape costs the garbage collector nothing.
Entry = tuple[
    int | str, int, float, int, int, float | None, int, float | None, float | None, float | None
]
_GONE: Entry = (-1, -1, 0.0, 0, NEITHER, None, 0, None, None, None)  # a cancelled trade's slot


class Revision(NamedTuple):
    """A symbol's values after a trade was taken out or corrected (see :func:`replay`)."""

    last: float | None
    ts: int  # epoch ms of that last sale
    high: float | None
    low: float | None
    open: float | None
    #: (ts, price) of the last sale before the replayed trades, then of every replayed trade
    #: that may set the last sale: what the chart's points in their buckets close at
    sales: list[tuple[int, float]]


class Tape:
    """The ring of recent trades; ``entries[pos]`` is the next slot written (the oldest)."""

    __slots__ = ("entries", "pos")

    def __init__(self) -> None:
        self.entries: list[Entry | None] = [None] * TAPE_SIZE
        self.pos = 0

    def newest_first(self) -> range:
        """Slot numbers from the newest to the oldest (empty slots included)."""
        return range(self.pos - 1, self.pos - 1 - TAPE_SIZE, -1)

    def find(self, i: int, trade_id: int | str) -> int:
        """The slot of symbol ``i``'s trade ``trade_id`` (the newest if repeated), or -1."""
        entries = self.entries
        for k in self.newest_first():
            e = entries[k & TAPE_MASK]
            if e is None:
                break
            if e[0] == trade_id and e[1] == i:
                return k & TAPE_MASK
        return -1

    def later(self, k: int) -> list[int]:
        """The slots from ``k`` to the newest, oldest first."""
        n = (self.pos - k) & TAPE_MASK or TAPE_SIZE
        return [(k + j) & TAPE_MASK for j in range(n)]

    def remove(self, k: int) -> None:
        self.entries[k] = _GONE

    def last_trade_id(self, i: int, last: float | None, ts: int) -> int | str | None:
        """The id of symbol ``i``'s newest standing trade at ``last`` stamped ``ts``, if held."""
        entries = self.entries
        for k in self.newest_first():
            e = entries[k & TAPE_MASK]
            if e is None:
                break
            if e[1] == i and e[3] == ts and e[2] == last and not e[4]:
                return e[0]
        return None


def replay(
    tape: Tape, slots: list[int], i: int, base: Entry, session: tuple[int, int, int]
) -> Revision:
    """Re-apply symbol ``i``'s trades in ``slots`` (oldest first), starting from the values
    ``base`` held before the trade that was taken out or corrected; their "before" values are
    rewritten on the way, so a later revision starts right too.

    The rules are :meth:`MarketState.apply`'s: a trade updates the high/low unless flagged
    ``NOT_HIGH_LOW``, and the last sale unless flagged at all or stamped before it. Of the
    ``session`` (its day's start, open and close; epoch ms), the first last sale in regular
    hours is the open, where the range starts: no print stamped before it counts after it.
    """
    entries = tape.entries
    last, ts, high, low, open_ = base[5:]
    start, opens, closes = session
    sales = [] if last is None else [(ts, last)]
    for k in slots:
        e = entries[k]
        if e is None or e[1] != i:
            continue
        tid, _, p, t, flags = e[:5]
        entries[k] = (tid, i, p, t, flags, last, ts, high, low, open_)
        if not flags & NOT_HIGH_LOW and t >= start and (open_ is None or t >= opens):
            if high is None or high != high or p > high:  # None: never traded; NaN: not since
                high = p  # the rollover
            if low is None or low != low or p < low:
                low = p
        if not flags:  # (a trade barred from the high/low never sets the last: see MarketState)
            sales.append((t, p))
            if t >= ts:
                last, ts = p, t
                if open_ is None and 0 < opens <= t <= closes:
                    open_ = high = low = p
    return Revision(last, ts, high, low, open_, sales)


def close_at(sales: list[tuple[int, float]], end_ms: int) -> float | None:
    """The last sale standing just before ``end_ms`` among ``sales`` (the latest stamp; of
    equal stamps the one listed later), or None."""
    best: tuple[int, float] | None = None
    for ts, p in sales:
        if ts < end_ms and (best is None or ts >= best[0]):
            best = (ts, p)
    return None if best is None else best[1]


class Busts:
    """Cancels and corrections of a :class:`~feeds.market.state.MarketState`'s recent trades
    (busted trades): each takes the trade out of, or rewrites it on, the state's :class:`Tape`
    and revises the symbol's last sale, its time, high, low, open and chart points.

    The tick path writes the tape (``MarketState._tape``, made at the first trade that has an
    id, dropped at each new session); this reads it.
    """

    __slots__ = ("_state",)

    def __init__(self, state: MarketState) -> None:
        self._state: MarketState = weakref.proxy(state)  # no cycle (see DailyRecord)

    def cancel(self, symbol: str, trade_id: int | str) -> bool:
        """Take a cancelled (or errored) trade out: ``last`` goes back to the latest trade still
        standing and the high/low forget its price. True if ``last`` changed.

        A trade no longer on the tape (the last :data:`TAPE_SIZE` trades) or never seen changes
        nothing: it is long since not the last sale.
        """
        found = self._find_trade(symbol, trade_id)
        if found is None:
            return False
        tape, i, k, removed = found
        tape.remove(k)
        return self._revise(tape, i, k, removed)

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
        tape, i, k, old = found
        if sale_flags & NOT_HIGH_LOW:
            tape.remove(k)  # corrected into a trade that sets nothing
        else:  # the correction keeps the original's time
            tid = trade_id if new_id is None else new_id
            tape.entries[k] = (tid, i, price, old[3], sale_flags, *old[5:])
        return self._revise(tape, i, k, old)

    def last_trade_id(self, symbol: str) -> int | str | None:
        """The id of the trade that set ``symbol``'s last sale, when it is a recent one."""
        st = self._state
        i = st.ids.get(symbol)
        tape = st._tape
        if i is None or tape is None:
            return None
        return tape.last_trade_id(i, st.last[i], st.ts[i])

    def _find_trade(self, symbol: str, trade_id: int | str) -> tuple[Tape, int, int, Entry] | None:
        """(tape, symbol id, tape slot, entry) of a trade still on the tape, or None."""
        tape, i = self._state._tape, self._state.ids.get(symbol)
        if tape is None or i is None:
            return None
        k = tape.find(i, trade_id)
        entry = None if k < 0 else tape.entries[k]
        return None if entry is None else (tape, i, k, entry)

    def _revise(self, tape: Tape, i: int, k: int, old: Entry) -> bool:
        """Replay symbol ``i``'s trades from slot ``k`` on from the values before ``old`` (the
        trade that was at ``k``); set last, its time, high, low and the chart points of the
        buckets touched."""
        st = self._state
        session = (st.session_start_ms, st.session_open_ms, st.session_close_ms)
        rev = replay(tape, tape.later(k), i, old, session)
        changed = rev.last != st.last[i]
        st.last[i], st.high[i], st.low[i] = rev.last, rev.high, rev.low
        st.open[i] = rev.open
        st.ts[i] = rev.ts
        ring = st.history[i]
        bucket = ring.bucket_ms
        for b in {old[3] // bucket} | {ts // bucket for ts, _ in rev.sales}:
            close = close_at(rev.sales, (b + 1) * bucket)
            if close is not None:
                ring.revise(b, close)
        st.marked.add(i)
        return changed
