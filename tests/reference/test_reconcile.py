"""Holdings tickers meet the feed's spelling (issue 7 §4): the rule, its sources, the real file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.reference.directory import bundled, of_symbols
from feeds.reference.holdings import Constituent, Holdings, load_holdings
from feeds.reference.reconcile import HAND_LIST, STREAM, Reconciler, Respelt, respell
from tests.reference.test_holdings import NYSE, _row, write_ishares

CASES = Path(__file__).parents[1] / "cases" / "class-shares"
ROOT = Path(__file__).resolve().parents[2]


def shared_fixture(name: str) -> Path:
    """A file of the team's shared fixtures (``shared/fixtures`` beside the repository or one
    of its parents); the test is skipped where there is none."""
    for base in ROOT.parents:
        path = base / "shared" / "fixtures" / name
        if path.exists():
            return path
    pytest.skip(f"shared fixture {name} not found")


def holdings(*tickers: str) -> Holdings:
    cs = [Constituent(t, f"{t} INC CLASS A", "Industrials", 0.01 / (i + 1)) for i, t in
          enumerate(tickers)]  # fmt: skip
    return Holdings(dt.date(2025, 11, 5), cs, "test holdings")


def test_listed_as_written_stays_one_look_alike_is_respelt() -> None:
    feed = of_symbols(["JW-A", "ZETA", "RUSHA", "BE"], "the feed")
    r = Reconciler(holdings("JWA", "ZETA", "RUSHA", "BE"), [feed]).result
    assert r.holdings.symbols == ["JW-A", "ZETA", "RUSHA", "BE"]
    assert r.respelt == [Respelt("JWA", "JW-A", "the feed")]
    assert r.unmatched == [] and r.ambiguous == {}
    # the rest of each constituent is unchanged
    assert r.holdings.by_symbol["JW-A"] == Constituent("JW-A", "JWA INC CLASS A", "Industrials",
                                                        0.01)  # fmt: skip


def test_several_look_alikes_are_ambiguous_and_kept_as_written() -> None:
    feed = of_symbols(["AB-C", "A-BC"], "the feed")
    r = Reconciler(holdings("ABC"), [feed]).result
    assert r.holdings.symbols == ["ABC"]
    assert r.ambiguous == {"ABC": ("A-BC", "AB-C")} and not r.respelt and not r.unmatched
    # a less trusted directory does not overrule the one that could not tell
    r = Reconciler(holdings("ABC"), [feed, of_symbols(["AB-C"], "later")]).result
    assert r.holdings.symbols == ["ABC"] and "ABC" in r.ambiguous


def test_the_first_directory_that_knows_a_ticker_decides() -> None:
    replay = of_symbols(["JW-A", "ZETA"], "the replay file")
    listing = of_symbols(["MOG-A", "ZETA", "ZET-A"], "the listing")
    r = Reconciler(holdings("JWA", "MOGA", "ZETA", "XYZQ"), [replay, listing]).result
    assert r.holdings.symbols == ["JW-A", "MOG-A", "ZETA", "XYZQ"]
    assert [(x.ticker, x.by) for x in r.respelt] == [
        ("JWA", "the replay file"),
        ("MOGA", "the listing"),  # the replay file has neither spelling
    ]
    assert r.unmatched == ["XYZQ"]
    assert r.checked == ["the replay file", "the listing"]


def test_the_hand_list_only_for_what_no_directory_resolves() -> None:
    listing = of_symbols(["MOG-A", "NEWCO"], "the listing")
    hand = {"OLDCO": "NEWCO", "MOGA": "WRONG"}
    r = Reconciler(holdings("OLDCO", "MOGA"), [listing], hand).result
    assert r.holdings.symbols == ["NEWCO", "MOG-A"]  # the directory beats the hand list
    assert r.respelt == [Respelt("OLDCO", "NEWCO", HAND_LIST), Respelt("MOGA", "MOG-A",
                                                                        "the listing")]  # fmt: skip


def test_a_file_with_both_spellings_keeps_both() -> None:
    r = Reconciler(holdings("MOGA", "MOG-A"), [of_symbols(["MOG-A"], "the listing")]).result
    assert r.holdings.symbols == ["MOGA", "MOG-A"]  # never two constituents on one symbol
    assert r.ambiguous == {"MOGA": ("MOG-A",)}


def test_a_streamed_symbol_claims_the_one_unmatched_ticker_with_its_key() -> None:
    rec = Reconciler(holdings("JWA", "QQQA", "QQ-QA"), [of_symbols(["BE"], "the listing")])
    assert rec.result.unmatched == ["JWA", "QQQA", "QQ-QA"] and rec.can_adopt
    assert rec.adopt("ZZZ") is None
    assert rec.adopt("QQQ.A") is None  # two unmatched tickers share the key: no guess
    assert rec.adopt("JW-A") == ("JWA", "JW-A")
    assert rec.result.holdings.symbols[0] == "JW-A"
    assert rec.result.respelt == [Respelt("JWA", "JW-A", STREAM)]
    assert rec.adopt("JW.A") is None  # already claimed


def test_prefer_puts_a_directory_first() -> None:
    rec = Reconciler(holdings("JWA"), [bundled()])
    assert rec.result.unmatched == ["JWA"]  # JW.A is no longer listed (now WLY)
    rec.prefer(of_symbols(["JW-A"], "the replay file r.csv"))
    assert rec.result.holdings.symbols == ["JW-A"]
    assert rec.result.checked[0] == "the replay file r.csv"


def test_summary_is_one_line_naming_both_kinds() -> None:
    listing = of_symbols(["MOG-A", "GEF-B", "AB-C", "A-BC"], "the listing")
    rec = Reconciler(holdings("MOGA", "GEFB", "ABC", "GONE"), [listing])
    text = rec.result.summary()
    assert text is not None and "\n" not in text
    assert "test holdings" in text
    assert "2 tickers respelt" in text and "MOGA→MOG-A" in text and "GEFB→GEF-B" in text
    assert "1 ticker ambiguous" in text and "ABC: A-BC or AB-C" in text
    assert "1 ticker listed nowhere" in text and "GONE" in text
    brief = rec.result.summary(brief=True)
    assert brief is not None and brief.startswith("2 tickers respelt")
    assert "the listing" not in brief and "test holdings" not in brief
    assert Reconciler(holdings("MOG-A"), [listing]).result.summary() is None


def test_respell_keeps_every_other_field() -> None:
    h = holdings("MOGA", "BE")
    out = respell(h, {"MOGA": "MOG-A"})
    assert out.symbols == ["MOG-A", "BE"] and out.as_of == h.as_of and out.source == h.source
    assert h.symbols == ["MOGA", "BE"]  # the input is unchanged
    assert respell(h, {}) is h


# ---- the case and the real file ------------------------------------------------------------
def test_class_shares_case_by_the_replay_file() -> None:
    rec = Reconciler(load_holdings(CASES / "holdings.csv"), [bundled()])
    rec.prefer(of_symbols(["JW-A", "ZETA", "RUSHA", "BE", "^RUT"], "the replay file"))
    by = rec.result.holdings.by_symbol
    assert by["JW-A"].name == "JOHN WILEY AND SONS INC CLASS A" and by["JW-A"].weight == 0.0005
    assert {s: by[s].weight for s in ("ZETA", "RUSHA", "BE")} == {
        "ZETA": 0.0007, "RUSHA": 0.0004, "BE": 0.003,
    }  # fmt: skip
    assert not {"ZET-A", "RUSH-A", "B-E", "JWA"} & set(by)


def test_real_iwm_file_class_shares_resolve_and_plain_tickers_stay() -> None:
    raw = load_holdings(shared_fixture("IWM_holdings_2025-11-05.csv"))
    rec = Reconciler(raw, [bundled()]).result
    by = rec.holdings.by_symbol
    assert {(r.ticker, r.symbol) for r in rec.respelt} == {
        ("MOGA", "MOG-A"), ("GEFB", "GEF-B"), ("CRDA", "CRD-A"),
    }  # fmt: skip
    assert by["MOG-A"].name == "MOOG INC CLASS A" and by["MOG-A"].weight == 0.002
    # plain tickers whose names also say "CLASS A" (or B) keep their spelling
    for plain in ("ZETA", "ACVA", "IBTA", "CIA", "RUSHA", "RUSHB", "WLY", "GEF", "BE"):
        assert plain in by, plain
    assert len(rec.holdings) == len(raw) and rec.holdings.total_weight == raw.total_weight
    assert not rec.ambiguous
    assert set(rec.unmatched) <= {"PDLI", "GTXI"}  # zero-weight shells listed nowhere


def test_other_real_class_shares_and_voting_names(tmp_path: Path) -> None:
    rows = [
        _row("CWENA", "CLEARWAY ENERGY INC CLASS A", "Utilities", "Equity", "0.05", NYSE),
        _row("CWEN", "CLEARWAY ENERGY INC CLASS C", "Utilities", "Equity", "0.10", NYSE),
        _row("LGFA", "LIONS GATE ENTERTAINMENT CORP VOTING", "Communication", "Equity", "0.03",
             NYSE),
        _row("LGFB", "LIONS GATE ENTERTAINMENT CORP NON VOTING", "Communication", "Equity",
             "0.04", NYSE),
        _row("VIA", "VIA TRANSPORTATION INC CLASS A", "Industrials", "Equity", "0.02", NYSE),
        _row("RUSHA", "RUSH ENTERPRISES INC CLASS A", "Industrials", "Equity", "0.10", "NASDAQ"),
    ]  # fmt: skip
    raw = load_holdings(write_ishares(tmp_path / "IWM_holdings.csv", rows))
    rec = Reconciler(raw, [bundled()]).result
    assert rec.holdings.symbols == ["CWEN", "RUSHA", "CWEN-A", "LGF-B", "LGF-A", "VIA"]
    assert not rec.unmatched and not rec.ambiguous


def test_the_former_hand_list_is_all_resolved_by_the_bundled_directory() -> None:
    former = {"MOGA": "MOG-A", "MOGB": "MOG-B", "GEFB": "GEF-B", "CRDA": "CRD-A",
              "CRDB": "CRD-B", "BRKB": "BRK-B", "BFA": "BF-A", "BFB": "BF-B", "HEIA": "HEI-A",
              "LENB": "LEN-B", "GTNA": "GTN-A"}  # fmt: skip
    rec = Reconciler(holdings(*former), [bundled()], hand={}).result
    assert rec.holdings.symbols == list(former.values())
