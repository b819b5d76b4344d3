"""Holdings: the iShares CSV parser on a quirky hand-made file, the bundled snapshot, padding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.errors import InputFileError
from feeds.reference.holdings import (
    Constituent,
    Holdings,
    canonical_ticker,
    load_holdings,
    pad_universe,
)
from feeds.symbols import HEADLINE, INDEX_SYMBOLS, from_provider, to_provider

NBSP = "\u00a0"
HEADER = (
    "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,"
    "Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
)
PREAMBLE = [
    "iShares Russell 2000 ETF",
    'Fund Holdings as of,"Nov 05, 2025"',
    'Inception Date,"May 22, 2000"',
    'Shares Outstanding,"281,300,000.00"',
    'Stock,"-"',
    'Bond,"-"',
    'Cash,"-"',
    'Other,"-"',
    NBSP,
]  # the header is on line 10


def _row(ticker: str, name: str, sector: str, cls: str, weight: str, exchange: str) -> str:
    cells = [ticker, name, sector, cls, "1,000.00", weight, "1,000.00", "5,170,819.00", "141.41"]
    cells += ["United States", exchange, "USD", "1.00", "USD", "-"]
    return ",".join(f'"{c}"' for c in cells)


NYSE = "New York Stock Exchange Inc."
ROWS = [
    _row("BE", "BLOOM ENERGY CLASS A CORP", "Industrials", "Equity", "1.06", NYSE),  # line 11
    _row("CRDO", "CREDO TECHNOLOGY GROUP", "Information Technology", "Equity", "0.90", "NASDAQ"),
    _row(
        "XTSLA",
        "BLK CSH FND TREASURY SL AGENCY",
        "Cash and/or Derivatives",
        "Money Market",
        "0.26",
        "-",
    ),
    _row("MOGA", "MOOG INC CLASS A", "Industrials", "Equity", "0.20", NYSE),
    _row("BRK B", "BERKSHIRE HATHAWAY INC CLASS B", "Financials", "Equity", "0.19", NYSE),
    _row("UEC", "URANIUM ENERGY CORP", "Energy", "Equity", "0.19", "Nyse Mkt Llc"),
    _row(
        "-",
        "OMNIAB INC $15.00 VESTING Prvt",
        "Health Care",
        "Equity",
        "0.00",
        "NO MARKET (E.G. UNLISTED)",
    ),
    _row(
        "ADRO",
        "CHINOOK THERAPEUTICS INC CVR",
        "Health Care",
        "Equity",
        "0.00",
        "NO MARKET (E.G. UNLISTED)",
    ),
    _row(
        "P5N994",
        "Petrocorp Inc Escrow",
        "Energy",
        "Equity",
        "0.00",
        "Non-Nms Quotation Service (Nnqs)",
    ),
    _row("USD", "USD CASH", "Cash and/or Derivatives", "Cash", "0.10", "-"),
    _row(
        "RTYZ5",
        "RUSSELL 2000 EMINI CME DEC 25",
        "Cash and/or Derivatives",
        "Futures",
        "0.00",
        "Chicago Mercantile Exchange",
    ),
]
FOOTER = [
    NBSP,
    '"The content contained herein is owned or licensed by BlackRock, and',
    "is protected by “copyrights”, trademarks®, service marks.",
    "Ticker,looks,like,a,header,but,is,inside,the,footer,cell",
    '©2023 BlackRock, Inc or its affiliates. All rights reserved."',
]


def write_ishares(
    path: Path,
    rows: list[str] | None = None,
    *,
    header: str = HEADER,
    newline: str = "\n",
    preamble: list[str] | None = None,
) -> Path:
    lines = [
        *(PREAMBLE if preamble is None else preamble),
        header,
        *(ROWS if rows is None else rows),
    ]
    text = newline.join([*lines, *FOOTER]) + newline
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_ishares_quirks(tmp_path: Path, newline: str) -> None:
    h = load_holdings(write_ishares(tmp_path / "IWM_holdings.csv", newline=newline))
    assert h.as_of == dt.date(2025, 11, 5)
    # BE, CRDO, MOGA, BRK-B, UEC: cash, money market, futures, unlisted, escrow and "-" dropped;
    # MOGA stays as written (feeds.reference.reconcile spells it as the feed does:
    # test_reconcile.py)
    assert h.symbols == ["BE", "CRDO", "MOGA", "BRK-B", "UEC"]
    assert h.by_symbol["BE"].weight == pytest.approx(0.0106)
    assert h.by_symbol["CRDO"].weight == 0.009
    assert h.by_symbol["MOGA"] == Constituent(
        "MOGA", "MOOG INC CLASS A", "Industrials", 0.002, 141.41
    )  # the Price column is the holding's price on the as-of date (for weights at the anchor)
    assert h.by_symbol["UEC"].sector == "Energy"
    assert "-" not in h.by_symbol
    assert h.total_weight == pytest.approx(0.0106 + 0.009 + 0.002 + 0.0019 + 0.0019)
    assert "IWM_holdings.csv" in h.source


def test_ishares_shares_column_and_no_bom(tmp_path: Path) -> None:
    p = tmp_path / "uk.csv"
    write_ishares(p, header=HEADER.replace("Quantity", "Shares"))
    p.write_bytes(p.read_bytes()[3:])  # without the BOM
    assert len(load_holdings(p).constituents) == 5


def test_missing_file_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as e:
        load_holdings(tmp_path / "nope.csv")
    msg = str(e.value)
    assert "nope.csv" in msg and "not found" in msg and "\n" not in msg


def test_no_header_error(tmp_path: Path) -> None:
    p = tmp_path / "preamble_only.csv"
    p.write_text("\n".join([*PREAMBLE[:1], 'Fund Holdings as of,"-"', NBSP]) + "\n")
    with pytest.raises(InputFileError, match=r"preamble_only\.csv.*no 'Ticker,\.\.\.' header"):
        load_holdings(p)


def test_wrong_columns_error_names_line_and_column(tmp_path: Path) -> None:
    p = write_ishares(tmp_path / "old.csv", header=HEADER.replace("Weight (%)", "Weight"))
    with pytest.raises(InputFileError, match=r"old\.csv:10: .*Weight \(%\)"):
        load_holdings(p)


def test_bad_number_names_the_line(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[1] = _row("CRDO", "CREDO", "Information Technology", "Equity", "0,9x", "NASDAQ")
    p = write_ishares(tmp_path / "bad.csv", rows)
    with pytest.raises(InputFileError) as e:
        load_holdings(p)
    msg = str(e.value)
    assert "bad.csv:12:" in msg and "Weight (%)" in msg and "'0,9x'" in msg and "\n" not in msg


def test_missing_as_of_date(tmp_path: Path) -> None:
    preamble = [line for line in PREAMBLE if not line.startswith("Fund Holdings")]
    p = write_ishares(tmp_path / "undated.csv", preamble=preamble)
    with pytest.raises(InputFileError, match="Fund Holdings as of"):
        load_holdings(p)


def test_snapshot_format_roundtrip_and_error(tmp_path: Path) -> None:
    p = tmp_path / "mine.csv"
    p.write_text(
        "# as_of: 2024-12-31\n# source: hand-made\nsymbol,name,sector,weight_pct\n"
        "AAA,Aaa Inc,Energy,1.5\nMOG A,Moog Inc Class A,Industrials,0.25\n"
    )
    h = load_holdings(p)
    assert (h.as_of, h.source, h.symbols) == (dt.date(2024, 12, 31), "hand-made", ["AAA", "MOG-A"])
    assert h.by_symbol["AAA"].weight == 0.015
    p.write_text(p.read_text() + "BBB,Bbb,Energy,abc\n")
    with pytest.raises(InputFileError, match=r"mine\.csv:6: weight_pct 'abc'"):
        load_holdings(p)


def test_bundled_snapshot_covers_the_whole_index() -> None:
    """Every equity member of the iShares IWM file of 2025-11-05 (1,955 after the parser's
    filter, less 2 no listing carries that publish no price), with its price on that date,
    spelt as the US listing spells it."""
    h = load_holdings()
    assert (h.as_of, h.origin) == (dt.date(2025, 11, 5), "bundled")
    assert "iShares IWM" in h.source
    assert len(h.constituents) == 1953
    assert len(set(h.symbols)) == len(h.symbols)
    assert 0.99 < h.total_weight < 1.0  # the whole index, cash and futures aside
    assert not h.partial and h.warnings == []
    assert all(0 <= c.weight < 0.02 for c in h.constituents)  # fractions, not percents
    assert h.constituents[0] == Constituent(
        "BE", "Bloom Energy Corp Class A", "Industrials", 0.0106043, 141.41
    )
    assert h.by_symbol["MOG-A"].name == "Moog Inc Class A"  # MOGA as the listing spells it
    assert {"GEF-B", "CRD-A"} <= set(h.symbols) and "MOGA" not in h.symbols
    assert not {"GTXI", "PDLI"} & set(h.symbols)  # a CVR and a shell: no listing, no price
    priced = [c for c in h.constituents if c.price is not None]
    assert len(priced) == 1952  # a defunct bank publishes no price (and weighs nothing)
    assert all(c.weight == 0 for c in h.constituents if c.price is None)
    # weights from market values: no member of any size weighs 0 (published: 0.00 %)
    assert sum(1 for c in priced if c.weight == 0) == 0
    weights = [c.weight for c in h.constituents]
    assert weights == sorted(weights, reverse=True)
    assert not set(h.symbols) & set(HEADLINE)


def test_bundle_is_built_from_an_ishares_file(tmp_path: Path) -> None:
    from feeds.reference.bundle import build, title_name

    src = write_ishares(tmp_path / "IWM_holdings.csv")
    out = tmp_path / "bundle.csv"
    out.write_text(build(src, {"BE": "Bloom Energy Corp Class A"}))
    h = load_holdings(out)
    # listed equities only, MOGA respelt as the bundled directory lists it, prices kept; every
    # row's market value is 1,000.00, so each equity weighs 1/11 of the fund (every row counts)
    assert h.symbols == ["BE", "CRDO", "MOG-A", "BRK-B", "UEC"]
    assert h.by_symbol["BE"] == Constituent(
        "BE", "Bloom Energy Corp Class A", "Industrials", 0.0909091, 141.41
    )
    assert h.by_symbol["MOG-A"].name == "Moog Inc Class A"
    assert h.by_symbol["CRDO"].name == "Credo Technology Group"
    assert title_name("KRATOS DEFENSE AND SECURITY SOLUTI") == "Kratos Defense and Security Soluti"
    assert title_name("PJT PARTNERS INC CLASS A") == "PJT Partners Inc Class A"
    assert title_name("THE BANCORP INC") == "The Bancorp Inc"


def test_pad_universe_to_2000() -> None:
    whole = load_holdings()
    h = Holdings(whole.as_of, whole.constituents[:150], whole.source)
    p = pad_universe(h, 2000, seed=7)
    assert len(p.constituents) == 2000
    assert p.constituents[:150] == h.constituents
    syn = p.constituents[150:]
    assert syn[0].symbol == "SYN0001" and syn[0].name == "Synthetic Co 1"
    assert syn[-1].symbol == "SYN1850"
    assert p.total_weight == pytest.approx(1.0, abs=1e-6)  # the full universe sums to 1
    smallest_real = min(c.weight for c in h.constituents)
    weights = [c.weight for c in syn]
    assert max(weights) < smallest_real and min(weights) > 0
    assert weights == sorted(weights, reverse=True)  # a decaying tail
    assert len({c.sector for c in syn}) >= 10
    assert pad_universe(h, 2000, seed=7) == p  # deterministic
    assert pad_universe(h, 100, seed=7) is h  # already big enough
    half = pad_universe(h, 500, seed=7)
    assert len(half.constituents) == 500 and h.total_weight < half.total_weight < 1.0
    assert pad_universe(whole, 2000, seed=7).constituents[:1953] == whole.constituents


def test_holdings_by_symbol_cached() -> None:
    h = Holdings(dt.date(2025, 1, 2), [Constituent("A", "A", "Energy", 0.5)], "x")
    assert h.by_symbol is h.by_symbol and h.symbols == ["A"]


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("MOGA", "MOGA"),  # undotted: only a symbol directory can tell (feeds.reference.reconcile)
        ("MOG A", "MOG-A"),
        ("BRK B", "BRK-B"),
        ("brk.b", "BRK-B"),
        ("GEFB", "GEFB"),
        ("RUSHA", "RUSHA"),
        ("BE", "BE"),
        (" IWM\u00a0", "IWM"),
    ],
)
def test_canonical_ticker(raw: str, canonical: str) -> None:
    assert canonical_ticker(raw) == canonical


def test_symbol_styles() -> None:
    assert INDEX_SYMBOLS == ("^RUT", "^GSPC")
    assert HEADLINE == ("^RUT", "^GSPC", "MAGS", "IWM", "SPY")
    assert to_provider("MOG-A", "dot") == "MOG.A"
    assert to_provider("MOG-A", "yahoo") == "MOG-A"
    assert to_provider("^RUT", "dot") == "^RUT" and to_provider("IWM", "dot") == "IWM"
    assert from_provider("BRK.B", "dot") == "BRK-B"
    assert from_provider("SPY", "dot") == "SPY"
    for s in ("MOG-A", "BF-B", "AAPL", "^GSPC"):
        assert from_provider(to_provider(s, "dot"), "dot") == s
    with pytest.raises(ValueError):
        to_provider("X", "slash")  # type: ignore[arg-type]


# --- every input is validated (issue 8 §4): both formats ---------------------------------------


def _snapshot(path: Path, rows: list[tuple[str, str, str, object]]) -> Path:
    from tests.conftest import write_holdings

    return write_holdings(path, rows, as_of="2025-11-05")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["nan", "-0.5", "inf", "-inf"])
def test_nan_negative_or_infinite_weights_are_refused_in_both_formats(
    tmp_path: Path, bad: str
) -> None:
    simple = _snapshot(tmp_path / "s.csv", [("AAA", "A", "X", 1.0), ("BBB", "B", "X", bad)])
    with pytest.raises(InputFileError) as e:
        load_holdings(simple)
    assert f"s.csv:5: weight_pct '{bad}' must be a percentage of 0 or more" in str(e.value)
    rows = list(ROWS)
    rows[1] = _row("CRDO", "CREDO", "Information Technology", "Equity", bad, "NASDAQ")
    with pytest.raises(InputFileError) as e:
        load_holdings(write_ishares(tmp_path / "i.csv", rows))
    assert f"i.csv:12: Weight (%) '{bad}' must be a percentage of 0 or more" in str(e.value)


def test_a_header_with_no_rows_is_refused_in_both_formats(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"e\.csv: no rows after the header line"):
        load_holdings(_snapshot(tmp_path / "e.csv", []))
    with pytest.raises(InputFileError, match=r"i\.csv:10: no listed equity rows"):
        load_holdings(write_ishares(tmp_path / "i.csv", []))


def test_weights_over_100_5_percent_are_refused(tmp_path: Path) -> None:
    p = _snapshot(tmp_path / "big.csv", [("AAA", "A", "X", 60.0), ("BBB", "B", "X", 41.0)])
    with pytest.raises(InputFileError, match=r"weights sum to 101\.0%, over 100\.5%"):
        load_holdings(p)
    rows = [
        _row("AAA", "A", "X", "Equity", "70.00", NYSE),
        _row("BBB", "B", "X", "Equity", "40", NYSE),
    ]
    with pytest.raises(InputFileError, match=r"weights sum to 110\.0%"):
        load_holdings(write_ishares(tmp_path / "i.csv", rows))


def test_a_partial_file_is_legal_and_says_its_coverage(tmp_path: Path) -> None:
    rows = [("AAA", "A", "X", 1.0), ("BBB", "B", "X", 0.9), ("CCC", "C", "X", 0.5)]
    rows += [("DDD", "D", "X", 0.3), ("EEE", "E", "X", 0.2)]
    h = load_holdings(_snapshot(tmp_path / "five.csv", rows))
    assert h.partial and h.coverage_text() == "5 names, 2.9% of the index"
    assert len(h.warnings) == 1 and "five.csv: 5 names, 2.9% of the index" in h.warnings[0]
    assert load_holdings().warnings == []  # the bundled snapshot: the whole index


def test_duplicate_symbols_are_merged_with_one_warning_in_both_formats(tmp_path: Path) -> None:
    rows = [("AAA", "Alpha first", "X", 1.0), ("BBB", "B", "X", 0.5)]
    rows += [("AAA", "Alpha again", "Y", 0.25), ("BBB", "B2", "X", 0.5)]
    h = load_holdings(_snapshot(tmp_path / "dup.csv", rows))
    assert h.by_symbol["AAA"] == Constituent("AAA", "Alpha first", "X", 0.0125)
    assert h.by_symbol["BBB"].weight == 0.01 and len(h) == 2
    dup = [w for w in h.warnings if "more than once" in w]
    assert len(dup) == 1 and "AAA (2x), BBB (2x)" in dup[0]
    rows_i = [*ROWS, _row("CRDO", "CREDO AGAIN", "Information Technology", "Equity", "0.10", NYSE)]
    h = load_holdings(write_ishares(tmp_path / "i.csv", rows_i))
    assert h.by_symbol["CRDO"].weight == pytest.approx(0.01)  # the first row is not lost
    assert h.by_symbol["CRDO"].name == "CREDO TECHNOLOGY GROUP"
    assert any("CRDO (2x)" in w for w in h.warnings)


def test_holdings_past_the_universe_cap_are_refused(tmp_path: Path) -> None:
    from feeds.reference.holdings import MAX_UNIVERSE

    rows = [(f"S{i}", "n", "X", 0.001) for i in range(MAX_UNIVERSE + 1)]
    with pytest.raises(InputFileError, match=r"lists 10,001 names; r2k tracks at most 10,000"):
        load_holdings(_snapshot(tmp_path / "huge.csv", rows))


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from feeds.reference.holdings import MAX_FILE_BYTES

    p = tmp_path / "huge.csv"
    with p.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(InputFileError, match=r"huge\.csv is 20 MB, more than"):
        load_holdings(p)


def test_a_holdings_path_through_a_file_names_that_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notes"
    blocker.write_text("")
    with pytest.raises(InputFileError) as info:
        load_holdings(blocker / "h.csv")
    assert f"('{blocker}' is a file, not a folder); check it" in str(info.value)
