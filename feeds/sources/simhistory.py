"""The simulated market's daily history: years of index bars and a year of member closes.

Deterministic for a seed (every draw comes from the generator the sim passes in), and told the
way the year-to-date story is told (issue 11): the Russell 2000 up 5-10 % on the year against
the S&P 500's 0.5-3.5 % with the Magnificent Seven about flat; small caps beating large caps on
each of the last 4-10 sessions; ^RUT setting a new all-time intraday high on each of the last
1-3 sessions, each under the sim's opening crossing of 2,450, so the live session sets one too.

* **Indices** (^RUT, ^GSPC, MAGS): :data:`INDEX_SESSIONS` sessions (about five years) of daily
  open, high, low and close, correlated daily returns, each calendar year's move pinned to a
  plausible one (a free random walk drifts ±40 % a year). MAGS starts at its listing,
  2023-04-11.
* **Members**: a year of closes (or back to the holdings' as-of date if that is earlier), each
  ``beta * ^RUT + idiosyncratic``, passing through the holdings file's own price on its as-of
  date, with a common term per session that keeps the index the members' cap-weighted sum
  (``Σ w_asof * P_t / P_asof = I_t / I_asof * Σ w_asof``): so weights moved to any anchor by
  ``w_asof * (P_anchor / P_asof) / (I_anchor / I_asof)`` still add up, and contributions add up
  to the index move. Only the sessions a real provider's batch endpoints would be asked for are
  sent (the previous year's last close, the YTD anchor), so memory stays small.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feeds.events import DailyBars, SessionCloses
from feeds.market import calendar
from feeds.symbols import MAGS, RUT, SPX

INDEX_SESSIONS = 1260  # about five years of sessions
MEMBER_DAYS = 366  # members: about a year of sessions (more if the holdings are older)
MAGS_LISTED = "2023-04-11"  # Roundhill Magnificent Seven ETF's first session
DAY_VOL = np.array([0.014, 0.009, 0.016])  # daily vols of ^RUT, ^GSPC, MAGS
CORR = np.array([[1.0, 0.75, 0.6], [0.75, 1.0, 0.85], [0.6, 0.85, 1.0]])
# each earlier calendar year's move (log) is drawn from these ranges; this year's from YTD_*
YEAR_LO, YEAR_HI = np.log([0.88, 0.94, 0.95]), np.log([1.20, 1.24, 1.45])
YTD_LO, YTD_HI = np.log([1.05, 1.005, 0.98]), np.log([1.10, 1.035, 1.02])
STREAK = (4, 10)  # small caps beat large caps on the last 4..10 sessions (inclusive)
RECORDS = (1, 3)  # ^RUT sets a new all-time high on each of the last 1..3 sessions
_HIGH_ROOM = 0.002  # the last session's high is at most this far above its close
_BEND = 21  # sessions: the shortest stretch over which the path is bent under the records


@dataclass(slots=True)
class SimHistory:
    """``dates``: the index sessions, oldest first, the last being the one before the sim's
    day; ``bars[symbol]``: (sessions, 4) open/high/low/close (NaN before a listing);
    ``member_dates`` / ``member_closes``: (sessions, members) closes of the index members in
    holdings order, the last row their previous close; ``year_end``: the previous year's last
    session when the member history reaches it."""

    dates: list[str]
    bars: dict[str, np.ndarray]
    member_symbols: list[str]
    member_dates: list[str]
    member_closes: np.ndarray
    year_end: str | None

    def daily_bars(self) -> list[DailyBars]:
        """One :class:`DailyBars` per index, from its first session."""
        out = []
        for symbol, ohlc in self.bars.items():
            rows = [
                (d, *(round(float(x), 2) for x in row))
                for d, row in zip(self.dates, ohlc.tolist(), strict=True)
                if not math.isnan(row[3])
            ]
            out.append(DailyBars(symbol, rows))  # type: ignore[arg-type]
        return out

    def session_closes(self, date: str) -> SessionCloses | None:
        """Every member's close of session ``date`` (the YTD anchor...), None if not covered."""
        try:
            k = self.member_dates.index(date)
        except ValueError:
            return None
        row = self.member_closes[k].tolist()
        return SessionCloses(date, dict(zip(self.member_symbols, row, strict=True)))


def make_history(
    rng: np.random.Generator,
    start_ms: int,
    prev: Sequence[float],
    *,
    symbols: Sequence[str],
    weights: np.ndarray,
    betas: np.ndarray,
    prices: np.ndarray,
    as_of: dt.date | None,
) -> SimHistory:
    """The history before the sim's day (``start_ms``), ending at the previous closes ``prev``
    of ^RUT, ^GSPC, MAGS. Members: ``symbols`` with their ``weights``, ``betas`` to ^RUT and
    ``prices`` on the holdings' ``as_of`` date (the file's, or a stand-in where it has none)."""
    days = calendar.previous_sessions(start_ms, INDEX_SESSIONS)
    dates = [d.isoformat() for d in days]
    closes, r, records = _index_closes(rng, dates, np.asarray(prev, dtype=np.float64))
    bars = _bars(rng, closes, r, records)
    bars[:, 2] = np.where(np.array(dates) < MAGS_LISTED, np.nan, 1.0)[:, None] * bars[:, 2]
    this_year = calendar.et_date(start_ms).year
    year_end = calendar.last_session_before(dt.date(this_year, 1, 1)).isoformat()
    m_dates, m_closes = _members(rng, dates, closes[:, 0], weights, betas, prices, as_of)
    return SimHistory(
        dates,
        {RUT: bars[:, 0], SPX: bars[:, 1], MAGS: bars[:, 2]},
        list(symbols),
        m_dates,
        m_closes,
        year_end if year_end in m_dates else None,
    )


def _index_closes(
    rng: np.random.Generator, dates: list[str], prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """(sessions, 3) closes ending at ``prev``, the daily log returns into each session, and
    how many of the last sessions set ^RUT records."""
    m = len(dates)
    chol = np.linalg.cholesky(CORR * np.outer(DAY_VOL, DAY_VOL))
    r = rng.standard_normal((m, 3)) @ chol.T
    streak = int(rng.integers(STREAK[0], STREAK[1] + 1))
    records = int(rng.integers(RECORDS[0], RECORDS[1] + 1))
    years = np.array([int(d[:4]) for d in dates])
    this_year = int(dates[-1][:4]) if dates else 0
    fixed = m - streak - 1  # the streak and the session before it keep their returns
    segments = []
    for year in np.unique(years).tolist():
        idx = np.flatnonzero(years == year)
        lo, hi = max(int(idx[0]), 1), min(int(idx[-1]) + 1, fixed)  # r[0] leads nowhere
        now = year == this_year
        target = rng.uniform(YTD_LO if now else YEAR_LO, YTD_HI if now else YEAR_HI)
        if hi - lo > 20:  # too short a segment (early January) is left as drawn
            segments.append((int(idx[0]), int(idx[-1]) + 1, lo, hi, target))
    _pin(r, segments)
    # the last `records` sessions rise, and ^RUT's closes before them stay under the first one
    # (by 0.5 %): where the walk went higher, its year is bent down in a tent that keeps the
    # year-end closes (so every year's move, YTD included, stays as pinned)
    for i in range(1, min(records, m) + 1):
        r[-i, 0] = abs(r[-i, 0]) + 0.001
    _pin(r, segments, slice(0, 1))  # this year's move again, records included
    cut = m - records
    x = _walk_back(np.log(prev), r)
    ends = [seg[1] - 1 for seg in segments]  # each pinned year's last session
    for _ in range(200):
        head = x[: cut - 1, 0]
        if not len(head):
            break
        k = int(np.argmax(head))
        excess = head[k] - (x[cut, 0] + math.log(0.995))
        if excess <= 0:
            break
        # the bend spans at least a month each side of the peak (no jumps), up to the year-ends
        left = min(max((e for e in ends if e < k), default=-1), k - _BEND)
        right = min(max(min((e for e in ends if e > k), default=len(head)), k + _BEND), len(head))
        tent = np.zeros(len(head))
        if k in ends or left < 0:
            # a year-end close (or the first year) is the peak: everything before it is
            # lowered, and the next year makes up for it
            tent[: k + 1] = 1.0
        else:
            tent[left + 1 : k + 1] = np.linspace(0.0, 1.0, k - left + 1)[1:]
        tent[k:right] = np.linspace(1.0, 0.0, right - k + 1)[:-1]
        head -= excess * 1.001 * tent
    r[1:, 0] = np.diff(x[:, 0])
    # small caps beat large caps on the last `streak` sessions (and not the one before); the
    # S&P 500's and MAGS's years are pinned again around that
    for i in range(1, min(streak + 1, m) + 1):
        gap = max(abs(r[-i, 0] - r[-i, 1]), 0.0008)
        r[-i, 1] = r[-i, 0] - gap if i <= streak else r[-i, 0] + gap
    _pin(r, segments, slice(1, 3))
    return np.exp(_walk_back(np.log(prev), r)), r, records


def _pin(
    r: np.ndarray,
    segments: list[tuple[int, int, int, int, np.ndarray]],
    symbols: slice = slice(None),
) -> None:
    """Each calendar year's move (the sum of its returns) set to its target, the shortfall
    spread over the sessions ``lo:hi`` that are free to move (keeps the day-to-day noise)."""
    for start, end, lo, hi, target in segments:
        r[lo:hi, symbols] += (target[symbols] - r[start:end, symbols].sum(axis=0)) / (hi - lo)


def _walk_back(end: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Log closes ending at ``end``: ``x[j-1] = x[j] - r[j]``."""
    x = np.empty_like(r)
    x[-1] = end
    x[:-1] = end - np.cumsum(r[::-1], axis=0)[::-1][1:]
    return x


def _bars(rng: np.random.Generator, closes: np.ndarray, r: np.ndarray, records: int) -> np.ndarray:
    """(sessions, 3, 4) open/high/low/close around the closes; ^RUT's last ``records``
    sessions' highs are each a new all-time high, the last one just above its close."""
    m = len(closes)
    opens = np.empty_like(closes)
    opens[1:] = closes[:-1] * np.exp(rng.normal(0.0, 0.25, (m - 1, 3)) * DAY_VOL)
    opens[0] = closes[0] * np.exp(-r[0])
    wick = np.minimum(np.abs(rng.normal(0.0, 0.45, (m, 3, 2))), 1.0) * DAY_VOL[None, :, None]
    highs = np.maximum(opens, closes) * np.exp(wick[:, :, 0])
    lows = np.minimum(opens, closes) * np.exp(-wick[:, :, 1])
    # the records: every session of the final rise above all highs before it, the last one
    # within _HIGH_ROOM of its close (the sim's own session then sets the next record)
    first = max(m - records, 1)
    # before the records no high reaches the first record's close (wicks trimmed)
    ceiling = np.maximum(np.maximum(opens[:first, 0], closes[:first, 0]), closes[first, 0] * 0.999)
    highs[:first, 0] = np.minimum(highs[:first, 0], ceiling)
    best = highs[:first, 0].max()
    for j in range(first, m):
        room = _HIGH_ROOM if j == m - 1 else 0.006
        top = max(opens[j, 0], closes[j, 0])
        highs[j, 0] = min(max(highs[j, 0], best * 1.0003, top), top * (1 + room))
        highs[j, 0] = max(highs[j, 0], best * 1.0001)
        best = highs[j, 0]
    out = np.stack([opens, highs, lows, closes], axis=2)  # (m, 3, 4)
    return np.round(out, 2)


def _members(
    rng: np.random.Generator,
    dates: list[str],
    rut: np.ndarray,
    weights: np.ndarray,
    betas: np.ndarray,
    prices: np.ndarray,
    as_of: dt.date | None,
) -> tuple[list[str], np.ndarray]:
    """(dates, (sessions, members) closes): about a year, through the as-of date's prices."""
    n = len(weights)
    if not dates:
        return [], np.zeros((0, n))
    last = dt.date.fromisoformat(dates[-1])
    start = (last - dt.timedelta(days=MEMBER_DAYS)).isoformat()
    asof = as_of.isoformat() if as_of is not None else None
    if asof is not None and asof < start:
        start = asof
    k0 = next((k for k, d in enumerate(dates) if d >= start), 0)
    window = dates[k0:]
    x = np.log(rut[k0:])
    ta = window.index(asof) if asof in window else len(window) - 1
    rank = np.arange(n) / max(n - 1, 1)
    # idiosyncratic daily moves of 0.6-1.2 % (smaller names more): over a year that leaves
    # about three members in four on the right side of a broad small-cap rally, as in the story
    sig = (0.006 + 0.006 * rank) * rng.uniform(0.8, 1.25, n)
    e = np.cumsum(rng.standard_normal((len(window), n)) * sig, axis=0)
    logs = betas[None, :] * (x - x[ta])[:, None] + (e - e[ta])
    if n and weights.sum() > 0:
        # the index stays the members' cap-weighted sum: Σ w g_i(t) = g_I(t) Σ w
        w = weights / weights.sum()
        g_index = x - x[ta]
        logs += (g_index - np.log(np.exp(logs) @ w))[:, None]
    closes = np.round(np.maximum(prices[None, :] * np.exp(logs), 0.01), 2)
    return window, closes
