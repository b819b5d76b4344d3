"""The one binding table: every key r2k answers, with an id, a footer word and a line of help.

The footer, the help screen, the command palette and the user's key remaps all read this table,
so none of them repeats a key or its text by hand:

- each class's ``BINDINGS`` is :func:`bindings` of its scope (Textual shows ``show=True`` ones in
  the footer);
- the help screen lists :data:`TABLE` by scope, with the keys in effect after remaps;
- the command palette lists every row with a ``palette`` title, its help and its key;
- ``[keys]`` in the config file maps a binding id to other keys (``pause = "space"``), applied
  with Textual's ``App.set_keymap`` as posting does; :func:`check_keymap` refuses an unknown id
  or a key that would shadow another binding, in one line, before the app starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Textual is imported where a binding is built: `r2k config check` checks
    from textual.app import App  # the key table without it (headless commands never load it)
    from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Key:
    """One binding. ``keys``: Textual key names, comma-separated; ``action``: a Textual action
    string (``app.`` runs it on the App); ``description``: the footer's word; ``help``: one line
    for the help screen and the palette; ``palette``: the palette title ("" = not listed)."""

    id: str
    keys: str
    action: str
    description: str
    help: str = ""
    show: bool = True
    palette: str = ""
    priority: bool = False  # checked before the key reaches the focused widget

    def binding(self, keys: str | None = None) -> Binding:
        from textual.binding import Binding

        return Binding(
            keys or self.keys,
            self.action,
            self.description,
            show=self.show,
            tooltip=self.help,
            id=self.id,
            priority=self.priority,
        )


#: Scope -> the title of its group on the help screen.
SCOPES: dict[str, str] = {
    "app": "Everywhere",
    "main": "Monitor",
    "rows": "Lists: board, levels, alerts",
    "ladder": "Levels (and spread thresholds in the spread drilldown)",
    "alerts": "Alert panel",
    "card": "Spread card",
    "filter": "Filter box",
    "detail": "Drilldowns",
    "dialog": "Dialogs",
}

TABLE: dict[str, tuple[Key, ...]] = {
    "app": (
        Key("quit", "q", "quit", "Quit", "send queued webhook alerts, then exit"),
        Key("help", "question_mark", "help", "Help", "keys, legend and units", palette="Help"),
        Key(
            "pause",
            "p",
            "toggle_pause",
            "Pause",
            "freeze the figures; feed, alerts and bell run on",
            palette="Pause / resume",
        ),
        Key(
            "anchor",
            "a",
            "cycle_anchor",
            "Anchor",
            "returns since: prev close → open → first → YTD",
            palette="Cycle anchor",
        ),
        Key(
            "day-ytd",
            "y",
            "toggle_ytd",
            "Day/YTD",
            "the day's anchor ↔ year to date",
            show=False,
            palette="Day / YTD",
        ),
        Key(
            "add-level",
            "plus",
            "add_level",
            "Add",
            "a ^RUT level: price [tick|1m|5m] [label]",
            palette="Add level",
            # priority: the dialog opens before the keys typed right after "+" are handed out
            # (without it they reach the board first); a box being typed in keeps its "+"
            priority=True,
        ),
        # the removal's toast names it; it works while there is a removal to undo
        # (R2KApp.check_action)
        Key(
            "undo-remove",
            "u",
            "undo_remove",
            "Undo",
            "put back the level just removed (for a few seconds)",
            show=False,
            palette="Undo level removal",
        ),
        Key(
            "spread",
            "d",
            "open_spread",
            "Spread",
            "the spread drilldown: both spreads, ratio, streak",
            show=False,
            palette="Spread detail",
        ),
        Key(
            "feed-status",
            "f",
            "feed_status",
            "Feed",
            "the feed's reason in full, retries and history",
            show=False,
            palette="Feed status",
        ),
        Key(
            "bell",
            "b",
            "toggle_bell",
            "Bell",
            "ring the terminal bell on crossings, or not",
            show=False,
            palette="Bell on/off",
        ),
        # the year-to-date scoreboard
        Key(
            "scoreboard",
            "Y",
            "open_scoreboard",
            "YTD",
            "the year to date: streak, records, breadth, movers",
            show=False,  # the board's breadth line names it (the footer is full at 80 columns)
            palette="Scoreboard (year to date)",
        ),
        # from any screen, so the status bar's count clears without going to the panel
        Key(
            "acknowledge-all",
            "X",
            "acknowledge_all",
            "Ack all",
            "acknowledge every alert waiting (the status bar's ⚑ count)",
            show=False,
            palette="Acknowledge all alerts",
        ),
    ),
    "main": (
        Key(
            "sort",
            "s",
            "app.cycle_sort",
            "Sort",
            "contribution → return → weight → symbol",
            palette="Cycle sort",
        ),
        Key(
            "reverse-sort",
            "S",
            "app.reverse_sort",
            "Reverse",
            "largest ↔ smallest first",
            show=False,
            palette="Reverse sort",
        ),
        # priority: the box takes focus before the keys typed right after "/" are handed out
        Key(
            "filter",
            "slash",
            "filter",
            "Filter",
            "the board by symbol or name",
            palette="Filter",
            priority=True,
        ),
    ),
    "rows": (
        Key("open", "enter", "select", "Open", "drill into the row under the cursor"),
        Key("cursor-up", "up,k", "cursor(-1)", "Up", show=False),
        Key("cursor-down", "down,j", "cursor(1)", "Down", show=False),
        Key("page-up", "pageup", "page(-1)", "Page up", show=False),
        Key("page-down", "pagedown", "page(1)", "Page down", show=False),
        Key("first-row", "home", "edge(0)", "First row", show=False),
        Key("last-row", "end", "edge(1)", "Last row", show=False),
    ),
    "ladder": (
        Key("remove-level", "delete,x", "remove_level", "Remove", "a level you added"),
        # spread thresholds are muted in the spread drilldown's list (d), not on the card
        Key(
            "mute",
            "m",
            "toggle_mute",
            "Mute",
            "mute/unmute: still logged, no toast, bell or notification",
        ),
    ),
    # the alert panel
    "alerts": (
        Key("acknowledge", "x", "acknowledge", "Ack", "acknowledge the alert under the cursor"),
        Key(
            "mute-alert",
            "m",
            "mute_alert",
            "Mute level",
            "mute/unmute the level of the alert under the cursor",
            show=False,
        ),
    ),
    "card": (Key("open-spread", "enter", "open", "Open", "the spread drilldown"),),
    "filter": (
        Key(
            "clear-filter",
            "escape",
            "close_filter",
            "Clear filter",
            "and back to the board",
            show=False,
        ),
    ),
    "detail": (Key("back", "escape", "dismiss_screen", "Back", "to the monitor, cursor kept"),),
    "dialog": (
        Key("close-help", "escape,question_mark", "close", "Close", "the help", show=False),
        Key("cancel", "escape", "close", "Cancel", "the add-level dialog", show=False),
    ),
}

#: Keys kept free for screens that are coming, so no remap or new binding takes them
#: (key -> what it is kept for).
RESERVED: dict[str, str] = {}


def bindings(scope: str) -> list[Binding]:
    """The Textual bindings of ``scope`` (a class's ``BINDINGS``)."""
    return [k.binding() for k in TABLE[scope]]


def all_keys() -> Iterator[tuple[str, Key]]:
    """(scope, key) for every row of the table, in help order."""
    for scope in SCOPES:
        for key in TABLE[scope]:
            yield scope, key


def effective(key: Key, keymap: Mapping[str, str]) -> str:
    """The keys that run ``key`` once the user's remaps apply."""
    return keymap.get(key.id, key.keys)


#: Scopes whose keys are live together (the app's with each screen's and widget's).
_TOGETHER = (
    ("app", "main", "rows"),
    ("app", "main", "ladder"),
    ("app", "main", "card"),
    ("app", "main", "rows", "alerts"),  # the alert panel
    ("app", "detail", "rows", "ladder"),  # the spread drilldown's thresholds
)


def check_keymap(keymap: Mapping[str, str]) -> None:
    """Refuse a remap r2k cannot honour. Raises ValueError with one line: the id and the fix
    (the first of :func:`keymap_problems`)."""
    problems = keymap_problems(keymap)
    if problems:
        raise ValueError(problems[0])


def keymap_problems(keymap: Mapping[str, str]) -> list[str]:
    """Every remap r2k cannot honour, one line each (an unknown id, a key another binding of
    the same screen runs, a reserved key); [] when the keymap is good."""
    out: list[str] = []
    ids = {k.id for _, k in all_keys()}
    for binding_id in keymap:
        if binding_id not in ids:
            out.append(f"[keys] has no binding id {binding_id!r}; ids: {', '.join(sorted(ids))}")
    seen: set[tuple[str, str]] = set()
    for group in _TOGETHER:
        owner: dict[str, str] = {}
        for scope in group:
            for key in TABLE[scope]:
                for name in effective(key, keymap).split(","):
                    other = owner.setdefault(name, key.id)
                    if other == key.id or (key.id not in keymap and other not in keymap):
                        continue  # the table's own keys are checked by the tests
                    moved, kept = (key.id, other) if key.id in keymap else (other, key.id)
                    if (moved, name) in seen:
                        continue
                    seen.add((moved, name))
                    out.append(
                        f"[keys] {moved} = {keymap[moved]!r}: {name!r} already runs {kept}; "
                        f"pick another key or remap {kept} too"
                    )
    for binding_id, value in keymap.items():
        for name in value.split(","):
            if name in RESERVED:
                out.append(
                    f"[keys] {binding_id} = {value!r}: {name!r} is kept for {RESERVED[name]}"
                )
    return out


# the keys a panel's hint names ("x one, X all") follow the user's remaps
def key_of(binding_id: str, keymap: Mapping[str, str]) -> str:
    """The first key (Textual's name) that runs ``binding_id`` after ``keymap``'s remaps. Raises
    StopIteration for an id the table does not have (a programming error)."""
    return effective(next(k for _, k in all_keys() if k.id == binding_id), keymap).split(",")[0]


def display(app: App[Any], binding_id: str) -> str:
    """How the footer writes :func:`key_of` ``binding_id`` on ``app`` (its ``keymap`` attribute
    holds the remaps; an app without one has none): "x", "X", "del"."""
    from textual.binding import Binding

    keymap: Mapping[str, str] = getattr(app, "keymap", None) or {}
    return app.get_key_display(Binding(key_of(binding_id, keymap), ""))
