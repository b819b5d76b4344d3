"""Per-session values roll over at each new NYSE session, on the data's own clock.

The right values of ``cases/session-rollover`` (real ^RUT closes, copied from the shared cases),
and a replay over three sessions with a holiday and an early close between them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.events import DailyCloses, Tick
from feeds.feed import FeedOptions
from feeds.frame import Frame
from feeds.market.state import MarketState
from feeds.pipeline import Pipeline
from feeds.storage.replay import ReplayFeed
from tests.conftest import write_csv, write_holdings
from tui.cli import main

CASES = Path(__file__).parents[1] / "cases" / "session-rollover"
ET = ZoneInfo("America/New_York")


def et(day: str, hhmm: str) -> int:
    """Epoch ms of an ET wall time: et("2025-11-26", "09:30")."""
    h, m = (int(x) for x in hhmm.split(":"))
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=ET).timestamp() * 1000)


def snapshot(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    status = main(["snapshot", "--speed", "0", "--json", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


# --- the shared cases ------------------------------------------------------------------------


def test_case_open_anchor_high_and_low_are_the_second_sessions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    snap = snapshot(capsys, "--feed", f"replay:{CASES / 'two_sessions.csv'}", "--anchor", "open")
    rut = snap["indices"]["^RUT"]
    assert snap["session"] == "2026-02-23"
    # Feb 23's own open, not Feb 20's 2660.29
    assert rut["anchor"] == rut["open"] == pytest.approx(2654.8325)
    assert (rut["high"], rut["low"]) == (pytest.approx(2654.8325), pytest.approx(2620.9885))
    assert rut["prev_close"] == pytest.approx(2663.78)
    assert rut["return"] == pytest.approx(2620.9885 / 2654.8325 - 1)


def test_case_prev_anchor_comes_from_the_sidecar_of_the_second_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = CASES / "two_sessions_noprev.csv"
    snap = snapshot(capsys, "--feed", f"replay:{path}", "--anchor", "prev")
    rut = snap["indices"]["^RUT"]
    # Feb 20's close, not Feb 19's 2665.0901 (which was the previous close on Feb 20)
    assert rut["anchor"] == rut["prev_close"] == pytest.approx(2663.78)
    assert rut["open"] == pytest.approx(2654.8325)


def test_case_prev_close_without_sidecar_is_the_last_sessions_last_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare.csv"  # the same ticks with no sidecar and no prev_close column
    bare.write_bytes((CASES / "two_sessions_noprev.csv").read_bytes())
    snap = snapshot(capsys, "--feed", f"replay:{bare}", "--anchor", "prev")
    assert snap["indices"]["^RUT"]["anchor"] == pytest.approx(2663.78)


# --- three sessions: a holiday and an early close between them -----------------------------

# Wed 26 Nov 2025 (a full session), Thu 27 Nov (Thanksgiving: shut), Fri 28 Nov (closes at
# 13:00), Mon 1 Dec. AAA has no prev_close column and no daily closes: each previous close is
# the last session's own close. ^RUT has a sidecar up to Nov 26 (whose official close, 2410.5,
# wins over the last tick's 2410).
ROWS: list[tuple[int, str, float]] = [
    (et("2025-11-26", "08:00"), "AAA", 49.0),  # pre-market: not the open
    (et("2025-11-26", "09:30"), "AAA", 50.0),
    (et("2025-11-26", "09:30"), "^RUT", 2400.0),
    (et("2025-11-26", "12:00"), "AAA", 52.0),
    (et("2025-11-26", "12:00"), "^RUT", 2420.0),
    (et("2025-11-26", "15:59"), "AAA", 49.5),
    (et("2025-11-26", "15:59"), "^RUT", 2390.0),
    (et("2025-11-26", "16:00"), "AAA", 51.0),  # the close
    (et("2025-11-26", "16:00"), "^RUT", 2410.0),
    (et("2025-11-26", "17:30"), "AAA", 53.0),  # post-market: neither the close nor the high
    (et("2025-11-27", "10:00"), "AAA", 52.5),  # a print on the holiday: no session
    (et("2025-11-28", "09:30"), "AAA", 51.5),
    (et("2025-11-28", "09:30"), "^RUT", 2415.0),
    (et("2025-11-28", "12:59"), "AAA", 52.2),
    (et("2025-11-28", "13:00"), "AAA", 51.8),  # the early close
    (et("2025-11-28", "13:00"), "^RUT", 2430.0),
    (et("2025-11-28", "14:00"), "AAA", 55.0),  # after the early close: post-market
    (et("2025-12-01", "07:00"), "AAA", 54.0),  # Monday's pre-market: the new session's, not open
    (et("2025-12-01", "09:30"), "AAA", 50.0),
    (et("2025-12-01", "09:30"), "^RUT", 2425.0),
    (et("2025-12-01", "10:00"), "AAA", 49.0),
    (et("2025-12-01", "10:00"), "^RUT", 2440.0),
]


def three_sessions(tmp_path: Path) -> Path:
    path = write_csv(tmp_path / "three.csv", "ts,symbol,price", ROWS)
    (tmp_path / "three.csv.daily.csv").write_text(
        "symbol,date,close\n^RUT,2025-11-25,2380\n^RUT,2025-11-26,2410.5\n", encoding="utf-8"
    )
    return path


async def frames_at(path: Path, stops: set[int], anchor: str = "prev") -> dict[int, Frame]:
    """Replay ``path`` through a pipeline, taking a frame after the rows at each of ``stops``."""
    feed = ReplayFeed(f"replay:{path}", path, FeedOptions(speed=0))
    pipeline = Pipeline(feed, anchor=anchor)
    out: dict[int, Frame] = {}
    async with feed:
        events = [ev async for ev in feed]
    for k, ev in enumerate(events):
        pipeline.handle(ev)
        nxt = events[k + 1] if k + 1 < len(events) else None
        if (
            isinstance(ev, Tick)
            and ev.ts in stops
            and not (isinstance(nxt, Tick) and nxt.ts == ev.ts)
        ):
            out[ev.ts] = pipeline.frame()
    return out


async def test_three_sessions_with_a_holiday_and_an_early_close(tmp_path: Path) -> None:
    wed, thu, fri = et("2025-11-26", "17:30"), et("2025-11-27", "10:00"), et("2025-11-28", "14:00")
    mon_pre, mon = et("2025-12-01", "07:00"), et("2025-12-01", "10:00")
    frames = await frames_at(three_sessions(tmp_path), {wed, thu, fri, mon_pre, mon})

    # Wednesday, after the post-market print: the range and close are regular hours'
    row = frames[wed].board.find("AAA")
    assert row is not None
    assert (row.high, row.low) == (52.0, 49.5)  # not the pre-market 49, not the post 53
    assert row.last == 53.0 and row.count == 6
    assert frames[wed].session_date == "2025-11-26"
    rut = frames[wed].quotes["^RUT"]
    assert rut.prev_close == 2380.0 and rut.open == 2400.0  # the sidecar's Nov 25 close

    # Thanksgiving: still Wednesday's session (a print on a holiday opens nothing)
    row = frames[thu].board.find("AAA")
    assert row is not None and frames[thu].session_date == "2025-11-26"
    assert (row.high, row.low, row.count) == (52.0, 49.5, 7)

    # Friday (13:00 close), after the 14:00 post-market print
    f = frames[fri]
    row = f.board.find("AAA")
    assert row is not None and f.session_date == "2025-11-28"
    # previous close: Wednesday's 16:00 close, not the post-market 53 or the holiday's 52.5
    assert row.ret == pytest.approx(55.0 / 51.0 - 1)
    assert (row.high, row.low, row.count) == (52.2, 51.5, 4)
    rut = f.quotes["^RUT"]
    assert rut.prev_close == 2410.5  # the sidecar's official close wins over the last tick
    assert (rut.open, rut.high, rut.low, rut.count) == (2415.0, 2430.0, 2415.0, 2)

    # Monday's pre-market: a new session, no open yet; the range so far is the pre-market's
    f = frames[mon_pre]
    row = f.board.find("AAA")
    assert row is not None and f.session_date == "2025-12-01"
    assert row.ret == pytest.approx(54.0 / 51.8 - 1)  # Friday's 13:00 close, not 14:00's 55
    assert (row.high, row.low, row.count) == (54.0, 54.0, 1)
    rut = f.quotes["^RUT"]
    assert rut.prev_close == 2430.0  # no sidecar row for Friday: its own close
    assert (rut.open, rut.high, rut.low, rut.count) == (None, None, None, 0)

    # Monday 10:00: open, range and count are Monday's alone
    f = frames[mon]
    row = f.board.find("AAA")
    assert row is not None
    assert (row.high, row.low, row.count) == (50.0, 49.0, 3)
    rut = f.quotes["^RUT"]
    assert (rut.prev_close, rut.open, rut.high, rut.low) == (2430.0, 2425.0, 2440.0, 2425.0)
    assert f.total_ticks == len(ROWS)  # the run's total counts every session


async def test_each_sessions_open_anchor_and_chart(tmp_path: Path) -> None:
    wed, fri, mon = et("2025-11-26", "17:30"), et("2025-11-28", "14:00"), et("2025-12-01", "10:00")
    frames = await frames_at(three_sessions(tmp_path), {wed, fri, mon}, anchor="open")
    assert frames[wed].board.find("AAA").ret == pytest.approx(53.0 / 50.0 - 1)  # type: ignore[union-attr]
    assert frames[fri].board.find("AAA").ret == pytest.approx(55.0 / 51.5 - 1)  # type: ignore[union-attr]
    assert frames[mon].board.find("AAA").ret == pytest.approx(49.0 / 50.0 - 1)  # type: ignore[union-attr]
    assert frames[mon].quotes["^RUT"].anchor == 2425.0


async def test_the_chart_holds_the_current_session_only(tmp_path: Path) -> None:
    path = three_sessions(tmp_path)
    feed = ReplayFeed(f"replay:{path}", path, FeedOptions(speed=0))
    pipeline = Pipeline(feed)
    await pipeline.run()
    times, prices = pipeline.state.chart("AAA")
    assert times.tolist() == [et("2025-12-01", h) for h in ("07:00", "09:30", "10:00")]
    assert prices.tolist() == [54.0, 50.0, 49.0]
    times, prices = pipeline.state.chart("^RUT")
    assert prices.tolist() == [2425.0, 2440.0]
    # the completed sessions' closes are kept as daily closes (the streak, weights at anchor)
    assert pipeline.state.daily.closes["AAA"] == [("2025-11-26", 51.0), ("2025-11-28", 51.8)]
    assert pipeline.state.daily.closes["^RUT"] == [
        ("2025-11-25", 2380.0),
        ("2025-11-26", 2410.5),
        ("2025-11-28", 2430.0),
    ]


def test_snapshot_of_a_multi_day_replay_gives_the_last_days_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = three_sessions(tmp_path)
    holdings = write_holdings(tmp_path / "h.csv", [("AAA", "Alpha", "Tech", 1.0)], "2025-11-26")
    snap = snapshot(capsys, "--feed", f"replay:{path}", "--holdings", str(holdings))
    assert snap["session"] == "2025-12-01"
    rut = snap["indices"]["^RUT"]
    assert (rut["prev_close"], rut["open"], rut["high"], rut["low"]) == (2430, 2425, 2440, 2425)
    (aaa,) = snap["constituents"]
    assert aaa["return"] == pytest.approx(49.0 / 51.8 - 1)


# --- MarketState details --------------------------------------------------------------------


def test_a_year_boundary_moves_the_ytd_base() -> None:
    st = MarketState()
    st.daily.apply_daily(DailyCloses("^RUT", [("2025-12-30", 2400.0)]))
    st.apply(Tick("^RUT", 2410.0, et("2025-12-31", "09:30")))
    st.apply(Tick("^RUT", 2420.0, et("2025-12-31", "16:00")))
    st.apply(Tick("AAA", 10.0, et("2025-12-31", "16:00")))
    assert st.anchor("^RUT", "ytd") is None  # no close of 2024 known
    st.apply(Tick("^RUT", 2430.0, et("2026-01-02", "09:30")))
    assert st.anchor("^RUT", "ytd") == 2420.0  # the last close of 2025
    assert st.anchor("^RUT", "prev") == 2420.0
    assert st.anchor("AAA", "ytd") == 10.0  # from its own ticks too


def test_every_symbol_rolls_over_even_before_it_trades_again() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 10.0, et("2025-11-26", "10:00")))
    st.apply(Tick("BBB", 20.0, et("2025-11-28", "10:00")))  # rolls AAA over too
    i = st.ids["AAA"]
    assert math.isnan(st.high[i]) and st.count[i] == 0  # type: ignore[arg-type]
    assert st.prev_close[i] == 10.0 and st.take_dirty() >= {i}
    st.apply(Tick("AAA", 10.0, et("2025-11-28", "10:01")))  # the same price as before
    assert (st.high[i], st.low[i], st.open[i], st.count[i]) == (10.0, 10.0, 10.0, 1)


def test_an_official_close_after_the_rollover_replaces_the_one_from_ticks() -> None:
    st = MarketState()
    st.apply(Tick("^RUT", 2400.0, et("2025-11-26", "09:30")))
    st.apply(Tick("^RUT", 2410.0, et("2025-11-26", "15:59")))
    st.apply(Tick("^RUT", 2415.0, et("2025-11-28", "09:30")))  # Friday, after Thanksgiving
    assert st.anchor("^RUT", "prev") == 2410.0  # Wednesday's last price
    st.daily.apply_daily(DailyCloses("^RUT", [("2025-11-25", 2380.0)]))  # older: changes nothing
    assert st.anchor("^RUT", "prev") == 2410.0
    # Wednesday's official close
    st.daily.apply_daily(DailyCloses("^RUT", [("2025-11-26", 2410.72)]))
    assert st.anchor("^RUT", "prev") == 2410.72
    assert st.daily.closes["^RUT"] == [("2025-11-25", 2380.0), ("2025-11-26", 2410.72)]
