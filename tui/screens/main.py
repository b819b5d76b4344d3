"""The monitor: status bar, spread card, level ladder, alert panel, leaderboard, footer.

It renders each frame into its panels and turns what the trader does into messages: Enter on a
row opens its drilldown, the filter box says what to keep, the board's cursor says which name it
is on. Sort, pause and anchor keys are the App's own actions (one binding table, keys.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Input

from feeds.alerting.delivery import is_spread
from feeds.frame import Frame
from tui import fmt, keys
from tui.messages import FilterChanged, OpenConstituent, OpenLevel, OpenSpread
from tui.screens.base import FrameScreen
from tui.widgets.alert_log import AlertLog
from tui.widgets.board import BoardTable, Leaderboard
from tui.widgets.footer import KeyFooter
from tui.widgets.ladder import LevelLadder
from tui.widgets.rowlist import RowList
from tui.widgets.spread_card import SpreadCard
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import set_titles
from tui.widgets.too_small import TooSmall


class MainScreen(FrameScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*keys.bindings("main"), *keys.where_bindings()]
    # Layout classes (styles/app.tcss): slim and narrow stack the panels, wide puts the board on
    # the right, vast widens the left column; short terminals use the compact spread card.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-slim"),
        (80, "-narrow"),
        (110, "-wide"),
        (160, "-vast"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-tiny"),
        (22, "-short"),
        (30, "-tall"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Container(id="body"):
            with Container(id="top"):
                yield SpreadCard(id="card", classes="panel")
                yield LevelLadder(id="ladder", classes="panel")
                yield AlertLog(id="alerts", classes="panel")
            yield Leaderboard(id="leaders", classes="panel")
        yield TooSmall()
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        for widget, title in (
            (self.card, "Rotation · small vs large"),
            (self.ladder, "Levels · ^RUT"),
            (self.alerts, "Alerts"),
        ):
            set_titles(widget, title)
        self.board.focus()

    # --- widgets -------------------------------------------------------------------------------
    @property
    def board(self) -> BoardTable:
        return self.query_one(BoardTable)

    @property
    def ladder(self) -> LevelLadder:
        return self.query_one(LevelLadder)

    @property
    def alerts(self) -> AlertLog:
        return self.query_one(AlertLog)

    @property
    def card(self) -> SpreadCard:
        return self.query_one(SpreadCard)

    def panels(self) -> Iterator[tuple[str, Widget]]:
        """(name, widget) of each panel the keyboard focus can go to."""
        yield "leaderboard", self.board
        yield "levels", self.ladder
        yield "alerts", self.alerts
        yield "spread card", self.card

    # --- frames --------------------------------------------------------------------------------
    def render_frame(self, frame: Frame) -> None:
        self.card.show(frame, wide=self.has_class("-wide") or self.has_class("-vast"))
        self.ladder.show(frame)
        est = " est." if frame.estimated_indices else ""
        hours = fmt.SESSIONS_WORDS[frame.alert_sessions][0]
        set_titles(self.ladder, f"Levels · {frame.level_symbol}{est} · {hours}")
        self.show_alerts(frame)
        self.query_one(Leaderboard).show(frame)
        if frame.charts is not None:
            self.card.draw(frame.charts)

    def render_paused(self, frame: Frame) -> None:
        self.show_alerts(frame)  # alerts keep coming while the figures are frozen

    def show_alerts(self, frame: Frame) -> None:
        """The alert panel, titled with how many alerts wait for an acknowledgement."""
        self.alerts.show(frame)
        n = frame.unacknowledged
        title = "Alerts"
        if n:  # the keys as remapped; in the title, which short terminals keep (not the subtitle)
            ack, every = (
                keys.display(self.app, "acknowledge"),
                keys.display(self.app, "acknowledge-all"),
            )
            title = f"Alerts · ● {n:,} to acknowledge: {ack} one, {every} all"
        set_titles(self.alerts, title)

    # --- drilldowns ----------------------------------------------------------------------------
    @on(RowList.Selected, "#board")
    def open_constituent(self, event: RowList.Selected) -> None:
        symbol = self.board.symbol_at(event.index)
        if symbol is not None:
            self.post_message(OpenConstituent(symbol))

    @on(RowList.Selected, "#ladder")
    def open_level(self, event: RowList.Selected) -> None:
        level = self.ladder.level_at(event.index)
        if level is not None:
            self.post_message(OpenLevel(level.price))

    @on(RowList.Selected, "#alerts")
    def open_alert_level(self, event: RowList.Selected) -> None:
        alert = self.alerts.alert_at(event.index)
        if alert is not None:
            # a spread threshold has no level screen: its drilldown lists them all
            self.post_message(OpenSpread() if is_spread(alert.symbol) else OpenLevel(alert.level))

    def action_where(self, binding_id: str) -> None:
        """A key the focused panel does not answer: say where it works, and how to get there."""
        here = next((name for name, w in self.panels() if w is self.focused), "this panel")
        key = keys.display(self.app, binding_id)
        self.notify(
            f"{key} {keys.WHERE[binding_id]}; not on the {here} (Tab moves the focus)",
            timeout=4,
            markup=False,
        )

    # --- filter --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "/" is a priority key (the box must take focus before the keys typed after it), and
        # Textual does not see "/" as a character the box takes: typed in the box, it is text
        return not (action == "filter" and isinstance(self.focused, Input))

    def action_filter(self) -> None:
        leaders = self.query_one(Leaderboard)
        leaders.add_class("-filtering")
        box = leaders.query_one("#filter", Input)
        box.value = self.frame.board.filter if self.frame is not None else ""
        # at once, not after the queued keys: "/ionq" typed in one burst lands in the box
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(Leaderboard).remove_class("-filtering")
        self.board.focus()
