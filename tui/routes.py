"""Which screen each key or message opens: the drilldowns, the dialogs and the help, pushed
once (a second press while one is open does not stack another)."""

from __future__ import annotations

from textual.app import App

from tui import messages

# Each screen is imported when it is first opened, not before the first frame: the main screen
# is all the first paint needs (the drilldowns cost the start-up their imports, the scoreboard
# its charts and numpy work).


class Routes(App[None]):
    """The screen routes of :class:`~tui.app.R2KApp` (its base): ``action_*`` for the binding
    table's keys, ``on_open_*`` for the typed messages screens post. ``keymap`` is the user's
    remaps (the help screen shows the keys in effect)."""

    keymap: dict[str, str]

    def on_open_constituent(self, message: messages.OpenConstituent) -> None:
        from tui.screens.constituent import ConstituentScreen

        self.push_screen(ConstituentScreen(message.symbol))

    def on_open_level(self, message: messages.OpenLevel) -> None:
        from tui.screens.level import LevelScreen

        self.push_screen(LevelScreen(message.price))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap))

    def action_add_level(self) -> None:
        from tui.screens.add_level import AddLevelScreen

        self.push_screen(AddLevelScreen())

    def action_feed_status(self) -> None:
        from tui.screens.feed_status import FeedStatusScreen

        if not isinstance(self.screen, FeedStatusScreen):
            self.push_screen(FeedStatusScreen())

    on_open_feed_status = action_feed_status  # a click on the status bar (with --mouse)

    def action_open_spread(self) -> None:
        from tui.screens.spread import SpreadScreen

        self.push_screen(SpreadScreen())

    on_open_spread = action_open_spread  # the spread card's Enter (messages.OpenSpread)

    def action_open_scoreboard(self) -> None:
        from tui.screens.scoreboard import ScoreboardScreen

        if not isinstance(self.screen, ScoreboardScreen):
            self.push_screen(ScoreboardScreen())

    on_open_scoreboard = action_open_scoreboard  # a click on the breadth line (messages)

    def action_open_sectors(self) -> None:
        from tui.screens.sectors import SectorScreen

        if not isinstance(self.screen, SectorScreen):
            self.push_screen(SectorScreen())
