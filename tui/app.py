"""The r2k Textual app: wiring only. The feed runs in a worker, a fixed-rate timer hands the top
screen one frame, and typed messages from screens go to the :class:`~tui.controller.Controller`.

Flow: the feed worker feeds ``Pipeline.handle`` per event (no UI work per tick); each refresh
tick asks the controller what is due (a frame when ticks or the feed's status changed, charts at
most once a second, only the clock when idle) and shows it. Screens read frames and post
messages (:mod:`tui.messages`); keys come from one table (:mod:`tui.keys`).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import ClassVar

from textual.app import SystemCommand
from textual.binding import BindingType
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker

from feeds.alerting.delivery import TerminalNotifier
from feeds.alerting.levelstore import LevelStore
from feeds.frame import Frame
from feeds.pipeline import Pipeline
from feeds.settings.config import Settings
from tui import fmt, keys, messages, palette, sgr
from tui.controller import DEFAULT_REFRESH_HZ, Controller
from tui.routes import Routes
from tui.screens.base import FrameScreen
from tui.screens.main import MainScreen
from tui.widgets.footer import show_newest_note

WATCHDOG_INTERVAL_S = 1.0


class R2KApp(Routes):
    """Live monitor of the Russell 2000 vs S&P 500 rotation."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "r2k"
    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("app")

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        settings: Settings | None = None,
        refresh_hz: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        run_feed: bool = True,
        level_store: LevelStore | None = None,
    ) -> None:
        """Without ``settings`` (tests, embedders) nothing is saved and the defaults apply;
        ``level_store`` keeps the levels added with ``+`` (default: ``settings.levels_file``)."""
        super().__init__()
        sgr.install()  # shorter style sequences to the terminal, the same cells (tui/sgr.py)
        self.pipeline = pipeline
        self.settings = settings or Settings()
        if level_store is None and settings is not None:
            level_store = LevelStore(settings.levels_file)
        if settings is not None and settings.anchor != pipeline.anchor:
            pipeline.set_anchor(settings.anchor)
        self.keymap = dict(self.settings.keys)
        self.refresh_hz = refresh_hz or self.settings.refresh_hz or DEFAULT_REFRESH_HZ
        self.controller = Controller(
            pipeline,
            self.settings,
            notify=self.notify,
            bell=self.bell,
            level_store=level_store,
            clock=clock,
            # desktop notifications go out through Textual's driver, in order with the screen's
            # own output (over SSH they reach the trader's terminal)
            terminal=TerminalNotifier(self.settings.notify, self._write_terminal),
            panel_shown=self.alert_panel_shown,
        )
        self.run_feed = run_feed
        self.main = MainScreen()
        self.started = asyncio.Event()  # set once the first frame is out (tests await it)
        self.exit_worker: Worker[None] | None = None  # delivering queued webhooks, then exiting
        self._quitting = False

    # --- start and stop ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.sub_title = fmt.clean(self.pipeline.feed.label, 40)
        if self.console.color_system in ("standard", "windows"):
            # 16 colours: the default theme's greens and reds round to grey; the terminal's
            # own ANSI palette keeps up/down apart (and its cursor pair is black on white)
            self.theme = "ansi-dark"
        self.set_keymap(self.keymap)
        self.push_screen(self.main)
        self.controller.say_notes()
        self.controller.load_levels()
        self.set_interval(1 / self.refresh_hz, self._on_timer, name="frame")
        # Textual issue 6690: after an SSH drop the input thread can spin on EOF; stdin stops
        # being a tty about a second later, so a watchdog that exits then prevents it.
        if not self.is_headless and sys.stdin is not None and sys.stdin.isatty():
            self.set_interval(WATCHDOG_INTERVAL_S, self._watchdog, name="tty-watchdog")
        # The market calendar imports pandas and exchange_calendars (~0.8 s) on first use; load
        # it in a thread while the layout paints, then start the feed and show the first frame.
        self.run_worker(self._warm_calendar, name="calendar", thread=True, exit_on_error=False)

    def _warm_calendar(self) -> None:
        self.controller.warm_calendar()
        self.call_from_thread(self._start)

    def _start(self) -> None:
        if not gc.isenabled():
            # the command line held collections back for the start-up (tui.cli.run_app): what
            # it built lives as long as the app, so later full collections need not walk it
            gc.freeze()
            gc.enable()
        if self.run_feed:
            feed = self.controller.consume()
            self.run_worker(feed, name="feed", group="feed", exit_on_error=False)
        self.show_now(charts=True)
        self.started.set()

    def _write_terminal(self, text: str) -> None:
        """Escape sequences for the terminal itself (OSC 9/777), through Textual's driver."""
        driver = self._driver
        if driver is not None and not self.is_headless:
            driver.write(text)

    def _watchdog(self) -> None:
        stdin = sys.stdin
        if not self._quitting and (stdin is None or stdin.closed or not stdin.isatty()):
            self.shut_down(return_code=1, message="terminal went away")

    async def action_quit(self) -> None:
        self.shut_down()

    def shut_down(self, *, return_code: int = 0, message: str | None = None) -> None:
        """Exit, first closing the feed (a websocket closes with 1000, not 1011) and delivering
        alerts still queued for the webhook. Asking again meanwhile (a second ``q``) exits."""
        queued = self.controller.queued_alerts()
        feeding = [w for w in self.workers if w.group == "feed" and not w.is_finished]
        if self._quitting or not (queued or feeding):
            self.exit(return_code=return_code, message=message)
            return
        self._quitting = True
        if queued:
            self.notify(f"Sending {fmt.plural(queued, 'queued alert')} to the webhook…", timeout=2)
        for worker in feeding:  # no new alerts while the queue drains
            worker.cancel()  # the feed closes its connections as it stops
        close = self._close_then_exit([w.wait() for w in feeding], return_code, message)
        self.exit_worker = self.run_worker(close, group="exit", exit_on_error=False)

    async def _close_then_exit(
        self, stopping: list[Awaitable[object]], return_code: int, message: str | None
    ) -> None:
        try:
            await self.controller.wind_down(stopping)
        finally:
            self.exit(return_code=return_code, message=message)

    # --- frames --------------------------------------------------------------------------------
    def frame_screen(self) -> FrameScreen | None:
        """The top screen showing data (under a modal such as help, which leaves it visible)."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, FrameScreen)), None)

    def _on_timer(self) -> None:
        if not self.started.is_set():
            return
        show_newest_note(self.screen)
        due = self.controller.due()
        if due == "frame":
            self.show_now(board=None)  # the board when due (BOARD_INTERVAL_S)
        elif due == "status":
            frame, screen = self.controller.idle(), self.frame_screen()
            if frame is not None and screen is not None:
                screen.show_status(frame)

    def show_now(self, *, charts: bool | None = None, board: bool | None = True) -> Frame | None:
        """Build the top screen's frame and show it (also the answer to a key, at once)."""
        screen = self.frame_screen()
        if screen is None or not screen.is_mounted:
            return None
        wants = screen.wants(self.controller.view)
        frame = self.controller.build(wants, charts=charts, board=board)
        screen.show_frame(frame)
        return frame

    # --- messages from screens -----------------------------------------------------------------
    def on_frame_wanted(self) -> None:
        if self.started.is_set():
            self.show_now(charts=True)

    def on_sort_changed(self, message: messages.SortChanged) -> None:
        self.controller.set_sort(message.sort, message.descending)
        self._sorted()

    def on_filter_changed(self, message: messages.FilterChanged) -> None:
        if self.controller.set_filter(message.text):
            self.show_now(charts=False)

    def on_cursor_moved(self, message: messages.CursorMoved) -> None:
        self.controller.set_cursor(message.symbol)

    def on_anchor_changed(self, message: messages.AnchorChanged) -> None:
        self._anchor(lambda: self.controller.set_anchor(message.mode))

    def _anchor(self, change: Callable[[], str]) -> None:
        if self.controller.change_anchor(change):
            self.show_now(charts=True)

    def on_pause_toggled(self, message: messages.PauseToggled) -> None:
        paused = self.controller.toggle_pause()
        frame, screen = self.controller.idle(), self.frame_screen()
        if paused and frame is not None and screen is not None:
            screen.show_status(frame)  # the figures stay as they are: no new frame to build
        else:
            self.show_now(charts=True)
        self.notify("Figures paused: p resumes" if paused else "Figures live", timeout=2)

    def on_add_level(self, message: messages.AddLevel) -> None:
        if self.controller.add_level(message.level):
            self.show_now(charts=False)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A note on the footer's line (app.tcss: one line, never over a figure): its title,
        when it has one, is folded into that line ("Level crossed: ▲ crossed up …")."""
        if title:
            message = f"{escape(title) if markup else title}: {message}"
        super().notify(message, severity=severity, timeout=timeout, markup=markup)

    def alert_panel_shown(self) -> bool:
        """Whether the monitor's alert panel is on screen (its screen on top, the panel laid
        out): crossings are then listed there, not toasted over it."""
        try:
            return (
                self.screen is self.main
                and self.main.alerts.display
                and bool(self.main.alerts.region)
            )
        except Exception:  # no screen yet (starting) or the panel not mounted
            return False

    def on_remove_level(self, message: messages.RemoveLevel) -> None:
        if self.controller.remove_level(message.price, keys.display(self, "undo-remove")):
            self.show_now(charts=False)

    def action_undo_remove(self) -> None:
        if self.controller.undo_remove():
            self.show_now(charts=False)

    # mutes and acknowledgements
    def on_toggle_mute(self, message: messages.ToggleMute) -> None:
        if self.controller.toggle_mute(message.symbol, message.level):
            self.show_now(charts=False)

    def on_acknowledge(self, message: messages.Acknowledge) -> None:
        if self.controller.acknowledge(message.alert):
            self.show_now(charts=False)

    def action_acknowledge_all(self) -> None:
        self.on_acknowledge(messages.Acknowledge(None))

    # --- actions (the binding table's app scope) ------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.on_pause_toggled(messages.PauseToggled())  # at once, ahead of a queued frame

    def action_cycle_anchor(self) -> None:
        self._anchor(self.controller.cycle_anchor)

    def action_toggle_ytd(self) -> None:
        self._anchor(self.controller.toggle_ytd)

    def action_cycle_sort(self) -> None:
        self.controller.cycle_sort()
        self._sorted()

    def action_reverse_sort(self) -> None:
        self.controller.reverse_sort()
        self._sorted()

    def _sorted(self) -> None:
        """A new sort (or its reverse) starts the board at the top: the trader asked for the
        biggest (or smallest) first, not for the name the cursor was on. Under the same sort the
        cursor keeps following its name."""
        self.controller.clear_cursor()
        self.main.board.to_top()
        self.show_now(charts=False)
        self.main.board.user_moved(0)

    def action_toggle_bell(self) -> None:
        self.controller.toggle_bell()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "+" is a priority key (see tui.keys); typed in a box (the filter, a dialog) it is text
        if action == "undo_remove":
            return self.controller.alerts.can_undo()
        return not (action == "add_level" and isinstance(self.focused, Input))

    # --- command palette ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette.commands(self, screen, self.keymap)
