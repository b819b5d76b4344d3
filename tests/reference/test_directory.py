"""Symbol directories: NASDAQ Trader files, the on-disk format, the bundled copy and the cache."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.reference.directory import (
    BUNDLED,
    DirectoryCache,
    SymbolDirectory,
    build,
    bundled,
    compact,
    for_feed,
    format_directory,
    of_symbols,
    parse_nasdaq_trader,
    read_directory,
)
from tests.sources.providers.fake_directories import nasdaq_traded

# the first lines of the real files (layout: nasdaqtrader.com "Symbol Look-Up/Directory Data
# Fields & Definitions"), with the footer NASDAQ writes
OTHERLISTED = "\r\n".join(
    [
        "ACT Symbol|Security Name|Exchange|CQS Symbol|ETF|Round Lot Size|Test Issue|NASDAQ Symbol",
        "AACT.U|Ares Acquisition Corporation II Units|N|AACT.U|N|100|N|AACT=",
        "AACT.W|Ares Acquisition Corporation II Redeemable Warrants|N|AACT.WS|N|100|N|AACT+",
        "ABR$D|Arbor Realty Trust 6.375% Series D Preferred Stock|N|ABRpD|N|100|N|ABR-D",
        "BRK.B|Berkshire Hathaway Inc. New Common Stock|N|BRK.B|N|100|N|BRK.B",
        "CWEN|Clearway Energy, Inc. Class C Common Stock|N|CWEN|N|100|N|CWEN",
        "CWEN.A|Clearway Energy, Inc. Class A Common Stock|N|CWEN.A|N|100|N|CWEN.A",
        "IWM|iShares Russell 2000 ETF|P|IWM|Y|100|N|IWM",
        "CTEST.E|NYSE TEST STOCK|N|CTEST.E|N|100|Y|CTEST.E",
        "ZETA|Zeta Global Holdings Corp. Class A Common Stock|N|ZETA|N|100|N|ZETA",
        "File Creation Time: 0303202606:00||||||",
        "",
    ]
)
NASDAQLISTED = "\n".join(
    [
        "Symbol|Security Name|Market Category|Test Issue|Financial Status|Round Lot Size|ETF|"
        "NextShares",
        "RUSHA|Rush Enterprises, Inc. - Class A Common Stock|Q|N|N|100|N|N",
        "ZXZZT|NASDAQ TEST STOCK|G|Y|N|100|N|N",
        "File Creation Time: 1020202512:11|||||||",
    ]
)


def test_compact_ignores_punctuation_and_case() -> None:
    assert compact("JWA") == compact("JW-A") == compact("JW.A") == compact("jw a") == "JWA"
    assert compact("^RUT") == "RUT"


def test_otherlisted_keeps_shares_and_class_shares_only() -> None:
    symbols, created = parse_nasdaq_trader(OTHERLISTED)
    assert created == dt.date(2026, 3, 3)
    # units (=), warrants (+), preferreds (-) and test issues are left out; BRK.B -> BRK-B
    assert symbols == {"BRK-B", "CWEN", "CWEN-A", "IWM", "ZETA"}


def test_nasdaqlisted_and_nasdaqtraded() -> None:
    symbols, created = parse_nasdaq_trader(NASDAQLISTED)
    assert (symbols, created) == ({"RUSHA"}, dt.date(2025, 10, 20))
    text = nasdaq_traded([("MOG.A", "MOG.A", "N"), ("AACT.U", "AACT=", "N"), ("ZZT", "ZZT", "Y")],
                         dt.date(2024, 8, 1))  # fmt: skip
    assert parse_nasdaq_trader(text) == ({"MOG-A"}, dt.date(2024, 8, 1))


def test_not_a_directory_file_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a NASDAQ Trader"):
        parse_nasdaq_trader("<html>\n<body>Service unavailable</body>")
    with pytest.raises(ValueError):
        parse_nasdaq_trader("")


def test_match_exact_then_one_look_alike_then_several() -> None:
    d = of_symbols(["JW-A", "ZETA", "AB-C", "ABC", "A-BC", "^RUT"], "test")
    assert d.match("ZETA") == ("ZETA",)  # listed as written
    assert d.match("JWA") == ("JW-A",)  # one look-alike
    assert d.match("JW.A") == ("JW-A",)
    assert d.match("AB.C") == ("A-BC", "AB-C", "ABC")  # several: the caller decides
    assert d.match("RUT") == ()  # index values never stand in for a ticker
    assert d.match("NOPE") == ()


def test_format_and_read_round_trip(tmp_path: Path) -> None:
    d = SymbolDirectory(
        "alpaca's asset list", frozenset({"MOG-A", "BE"}), dt.date(2026, 3, 3),
        1_772_550_000_000, "GET /v2/assets",
    )  # fmt: skip
    path = tmp_path / "d.txt"
    path.write_text(format_directory(d))
    assert read_directory(path) == d
    path.write_text("BE\nMOG-A\n")  # no header: not a directory file
    with pytest.raises(ValueError, match="label"):
        read_directory(path)


def test_bundled_directory_says_where_it_came_from() -> None:
    d = bundled()
    head = BUNDLED.read_text().splitlines()[:4]
    assert any("NASDAQ Trader" in line and "2026-03-03" in line for line in head)
    assert d.as_of == dt.date(2026, 3, 3) and len(d) > 10_000
    assert {"MOG-A", "CWEN-A", "LGF-A", "LGF-B", "BRK-B", "IWM", "SPY", "MAGS"} <= d.symbols
    assert {"ZETA", "ACVA", "IBTA", "CIA", "VIA", "RUSHA", "BE"} <= d.symbols
    assert not [k for k, v in d.by_key.items() if len(v) > 1]  # no key is ambiguous in it


def test_build_is_the_union_of_files(tmp_path: Path) -> None:
    a, b = tmp_path / "otherlisted.txt", tmp_path / "nasdaqlisted.txt"
    a.write_text(OTHERLISTED)
    b.write_text(NASDAQLISTED)
    d = build(tmp_path / "out.txt", [a, b], "test list", "two files")
    assert d.symbols == {"BRK-B", "CWEN", "CWEN-A", "IWM", "ZETA", "RUSHA"}
    assert d.as_of == dt.date(2026, 3, 3)  # the newest file's date
    assert read_directory(tmp_path / "out.txt") == d


def test_cache_freshness_and_damage(tmp_path: Path) -> None:
    cache = DirectoryCache("alpaca", "alpaca's asset list", tmp_path, max_age_s=3600)
    assert cache.load() is None and not cache.is_fresh(None)
    d = SymbolDirectory("alpaca's asset list", frozenset({"BE"}), None, 1_000_000)
    assert cache.save(d) == ""
    assert cache.load() == d
    assert cache.is_fresh(d, now_ms=1_000_000 + 3_599_000)
    assert not cache.is_fresh(d, now_ms=1_000_000 + 3_600_000)
    assert not cache.is_fresh(d, now_ms=999_000)  # a clock set back: fetch again
    cache.path.write_bytes(b"\xff\xfe garbage")
    assert cache.load() is None  # a damaged cache counts as none, never an error


def test_cache_write_failure_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = DirectoryCache("alpaca", "alpaca's asset list", blocker)  # a file, not a folder
    assert "cannot write" in cache.save(of_symbols(["BE"], "alpaca's asset list"))


def test_cache_lives_in_the_platform_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert DirectoryCache("polygon", "x").path == tmp_path / "r2k" / "symbols" / "polygon.txt"


def test_for_feed_prefers_a_cached_provider_list(tmp_path: Path) -> None:
    assert for_feed("sim", tmp_path) == ([bundled()], None)
    assert for_feed("replay", tmp_path)[1] is None
    chain, cache = for_feed("alpaca", tmp_path)
    assert chain == [bundled()] and cache is not None and cache.name == "alpaca"
    listed = SymbolDirectory("alpaca's asset list", frozenset({"MOG-A"}), None, 1_000)
    cache.save(listed)
    assert for_feed("alpaca", tmp_path)[0] == [listed]  # of any age: the feed refreshes it
    assert for_feed("massive", tmp_path)[1].name == "polygon"  # type: ignore[union-attr]
    assert for_feed("yahoo", tmp_path)[1].name == "nasdaqtrader"  # type: ignore[union-attr]
