"""The scoreboard (issue 11) against hand-computed values on a small daily history written here:
returns by period and their spreads, the outperformance streak with its context, the
record-high streak, YTD breadth and the anchors it lacks; then the same through the pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest

from feeds.events import DailyBars, DailyCloses, Event, FeedState, FeedStatus, SessionCloses, Tick
from feeds.feed import Feed, FeedOptions
from feeds.market.analytics import Breadth
from feeds.market.calendar import ET
from feeds.market.scoreboard import (
    Adder,
    DailySeries,
    RecordHighs,
    Scoreboard,
    Streak,
    YtdMovers,
    elapsed,
    outperformance_streak,
    period_bases,
    period_returns,
    record_high_streak,
    spread_returns,
    ytd_movers,
)
from feeds.pipeline import Pipeline
from feeds.reference.holdings import Constituent, Holdings

# NYSE sessions from the last of 2025 to 2026-02-03 (a Tuesday); MLK day (01-19) is a holiday
SESSIONS = [
    "2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02", "2026-01-05", "2026-01-06",
    "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12", "2026-01-13", "2026-01-14",
    "2026-01-15", "2026-01-16", "2026-01-20", "2026-01-21", "2026-01-22", "2026-01-23",
    "2026-01-26", "2026-01-27", "2026-01-28", "2026-01-29", "2026-01-30", "2026-02-02",
    "2026-02-03",
]  # fmt: skip
RUT = {"2025-12-31": 2000.0, "2026-01-27": 2080.0, "2026-01-30": 2100.0, "2026-02-02": 2120.0}
SPX = {"2025-12-31": 6000.0, "2026-01-27": 6060.0, "2026-01-30": 6030.0, "2026-02-02": 6090.0}


def test_period_bases_come_from_the_sessions_not_the_history() -> None:
    assert period_bases("2026-02-03", SESSIONS) == {
        "1d": "2026-02-02",  # the session before
        "5d": "2026-01-27",  # the fifth before: 01-27, 28, 29, 30, 02-02 are the week
        "mtd": "2026-01-30",  # the last session of January
        "ytd": "2025-12-31",  # the last session of 2025
    }
    # early January: month-to-date and year-to-date share their base, 5d reaches into December
    assert period_bases("2026-01-06", SESSIONS) == {
        "1d": "2026-01-05",
        "5d": "2025-12-29",
        "mtd": "2025-12-31",
        "ytd": "2025-12-31",
    }
    assert period_bases("2025-12-30", SESSIONS)["5d"] is None  # the sessions do not reach back


def test_period_returns_and_spreads_by_hand() -> None:
    bases = period_bases("2026-02-03", SESSIONS)
    rut = period_returns(RUT, 2140.0, bases)
    spx = period_returns(SPX, 6090.0, bases)
    assert rut == pytest.approx(
        {"1d": 2140 / 2120 - 1, "5d": 2140 / 2080 - 1, "mtd": 2140 / 2100 - 1, "ytd": 0.07}
    )
    assert spx == pytest.approx(
        {"1d": 0.0, "5d": 6090 / 6060 - 1, "mtd": 6090 / 6030 - 1, "ytd": 0.015}
    )
    spread = spread_returns(rut, spx)
    assert spread["1d"] == pytest.approx(94.3396, abs=1e-4)  # (0.0094340 - 0) * 10,000
    assert spread["5d"] == pytest.approx(238.9566, abs=1e-4)  # 0.0288462 - 0.0049505
    assert spread["mtd"] == pytest.approx(90.9737, abs=1e-4)  # 0.0190476 - 0.0099502
    assert spread["ytd"] == pytest.approx(550.0)  # 7 % against 1.5 %
    # a base the history lacks is unknown, never another day's close
    lacking = {d: c for d, c in RUT.items() if d != bases["mtd"]}
    assert period_returns(lacking, 2140.0, bases)["mtd"] is None
    assert spread_returns(period_returns(lacking, 2140.0, bases), spx)["mtd"] is None
    assert period_returns(RUT, None, bases) == dict.fromkeys(("1d", "5d", "mtd", "ytd"))


def closes_from(returns: list[float], dates: list[str], start: float) -> list[tuple[str, float]]:
    """Closes on ``dates`` from daily returns: the first close is ``start``."""
    out = [(dates[0], start)]
    for d, r in zip(dates[1:], returns, strict=True):
        out.append((d, out[-1][1] * (1 + r)))
    return out


# 16 sessions, late 2025 into 2026; who won each of the 15 sessions after the first:
#   R R R S R R R R R S = R R R        (R small caps, S large caps, = a tie)
DAYS = [
    "2025-12-17", "2025-12-18", "2025-12-19", "2025-12-22", "2025-12-23", "2025-12-24",
    "2025-12-26", "2025-12-29", "2025-12-30", "2026-01-02", "2026-01-05", "2026-01-06",
    "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12",
]  # fmt: skip
WINNERS = "RRRSRRRRRS=RRR"


def two_histories(winners: str, days: list[str]) -> tuple[list[tuple[str, float]], ...]:
    small = [0.01 if w == "R" else -0.01 if w == "S" else 0.0 for w in winners]
    large = [0.0 for _ in winners]  # a tie: both unchanged
    return closes_from(small, days, 2000.0), closes_from(large, days, 6000.0)


def test_the_streak_its_longest_this_year_and_since_when() -> None:
    rut, spx = two_histories("RRRSRRRRRS=RRR", DAYS[:15])
    s = outperformance_streak(rut, spx)
    # three sessions now (01-07, 08, 09); the small caps' earlier runs: 3 (12-18 .. 12-22) and
    # 5 (12-24 .. 2026-01-02), which stood at least as long and ended in this year too
    assert s == Streak("^RUT", 3, 5, "2026-01-02", "2026-01-07", "2026-01-09")
    # six sessions now; the earlier runs (4 to 12-23, 3 to 12-30) were shorter
    rut, spx = two_histories("RRRRSRRRSRRRRRR", DAYS)
    s = outperformance_streak(rut, spx)
    assert (s.leader, s.sessions, s.start, s.end) == ("^RUT", 6, "2026-01-05", "2026-01-12")
    assert s.longest_this_year == 6 and s.longest_since is None  # the longest in the history
    # large caps leading: the same figures for ^GSPC
    rut, spx = two_histories("RRSSSRSS", DAYS[:9])
    s = outperformance_streak(rut, spx)
    assert s == Streak("^GSPC", 2, 3, "2025-12-24", "2025-12-29", "2025-12-30")


def test_a_tie_ends_every_streak() -> None:
    rut, spx = two_histories("RRR=", DAYS[:5])
    s = outperformance_streak(rut, spx)
    assert (s.leader, s.sessions, s.end) == (None, 0, "2025-12-23")
    assert outperformance_streak(rut[:1], spx[:1]) == Streak()  # one session: nothing compared
    # sessions compared only where both histories have a close
    rut, spx = two_histories("RRR", DAYS[:4])
    assert outperformance_streak(rut, spx[:3]).sessions == 2


def test_record_high_streak_by_hand() -> None:
    highs = list(zip(DAYS, [100.0, 105.0, 103.0, 106.0, 107.0, 108.0], strict=False))
    # 105 (a record), 103 (not), then 106, 107, 108 each above everything before
    # four record sessions in 2025 (105, 106, 107, 108), the last one the latest session
    assert record_high_streak(highs) == RecordHighs("^RUT", 3, 108.0, DAYS[5], DAYS[0], 4, 0)
    # the current session counts once it has made a new high, and not before; a new year's
    # first session starts the year's count
    new_year = record_high_streak(highs, ("2026-01-02", 108.5))
    assert (new_year.sessions, new_year.this_year, new_year.sessions_since) == (4, 1, 0)
    none_yet = record_high_streak(highs, ("2026-01-02", 107.5))
    assert (none_yet.sessions, none_yet.this_year, none_yet.sessions_since) == (3, 0, 1)
    # a completed session without a new high ends it; a later new high starts again at 1
    lower = [*highs, ("2025-12-26", 107.0)]
    assert record_high_streak(lower) == RecordHighs("^RUT", 0, 108.0, DAYS[5], DAYS[0], 4, 1)
    assert record_high_streak(lower, ("2025-12-29", 107.5)).sessions_since == 2
    assert record_high_streak(lower, ("2025-12-29", 109.0)).this_year == 5
    assert record_high_streak(lower, ("2026-01-02", 109.0)) == RecordHighs(
        "^RUT", 1, 109.0, "2026-01-02", DAYS[0], 1, 0
    )
    # the distance to the record, in points and as a fraction of it
    below = replace(record_high_streak(highs), last=102.6)
    assert below.distance == pytest.approx(-5.4) and below.distance_pct == pytest.approx(-0.05)
    assert RecordHighs().distance is None and replace(below, last=None).distance_pct is None
    assert record_high_streak(highs[:1]).sessions == 0  # the first session beats nothing
    assert record_high_streak([]) == RecordHighs("^RUT")


def test_elapsed_in_a_traders_words() -> None:
    assert elapsed("2026-01-02", "2026-01-03") == "1 day"
    assert elapsed("2026-01-02", "2026-01-15") == "13 days"
    assert elapsed("2026-01-02", "2026-02-01") == "4 weeks"
    assert elapsed("2026-01-02", "2026-08-01") == "6 months"
    assert elapsed("2025-01-02", "2026-01-10") == "1 year"
    assert elapsed("2024-07-28", "2026-01-10") == "over a year"
    assert elapsed("2023-07-28", "2026-01-10") == "over 2 years"


def test_the_streaks_context() -> None:
    def context(streak: Streak, since: str | None = "2021-11-18") -> str:
        board = Scoreboard(
            "2026-11-27", False, {}, {}, streak, RecordHighs(since=since), Breadth(0, 0, 0),
            0, None, None, DailySeries("^RUT"),
        )  # fmt: skip
        return board.streak_context()

    run = Streak("^RUT", 10, 10, "2023-07-28", "2026-11-13", "2026-11-27")
    assert context(run) == "the longest in over 3 years (since 2023-07-28)"
    assert context(replace(run, longest_since="2026-11-03")) == "the longest since 2026-11-03"
    record = replace(run, longest_since=None)
    assert context(record) == "the longest in the history (from 2021-11-18)"
    assert context(replace(run, longest_since=None), None) == "the longest in the history"
    assert context(replace(run, sessions=1, longest_since=None)) == ""  # one session: no record
    assert context(Streak(end="2026-11-27")) == ""  # a tie


def test_ytd_movers_by_hand() -> None:
    nan = float("nan")
    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    weights = np.array([0.04, 0.02, 0.01, 0.03, nan, 0.01])
    rets = np.array([0.25, 0.60, -0.30, -0.10, 0.50, nan])
    m = ytd_movers(symbols, [s.lower() for s in symbols], weights, rets, 2000.0, 2100.0, n=2)
    # bp: AAA 100, BBB 120, CCC -30, DDD -30 (EEE has no weight, FFF no YTD return)
    assert [a.symbol for a in m.adders] == ["BBB", "AAA"]
    assert [a.points for a in m.adders] == pytest.approx([24.0, 20.0])  # x 2000 / 10,000
    assert m.adders[0] == Adder("BBB", "bbb", pytest.approx(120.0), pytest.approx(24.0), 0.6, 0.02)
    assert [a.symbol for a in m.detractors] == ["DDD", "CCC"]  # the same bp: the later first
    assert m.over_a_point == 2 and m.index_points == pytest.approx(100.0)
    assert m.weight_up == pytest.approx(0.06 / 0.10)  # AAA, BBB of AAA..DDD
    # no index base: contributions in bp only, no point count
    m = ytd_movers(symbols, symbols, weights, rets, None)
    assert m.adders[0].points is None and m.over_a_point is None and m.index_points is None
    assert ytd_movers([], [], np.zeros(0), np.zeros(0), 2000.0) == YtdMovers(over_a_point=0)


# --- through the pipeline -----------------------------------------------------------------------


def et_ms(day: str, hhmm: str) -> int:
    t = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(hhmm), ET)
    return int(t.timestamp() * 1000)


class ListFeed(Feed):
    def __init__(self, events: list[Event], now_ms: int) -> None:
        super().__init__("list", FeedOptions())
        self.events = events
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        for ev in self.events:
            yield ev


MEMBERS = Holdings(
    dt.date(2025, 11, 5),
    [
        Constituent("AAA", "Alpha", "Energy", 0.02, 10.0),
        Constituent("BBB", "Beta", "Energy", 0.01, 20.0),
        Constituent("CCC", "Gamma", "Energy", 0.01, 30.0),
        Constituent("DDD", "Delta", "Energy", 0.01, 40.0),
    ],
    "test",
    origin="given",
)


def history() -> list[Event]:
    """^RUT bars with highs (two record sessions at the end), ^GSPC and MAGS closes, and the
    members' closes of the last session of 2025 (DDD has only its November close)."""
    days = ["2025-12-31", "2026-01-27", "2026-01-28", "2026-01-29", "2026-01-30", "2026-02-02"]
    rut = [2000.0, 2080.0, 2070.0, 2090.0, 2100.0, 2120.0]
    highs = [2150.0, 2100.0, 2090.0, 2095.0, 2155.0, 2160.0]  # 01-30, 02-02: records
    spx = [6000.0, 6060.0, 6070.0, 6065.0, 6030.0, 6090.0]
    mags = [60.0, 61.0, 61.0, 61.5, 61.2, 60.5]
    return [
        FeedStatus(FeedState.LIVE, "test"),
        DailyBars("^RUT", [(d, c, h, c, c) for d, c, h in zip(days, rut, highs, strict=True)]),
        DailyCloses("^GSPC", list(zip(days, spx, strict=True))),
        DailyCloses("MAGS", list(zip(days, mags, strict=True))),
        SessionCloses("2025-12-31", {"AAA": 10.0, "BBB": 20.0, "CCC": 30.0}),
        SessionCloses("2025-11-05", {"DDD": 40.0}),  # not a year-end: no YTD anchor
    ]


def session(*prices: tuple[str, float], at: str = "10:00") -> list[Event]:
    ts = et_ms("2026-02-03", at)
    return [Tick(s, p, ts) for s, p in prices]


async def run(events: list[Event], now_ms: int) -> Pipeline:
    p = Pipeline(ListFeed(events, now_ms), MEMBERS)
    await p.run()
    return p


async def test_the_pipeline_scoreboard_by_hand() -> None:
    live = session(
        ("^RUT", 2140.0), ("^GSPC", 6090.0), ("MAGS", 60.5),
        ("AAA", 11.0), ("BBB", 19.0), ("CCC", 30.0), ("DDD", 44.0),
    )  # fmt: skip
    p = await run([*history(), *live], et_ms("2026-02-03", "10:01"))
    sb = p.frame().scoreboard
    assert sb is not None
    assert (sb.session, sb.complete) == ("2026-02-03", False)
    assert sb.bases == period_bases("2026-02-03", SESSIONS)
    assert sb.returns["^RUT"] == pytest.approx(
        {"1d": 2140 / 2120 - 1, "5d": 2140 / 2080 - 1, "mtd": 2140 / 2100 - 1, "ytd": 0.07}
    )
    assert sb.returns["MAGS"]["ytd"] == pytest.approx(60.5 / 60 - 1)
    assert sb.returns["RUT-SPX"]["ytd"] == pytest.approx(550.0)
    assert sb.returns["RUT-MAGS"]["1d"] == pytest.approx((2140 / 2120 - 1) * 10_000)
    # the completed sessions: 01-27 small caps (+4 % vs +1 %), 01-28 large (-0.48 % vs +0.17 %),
    # 01-29 and 01-30 small, 02-02 large (+0.94 % vs +1.0 %): large caps, one session, the
    # longest since their one on 01-28
    assert sb.streak == Streak("^GSPC", 1, 1, "2026-01-28", "2026-02-02", "2026-02-02")
    # today's high so far (2140) is no record: the streak through 02-02 stands
    assert sb.record_highs.sessions == 2 and sb.record_highs.high == 2160.0
    assert sb.rut_today == (2140.0, 2140.0, 2140.0, 2140.0)  # open, high, low, last
    # YTD breadth: AAA +10 %, BBB -5 %, CCC unchanged; DDD has no year-end close
    assert sb.breadth_ytd == Breadth(1, 1, 1)
    assert sb.ytd_anchor_unknown == 1 and sb.anchor_note() == "YTD anchor unknown for 1 name"
    assert sb.ytd_anchor_date == "2025-12-31"
    assert sb.rut_daily.dates[-1] == "2026-02-02" and sb.rut_daily.high[-1] == 2160.0
    assert sb.holdings is not None
    assert (sb.holdings.origin, sb.holdings.as_of, sb.holdings.stale) == (
        "given",
        "2025-11-05",
        True,
    )
    assert sb.holdings.age_days == 90  # 2025-11-05 to 2026-02-03: older than 45 days
    # records this year (01-30, 02-02), one session since (today's 2140 is none), and
    # 20 points (-0.93 %) below the record 2160
    r = sb.record_highs
    assert (r.this_year, r.sessions_since, r.last) == (2, 1, 2140.0)
    assert r.distance == pytest.approx(-20.0) and r.distance_pct == pytest.approx(2140 / 2160 - 1)
    # movers: the weights stay as of 2025-11-05 (no ^RUT close then, 4 % of the index priced);
    # AAA 0.02 x +10 % = 20 bp = 4 points of 2000, BBB 0.01 x -5 % = -5 bp = -1 point
    m = sb.movers
    assert [(a.symbol, a.name) for a in m.adders] == [("AAA", "Alpha")]
    assert m.adders[0].bp == pytest.approx(20.0) and m.adders[0].points == pytest.approx(4.0)
    assert [a.symbol for a in m.detractors] == ["BBB"]
    assert m.detractors[0].points == pytest.approx(-1.0)
    assert m.over_a_point == 1 and m.index_points == pytest.approx(140.0)
    assert m.weight_up == pytest.approx(0.5)  # AAA's 0.02 of the 0.04 with a YTD return


async def test_a_session_counts_once_its_close_is_known() -> None:
    events = [*history(), *session(("^RUT", 2170.0), ("^GSPC", 6080.0), ("MAGS", 61.0))]
    during = await run(events, et_ms("2026-02-03", "15:59"))
    sb = during.frame().scoreboard
    assert sb is not None and not sb.complete
    # a new intraday high counts at once; the streak waits for the close
    assert sb.record_highs.sessions == 3 and sb.record_highs.high == 2170.0
    assert (sb.streak.leader, sb.streak.sessions) == ("^GSPC", 1)
    after = await run(events, et_ms("2026-02-03", "16:00"))
    sb = after.frame().scoreboard
    assert sb is not None and sb.complete
    # the feed's clock is past the close: today (+2.4 % vs -0.16 %) is a small-cap session
    assert (sb.streak.leader, sb.streak.sessions, sb.streak.end) == ("^RUT", 1, "2026-02-03")
    assert sb.record_highs.sessions == 3 and sb.rut_today is None
