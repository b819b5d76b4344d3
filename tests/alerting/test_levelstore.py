"""The saved levels file: round trip, atomic replace, merging, and a corrupt file set aside."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from feeds.alerting.levelstore import LevelStore, LevelStoreError, SavedLevel


def test_levels_round_trip_and_the_file_is_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "state" / "r2k" / "levels.json"  # the directory is made on first save
    store = LevelStore(path)
    assert store.load() is None and store.levels == []
    store.add(2475.0, "breakout")
    store.add(2300.5, "my stop")
    store.add(2475.0, "again")  # a price already saved keeps its first label
    assert json.loads(path.read_text()) == {
        "version": 1,
        "symbol": "^RUT",
        "levels": [
            {"price": 2475.0, "label": "breakout"},
            {"price": 2300.5, "label": "my stop"},
        ],
    }
    assert sorted(os.listdir(path.parent)) == ["levels.json"]  # no temporary file left behind

    again = LevelStore(path)
    assert again.load() is None
    assert again.levels == [SavedLevel(2475.0, "breakout"), SavedLevel(2300.5, "my stop")]
    assert again.remove(2475.0) and not again.remove(9999.0)
    assert [lv.price for lv in LevelStore(path).levels] == []  # not loaded yet
    third = LevelStore(path)
    third.load()
    assert third.levels == [SavedLevel(2300.5, "my stop")]


def test_each_change_merges_what_another_r2k_saved(tmp_path: Path) -> None:
    path = tmp_path / "levels.json"
    a, b = LevelStore(path), LevelStore(path)
    a.load()
    b.load()
    a.add(2500.0, "a's")
    b.add(2400.0, "b's")  # b re-reads the file first: a's level survives
    a.remove(2400.0)
    check = LevelStore(path)
    check.load()
    assert check.levels == [SavedLevel(2500.0, "a's")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes, line 1"),
        ('{"levels": {}}', 'expected an object with a "levels" list'),
        ('{"version": 9, "levels": []}', "version 9 is not one this r2k reads (1)"),
        ('{"levels": [{"price": -5}]}', "level #1 price -5 is not a positive number"),
        ('{"levels": [{"price": true}]}', "level #1 price True is not a positive number"),
        ('{"levels": [{"price": 2500, "label": 7}]}', "level #1 label 7 is not text"),
        ('{"levels": [3]}', "level #1 is not an object with price and label"),
    ],
)
def test_a_corrupt_file_is_set_aside_with_one_line(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "levels.json"
    path.write_text(text)
    store = LevelStore(path)
    warning = store.load()
    assert warning is not None and "\n" not in warning
    assert warning.startswith(f"saved levels '{path}' unreadable (")
    assert reason in warning
    assert warning.endswith("; moved to levels.json.bad; started without them")
    assert store.levels == []
    assert not path.exists() and (tmp_path / "levels.json.bad").read_text() == text
    store.add(2475.0, "fresh start")  # the next save starts a good file
    assert LevelStore(path).load() is None


def test_a_file_that_is_not_utf8_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "levels.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    warning = LevelStore(path).load()
    assert warning is not None and "(not UTF-8 text)" in warning


def test_an_unwritable_location_is_one_line_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = LevelStore(blocker / "levels.json")  # its directory is a file
    warning = store.load()  # cannot even be looked for: said, not raised
    assert warning is not None and "(Not a directory)" in warning and store.levels == []
    with pytest.raises(LevelStoreError) as info:
        store.add(2475.0, "x")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"could not save levels to '{blocker / 'levels.json'}' (")
    assert message.endswith("set levels_file in the config file to a writable path")


# --- the user's levels: engine and file together ---------------------------------------------


def test_user_levels_save_what_is_added_and_forget_what_is_removed(tmp_path: Path) -> None:
    from feeds.alertctl import AlertControl
    from feeds.pipeline import Pipeline
    from feeds.sources.sim import SimFeed

    store = LevelStore(tmp_path / "levels.json")
    pipeline = Pipeline(SimFeed("sim"))
    levels = AlertControl(pipeline, store, configured=[2600.0])
    pipeline.levels.add(2600.0, "from the config", user=True)
    assert levels.add_level("2475 breakout").message == "Level 2,475 added: breakout"
    assert not levels.add_level("2450 dup").changed  # a technical level is already there
    again = LevelStore(store.path)
    again.load()
    assert [(lv.price, lv.label) for lv in again.levels] == [(2475.0, "breakout")]
    gone = levels.remove_level(2600.0)
    assert gone is not None and "removed until restart" in gone.message
    assert levels.remove_level(2600.0) is None


def test_user_levels_that_cannot_be_saved_last_the_session(tmp_path: Path) -> None:
    from feeds.alertctl import AlertControl
    from feeds.pipeline import Pipeline
    from feeds.sources.sim import SimFeed

    blocker = tmp_path / "file"
    blocker.write_text("")
    pipeline = Pipeline(SimFeed("sim"))
    levels = AlertControl(pipeline, LevelStore(blocker / "levels.json"))
    change = levels.add_level("2475 breakout")
    assert change.changed and change.message.endswith("(this session only)")
    assert change.error is not None and "set levels_file" in change.error
    assert any(lv.price == 2475.0 for lv in pipeline.levels.levels)
