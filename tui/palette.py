"""The command palette's r2k commands: the binding table's palette rows (their help and keys come
from :mod:`tui.keys`, never retyped), then the choices a key cycles through, one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from feeds.market.analytics import SORT_KEYS
from feeds.market.state import ANCHOR_MODES
from tui import fmt, keys, messages
from tui.screens.main import MainScreen


def commands(
    app: App[object], screen: Screen[object], keymap: Mapping[str, str]
) -> Iterator[SystemCommand]:
    """The palette's commands on ``screen`` (the monitor adds its sort, filter and panels)."""

    def post(message: Message) -> Callable[[], object]:
        return lambda: app.post_message(message)

    def run(action: str, scope: str) -> Callable[[], object]:
        # an action resolves where its binding lives: the App's on the App, the rest on the screen
        namespace = app if scope == "app" else screen
        return lambda: app.run_action(action, default_namespace=namespace)

    main = isinstance(screen, MainScreen)
    for scope in ("app", "main") if main else ("app",):
        for key in keys.TABLE[scope]:
            if key.palette:
                shown = app.get_key_display(Binding(keys.effective(key, keymap), ""))
                yield SystemCommand(key.palette, f"{key.help} ({shown})", run(key.action, scope))
    for mode in ANCHOR_MODES:
        yield SystemCommand(
            f"Anchor: {fmt.anchor_name(mode)}",
            f"Measure returns since {fmt.anchor_phrase(mode)}",
            post(messages.AnchorChanged(mode)),
        )
    if not main:
        return
    for sort in SORT_KEYS:
        yield SystemCommand(
            f"Sort by {sort}",
            f"Rank the leaderboard by {sort}",
            post(messages.SortChanged(sort, sort != "symbol")),
        )
    yield SystemCommand("Clear filter", "Show every constituent", post(messages.FilterChanged("")))
    for name, widget in screen.panels():
        yield SystemCommand(f"Focus {name}", "Move the keyboard focus (Tab)", widget.focus)
