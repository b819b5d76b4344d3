"""Issue 19 §6: real daily history as real downloads write it, and one index move.

The cases are /work/shared/cases/daily-rounding and record-high-close (copied to tests/cases).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.storage.replay import load_daily

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases"


def snapshot(replay: Path) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--speed", "0", "--json", "--feed",
         f"replay:{replay}"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_high_1e_14_below_the_close_is_the_same_price_and_a_bad_row_costs_that_row() -> None:
    data = load_daily(CASES / "daily-rounding" / "replay.csv.daily.csv")
    assert data is not None
    gspc = dict(data.closes["^GSPC"])
    assert gspc["2025-03-04"] == 24.17236518859864  # kept: the same price in floating point
    h = data.ohlc["^GSPC"]["2025-03-04"][1]
    assert h is not None and h >= gspc["2025-03-04"]  # the bar holds its close
    assert "2025-03-05" not in gspc  # close 6020 above its high 6015: that row only is skipped
    assert sorted(gspc) == ["2025-03-03", "2025-03-04"]
    assert [d for d, _ in data.closes["^RUT"]] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert data.note == (
        "daily closes file replay.csv.daily.csv: skipped 1 inconsistent row: line 7 (^GSPC "
        "2025-03-05: high 6015 is below the close, open or low)"
    )


def test_the_daily_rounding_case_snapshots_and_names_the_skipped_row() -> None:
    out, err = snapshot(CASES / "daily-rounding" / "replay.csv")
    assert out["scoreboard"]["^RUT"]["1d"] is not None
    warnings = [json.loads(ln) for ln in err.splitlines() if '"kind": "warning"' in ln]
    assert [w["detail"] for w in warnings] == [
        "daily closes file replay.csv.daily.csv: skipped 1 inconsistent row: line 7 (^GSPC "
        "2025-03-05: high 6015 is below the close, open or low)"
    ]


@pytest.mark.parametrize(
    ("row", "kept"),
    [
        ("^RUT,2025-03-04,100.0,100.0,99.99999999999999,99.0", True),  # float noise: same price
        ("^RUT,2025-03-04,100.0,100.0,100.0,100.00000000000001", True),  # low: same
        ("^RUT,2025-03-04,100.0,100.0,99.99,99.0", False),  # a real cent: inconsistent
        ("^RUT,2025-03-04,100.0,100.0,101.0,100.5", False),  # low above the close
    ],
)
def test_prices_compare_with_a_price_s_tolerance(tmp_path: Path, row: str, kept: bool) -> None:
    path = tmp_path / "r.csv.daily.csv"
    path.write_text(f"symbol,date,close,open,high,low\n^RUT,2025-03-03,99.0,,,\n{row}\n")
    data = load_daily(path)
    assert data is not None
    assert ("2025-03-04" in dict(data.closes["^RUT"])) is kept
    assert bool(data.note) is not kept


def test_a_malformed_row_still_refuses_the_file(tmp_path: Path) -> None:
    # garbled text is not a download's rounding: the file is named and refused
    from feeds.errors import InputFileError

    path = tmp_path / "r.csv.daily.csv"
    path.write_text("symbol,date,close\n^RUT,2025-03-03,abc\n")
    with pytest.raises(InputFileError, match="line 2: close 'abc' is not a number"):
        load_daily(path)


def test_the_record_high_is_the_session_s_high_after_the_bell() -> None:
    # the 03-06 session's high 2,125 beats the record 2,120; its close 2,110 does not
    out, _ = snapshot(CASES / "record-high-close" / "replay.csv")
    assert out["record_high_streak"] == {
        "symbol": "^RUT",
        "sessions": 4,
        "high": 2125.0,
        "date": "2025-03-06",
    }


def test_the_record_high_is_the_session_s_high_before_the_bell(tmp_path: Path) -> None:
    case = CASES / "record-high-close"
    lines = (case / "replay.csv").read_text().splitlines()
    (tmp_path / "r.csv").write_text("\n".join(lines[:5]) + "\n")  # to 11:00 ET, high 2,125
    (tmp_path / "r.csv.daily.csv").write_text((case / "replay.csv.daily.csv").read_text())
    out, _ = snapshot(tmp_path / "r.csv")
    assert out["record_high_streak"]["sessions"] == 4
    assert out["record_high_streak"]["high"] == 2125.0


def test_the_constituent_share_is_of_the_index_s_own_move() -> None:
    # one index move on every screen: the card's ^RUT return, never the members' summed
    # contributions (+40.6 bp against ^RUT's +38.8 bp in the field)
    from feeds.frame import BoardRow
    from tui.screens.constituent import facts

    row = BoardRow("AAA", "Alpha", "Tech", 11.0, 0.1, 0.0388, 3.88, 11.0, 10.0, 5, 0)
    text = facts(row, 0.00388, "prev").plain
    assert "10.0% of the index move (+38.8 bp)" in text
