"""The monitor: status bar, spread card, level ladder, alert log, leaderboard, footer."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import Footer, Input

from feeds.frame import Frame
from tui import series
from tui.screens.base import FrameScreen
from tui.widgets.alert_log import AlertLog
from tui.widgets.board import SORT_LABELS, BoardTable, Leaderboard, board_title
from tui.widgets.ladder import LevelLadder
from tui.widgets.rowlist import RowList
from tui.widgets.spread_card import SpreadCard
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import set_titles


class MainScreen(FrameScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "app.cycle_sort", "Sort", tooltip="contribution → return → weight → symbol"),
        Binding("S", "app.reverse_sort", "Reverse sort", show=False),
        Binding("slash", "filter", "Filter", tooltip="the board by symbol or name"),
    ]
    # Layout classes: narrow stacks the panels, wide puts the board on the right; short
    # terminals (24 lines) use the compact spread card.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (110, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (30, "-tall")]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Container(id="body"):
            with Container(id="top"):
                card = SpreadCard(id="card", classes="panel")
                card.border_title = "Rotation · small vs large"
                yield card
                ladder = LevelLadder(id="ladder")
                ladder.add_class("panel")
                ladder.border_title = "Levels · ^RUT"
                yield ladder
                alerts = AlertLog(id="alerts")
                alerts.add_class("panel")
                alerts.border_title = "Alerts"
                yield alerts
            leaders = Leaderboard(id="leaders", classes="panel")
            leaders.border_title = "Leaders"
            yield leaders
        yield Footer()

    def screen_ready(self) -> None:
        self.query_one(BoardTable).focus()
        self.r2k.flush_alerts()

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

    # --- frames --------------------------------------------------------------------------------
    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        app = self.r2k
        wide = self.has_class("-wide")
        self.card.show_frame(frame, wide=wide)
        self.ladder.set_levels(
            frame.levels,
            frame.level_price,
            symbol=app.pipeline.levels.symbol,
            estimated=frame.estimated_indices,
            stale=frame.stale,
        )
        est = " est." if frame.estimated_indices else ""
        set_titles(self.ladder, f"Levels · {app.pipeline.levels.symbol}{est}")
        board = self.board
        board.set_sort(app.sort, app.descending)
        board.set_board(frame.board, frame.changed, stale=frame.stale)
        leaders = self.query_one(Leaderboard)
        leaders.set_breadth(frame.breadth, len(frame.board), app.filter_text)
        order = "largest first" if app.descending else "smallest first"
        if app.sort == "symbol":
            order = "Z-A" if app.descending else "A-Z"
        title = board_title(frame.board, leaders.size.width)
        set_titles(leaders, title, f"by {SORT_LABELS[app.sort]}, {order}")
        if charts:
            self.card.chart.update(*series.spread(app.pipeline))

    # --- drilldowns ----------------------------------------------------------------------------
    @on(RowList.Selected, "#board")
    def open_constituent(self, event: RowList.Selected) -> None:
        symbol = self.board.symbol_at(event.index)
        if symbol is not None:
            self.r2k.open_constituent(symbol)

    @on(RowList.Selected, "#ladder")
    def open_level(self, event: RowList.Selected) -> None:
        level = self.ladder.level_at(event.index)
        if level is not None:
            self.r2k.open_level(level.price)

    @on(RowList.Selected, "#alerts")
    def open_alert_level(self, event: RowList.Selected) -> None:
        alert = self.alerts.alert_at(event.index)
        if alert is not None:
            self.r2k.open_level(alert.level)

    @on(SpreadCard.OpenRequested)
    def open_spread(self) -> None:
        self.r2k.open_spread()

    @on(LevelLadder.RemoveRequested)
    def remove_level(self, event: LevelLadder.RemoveRequested) -> None:
        self.r2k.remove_level(event.price)

    # --- filter --------------------------------------------------------------------------------
    def action_filter(self) -> None:
        leaders = self.query_one(Leaderboard)
        leaders.add_class("-filtering")
        box = leaders.query_one("#filter", Input)
        box.value = self.r2k.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.r2k.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        leaders = self.query_one(Leaderboard)
        leaders.remove_class("-filtering")
        self.board.cursor = 0
        self.board.focus()
