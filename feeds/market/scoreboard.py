"""The year-to-date story as pure functions over daily history and live prices.

* **Period returns** (fractions) of ^RUT, ^GSPC and MAGS over 1 day, 5 days, month-to-date and
  year-to-date, and the RUT−SPX and RUT−MAGS spreads of each (basis points). Each period is
  measured from a completed session's close (its *base*): the session before the current one
  (1d), the fifth session before it (5d: a week's move), the last session of the previous month
  (MTD) and of the previous year (YTD), chosen from the exchange's sessions, not from whatever
  dates the history happens to hold: a base the history lacks is unknown (None), never guessed.
* **The outperformance streak**: completed sessions in a row in which one index's daily return
  beat the other's (a tie ends both), with the leader's longest streak this year and the
  context "the longest since DATE": the last day, before this streak began, on which an earlier
  streak by the same leader had run at least as long (its last session; None when no earlier one
  in the history did).
* **The record-high streak**: sessions in a row, ending with the latest, in which ^RUT's intraday
  high set a new all-time high (above every earlier session's high in the history); the current
  session counts as soon as it has made one, and ends the streak only once it closes without.
* **YTD breadth** over the index members: see :func:`feeds.market.analytics.breadth`.

Sessions are ISO dates (``"2026-01-15"``); histories are (date, value) pairs, oldest first.
Nothing here reads a clock or the calendar: the caller says which session is current and
which sessions exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from feeds.market.analytics import Breadth

if TYPE_CHECKING:
    from feeds.market.state import MarketState

#: the periods of the scoreboard, in display order (the JSON keys of ``r2k snapshot``)
PERIODS = ("1d", "5d", "mtd", "ytd")
#: the headline symbols and the spreads of the scoreboard, in display order
RUT, SPX, MAGS = "^RUT", "^GSPC", "MAGS"
SPREADS = {"RUT-SPX": (RUT, SPX), "RUT-MAGS": (RUT, MAGS)}
#: holdings older than this (days before the data's session) are flagged as stale
HOLDINGS_STALE_DAYS = 45


def period_bases(current: str, sessions: Sequence[str]) -> dict[str, str | None]:
    """The base session of each period for the session ``current``.

    ``sessions``: the exchange's sessions (ascending), covering at least the previous year's
    last session up to ``current``. 1d: the session before ``current``; 5d: the fifth before it;
    MTD: the last session before ``current``'s month; YTD: the last before its year. None where
    ``sessions`` does not reach that far.
    """
    before = [s for s in sessions if s < current]
    month = current[:7] + "-01"
    year = current[:4] + "-01-01"
    return {
        "1d": before[-1] if before else None,
        "5d": before[-5] if len(before) >= 5 else None,
        "mtd": next((s for s in reversed(before) if s < month), None),
        "ytd": next((s for s in reversed(before) if s < year), None),
    }


def period_returns(
    closes: Mapping[str, float], last: float | None, bases: Mapping[str, str | None]
) -> dict[str, float | None]:
    """``last / close[base] - 1`` per period (fractions); None where either is unknown."""
    out: dict[str, float | None] = {}
    for period in PERIODS:
        base = bases.get(period)
        anchor = closes.get(base) if base is not None else None
        out[period] = None if last is None or not anchor else last / anchor - 1.0
    return out


def spread_returns(
    small: Mapping[str, float | None], large: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Per period ``(r_small - r_large) * 10,000`` in basis points; None where either is."""
    out: dict[str, float | None] = {}
    for period in PERIODS:
        a, b = small.get(period), large.get(period)
        out[period] = None if a is None or b is None else (a - b) * 10_000.0
    return out


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive sessions ``start`` .. ``end`` (ISO) that ``leader`` won: ``sessions`` long."""

    leader: str
    start: str
    end: str
    sessions: int


@dataclass(frozen=True, slots=True)
class Streak:
    """The outperformance streak as of ``end`` (the latest completed session compared).

    ``leader`` is None (and ``sessions`` 0) when the latest session was a tie or no two
    sessions can be compared. ``longest_this_year``: the leader's longest streak ending in
    ``end``'s year, this one included. ``longest_since``: the last session before this streak
    on which an earlier streak by the same leader stood at least as long (None: none did).
    """

    leader: str | None = None
    sessions: int = 0
    longest_this_year: int = 0
    longest_since: str | None = None
    start: str | None = None
    end: str | None = None


def winners(
    a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]], names: tuple[str, str]
) -> list[tuple[str, str | None]]:
    """(session, the name whose daily return was higher, or None for a tie) for each session
    after the first that both histories have (returns between consecutive common sessions)."""
    da, db = dict(a), dict(b)
    dates = sorted(da.keys() & db.keys())
    out: list[tuple[str, str | None]] = []
    for prev, cur in itertools.pairwise(dates):
        ra = da[cur] / da[prev] - 1.0
        rb = db[cur] / db[prev] - 1.0
        out.append((cur, names[0] if ra > rb else names[1] if rb > ra else None))
    return out


def runs(won: Sequence[tuple[str, str | None]]) -> list[Run]:
    """The winners' runs in order (ties end a run and start none)."""
    out: list[Run] = []
    for leader, group in itertools.groupby(won, key=lambda w: w[1]):
        days = [d for d, _ in group]
        if leader is not None:
            out.append(Run(leader, days[0], days[-1], len(days)))
    return out


def outperformance_streak(
    a: Sequence[tuple[str, float]],
    b: Sequence[tuple[str, float]],
    names: tuple[str, str] = (RUT, SPX),
) -> Streak:
    """The streak of completed sessions from two closes histories (see :class:`Streak`)."""
    won = winners(a, b, names)
    if not won:
        return Streak()
    last_day, last_leader = won[-1]
    if last_leader is None:
        return Streak(end=last_day)
    all_runs = runs(won)
    now = all_runs[-1]
    year = now.end[:4]
    this_year = [r.sessions for r in all_runs if r.leader == now.leader and r.end[:4] == year]
    since = next(
        (
            r.end
            for r in reversed(all_runs[:-1])
            if r.leader == now.leader and r.sessions >= now.sessions
        ),
        None,
    )
    return Streak(now.leader, now.sessions, max(this_year), since, now.start, now.end)


@dataclass(frozen=True, slots=True)
class RecordHighs:
    """``sessions`` in a row (ending with the latest) with a new all-time intraday high of
    ``symbol``; ``high`` the all-time high (points), ``date`` the session it was set on;
    ``since`` the first session of the history it is an all-time high of (None: no history).

    ``this_year``: sessions of the latest session's year that set a new all-time high (the
    current one included once it has); ``sessions_since``: sessions after ``date`` up to the
    latest (0: the record was set in the latest session; the current session counts once it
    has traded); ``last``: the symbol's price now (points; None: unknown), for
    :attr:`distance`.
    """

    symbol: str = RUT
    sessions: int = 0
    high: float | None = None
    date: str | None = None
    since: str | None = None
    this_year: int = 0
    sessions_since: int | None = None
    last: float | None = None

    @property
    def distance(self) -> float | None:
        """``last - high`` in index points (negative: below the record; None: unknown)."""
        if self.last is None or self.high is None:
            return None
        return self.last - self.high

    @property
    def distance_pct(self) -> float | None:
        """``last / high - 1`` as a fraction (negative: below the record; None: unknown)."""
        if self.last is None or not self.high:
            return None
        return self.last / self.high - 1.0


def record_high_streak(
    highs: Sequence[tuple[str, float]],
    current: tuple[str, float] | None = None,
    symbol: str = RUT,
) -> RecordHighs:
    """The record-high streak from completed sessions' intraday highs (oldest first) and, when
    it has traded, the current (not yet completed) session's high so far.

    A session sets a new all-time high when its high is above every earlier session's; the first
    session of the history is not counted (nothing before it to beat). The current session adds
    one when its high is above all completed ones; until it has, the streak through the last
    completed session stands.
    """
    if not highs:
        return RecordHighs(symbol)
    values = np.array([h for _, h in highs], dtype=np.float64)
    prior = np.maximum.accumulate(values)
    new = np.zeros(len(values), dtype=bool)
    new[1:] = values[1:] > prior[:-1]
    broken = np.flatnonzero(~new)  # never empty: the first session is not a new high
    k = int(np.argmax(values))
    year = highs[-1][0][:4]
    this_year = sum(1 for (d, _), n in zip(highs, new, strict=True) if n and d[:4] == year)
    completed = RecordHighs(
        symbol,
        len(values) - 1 - int(broken[-1]),
        float(values[k]),
        highs[k][0],
        highs[0][0],
        this_year,
        len(values) - 1 - k,
    )
    return extend_record(completed, current)


@dataclass(frozen=True, slots=True)
class Adder:
    """One member's part in the index's year-to-date move: ``bp`` its contribution (weight at
    the YTD anchor × YTD return × 10,000, basis points of the index), ``points`` the same in
    index points (× the index's YTD base; None when that is unknown), ``ret`` its YTD return
    and ``weight`` its weight at the YTD anchor (fractions)."""

    symbol: str
    name: str
    bp: float
    points: float | None
    ret: float
    weight: float


@dataclass(frozen=True, slots=True)
class YtdMovers:
    """The members behind the index's year-to-date move.

    ``adders`` (largest contribution first) and ``detractors`` (most negative first), at most
    :data:`MOVERS` each; ``over_a_point`` members adding at least one index point (None: the
    index's YTD base is unknown); ``weight_up`` the share of the index weight at the YTD anchor
    held by members up on the year, over the members with both a weight and a YTD return
    (fraction; None: none has); ``index_points`` the index's own YTD move in points.
    """

    adders: tuple[Adder, ...] = ()
    detractors: tuple[Adder, ...] = ()
    over_a_point: int | None = None
    weight_up: float | None = None
    index_points: float | None = None


#: adders and detractors kept in a scoreboard
MOVERS = 10


def ytd_movers(
    symbols: Sequence[str],
    names: Sequence[str],
    weights: np.ndarray,
    rets: np.ndarray,
    index_base: float | None,
    index_last: float | None = None,
    n: int = MOVERS,
) -> YtdMovers:
    """The members' YTD contributions from their weights at the YTD anchor and YTD returns
    (position-aligned arrays, NaN where unknown) and the index's YTD base and price now
    (points). A cap-weighted index moves by ``Σ w_i r_i``, so the contributions in points add
    up to the index's move over the members with both figures."""
    with np.errstate(invalid="ignore"):
        bp = weights * rets * 10_000.0
    known = np.isfinite(bp)
    w_known = float(weights[known].sum())
    weight_up = float(weights[known & (rets > 0)].sum()) / w_known if w_known > 0 else None
    base = index_base if index_base is not None and index_base > 0 else None
    idx = np.flatnonzero(known)
    order = idx[np.argsort(-bp[idx], kind="stable")]

    def adder(i: int) -> Adder:
        points = bp[i] / 10_000.0 * base if base is not None else None
        return Adder(symbols[i], names[i], float(bp[i]), points, float(rets[i]), float(weights[i]))

    adders = tuple(adder(int(i)) for i in order[:n] if bp[i] > 0)
    detractors = tuple(adder(int(i)) for i in order[::-1][:n] if bp[i] < 0)
    over = None if base is None else int(np.count_nonzero(bp[idx] / 10_000.0 * base >= 1.0))
    points = None if base is None or index_last is None else index_last - base
    return YtdMovers(adders, detractors, over, weight_up, points)


@dataclass(frozen=True, slots=True)
class HoldingsInfo:
    """Which holdings the run uses: ``origin`` "given" (``--holdings``), "fetched" (the latest
    ``r2k holdings fetch``) or "bundled"; ``label`` (a file name or the bundled description),
    ``as_of`` (ISO), ``age_days`` before the data's session, and ``stale`` when older than
    :data:`HOLDINGS_STALE_DAYS`."""

    origin: str
    label: str
    as_of: str
    age_days: int | None = None
    stale: bool = False


@dataclass(frozen=True, slots=True)
class DailySeries:
    """A symbol's daily bars, oldest first: ``dates`` (ISO) and parallel float arrays (NaN where
    unknown). The completed sessions of about the past year, for the daily chart."""

    symbol: str
    dates: tuple[str, ...] = ()
    open: np.ndarray = field(default_factory=lambda: np.zeros(0))
    high: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low: np.ndarray = field(default_factory=lambda: np.zeros(0))
    close: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.dates)


@dataclass(frozen=True, slots=True)
class Scoreboard:
    """The year-to-date story of one frame (what ``r2k snapshot`` prints and the app's
    scoreboard shows).

    ``session``: the session the figures are measured at (ISO; None before any data);
    ``complete``: whether its close is known. ``returns`` maps "^RUT", "^GSPC", "MAGS" to
    fractions and "RUT-SPX", "RUT-MAGS" to basis points, each by period (:data:`PERIODS`);
    ``bases`` the session each period is measured from. ``breadth_ytd`` counts the members up
    and down since their YTD anchor (the close of ``ytd_anchor_date``); ``ytd_anchor_unknown``
    members have none yet ("YTD anchor unknown for 212 names"). ``rut_daily`` holds ^RUT's
    completed sessions of the past year and ``rut_today`` the current session's (open, high,
    low, last) while it is not complete. ``progress``: a history download still under way
    (what, done, total), else None. ``movers``: the members adding most to (and taking most
    from) the index's YTD move, and the share of the index weight up on the year (given the
    members' weights at the YTD anchor).
    """

    session: str | None
    complete: bool
    returns: dict[str, dict[str, float | None]]
    bases: dict[str, str | None]
    streak: Streak
    record_highs: RecordHighs
    breadth_ytd: Breadth
    ytd_anchor_unknown: int
    ytd_anchor_date: str | None
    holdings: HoldingsInfo | None
    rut_daily: DailySeries
    rut_today: tuple[float | None, float | None, float | None, float | None] | None = None
    progress: tuple[str, int, int] | None = None
    movers: YtdMovers = YtdMovers()

    def anchor_note(self) -> str | None:
        """``"YTD anchor unknown for 212 names"``, or None when every member has one."""
        n = self.ytd_anchor_unknown
        if not n:
            return None
        return f"YTD anchor unknown for {n:,} name{'' if n == 1 else 's'}"

    def streak_context(self, day: Callable[[str], str] = str) -> str:
        """What the streak stands against: "the longest in over 2 years (since 2023-07-28)"
        (two months or more), "the longest since 2026-11-17" (less), "the longest in the
        history (from 2021-11-18)" (no earlier streak of the leader as long), or "" (none).
        ``day`` writes a date (default: ISO)."""
        s = self.streak
        if s.leader is None or not s.sessions:
            return ""
        if s.longest_since is None:
            if s.sessions == 1:
                return ""
            start = self.record_highs.since  # the first session of ^RUT's history
            return "the longest in the history" + (f" (from {day(start)})" if start else "")
        import datetime as dt

        end = s.end or s.longest_since
        days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(s.longest_since)).days
        if days < 61:  # weeks: the date says more than "in 3 weeks"
            return f"the longest since {day(s.longest_since)}"
        return f"the longest in {elapsed(s.longest_since, end)} (since {day(s.longest_since)})"

    def streak_text(self) -> str:
        """``"small caps (^RUT) beat large caps 10 sessions in a row, the longest since
        2023-07-28"`` (or "the longest in the history"), with the longest this year."""
        s = self.streak
        if s.leader is None or not s.sessions:
            return "no streak (the last session was a tie)" if s.end else "no streak yet"
        who = (
            "small caps (^RUT) beat large caps"
            if s.leader == RUT
            else "large caps (^GSPC) beat small caps"
        )
        runs_ = f"{s.sessions} session{'' if s.sessions == 1 else 's'} in a row"
        if s.longest_since:
            context = f"the longest since {s.longest_since}"
        else:
            context = "the longest in the history" if s.sessions > 1 else ""
        year = (s.end or "")[:4]
        best = f"; longest in {year}: {s.longest_this_year}" if year else ""
        return f"{who} {runs_}{', ' + context if context else ''}{best}"


def elapsed(since: str, until: str) -> str:
    """How long from ``since`` to ``until`` (ISO dates) in a trader's words, rounded down:
    "9 days", "3 weeks", "7 months", "over a year", "over 2 years", "5 years" (calendar
    time: 365.25 days a year, 30.44 a month)."""
    import datetime as dt

    days = (dt.date.fromisoformat(until) - dt.date.fromisoformat(since)).days
    if days < 14:
        return f"{days} day{'' if days == 1 else 's'}"
    if days < 61:
        return f"{days // 7} weeks"
    if days < 365:
        return f"{int(days / 30.44)} months"
    years = days / 365.25
    whole = int(years)
    if years - whole < 1 / 12:  # within a month of a whole number of years
        return f"{whole} year{'' if whole == 1 else 's'}"
    return "over a year" if whole == 1 else f"over {whole} years"


def extend_record(completed: RecordHighs, current: tuple[str, float] | None) -> RecordHighs:
    """``completed`` (the completed sessions' record-high streak) with the current session's
    high so far: one more session when it is above the all-time high (see
    :func:`record_high_streak`); otherwise one more session since the record."""
    if current is None or completed.high is None:
        return completed
    # a record set in another year than the current session's: none yet in this one
    same_year = completed.date is not None and completed.date[:4] == current[0][:4]
    this_year = completed.this_year if same_year else 0
    if not current[1] > completed.high:
        since = completed.sessions_since
        return replace(
            completed, this_year=this_year, sessions_since=None if since is None else since + 1
        )
    return replace(
        completed,
        sessions=completed.sessions + 1,
        high=current[1],
        date=current[0],
        this_year=this_year + 1,
        sessions_since=0,
    )


DAILY_CHART_DAYS = 366  # the daily chart covers the sessions of about the past year


class ScoreboardBuilder:
    """Builds a :class:`Scoreboard` from a :class:`~feeds.market.state.MarketState` once a frame.

    What depends only on the daily history (bases, streak, the completed sessions' record
    highs, the daily chart) is recomputed only when the history, the session or its
    completeness changes; each frame adds the live prices: returns, the current session's high
    and YTD breadth (vectorised over the members).
    """

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._history: _History | None = None

    def build(
        self,
        st: MarketState,
        now_ms: int,
        members: np.ndarray,
        holdings: HoldingsInfo | None = None,
        progress: tuple[str, int, int] | None = None,
        weights: np.ndarray | None = None,
        symbols: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
    ) -> Scoreboard:
        """``members``: the state ids of the index members (YTD breadth); ``now_ms`` the
        feed's clock (a session is complete once it is past the close); ``weights`` the
        members' weights at the YTD anchor, ``symbols`` and ``names`` theirs, each
        position-aligned with ``members`` (without weights there are no movers)."""
        from feeds.market import analytics

        cur, complete = _current(st, now_ms)
        key = (st.daily.rev, st.session, cur, complete)
        if self._history is None or key != self._key:
            self._history = _history(st, cur, complete)
            self._key = key
        h = self._history
        returns: dict[str, dict[str, float | None]] = {}
        for symbol in (RUT, SPX, MAGS):
            last = _price_now(st, symbol, complete) if cur == _state_day(st) else None
            closes = h.closes[symbol]
            if last is None and cur is not None:
                last = closes.get(cur)
            r = period_returns(closes, last, h.bases)
            if r["1d"] is None and last is not None and h.bases["1d"] not in closes:
                i = st.ids.get(symbol)
                prev = st.prev_close[i] if i is not None else None
                r["1d"] = last / prev - 1.0 if prev else None
            returns[symbol] = r
        for name, (a, b) in SPREADS.items():
            returns[name] = spread_returns(returns[a], returns[b])
        record = h.record
        today = None
        if not complete and cur is not None and cur == _state_day(st):
            i = st.ids[RUT]
            hi, lo = st.daily.session_range()
            high = _num(hi[i])
            if high is not None:
                record = extend_record(record, (cur, high))
            today = (st.open[i], high, _num(lo[i]), st.last[i])
        ytd = np.array(st.ytd_base, dtype=np.float64)[members]
        last_all = np.array(st.last, dtype=np.float64)[members]
        unknown = int(np.count_nonzero(np.isnan(ytd)))
        ytd_rets = analytics.returns(last_all, ytd)
        breadth = analytics.breadth(ytd_rets)
        movers = YtdMovers()
        if weights is not None and len(weights) == len(members):
            base = h.closes[RUT].get(h.bases["ytd"] or "")
            rut_last = returns[RUT]["ytd"]
            last_rut = None if rut_last is None or base is None else base * (1 + rut_last)
            syms = symbols if symbols is not None else [st.symbols[int(i)] for i in members]
            movers = ytd_movers(syms, names or syms, weights, ytd_rets, base, last_rut)
        i_rut = st.ids.get(RUT)
        record = replace(record, last=_num(st.last[i_rut]) if i_rut is not None else None)
        return Scoreboard(
            session=cur,
            complete=complete,
            returns=returns,
            bases=h.bases,
            streak=h.streak,
            record_highs=record,
            breadth_ytd=breadth,
            ytd_anchor_unknown=unknown,
            ytd_anchor_date=h.ytd_anchor,
            holdings=holdings,
            rut_daily=h.rut_daily,
            rut_today=today,
            progress=progress,
            movers=movers,
        )


@dataclass(slots=True)
class _History:
    closes: dict[str, dict[str, float]]
    bases: dict[str, str | None]
    streak: Streak
    record: RecordHighs
    rut_daily: DailySeries
    ytd_anchor: str | None


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)


def _state_day(st: MarketState) -> str | None:
    return st.session_date.isoformat() if st.session_date else None


def _current(st: MarketState, now_ms: int) -> tuple[str | None, bool]:
    """The session the figures are measured at and whether its close is known: the data's
    session (complete once the feed's clock is past its close, or the feed gave its close),
    else the latest session of ^RUT's daily history (complete by definition)."""
    day = _state_day(st)
    if day is not None:
        closed = 0 < st.session_close_ms <= now_ms
        rows = st.daily.closes.get(RUT) or []
        return day, closed or bool(rows and rows[-1][0] == day)
    rows = st.daily.closes.get(RUT) or []
    return (rows[-1][0], True) if rows else (None, False)


def _price_now(st: MarketState, symbol: str, complete: bool) -> float | None:
    """The symbol's price in the current session: its close once complete, else its last."""
    i = st.ids.get(symbol)
    if i is None:
        return None
    if complete:
        return _num(float(st.daily.session_prices()[i]))
    return st.last[i]


def _history(st: MarketState, cur: str | None, complete: bool) -> _History:
    import datetime as dt

    from feeds.market import calendar

    closes: dict[str, dict[str, float]] = {}
    for symbol in (RUT, SPX, MAGS):
        rows = dict(st.daily.closes.get(symbol) or ())
        if complete and cur is not None and cur not in rows and cur == _state_day(st):
            close = _price_now(st, symbol, True)
            if close is not None:
                rows[cur] = close  # the feed's clock is past the close: the session counts
        closes[symbol] = rows
    bases: dict[str, str | None] = dict.fromkeys(PERIODS)
    ytd_anchor = None
    if cur is not None:
        day = dt.date.fromisoformat(cur)
        sessions = calendar.sessions_between(dt.date(day.year - 1, 12, 1), day)
        bases = period_bases(cur, [s.isoformat() for s in sessions])
        ytd_anchor = calendar.last_session_before(dt.date(day.year, 1, 1)).isoformat()
    rut = sorted(closes[RUT].items())
    spx = sorted(closes[SPX].items())
    streak = outperformance_streak(rut, spx)
    ohlc = _with_session_bar(st, cur, complete)
    highs = [(d, _high(ohlc.get(d), c)) for d, c in rut]
    record = record_high_streak(highs)
    return _History(closes, bases, streak, record, _daily_series(RUT, rut, ohlc, cur), ytd_anchor)


def _with_session_bar(
    st: MarketState, cur: str | None, complete: bool
) -> Mapping[str, tuple[float | None, float | None, float | None]]:
    """^RUT's daily (open, high, low) by date, with the current session's own bar once it is
    complete and the daily history has no high for it: a record high is the session's intraday
    high after the bell as before it, never its close (issue 19 §6)."""
    ohlc = st.daily.ohlc.get(RUT, {})
    i = st.ids.get(RUT)
    if not complete or cur is None or cur != _state_day(st) or i is None:
        return ohlc
    known = ohlc.get(cur)
    if known is not None and known[1] is not None:
        return ohlc
    hi, lo = st.daily.session_range()
    bar = (_num(st.open[i]), _num(hi[i]), _num(lo[i]))
    if bar[1] is None:
        return ohlc
    return {**ohlc, cur: bar}


def _high(bar: tuple[float | None, float | None, float | None] | None, close: float) -> float:
    """A session's intraday high, or its close where no high is known."""
    high = bar[1] if bar is not None else None
    return close if high is None else max(high, close)


def _daily_series(
    symbol: str,
    rows: list[tuple[str, float]],
    ohlc: Mapping[str, tuple[float | None, float | None, float | None]],
    cur: str | None,
) -> DailySeries:
    import datetime as dt

    if not rows:
        return DailySeries(symbol)
    end = dt.date.fromisoformat(cur or rows[-1][0])
    start = (end - dt.timedelta(days=DAILY_CHART_DAYS)).isoformat()
    recent = [(d, c) for d, c in rows if d >= start]
    nan = float("nan")
    bars = [ohlc.get(d) or (None, None, None) for d, _ in recent]

    def column(k: int) -> np.ndarray:
        return np.array([nan if b[k] is None else b[k] for b in bars], dtype=np.float64)

    return DailySeries(
        symbol,
        tuple(d for d, _ in recent),
        column(0),
        column(1),
        column(2),
        np.array([c for _, c in recent], dtype=np.float64),
    )
