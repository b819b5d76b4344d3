"""Weights at the anchor, always: ``w_anchor = w_asof * (P_anchor / P_asof) / (I_anchor / I_asof)``.

A hand-computed case: a replay over three sessions (Mon 23 to Wed 25 Feb 2026) whose anchor is
its first price, with holdings as of its last day. The members hold the whole index and ^RUT
moves exactly as they do, so the contributions at the anchor add up to the index's return.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.feed import FeedOptions
from feeds.frame import Frame
from feeds.pipeline import Pipeline
from feeds.reference.holdings import load_holdings
from feeds.storage.replay import ReplayFeed
from tests.conftest import write_csv, write_holdings
from tui.widgets.board import board_title

ET = ZoneInfo("America/New_York")
DAYS = ("2026-02-23", "2026-02-24", "2026-02-25")
#: per symbol, each day's (09:30, 16:00) prices
PRICES = {
    "AAA": ((10.0, 10.5), (11.0, 11.5), (11.8, 12.0)),
    "BBB": ((20.0, 19.5), (19.0, 18.5), (18.2, 18.0)),
    "CCC": ((40.0, 41.0), (40.5, 39.0), (39.5, 40.0)),
    "^RUT": ((1900.0, 1910.0), (1950.0, 1980.0), (1990.0, 2000.0)),
}
WEIGHTS = {"AAA": 0.5, "BBB": 0.3, "CCC": 0.2}  # fractions of the index on the as-of date


def et(day: str, h: int, m: int) -> int:
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=ET).timestamp() * 1000)


def replay(
    tmp_path: Path,
    symbols: tuple[str, ...] = ("AAA", "BBB", "CCC", "^RUT"),
    rut_close: float | None = None,
) -> Path:
    """The three sessions; ``rut_close`` replaces ^RUT's last close."""
    rows = []
    for k, day in enumerate(DAYS):
        for (h, m), slot in (((9, 30), 0), ((16, 0), 1)):
            rows += [(et(day, h, m), s, PRICES[s][k][slot]) for s in symbols]
    if rut_close is not None:
        rows[-1] = (rows[-1][0], "^RUT", rut_close)
    return write_csv(tmp_path / "three.csv", "ts,symbol,price", rows)


def ishares(path: Path, as_of: str, prices: dict[str, float]) -> Path:
    """An iShares-layout holdings file with each holding's ``Price`` on the as-of date."""
    when = dt.date.fromisoformat(as_of).strftime("%b %d, %Y")
    head = "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price"
    head += ",Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
    lines = ["iShares Russell 2000 ETF", f'Fund Holdings as of,"{when}"', "\xa0", head]
    for s, w in WEIGHTS.items():
        cells = [s, f"{s} CORP", "Industrials", "Equity", "1.00", f"{w * 100:.2f}", "1.00"]
        cells += ["1.00", f"{prices[s]:.2f}", "United States", "NASDAQ", "USD", "1.00", "USD", "-"]
        lines.append(",".join(f'"{c}"' for c in cells))
    path.write_text("\ufeff" + "\n".join([*lines, "\xa0", '"footer"']) + "\n", encoding="utf-8")
    return path


async def final_frame(replay_path: Path, holdings_path: Path, anchor: str) -> Frame:
    feed = ReplayFeed(f"replay:{replay_path}", replay_path, FeedOptions(speed=0))
    pipeline = Pipeline(feed, load_holdings(holdings_path), anchor=anchor)
    await pipeline.run()
    return pipeline.frame()


# By hand, anchor = the first price (Monday 09:30), as-of = Wednesday's close (the file's Price):
#   g = P_anchor / P_asof:  AAA 10/12 = 0.83333, BBB 20/18 = 1.11111, CCC 40/40 = 1
#   I_anchor / I_asof = 1900/2000 = 0.95 (= 0.5 * 0.83333 + 0.3 * 1.11111 + 0.2 * 1)
#   w_anchor = w_asof * g / 0.95:  AAA 0.438596, BBB 0.350877, CCC 0.210526 (sum 1)
#   returns since the anchor:  AAA +20 %, BBB -10 %, CCC 0
#   contributions:  AAA +877.19 bp, BBB -350.88 bp, CCC 0; sum 526.32 bp = 2000/1900 - 1.
# With the as-of weights as they are (the fault): 1000 - 300 = 700 bp, a third too large.
W_ANCHOR = {"AAA": 0.5 * (10 / 12) / 0.95, "BBB": 0.3 * (20 / 18) / 0.95, "CCC": 0.2 / 0.95}
CONTRIB = {"AAA": 877.1930, "BBB": -350.8772, "CCC": 0.0}


def check_hand_computed(frame: Frame) -> None:
    rows = {r.symbol: r for r in frame.board.rows()}
    for s in WEIGHTS:
        assert rows[s].weight == pytest.approx(W_ANCHOR[s], rel=1e-9), s
        assert rows[s].contribution_bp == pytest.approx(CONTRIB[s], abs=1e-3), s
    total = sum(r.contribution_bp or 0.0 for r in rows.values())
    assert total == pytest.approx((2000 / 1900 - 1) * 10_000)
    assert frame.board.weights_as_of is None  # at the anchor
    assert frame.board.coverage == pytest.approx(1.0)


async def test_weights_at_the_anchor_from_the_files_prices_and_the_index(tmp_path: Path) -> None:
    holdings = ishares(tmp_path / "h.csv", DAYS[-1], {"AAA": 12.0, "BBB": 18.0, "CCC": 40.0})
    frame = await final_frame(replay(tmp_path), holdings, "first")
    check_hand_computed(frame)
    assert frame.quotes["^RUT"].ret == pytest.approx(2000 / 1900 - 1)


async def test_the_index_own_growth_comes_before_the_members(tmp_path: Path) -> None:
    holdings = ishares(tmp_path / "h.csv", DAYS[-1], {"AAA": 12.0, "BBB": 18.0, "CCC": 40.0})
    frame = await final_frame(replay(tmp_path, rut_close=2100.0), holdings, "first")
    rows = {r.symbol: r for r in frame.board.rows()}
    assert rows["AAA"].weight == pytest.approx(0.5 * (10 / 12) / (1900 / 2100), rel=1e-9)


async def test_weights_at_the_anchor_from_the_members_when_the_index_is_missing(
    tmp_path: Path,
) -> None:
    # no ^RUT in the replay: the members (all of the index weight) give I_anchor / I_asof
    holdings = ishares(tmp_path / "h.csv", DAYS[-1], {"AAA": 12.0, "BBB": 18.0, "CCC": 40.0})
    frame = await final_frame(replay(tmp_path, ("AAA", "BBB", "CCC")), holdings, "first")
    check_hand_computed(frame)


async def test_weights_at_the_anchor_from_closes_seen_in_the_replay(tmp_path: Path) -> None:
    # holdings as of Monday without prices (the bundled format): P_asof and I_asof are Monday's
    # closes as the replay saw them; the anchor on Wednesday is Tuesday's close
    rows = [(s, s, "Industrials", w * 100) for s, w in WEIGHTS.items()]
    holdings = write_holdings(tmp_path / "h.csv", rows, DAYS[0])
    frame = await final_frame(replay(tmp_path), holdings, "prev")
    g_index = 1980 / 1910
    expected = {
        "AAA": 0.5 * (11.5 / 10.5) / g_index,
        "BBB": 0.3 * (18.5 / 19.5) / g_index,
        "CCC": 0.2 * (39.0 / 41.0) / g_index,
    }
    rows_by = {r.symbol: r for r in frame.board.rows()}
    for s, w in expected.items():
        assert rows_by[s].weight == pytest.approx(w, rel=1e-9), s
    assert frame.board.weights_as_of is None


async def test_without_a_source_the_weights_stay_as_of_their_date(tmp_path: Path) -> None:
    # holdings as of a day before the replay, with no prices: nothing moves them to the anchor
    rows = [(s, s, "Industrials", w * 100) for s, w in WEIGHTS.items()]
    holdings = write_holdings(tmp_path / "h.csv", rows, "2026-02-20")
    frame = await final_frame(replay(tmp_path), holdings, "first")
    assert {r.symbol: r.weight for r in frame.board.rows()} == pytest.approx(WEIGHTS)
    assert frame.board.weights_as_of == "2026-02-20"
    assert board_title(frame.board) == (
        "Leaders · 3 names · 100.0% of the index · weights as of Feb 20, 2026"
    )
