"""Where the move comes from (issue 20 §1): sectors, subtotals and movers over arrays, each
figure checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from feeds.market.sectors import (
    index_move_bp,
    match_sector,
    sector_codes,
    sector_table,
    subtotal,
    top_movers,
)

NAN = float("nan")
SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "ZZZ"]
NAMES = ["Aa Inc", "Bb Inc", "Cc Inc", "Dd Inc", "Ee Inc", "Not a member"]
SECTORS = ["Health Care", "Health Care", "Financials", "Information Technology", "", "Energy"]
W = np.array([0.30, 0.20, 0.25, 0.15, 0.10, NAN])
R = np.array([0.10, -0.05, 0.02, NAN, 0.0, 0.50])
MEMBER = np.array([True, True, True, True, True, False])


def test_the_index_move_is_the_members_summed_contribution() -> None:
    # 0.3*0.1 + 0.2*-0.05 + 0.25*0.02 + 0.1*0 = 0.03 - 0.01 + 0.005 = 0.025 -> 250 bp
    assert index_move_bp(W, R, MEMBER) == pytest.approx(250.0)


def test_each_sector_weight_contribution_share_breadth_and_best_worst() -> None:
    names, codes = sector_codes(SECTORS)
    assert names == ["Energy", "Financials", "Health Care", "Information Technology", "Other"]
    table = sector_table(names, codes, SYMBOLS, NAMES, W, R, MEMBER)
    assert table.index_bp == pytest.approx(250.0)
    # sorted by contribution: Health Care 200, Financials 50, Other 0, IT 0 (no return);
    # Energy holds only a non-member: not listed
    assert [r.sector for r in table.rows] == [
        "Health Care",
        "Financials",
        "Information Technology",
        "Other",
    ]
    health = table.rows[0].total
    assert health.names == 2 and health.priced == 2
    assert health.weight == pytest.approx(0.5)
    assert health.contribution_bp == pytest.approx(200.0)
    assert health.share == pytest.approx(0.8)
    assert (health.up, health.down, health.unchanged) == (1, 1, 0)
    assert health.weight_up == pytest.approx(0.6)  # 0.30 of 0.50
    assert table.rows[0].best.symbol == "AAA" and table.rows[0].worst.symbol == "BBB"
    assert table.rows[0].worst.contribution_bp == pytest.approx(-100.0)
    it = table.find("tech")
    assert it is not None and it.total.priced == 0 and it.best is None and it.total.pct_up is None
    assert sum(r.total.contribution_bp for r in table.rows) == pytest.approx(table.index_bp)
    assert sum(r.total.weight for r in table.rows) == pytest.approx(1.0)


def test_a_subtotal_of_a_filter_keeps_only_members() -> None:
    keep = np.array([True, False, True, False, False, True])  # ZZZ is not a member
    s = subtotal(W, R, MEMBER, keep, 250.0)
    assert (s.names, s.priced, s.up, s.down) == (2, 2, 2, 0)
    assert s.weight == pytest.approx(0.55)
    assert s.contribution_bp == pytest.approx(350.0)
    assert s.share == pytest.approx(1.4)  # more than the whole: the rest of the index fell
    assert subtotal(W, R, MEMBER, keep, 0.1).share is None  # no share of a flat index


def test_movers_are_the_largest_and_smallest_returns_with_their_contribution() -> None:
    m = top_movers("1d", SYMBOLS, NAMES, W, R, MEMBER, n=2)
    assert [x.symbol for x in m.up] == ["AAA", "CCC"]  # ZZZ +50% is not a member
    assert [x.symbol for x in m.down] == ["BBB"]  # only declines are losers
    assert m.up[0].contribution_bp == pytest.approx(300.0) and m.names == 4
    none = top_movers("5d", SYMBOLS, NAMES, W, np.full(6, NAN), MEMBER)
    assert none.up == () and none.names == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("health", "Health Care"),
        ("HEALTH CARE", "Health Care"),
        ("tech", "Information Technology"),
        ("fin", "Financials"),
        ("consumer", None),  # Discretionary or Staples: not a guess
        ("staples", "Consumer Staples"),
        ("", None),
        ("zzz", None),
    ],
)
def test_a_sector_is_found_by_a_word_start(text: str, found: str | None) -> None:
    names = ["Consumer Discretionary", "Consumer Staples", "Energy", "Financials", "Health Care"]
    names += ["Information Technology", "Other"]
    k = match_sector(names, text)
    assert (names[k] if k is not None else None) == found


# --- on the pipeline's universe: the frame carries them -----------------------------------------


def test_the_frame_carries_sectors_and_movers_when_asked() -> None:
    from feeds.frame import View
    from tests.tui_fakes import load, make_pipeline

    pipeline = load(make_pipeline())
    assert pipeline.frame(View()).sectors is None  # only when a screen asks
    sec = pipeline.frame(View(sectors=True)).sectors
    assert sec is not None
    day = sec.day
    it = day.find("information technology")
    assert it is not None and it.total.names == 5
    # CRDO -2 %, FN +0.5 %, IONQ -5 %, RMBS +2 %, AEIS +2 %: three up, two down
    assert (it.total.up, it.total.down) == (3, 2)
    assert it.best.symbol in ("RMBS", "AEIS") and it.worst.symbol == "IONQ"
    assert sum(r.total.contribution_bp for r in day.rows) == pytest.approx(day.index_bp)
    assert [r.total.contribution_bp for r in day.rows] == sorted(
        (r.total.contribution_bp for r in day.rows), reverse=True
    )
    one_day = sec.movers[0]
    assert one_day.period == "1d" and one_day.up[0].symbol == "[red]X"  # +5 %
    assert one_day.down[0].symbol == "IONQ"  # -5 %
    assert [m.period for m in sec.movers] == ["1d", "5d", "ytd"]


def test_a_sector_filter_keeps_index_wide_ranks_and_a_subtotal() -> None:
    from feeds.frame import View
    from tests.tui_fakes import load, make_pipeline

    pipeline = load(make_pipeline())
    whole = pipeline.board(View())
    board = pipeline.board(View(filter="sector:health"))
    assert board.sector == "Health Care" and len(board) == 2
    for rank in range(len(board)):
        symbol = board.symbol_at(rank)
        assert board.rank_label(rank) == whole.rank_of(symbol) + 1  # the index-wide rank
    s = board.subtotal
    assert s is not None and s.names == 2 and (s.up, s.down) == (0, 2)
    # HIMS 0.44 % × -3 % + GH 0.38 % × -1 %: -1.32 - 0.38 = -1.70 bp
    assert s.contribution_bp == pytest.approx(-1.70, abs=0.05)
    assert pipeline.board(View(filter="sector:nothing")).subtotal.names == 0
    text = pipeline.board(View(filter="ion"))  # a text filter has a subtotal too
    assert text.subtotal is not None and text.ranks is not None and text.sector is None
    assert pipeline.board(View()).subtotal is None
