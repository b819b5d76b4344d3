"""Condition codes -> last-sale flags: reading Massive's conditions listing
(feeds.market.conditions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from feeds.market import conditions
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, NOT_LAST


def row(cid: int, name: str, sip: dict[str, str], hl: bool, oc: bool, **extra: Any) -> dict:
    rules = {"updates_high_low": hl, "updates_open_close": oc, "updates_volume": True}
    return {
        "id": cid,
        "type": "sale_condition",
        "name": name,
        "asset_class": "stocks",
        "sip_mapping": sip,
        "update_rules": {"consolidated": rules},
        "data_types": ["trade"],
        **extra,
    }


def test_a_listing_maps_ids_and_each_tapes_letters() -> None:
    table = conditions.parse_listing(
        [
            row(2, "Average Price Trade", {"CTA": "B", "UTP": "W"}, False, False),
            row(4, "Bunched Trade", {"UTP": "B"}, True, True),
            row(10, "Derivatively Priced", {"CTA": "4", "UTP": "4"}, True, False),
            row(6, "CAP Election", {"CTA": "I"}, True, True, legacy=True),
            row(37, "Odd Lot Trade", {"CTA": "I", "UTP": "I"}, False, False),
            # a quote condition shares ids and letters with the trade ones: not a sale condition
            {
                "id": 4,
                "type": "quote_condition",
                "name": "Slow",
                "asset_class": "stocks",
                "sip_mapping": {"UTP": "W"},
                "data_types": ["bbo", "nbbo"],
            },
            row(9, "an options condition", {"OPRA": "X"}, False, False, asset_class="options"),
        ]
    )
    assert table.by_id == {2: NEITHER, 10: NOT_LAST, 37: NEITHER}  # only what bars something
    assert table.cta == {"B": NEITHER, "4": NOT_LAST, "I": NEITHER}  # legacy "I" gave way
    assert table.utp == {"W": NEITHER, "4": NOT_LAST, "I": NEITHER}  # UTP "B" is bunched: fine
    assert table.letters("A") is table.cta and table.letters("C") is table.utp


def test_an_updates_last_key_is_read_too() -> None:
    rules = {"updates_high_low": True, "updates_last": False}
    listing = [{**row(99, "x", {}, True, True), "update_rules": {"consolidated": rules}}]
    assert conditions.parse_listing(listing).by_id == {99: NOT_LAST}
    only_hl = [row(98, "y", {}, False, True)]
    assert conditions.parse_listing(only_hl).by_id == {98: NOT_HIGH_LOW}


@pytest.mark.parametrize("results", [[], [{"id": 1}], ["garbage"], [row(1, "x", {}, True, True)]])
def test_a_listing_without_sale_conditions_is_refused(results: list[Any]) -> None:
    if results and isinstance(results[0], dict) and "update_rules" in results[0]:
        results[0]["data_types"] = ["bbo"]
    with pytest.raises(ValueError, match="no stock trade condition"):
        conditions.parse_listing(results)


def test_a_corrupt_or_missing_cache_falls_back_to_the_shipped_copy(tmp_path: Path) -> None:
    shipped = conditions.load_massive(tmp_path / "none.json")
    assert shipped.by_id[52] == NEITHER and shipped.fetched_ms == 0
    for body in (b"not json", b"{}", b'{"results": []}', orjson.dumps({"results": "x"})):
        bad = tmp_path / "bad.json"
        bad.write_bytes(body)
        assert conditions.load_massive(bad) == shipped
    good = tmp_path / "good.json"
    conditions.save_massive([row(14, "Intermarket Sweep", {"UTP": "F"}, True, False)], 5, good)
    cached = conditions.load_massive(good)
    assert cached.by_id == {14: NOT_LAST} and cached.utp == {"F": NOT_LAST}
    assert cached.fetched_ms == 5 and conditions.is_stale(
        cached, 5 + conditions.MAX_AGE_S * 1000 + 1
    )
    assert not conditions.is_stale(cached, 6)


def test_the_cache_lives_in_the_xdg_cache_dir(tmp_path: Path) -> None:
    assert conditions.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "r2k"
