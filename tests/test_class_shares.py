"""Class shares end to end: the shared case, ``r2k holdings show``, streamed spellings, the app.

``cases/class-shares`` is ``../shared/cases/class-shares`` (an iShares file with ``JWA``,
``ZETA``, ``RUSHA``, ``BE`` and a replay streaming ``JW-A``); the two checks of
``shared/cases/check.py`` are the first two tests here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from feeds.events import Tick
from feeds.pipeline import Pipeline
from feeds.reference.directory import bundled, of_symbols
from feeds.reference.holdings import Constituent, Holdings
from feeds.reference.reconcile import STREAM, Reconciler, Respelt
from tests.reference.test_reconcile import shared_fixture
from tests.test_app import make_app, running
from tests.tui_fakes import NOW_MS, FakeFeed, make_pipeline
from tui.cli import main

CASE = Path(__file__).with_name("cases") / "class-shares"
REPLAY = ["--feed", f"replay:{CASE / 'replay.csv'}"]
HOLDINGS = ["--holdings", str(CASE / "holdings.csv")]


def case_snapshot(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, dict], str]:
    status = main(["snapshot", "--speed", "0", "--json", *REPLAY, *HOLDINGS])
    out, err = capsys.readouterr()
    assert status == 0, err
    return {c["symbol"]: c for c in json.loads(out)["constituents"]}, err


def test_jw_a_gets_its_name_and_weight_from_jwa(capsys: pytest.CaptureFixture[str]) -> None:
    by, _ = case_snapshot(capsys)
    jwa = by["JW-A"]
    assert jwa["name"] == "JOHN WILEY AND SONS INC CLASS A"
    assert jwa["last"] == 46.10 and jwa["weight"] is not None
    # its own row's weight and price: 0.05 % at 46.50 on the file's date, anchored at 45.00,
    # against BE's 0.30 % at 25.00 anchored at 25.00 (the index's growth cancels out)
    assert jwa["weight"] / by["BE"]["weight"] == pytest.approx((0.0005 * 45.0 / 46.5) / 0.003)


def test_zeta_rusha_and_be_keep_their_names_and_weights(
    capsys: pytest.CaptureFixture[str],
) -> None:
    by, err = case_snapshot(capsys)
    # each its own row's weight, moved to the anchor by its own price: w * P_prev / P_file
    rel = {s: by[s]["weight"] / by["BE"]["weight"] for s in ("ZETA", "RUSHA", "BE")}
    assert rel == pytest.approx(
        {"ZETA": (0.0007 * 17.0 / 17.2) / 0.003, "RUSHA": (0.0004 * 44.0 / 44.1) / 0.003, "BE": 1}
    )
    assert by["ZETA"]["name"] == "ZETA GLOBAL HOLDINGS CORP CLASS A"
    assert by["RUSHA"]["name"] == "RUSH ENTERPRISES INC CLASS A"
    assert not {"ZET-A", "RUSH-A", "B-E", "JWA"} & set(by)
    # the load warning: one stderr line saying what was respelt, and by what
    lines = [json.loads(line) for line in err.splitlines()]
    warning = next(w for w in lines if "respelt" in w["detail"])
    assert warning["kind"] == "warning"
    assert "JWA→JW-A" in warning["detail"] and "the replay file replay.csv" in warning["detail"]


def test_the_sim_streams_a_real_files_class_share_as_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = shared_fixture("IWM_holdings_2025-11-05.csv")
    status = main(["snapshot", "--speed", "0", "--duration", "20", "--json", "--holdings",
                   str(path), "--anchor", "first"])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    by = {c["symbol"]: c for c in json.loads(out)["constituents"]}
    assert by["MOG-A"]["name"] == "MOOG INC CLASS A" and by["MOG-A"]["weight"] is not None
    # the file's spellings never reach the board; the thin GEF-B and CRD-A may not have traded
    # yet (the sim plays today's session when it is under way), so the respelling is read in err
    assert not {"MOGA", "GEFB", "CRDA"} & set(by)
    assert all(r in err for r in ("MOGA→MOG-A", "GEFB→GEF-B", "CRDA→CRD-A"))
    assert "\n" not in err.strip()


# ---- r2k holdings show -------------------------------------------------------------------------
def test_holdings_show_text_of_the_real_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_fixture("IWM_holdings_2025-11-05.csv")
    assert main(["holdings", "show", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "holdings: iShares holdings IWM_holdings_2025-11-05.csv"
    assert lines[1] == "as of 2025-11-05: 1,955 equity members, weights sum to 99.55%"
    assert lines[2] == f"spelt as listed by: {bundled().describe()}"
    top = lines[lines.index("TOP 10 BY WEIGHT") + 1 :][:11]
    assert top[0].split() == ["#", "SYMBOL", "NAME", "SECTOR", "WEIGHT"]
    assert top[1].split()[:2] == ["1", "BE"] and top[1].endswith("1.06%")
    assert top[10].split()[0] == "10"
    assert "RESPELT AS THE FEED LISTS THEM (3)" in out
    assert "  MOGA → MOG-A  (by the bundled US listing directory of 2026-03-03)" in lines
    assert "LISTED NOWHERE, KEPT AS WRITTEN (2)" in out and "  PDLI, GTXI" in lines


def test_holdings_show_json_with_a_replay_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["holdings", "show", str(CASE / "holdings.csv"), "--json", *REPLAY]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2021-01-28" and data["members"] == 4
    assert data["weight_sum"] == pytest.approx(0.0046)
    assert [t["symbol"] for t in data["top"]] == ["BE", "ZETA", "JW-A", "RUSHA"]
    assert data["respelt"] == [
        {"ticker": "JWA", "symbol": "JW-A", "by": "the replay file replay.csv"}
    ]
    assert data["unmatched"] == [] and data["ambiguous"] == []
    assert data["checked_against"][0] == "the replay file replay.csv"


def test_holdings_show_without_the_feeds_spelling_says_unmatched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # JW.A is not listed any more (the company is WLY now): only a feed that has it can tell
    assert main(["holdings", "show", str(CASE / "holdings.csv"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unmatched"] == ["JWA"] and data["respelt"] == []


def test_holdings_show_a_missing_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["holdings", "show", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("r2k: error: holdings file") and "not found" in err
    assert err.count("\n") == 1


def test_holdings_show_needs_no_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    # the alpaca feed's spelling without a key: its cached list, else the bundled one
    assert main(["holdings", "show", "--feed", "alpaca", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["members"] == 1953 and data["checked_against"] == [bundled().describe()]


# ---- symbols a stream sends --------------------------------------------------------------------
def test_a_streamed_spelling_claims_an_unmatched_holding() -> None:
    raw = Holdings(
        dt.date(2021, 1, 28),
        [
            Constituent("JWA", "JOHN WILEY AND SONS INC CLASS A", "Communication", 0.0005),
            Constituent("BE", "BLOOM ENERGY CLASS A CORP", "Industrials", 0.003),
        ],
        "test",
    )
    rec = Reconciler(raw, [bundled()])
    assert rec.result.unmatched == ["JWA"]
    pipe = Pipeline(FakeFeed(), rec.result.holdings, reconciler=rec)
    pipe.handle(Tick("ZZZQ", 5.0, NOW_MS))  # not a look-alike of anything: a stray symbol
    pipe.handle(Tick("JW-A", 46.1, NOW_MS, prev_close=45.0))
    board = pipe.board()
    rows = {board.symbols[i]: i for i in range(len(board.symbols))}
    assert "JWA" not in rows and "JW-A" in rows
    i = rows["JW-A"]
    assert board.names[i] == "JOHN WILEY AND SONS INC CLASS A"
    assert board.weight[i] == pytest.approx(0.0005)
    assert board.names[rows["ZZZQ"]] == "ZZZQ"  # a stray keeps no holding's name
    assert rec.result.respelt == [Respelt("JWA", "JW-A", STREAM)]
    assert not rec.can_adopt


async def test_the_app_says_once_which_tickers_were_respelt() -> None:
    pipeline = make_pipeline()
    members = [
        Constituent("MOGA", "MOOG", "Industrials", 0.002),
        Constituent("GONE", "GONE", "Energy", 0.001),
    ]
    raw = Holdings(dt.date(2025, 11, 5), members, "t")
    pipeline.reconciler = Reconciler(raw, [bundled()])
    app = make_app(pipeline)
    async with running(app, (100, 30)):
        shown = [n for n in app._notifications if n.message.startswith("Holdings: ")]
        assert len(shown) == 1 and shown[0].severity == "warning"
        assert "MOGA→MOG-A" in shown[0].message and "GONE" in shown[0].message


async def test_the_app_is_quiet_when_every_ticker_is_listed() -> None:
    pipeline = make_pipeline()
    assert pipeline.holdings is not None
    listed = of_symbols(pipeline.holdings.symbols, "the feed")
    pipeline.reconciler = Reconciler(pipeline.holdings, [listed])
    app = make_app(pipeline)
    async with running(app, (100, 30)):
        assert not [n for n in app._notifications if n.message.startswith("Holdings: ")]
