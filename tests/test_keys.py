"""The one binding table: ids, keys, words and help, and the remaps r2k accepts."""

from __future__ import annotations

import pytest

from tui import keys
from tui.app import R2KApp
from tui.screens.base import DetailScreen
from tui.screens.level import LevelScreen
from tui.screens.main import MainScreen
from tui.widgets.alert_log import AlertLog
from tui.widgets.board import Leaderboard
from tui.widgets.ladder import LevelLadder
from tui.widgets.rowlist import RowList
from tui.widgets.spread_card import SpreadCard


def test_every_binding_has_a_unique_id_a_word_and_help() -> None:
    ids = [key.id for _, key in keys.all_keys()]
    assert len(ids) == len(set(ids))
    for scope, key in keys.all_keys():
        assert key.description, key
        assert key.help or not key.show, key  # what the footer shows, help explains
        if key.palette:
            assert key.help and scope in ("app", "main"), key


def test_keys_live_together_never_clash_and_reserved_keys_stay_free() -> None:
    for group in keys._TOGETHER:
        seen: dict[str, str] = {}
        for scope in group:
            for key in keys.TABLE[scope]:
                for name in key.keys.split(","):
                    assert name not in seen, (name, seen.get(name), key.id)
                    seen[name] = key.id
    every = {n for _, k in keys.all_keys() for n in k.keys.split(",")}
    assert not every & set(keys.RESERVED)


@pytest.mark.parametrize(
    ("cls", "scope"),
    [
        (R2KApp, "app"),
        (MainScreen, "main"),
        (RowList, "rows"),
        (LevelLadder, "ladder"),
        (SpreadCard, "card"),
        (LevelScreen, "level"),
        (AlertLog, "alerts"),
        (Leaderboard, "filter"),
        (DetailScreen, "detail"),
    ],
)
def test_each_class_binds_its_scope_of_the_table(cls: type, scope: str) -> None:
    bound = {(b.id, b.key, b.action) for b in cls.BINDINGS}  # type: ignore[attr-defined]
    # the monitor also hears the list keys no focused panel answered (keys.WHERE: it says where)
    hints = {(b.id, b.key, b.action) for b in keys.where_bindings()} if scope == "main" else set()
    assert bound == {(k.id, k.keys, k.action) for k in keys.TABLE[scope]} | hints


@pytest.mark.parametrize(
    ("keymap", "error"),
    [
        (
            {"puase": "space"},
            "[keys] has no binding id 'puase'; ids: acknowledge, acknowledge-all, add-level",
        ),
        ({"pause": "s"}, "[keys] pause = 's': 's' already runs sort; pick another key"),
        ({"sort": "q"}, "[keys] sort = 'q': 'q' already runs quit"),
        ({"pause": "f"}, "[keys] pause = 'f': 'f' already runs feed-status"),
    ],
)
def test_a_remap_r2k_cannot_honour_is_one_line(keymap: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError) as err:
        keys.check_keymap(keymap)
    assert str(err.value).startswith(error) and "\n" not in str(err.value)


def test_remaps_that_move_keys_around_are_fine() -> None:
    keys.check_keymap({"pause": "space", "sort": "o,s", "cursor-down": "down,j,n"})
    keys.check_keymap({"pause": "s", "sort": "o"})  # sort moved away first
