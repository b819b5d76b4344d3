"""The r2k Textual app: runs the feed as a task and renders one frame per refresh tick.

Flow: the feed worker feeds ``Pipeline.handle`` per event (no UI work per tick); a fixed-rate
timer calls ``Pipeline.frame`` once and hands the frame to the active screen; charts redraw at
most once a second. Level alerts reach the user through a pipeline alert sink (toast + bell) the
moment they fire, even while the display is paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from feeds.alerts import WebhookSink
from feeds.analytics import SORT_KEYS
from feeds.delivery import TerminalNotifier
from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame
from feeds.levels import AlertEvent
from feeds.levelstore import LevelStore, LevelStoreError
from feeds.pipeline import Pipeline
from feeds.secrets import redact
from feeds.setup import add_saved_levels, drain_webhooks
from feeds.state import ANCHOR_MODES
from tui import fmt
from tui.screens.base import FrameScreen
from tui.screens.main import MainScreen
from tui.widgets.status_bar import status_content

DEFAULT_REFRESH_HZ = 4.0
CHART_INTERVAL_S = 1.0  # charts redraw at most once a second
IDLE_STATUS_S = 1.0  # idle (no ticks, no status change): the status bar's clock and age
IDLE_FRAME_S = 5.0  # idle: a full frame now and then (session phase, rate decay)
WATCHDOG_INTERVAL_S = 1.0
ALERT_SEED_LIMIT = 200
TOAST_GAP_S = 5.0  # per level: the least time between two crossing toasts (and bells)
EXIT_DRAIN_S = 2.0  # on quit: the longest wait for queued webhook alerts to be delivered
EXIT_CLOSE_S = 3.0  # on quit: the longest wait for the feed to close its connections


class R2KApp(App[None]):
    """Live monitor of the Russell 2000 vs S&P 500 rotation."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "r2k"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", tooltip="this screen: keys and legend"),
        Binding("p", "toggle_pause", "Pause", tooltip="freeze or resume the display"),
        Binding("a", "cycle_anchor", "Anchor", tooltip="prev close → open → first → YTD"),
        Binding("y", "toggle_ytd", "Day/YTD", show=False, tooltip="day ↔ year to date"),
        Binding("plus", "add_level", "Add level", tooltip="a ^RUT level: price [label]"),
        Binding("b", "toggle_bell", "Bell on/off", show=False, tooltip="bell on crossings"),
        Binding(
            "f", "feed_status", "Feed status", show=False, tooltip="full reason, retries, history"
        ),
    ]

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        settings: object | None = None,
        refresh_hz: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        run_feed: bool = True,
        level_store: LevelStore | None = None,
    ) -> None:
        """``level_store`` keeps the levels added with ``+``; by default the one at
        ``settings.levels_file`` (no settings, no store: nothing is saved)."""
        super().__init__()
        self.pipeline = pipeline
        self.settings = settings
        levels_file = getattr(settings, "levels_file", None)
        if level_store is None and levels_file is not None:
            level_store = LevelStore(levels_file)
        self.level_store = level_store
        # user levels from the config file and --level: removing one lasts until a restart
        self._configured_levels = {
            lv.price for lv in getattr(settings, "levels", ()) if getattr(lv, "user", False)
        }
        self._quitting = False
        self.exit_worker: Worker[None] | None = None  # delivering queued webhooks, then exiting
        hz = refresh_hz if refresh_hz is not None else getattr(settings, "refresh_hz", None)
        self.refresh_hz = float(hz) if hz else DEFAULT_REFRESH_HZ
        self.bell_on = bool(getattr(settings, "bell", True))
        # >>> alerts10 (issue 10): what a crossing does (notify = [...]); desktop notifications
        # go out through Textual's driver, in order with the screen's own output
        self.notify_methods = tuple(getattr(settings, "notify", ("toast", "bell")))
        self.osc = TerminalNotifier(self.notify_methods, self._write_terminal)
        # <<< alerts10
        anchor = getattr(settings, "anchor", None)
        if anchor and anchor != pipeline.anchor:
            pipeline.set_anchor(str(anchor))
        self.clock = clock  # injectable so tests control the chart cadence
        self.run_feed = run_feed
        self.frame: Frame | None = None
        self._pulled: Frame | None = None
        self.sort = "contribution"
        self.descending = True
        self.filter_text = ""
        self.paused = False
        self.frames = 0  # frames pulled (for tests and the bench)
        self._last_chart = -1e18
        self._last_pull = -1e18
        self._last_toast: dict[float, float] = {}
        self._last_status = -1e18
        self._seen_ticks = -1
        self._seen_status: FeedStatus | None = None
        self._started = False
        self.started = asyncio.Event()  # set once the first frame is out (tests await it)
        self._alert_backlog: list[AlertEvent] = []  # alerts of frames pulled before the log was up
        self._timer: Timer | None = None
        self._problems_shown: set[str] = set()
        self.main = MainScreen()
        # build_pipeline loads the durable log's tail here; taken before the feed adds to it
        self._earlier_alerts = list(pipeline.alerts)

    # --- start and stop ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.sub_title = fmt.clean(self.pipeline.feed.label, 40)
        if self.console.color_system in ("standard", "windows"):
            # 16 colours: the default theme's greens and reds round to grey; the terminal's
            # own ANSI palette keeps up/down apart
            self.theme = "ansi-dark"
        self.push_screen(self.main)
        for note in self.pipeline.notes:  # holdings coverage, merged duplicates, a repaired log
            self.notify(fmt.clean(note, 300), severity="warning", timeout=15, markup=False)
        self._warn_holdings()
        self._load_saved_levels()
        self.pipeline.alert_sinks.append(self._on_alert)
        self._timer = self.set_interval(1 / self.refresh_hz, self._on_timer, name="frame")
        # Textual issue 6690: after an SSH drop the input thread can spin on EOF; stdin stops
        # being a tty about a second later, so a watchdog that exits then prevents it.
        if not self.is_headless and sys.stdin is not None and sys.stdin.isatty():
            self.set_interval(WATCHDOG_INTERVAL_S, self._watchdog, name="tty-watchdog")
        # The market calendar imports pandas and exchange_calendars (~0.8 s) on first use; the
        # pipeline uses it when it starts and in every frame. Load it in a thread while the
        # layout paints, then start the feed and pull the first frame.
        self.run_worker(self._warm_calendar, name="calendar", thread=True, exit_on_error=False)

    def _warn_holdings(self) -> None:
        """Holdings tickers respelt to the feed's symbols, or listed nowhere: said once."""
        rec = self.pipeline.reconciler
        if rec is None:
            return
        summary = rec.result.summary(brief=True)
        if summary:
            doubtful = rec.result.unmatched or rec.result.ambiguous
            self.notify(
                fmt.clean(summary, 300),
                title="Holdings",
                severity="warning" if doubtful else "information",
                timeout=12,
                markup=False,
            )

    def _load_saved_levels(self) -> None:
        """Levels added with ``+`` in earlier sessions, after the configured ones."""
        store = self.level_store
        if store is None:
            return
        warning = add_saved_levels(self.pipeline.levels, store)
        if warning:
            self.notify(
                fmt.clean(warning, 300),
                title="Saved levels",
                severity="warning",
                timeout=20,
                markup=False,
            )

    def _warm_calendar(self) -> None:
        try:
            from feeds import calendar

            calendar.session_phase(self.pipeline.feed.now_ms())
        except Exception:
            pass
        self.call_from_thread(self._start)

    def on_unmount(self) -> None:
        if self._on_alert in self.pipeline.alert_sinks:
            self.pipeline.alert_sinks.remove(self._on_alert)

    async def _feed(self) -> None:
        """Consume the feed; an error is shown in the status bar, never raised."""
        try:
            await self.pipeline.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = fmt.clean(redact(f"{type(exc).__name__}: {exc}"), 1000)  # mask, then cut
            self.pipeline.set_status(FeedStatus(FeedState.ERROR, reason))
        else:
            if self.pipeline.status.state is not FeedState.ERROR:
                self.pipeline.set_status(FeedStatus(FeedState.ENDED, "the feed ended"))
        self._show_status()

    def _watchdog(self) -> None:
        stdin = sys.stdin
        if self._quitting:
            return  # already on the way out (delivering queued webhooks)
        if stdin is None or stdin.closed or not stdin.isatty():
            self.shut_down(return_code=1, message="terminal went away")

    async def action_quit(self) -> None:
        self.shut_down()

    def shut_down(self, *, return_code: int = 0, message: str | None = None) -> None:
        """Exit, first closing the feed (websockets close with 1000, not 1011) and delivering
        alerts still queued for the webhook (at most EXIT_DRAIN_S).

        Asking again while that runs (a second ``q``) exits at once.
        """
        if self._quitting:
            self.exit(return_code=return_code, message=message)
            return
        self._quitting = True
        queued = sum(s.pending for s in self.pipeline.alert_sinks if isinstance(s, WebhookSink))
        feeding = [w for w in self.workers if w.group == "feed" and not w.is_finished]
        if not queued and not feeding:
            self.exit(return_code=return_code, message=message)
            return
        if queued:
            self.notify(
                f"Sending {queued} queued alert{'s' if queued != 1 else ''} to the webhook…",
                timeout=EXIT_DRAIN_S,
            )
        self.exit_worker = self.run_worker(
            self._close_then_exit(return_code, message),
            name="exit",
            group="exit",
            exit_on_error=False,
        )

    async def _close_then_exit(self, return_code: int, message: str | None) -> None:
        try:
            # no new alerts while the queue drains; the log stays open for the caller to close.
            # The feed closes its connections as it stops (code 1000): wait for that, briefly.
            feeding = [w for w in self.workers if w.group == "feed" and not w.is_finished]
            for worker in feeding:
                worker.cancel()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(EXIT_CLOSE_S):
                    for worker in feeding:
                        with contextlib.suppress(Exception):
                            await worker.wait()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(EXIT_DRAIN_S + 1.0):  # even if a post ignores cancel
                    await drain_webhooks(self.pipeline, EXIT_DRAIN_S)
        finally:
            self.exit(return_code=return_code, message=message)

    def _start(self) -> None:
        """Calendar ready: earlier alerts into the log, the feed, then the first frame."""
        self._started = True
        if self.run_feed:
            self.run_worker(self._feed(), name="feed", group="feed", exit_on_error=False)
        earlier = self._earlier_alerts
        if earlier:
            self.main.alerts.seed(earlier)
        elif getattr(self.settings, "alert_log", None):
            self.run_worker(self._read_alert_log, thread=True, exit_on_error=False)
        self.pull_frame()
        self.started.set()

    def _read_alert_log(self) -> None:
        """Earlier alerts from the durable log (a thread: the file may be large): the log this
        feed writes to, and only what a screen on this feed may list (no sim on a live one)."""
        from feeds.alerts import AlertLog, alert_log_path, read_recent
        from feeds.feed import feed_kind
        from feeds.setup import shown_with

        kind = feed_kind(self.pipeline.feed.spec)
        logs = [s.path for s in self.pipeline.alert_sinks if isinstance(s, AlertLog)]
        path = logs[0] if logs else alert_log_path(getattr(self.settings, "alert_log", ""), kind)
        recent = read_recent(path, ALERT_SEED_LIMIT, keep=shown_with(kind))
        alerts = [a for a in (_as_alert(x) for x in recent) if a]
        if alerts:
            alerts.sort(key=lambda a: -a.ts)
            self.call_from_thread(self.main.alerts.seed, alerts)

    # --- frames --------------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if self.paused or not self._started:
            return
        quiet = (
            self.pipeline.state.total_ticks == self._seen_ticks
            and self.pipeline.status is self._seen_status
        )
        now = self.clock()
        if not quiet or now - self._last_pull >= IDLE_FRAME_S:
            self.pull_frame()
        elif now - self._last_status >= IDLE_STATUS_S:
            self._idle_status()

    def _idle_status(self) -> None:
        """Idle: move the clock and the tick age on without building a frame (idle <= 1%)."""
        now = self._last_status = self.clock()
        frame = self._pulled
        if frame is None:
            return
        # the tick age the last frame reported, grown by the time since (no tick came since)
        age = None if frame.tick_age_s is None else frame.tick_age_s + (now - self._last_pull)
        self.frame = replace(
            frame, as_of=self.pipeline.feed.now_ms(), tick_age_s=age, ticks_per_s=0.0
        )
        self._show_status()

    def _warn_problems(self, problems: tuple[str, ...]) -> None:
        """A failing alert sink is news once: a toast when its report changes."""
        for problem in problems:
            if problem not in self._problems_shown:
                self.notify(
                    fmt.clean(problem, 300),
                    title="Not written or delivered",
                    severity="error",
                    timeout=30,
                    markup=False,
                )
        self._problems_shown = set(problems)

    def pull_frame(self, *, charts: bool | None = None) -> Frame:
        """Build one frame and show it (also used for an immediate answer to a key)."""
        frame = self.pipeline.frame(self.sort, self.descending, self.filter_text)
        self.frames += 1
        self._pulled = frame  # as built, before any idle clock updates
        self._seen_ticks = frame.total_ticks
        self._seen_status = frame.status
        self._last_pull = self._last_status = self.clock()
        self.frame = frame
        if charts is None:
            now = self.clock()
            charts = now - self._last_chart >= CHART_INTERVAL_S
        if charts:
            self._last_chart = self.clock()
        self._deliver(frame, charts=charts)
        return frame

    def _deliver(self, frame: Frame, *, charts: bool) -> None:
        # alerts are consumed with the frame: the log must get them whatever screen is on top
        self._alert_backlog.extend(frame.new_alerts)
        self.flush_alerts()
        self._warn_problems(frame.problems)
        screen = self._frame_screen()
        if screen is not None and screen.ready:
            screen.show_frame(frame, charts=charts)
            screen.show_status()

    def flush_alerts(self) -> None:
        """Hand new alerts to the log once it exists (the first frame can come before it)."""
        if not self.main.ready:
            return
        if self.frame is not None:
            self.main.alerts.set_today(self.frame.as_of, self.frame.session_date)
        if self._alert_backlog:
            self.main.alerts.add(self._alert_backlog)
            self._alert_backlog = []

    def _frame_screen(self) -> FrameScreen | None:
        """The top screen showing data (under a modal such as help, which leaves it visible)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FrameScreen):
                return screen
        return None

    def _show_status(self) -> None:
        screen = self._frame_screen()
        if screen is not None and screen.ready:
            screen.show_status()

    def status_content(self) -> Content:
        return status_content(
            self.frame,
            feed_label=self.pipeline.feed.label,
            status=self.pipeline.status,
            anchor=self.pipeline.anchor,
            paused=self.paused,
            wide=self.size.width >= 110,
            narrow=self.size.width < 90,
        )

    def _on_alert(self, alert: AlertEvent) -> None:
        """Pipeline alert sink: a crossing raises a toast and rings the bell at once; a busted
        alert (its trade was cancelled) raises a toast too."""
        if alert.muted:  # alerts10: a muted level interrupts nobody
            return
        if alert.kind == "busted":
            self.osc(alert)
            if "toast" in self.notify_methods:
                arrow = "▲" if alert.direction == "up" else "▼"
                est = " (est.)" if alert.estimated else ""
                self.notify(
                    f"{alert.symbol} alert at {fmt.price(alert.level)} {arrow} busted: its "
                    f"trade was cancelled; now {fmt.price(alert.price)}{est}",
                    title="Alert busted",
                    severity="warning",
                    timeout=10,
                    markup=False,
                )
            return
        if alert.kind != "cross":
            return
        self.osc(alert)  # alerts10: OSC 9 / 777 when enabled (it has its own per-level gap)
        # a replay at full speed can cross a level many times a second: one toast and one bell
        # per level every few seconds is news, more is noise (every crossing is in the log)
        now = self.clock()
        if now - self._last_toast.get(alert.level, -1e18) < TOAST_GAP_S:
            return
        self._last_toast[alert.level] = now
        word = "up through" if alert.direction == "up" else "down through"
        est = " (est.)" if alert.estimated else ""
        if "toast" in self.notify_methods:  # alerts10
            self.notify(
                f"{alert.symbol} crossed {word} {fmt.price(alert.level)} "
                f"{fmt.clean(alert.label, 40)} at {fmt.price(alert.price)}{est}",
                title="Level crossed",
                severity="warning",
                timeout=10,
                markup=False,
            )
        if self.bell_on:
            self.bell()

    def _write_terminal(self, text: str) -> None:
        """alerts10: text for the terminal itself (escape sequences), through Textual's driver."""
        driver = self._driver
        if driver is not None and not self.is_headless:
            driver.write(text)

    # --- actions -------------------------------------------------------------------------------
    def _refresh_now(self) -> None:
        """A key changed what the frame shows: answer now rather than at the next tick."""
        self.pull_frame(charts=False)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.pull_frame(charts=True)
        else:
            self._show_status()
        self.notify("Display paused: p resumes" if self.paused else "Display live", timeout=2)

    def set_anchor(self, mode: str) -> None:
        try:
            self.pipeline.set_anchor(mode)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.pull_frame(charts=True)
        self.notify(f"Returns since {fmt.anchor_name(mode)}", timeout=2)

    def action_cycle_anchor(self) -> None:
        modes = list(ANCHOR_MODES)
        current = self.pipeline.anchor
        self.set_anchor(
            modes[(modes.index(current) + 1) % len(modes)] if current in modes else "prev"
        )

    def action_toggle_ytd(self) -> None:
        self.set_anchor("prev" if self.pipeline.anchor == "ytd" else "ytd")

    def action_cycle_sort(self) -> None:
        keys = list(SORT_KEYS)
        self.set_sort(keys[(keys.index(self.sort) + 1) % len(keys)])

    def set_sort(self, key: str) -> None:
        self.sort = key
        # symbols read A-Z, figures largest first
        self.descending = key != "symbol"
        self._refresh_now()

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending
        self._refresh_now()

    def set_filter(self, text: str) -> None:
        text = fmt.clean(text, 40).strip()
        if text != self.filter_text:
            self.filter_text = text
            self._refresh_now()

    def action_toggle_bell(self) -> None:
        self.bell_on = not self.bell_on
        self.notify("Bell on crossings: " + ("on" if self.bell_on else "off"), timeout=2)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_groups()))

    def key_groups(self) -> list[tuple[str, list[BindingType]]]:
        from tui.screens.base import DetailScreen
        from tui.widgets.ladder import LevelLadder
        from tui.widgets.rowlist import RowList
        from tui.widgets.spread_card import SpreadCard

        palette: list[BindingType] = [
            Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Command palette"),
            Binding("tab", "focus_next", "Next panel"),
            Binding("shift+tab", "focus_previous", "Previous panel"),
        ]
        return [
            ("Everywhere", [*self.BINDINGS, *palette]),
            ("Monitor", [*MainScreen.BINDINGS, Binding("escape", "", "Clear the filter")]),
            ("Board, levels, alerts", list(RowList.BINDINGS)),
            ("Levels", list(LevelLadder.BINDINGS)),
            ("Spread card", list(SpreadCard.BINDINGS)),
            ("Drilldowns", list(DetailScreen.BINDINGS)),
        ]

    def action_feed_status(self) -> None:
        """The feed-status screen: the whole reason and this run's history (issue 8 §2)."""
        from tui.screens.feed_status import FeedStatusScreen

        if not isinstance(self.screen, FeedStatusScreen):
            self.push_screen(FeedStatusScreen())

    def action_add_level(self) -> None:
        from tui.screens.add_level import AddLevelScreen

        def added(result: tuple[float, str] | None) -> None:
            if result is not None:
                self.add_level(*result)

        self.push_screen(AddLevelScreen(), added)

    def add_level(self, price: float, label: str) -> None:
        """Add a user level and save it, so it is there after a restart."""
        engine = self.pipeline.levels
        if any(lv.price == price for lv in engine.levels):
            self.notify(f"Level {fmt.price(price)} is already on the ladder", timeout=3)
            return
        engine.add(price, label, user=True)
        note = f"Level {fmt.price(price)} added: {label}"
        if self.level_store is not None:
            try:
                self.level_store.add(price, label)
            except LevelStoreError as exc:
                self._not_saved(str(exc))
                note += " (this session only)"
        self.notify(note, timeout=3, markup=False)
        self._refresh_now()

    def remove_level(self, price: float) -> None:
        if not self.pipeline.levels.remove(price):
            return
        if self.level_store is not None:
            try:
                self.level_store.remove(price)  # re-reads the file: no-op if it is not there
            except LevelStoreError as exc:
                self._not_saved(str(exc))
        if price in self._configured_levels:
            self.notify(
                f"Level {fmt.price(price)} removed until restart: it is set in the config "
                "file ([[levels.user]]) or by --level; remove it there to drop it for good",
                timeout=8,
                markup=False,
            )
        else:
            self.notify(f"Level {fmt.price(price)} removed", timeout=3)
        self._refresh_now()

    def _not_saved(self, reason: str) -> None:
        self.notify(
            fmt.clean(reason, 300),
            title="Levels not saved",
            severity="error",
            timeout=15,
            markup=False,
        )

    # --- drilldowns ----------------------------------------------------------------------------
    def open_constituent(self, symbol: str) -> None:
        from tui.screens.constituent import ConstituentScreen

        self.push_screen(ConstituentScreen(symbol))

    def open_level(self, price: float) -> None:
        from tui.screens.level import LevelScreen

        self.push_screen(LevelScreen(price))

    def open_spread(self) -> None:
        from tui.screens.spread import SpreadScreen

        self.push_screen(SpreadScreen())

    # --- command palette -----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and legend (?)", self.action_help)
        yield SystemCommand(
            "Pause / resume", "Freeze or resume the display (p)", self.action_toggle_pause
        )
        yield SystemCommand(
            "Cycle anchor", "prev close, open, first, YTD (a)", self.action_cycle_anchor
        )
        yield SystemCommand(
            "Day / YTD", "Toggle the anchor day and YTD (y)", self.action_toggle_ytd
        )
        for mode in ANCHOR_MODES:
            yield SystemCommand(
                f"Anchor: {fmt.anchor_name(mode)}",
                f"Measure returns since the {fmt.anchor_name(mode)}",
                lambda mode=mode: self.set_anchor(mode),
            )
        yield SystemCommand("Cycle sort", "Sort the leaderboard (s)", self.action_cycle_sort)
        yield SystemCommand(
            "Reverse sort", "Flip the leaderboard order (S)", self.action_reverse_sort
        )
        for key in SORT_KEYS:
            yield SystemCommand(
                f"Sort by {key}",
                f"Rank the leaderboard by {key}",
                lambda key=key: self.set_sort(key),
            )
        if isinstance(screen, MainScreen):
            yield SystemCommand(
                "Filter", "Filter the leaderboard by symbol or name (/)", screen.action_filter
            )
        yield SystemCommand("Clear filter", "Show every constituent", lambda: self.set_filter(""))
        yield SystemCommand(
            "Add level", "Add a ^RUT level: price [label] (+)", self.action_add_level
        )
        yield SystemCommand("Spread detail", "Charts of both spreads", self.open_spread)
        yield SystemCommand(
            "Feed status",
            "The feed's full reason, retries, malformed frames and history (f)",
            self.action_feed_status,
        )
        if isinstance(screen, MainScreen):
            for title, widget in (
                ("Focus leaderboard", screen.board),
                ("Focus levels", screen.ladder),
                ("Focus alerts", screen.alerts),
                ("Focus spread card", screen.card),
            ):
                yield SystemCommand(title, "Move the keyboard focus (Tab)", widget.focus)
        yield SystemCommand(
            "Bell on/off", "Ring the terminal bell on crossings (b)", self.action_toggle_bell
        )


def _as_alert(item: object) -> AlertEvent | None:
    """An entry of the durable log as an AlertEvent (the log may give events or dicts)."""
    if isinstance(item, AlertEvent):
        return item
    if not isinstance(item, dict):
        return None
    try:
        ts = item.get("ts", 0)
        if isinstance(ts, str):
            from datetime import datetime

            ts = int(datetime.fromisoformat(ts).timestamp() * 1000)
        return AlertEvent(
            ts=int(ts),
            symbol=str(item.get("symbol", "^RUT")),
            level=float(item["level"]),
            label=str(item.get("label", "")),
            direction=str(item.get("direction", "")),
            price=float(item.get("price", 0.0)),
            kind=str(item.get("kind", "cross")),
            estimated=bool(item.get("estimated", False)),
            feed=str(item.get("feed", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None
