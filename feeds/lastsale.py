"""Last-sale eligibility: which trades may set ``last`` and the session high/low, and how a
cancelled or corrected trade is taken back out.

The consolidated tape (the CTA and UTP SIPs) publishes, for every sale condition, whether a trade
carrying it updates the consolidated last sale and the high/low; a trade whose conditions say no
(a contingent trade, an odd lot, an average-price or extended-hours print...) is still a trade,
but not the last sale. The providers' decoders turn condition codes into the two flags below
(:mod:`feeds.conditions`) and set them on the :class:`~feeds.events.Tick`; plain price updates
(the sim, Yahoo, index values) carry none.

A print stamped before the current last sale does not replace it either (it updates the high/low
as a sold-out-of-sequence print does: CTA/UTP condition ``Z``).

Cancels and corrections (Alpaca ``T: "x"`` / ``T: "c"``) name a trade reported earlier. To take
one back out, :class:`~feeds.state.MarketState` keeps, per symbol, the last
:data:`RECENT_TRADES` trades that set anything, each with the values its arrival replaced; undoing
one replays the trades after it from those values (:func:`replay`), so ``last`` returns to the
latest trade still standing and the high/low forget the removed price.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from feeds.events import Tick

#: the trade does not update the consolidated last sale (nor the open/close)
NOT_LAST = 1
#: the trade does not update the consolidated high/low
NOT_HIGH_LOW = 2
#: a trade that updates neither: it changes no price the monitor shows, so it is not recorded
NEITHER = NOT_LAST | NOT_HIGH_LOW

#: trades kept per symbol for cancels and corrections. A cancel usually follows its trade within
#: seconds; one older than this many later trades cannot be the last sale any more.
RECENT_TRADES = 32

# A recorded trade: (tick, last before it, its ts before it, high before it, low before it).
Entry = tuple[Tick, float | None, int, float | None, float | None]


class Revision(NamedTuple):
    """A symbol's values after a trade was taken out or corrected (see :func:`replay`)."""

    last: float | None
    ts: int  # epoch ms of that last sale
    high: float | None
    low: float | None
    #: (ts, price) of the last sale before the replayed trades, then of every replayed trade
    #: that may set the last sale: what the chart's points in their buckets close at
    sales: list[tuple[int, float]]


def new_record() -> deque[Entry]:
    """An empty per-symbol record (bounded: the oldest trade falls out)."""
    return deque(maxlen=RECENT_TRADES)


def find(record: deque[Entry] | None, trade_id: int | str) -> int:
    """The position of ``trade_id`` in ``record`` (the newest if repeated), or -1."""
    if record:
        for k in range(len(record) - 1, -1, -1):
            if record[k][0].trade_id == trade_id:
                return k
    return -1


def replay(record: deque[Entry], k: int, base: Entry) -> Revision:
    """Re-apply the trades from position ``k`` on, starting from the values ``base`` held
    before the trade that was at ``k`` (taken out or corrected); their "before" values are
    rewritten on the way, so a later revision starts right too.

    The rules are :meth:`MarketState.apply`'s: a trade updates the high/low unless flagged
    ``NOT_HIGH_LOW``, and the last sale unless flagged at all or stamped before it.
    """
    _, last, ts, high, low = base
    sales = [] if last is None else [(ts, last)]
    for j in range(k, len(record)):
        tick = record[j][0]
        record[j] = (tick, last, ts, high, low)
        p, flags = tick.price, tick.sale_flags
        if not flags & NOT_HIGH_LOW:
            if high is None or p > high:
                high = p
            if low is None or p < low:
                low = p
        if not flags:  # (a trade barred from the high/low never sets the last: see MarketState)
            sales.append((tick.ts, p))
            if tick.ts >= ts:
                last, ts = p, tick.ts
    return Revision(last, ts, high, low, sales)


def close_at(sales: list[tuple[int, float]], end_ms: int) -> float | None:
    """The last sale standing just before ``end_ms`` among ``sales`` (the latest stamp; of
    equal stamps the one listed later), or None."""
    best: tuple[int, float] | None = None
    for ts, p in sales:
        if ts < end_ms and (best is None or ts >= best[0]):
            best = (ts, p)
    return None if best is None else best[1]
