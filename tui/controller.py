"""The app's state and its answers to the user, in plain Python (no Textual): tested without a
terminal, and the only place each piece of state lives.

- :class:`Controller` owns the :class:`~feeds.frame.View` every frame is built for (sort,
  direction, filter, cursor symbol, paused), the anchor the ``y`` key returns to, and the cadence:
  a frame at the refresh rate when ticks or the feed's status changed, charts at most once a
  second, and when nothing happens only the status line's clock, plus a full frame now and then.
- :class:`AlertNotices` turns a frame's new alerts into what ``notify`` asks for: a toast, the
  bell, a desktop notification through the terminal (OSC 9/777), one per level every few seconds
  (every alert is in the panel and the durable log); a muted level's alerts interrupt nobody; and
  says once when an alert sink starts failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

from feeds.alertctl import UNDO_S, AlertControl, Change
from feeds.alerting.alerts import WebhookSink, alert_key
from feeds.alerting.delivery import TerminalNotifier, notifies
from feeds.alerting.levelinput import LevelInput
from feeds.alerting.levels import AlertEvent
from feeds.alerting.levelstore import LevelStore
from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame, View
from feeds.market.analytics import SORT_KEYS
from feeds.market.state import ANCHOR_MODES
from feeds.pipeline import Pipeline
from feeds.secrets import redact
from feeds.settings.config import Settings
from feeds.settings.setup import drain_webhooks
from tui import fmt

Notify = Callable[..., Any]  # App.notify(message, *, title=, severity=, timeout=, markup=)

DEFAULT_REFRESH_HZ = 4.0
CHART_INTERVAL_S = 1.0  # charts redraw at most once a second
# the leaderboard is ranked and redrawn at most twice a second: at 5,000 ticks/s every visible
# row changes each frame, and its rows are most of what reaches the terminal (bench/screen.py);
# the headline quotes, the spread and the ladder keep the refresh rate
BOARD_INTERVAL_S = 0.5
IDLE_STATUS_S = 1.0  # idle (no ticks, no status change): the status line's clock and tick age
IDLE_FRAME_S = 5.0  # idle: a full frame now and then (session phase, rate decay)
TOAST_GAP_S = 5.0  # per level: the least time between two crossing toasts (and bells)
TOAST_S = 8.0  # how long a crossing toast stays (the alert panel keeps it)
EXIT_CLOSE_S = 3.0  # on quit: the longest wait for the feed to close its connections
EXIT_DRAIN_S = 2.0  # on quit: the longest wait for queued webhook alerts to be delivered


def warn(notify: Notify, text: str, title: str, *, severity: str, timeout: float) -> None:
    """A problem as a titled toast of plain text (never markup), long enough to be read."""
    notify(fmt.clean(text, 300), title=title, severity=severity, timeout=timeout, markup=False)


def _waits_for_nobody(alert: AlertEvent) -> str:
    """Why ``x`` on this alert acknowledged nothing."""
    if alert.acknowledged:
        return "Already acknowledged"
    if alert.muted:
        return "A muted level's alerts wait for no acknowledgement"
    if alert.kind == "cross":
        return "Already acknowledged"  # since the panel last drew it
    return "Only crossings wait for an acknowledgement"


class AlertNotices:
    """Crossing (and busted) toasts, the bell and desktop notifications, and the failing-sink
    warning, from each frame. ``methods`` is the config's ``notify`` (toast, bell, osc9,
    osc777); ``terminal`` writes the OSC ones (None: none).

    ``panel_shown`` says whether the alert panel is on screen now: a crossing's toast is then
    folded into it (the panel lists it at the top, marked ●, and its title counts it; issue 18
    §5: a toast over the panel hid the very alert it announced). Toasts are for the screens
    where the panel is not shown (a drilldown, help, a dialog)."""

    def __init__(
        self,
        notify: Notify,
        bell: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        bell_on: bool = True,
        methods: Iterable[str] = ("toast", "bell"),
        terminal: TerminalNotifier | None = None,
        panel_shown: Callable[[], bool] = lambda: False,
    ) -> None:
        self.panel_shown = panel_shown
        self.notify = notify
        self.bell = bell
        self.clock = clock
        self.bell_on = bell_on
        self.toast = "toast" in tuple(methods)
        self.terminal = terminal
        self._last: dict[tuple[str, float], float] = {}  # (symbol, level) -> when it last toasted
        self._problems: set[str] = set()

    def on_frame(self, frame: Frame) -> None:
        for alert in frame.new_alerts:
            if notifies(alert):  # a crossing or a busted one, of a level not muted
                self._alert(alert)
        for problem in frame.problems:
            if problem not in self._problems:
                warn(self.notify, problem, "Not written or delivered", severity="error", timeout=30)
        self._problems = set(frame.problems)

    def _alert(self, alert: AlertEvent) -> None:
        if self.terminal is not None:
            self.terminal(alert)  # OSC 9 / 777, with its own per-level gap
        # a replay at full speed can cross a level many times a second: one toast and one bell
        # per level every few seconds is news, more is noise (every crossing is in the log)
        now = self.clock()
        key = (alert.symbol, alert.level)
        if now - self._last.get(key, -1e18) < TOAST_GAP_S:
            return
        self._last[key] = now
        what, _ = fmt.describe(alert)
        est = " est." if alert.estimated else ""
        if self.toast and not self.panel_shown():
            tail = ": its trade was cancelled, now" if alert.kind == "busted" else " at"
            self.notify(
                f"{what} {fmt.clean(alert.symbol, 12)} {fmt.alert_level(alert)} "
                f"{fmt.clean(alert.label, 30)}{tail} {fmt.alert_price(alert)}{est}",
                title="Alert busted" if alert.kind == "busted" else "Level crossed",
                severity="warning",
                timeout=TOAST_S,
                markup=False,
            )
        if self.bell_on and alert.kind == "cross":
            self.bell()


class Controller:
    """The view, the frame cadence, the anchor and the user's levels of one app.

    ``notify`` and ``bell`` are the app's (Textual's ``App.notify`` and ``App.bell``); without
    a ``level_store`` levels added in the app last for the session.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        settings: Settings,
        *,
        notify: Notify,
        bell: Callable[[], None],
        level_store: LevelStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        terminal: TerminalNotifier | None = None,
        panel_shown: Callable[[], bool] = lambda: False,
    ) -> None:
        self.pipeline = pipeline
        configured = (lv.price for lv in settings.levels if lv.user)
        self.alerts = AlertControl(pipeline, level_store, configured=configured, clock=clock)
        self.notices = AlertNotices(
            notify,
            bell,
            clock=clock,
            bell_on=settings.bell,
            methods=settings.notify,
            terminal=terminal,
            panel_shown=panel_shown,
        )
        self.notify = notify
        self.clock = clock
        self.view = View()
        # the day anchor ``y`` goes back to from YTD (``a`` then ``y`` twice keeps the open)
        self.day_anchor = pipeline.anchor if pipeline.anchor != "ytd" else "prev"
        self.frame: Frame | None = None  # the last frame built
        self.frames = 0  # frames built (tests and the bench)
        self._last_chart = -1e18
        self._last_board = -1e18
        self._ticked: frozenset[str] = frozenset()  # names that ticked since the board was drawn
        self._last_build = -1e18
        self._last_status = -1e18
        self._seen: tuple[int, object] = (-1, None)

    def warm_calendar(self) -> None:
        """Load the market calendar (pandas, exchange_calendars: ~0.8 s) off the event loop."""
        with contextlib.suppress(Exception):  # the pipeline reports calendar trouble itself
            from feeds.market import calendar

            calendar.session_phase(self.pipeline.feed.now_ms())

    async def consume(self) -> None:
        """Run the feed into the pipeline; an error becomes the feed's status, never raised."""
        pipeline = self.pipeline
        try:
            await pipeline.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = fmt.clean(redact(f"{type(exc).__name__}: {exc}"), 1000)  # mask, then cut
            pipeline.health.set_status(FeedStatus(FeedState.ERROR, reason))
        else:
            if pipeline.health.status.state is not FeedState.ERROR:
                pipeline.health.set_status(FeedStatus(FeedState.ENDED, "the feed ended"))

    def say_notes(self) -> None:
        """What the user should know at start, once: the pipeline's notes (holdings coverage,
        merged duplicates, a repaired alert log, a webhook not used offline) and how the holdings
        tickers met the feed's spelling (respelt, or listed nowhere)."""
        for note in self.pipeline.notes:
            warn(self.notify, note, "", severity="warning", timeout=15)
        reconciler = self.pipeline.reconciler
        summary = reconciler.result.summary(brief=True) if reconciler is not None else ""
        if reconciler is not None and summary:
            doubtful = reconciler.result.unmatched or reconciler.result.ambiguous
            severity = "warning" if doubtful else "information"
            warn(self.notify, summary, "Holdings", severity=severity, timeout=12)

    # --- cadence -------------------------------------------------------------------------------
    def due(self) -> str:
        """What a refresh tick should do: "frame", "status" (the clock only) or ""."""
        pipeline = self.pipeline
        quiet = (pipeline.state.total_ticks, pipeline.health.status) == self._seen
        now = self.clock()
        if not quiet or now - self._last_build >= IDLE_FRAME_S:
            return "frame"
        if now - self._last_status >= IDLE_STATUS_S:
            return "status"
        return ""

    def build(self, view: View, *, charts: bool | None = None, board: bool | None = None) -> Frame:
        """A frame for ``view`` (a screen's wants over :attr:`view`); charts when asked or due,
        never while paused; the board ranked again when asked or due (a new query always is).
        New alerts become toasts here, paused or not."""
        now = self.clock()
        if charts is None:
            charts = now - self._last_chart >= CHART_INTERVAL_S
        charts = charts and not view.paused
        if charts:
            self._last_chart = now
        if board is None:
            board = now - self._last_board >= BOARD_INTERVAL_S
        if board:
            self._last_board = now
        frame = self.pipeline.frame(replace(view, charts=charts, board=board))
        if board:  # the tick marks: every name that ticked since the board was last drawn
            frame = replace(frame, changed=self._ticked | frame.changed)
            self._ticked = frozenset()
        else:
            self._ticked |= frame.changed
        self.frames += 1
        self.frame = frame
        self._seen = (frame.total_ticks, frame.status)
        self._last_build = self._last_status = now
        self.notices.on_frame(frame)
        return frame

    def idle(self) -> Frame | None:
        """The last frame with the clock and the tick age moved on and the view's pause as it is
        now: what the status line shows when nothing ticked since, or the figures are frozen."""
        now = self._last_status = self.clock()
        frame = self.frame
        if frame is None:
            return None
        since = now - self._last_build
        age = None if frame.tick_age_s is None else frame.tick_age_s + since
        quiet = frame.total_ticks == self.pipeline.state.total_ticks
        health = self.pipeline.health
        return replace(
            frame,
            as_of=self.pipeline.feed.now_ms(),
            wall_ms=frame.wall_ms + int(since * 1000),  # the retry countdown moves on
            # the feed's status as it is now: its attempts and next retry tick through an
            # outage (a status that only moves the counters builds no new frame)
            status=health.status,
            status_history=health.status_history(),
            tick_age_s=age,
            ticks_per_s=0.0 if quiet else frame.ticks_per_s,
            changed=frozenset(),
            new_alerts=[],
            charts=None,
            view=replace(frame.view, paused=self.view.paused),
        )

    # --- the board query -----------------------------------------------------------------------
    def set_sort(self, sort: str, descending: bool) -> None:
        if sort not in SORT_KEYS:
            raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORT_KEYS)}")
        self.view = replace(self.view, sort=sort, descending=descending)

    def cycle_sort(self) -> None:
        """The next sort key; symbols read A-Z, figures largest first."""
        keys = list(SORT_KEYS)
        sort = keys[(keys.index(self.view.sort) + 1) % len(keys)]
        self.set_sort(sort, sort != "symbol")

    def reverse_sort(self) -> None:
        self.view = replace(self.view, descending=not self.view.descending)

    def set_filter(self, text: str) -> bool:
        """Whether the filter changed (feed text rules apply to what the user types too)."""
        text = fmt.clean(text, 40).strip()
        if text == self.view.filter:
            return False
        self.view = replace(self.view, filter=text)
        return True

    def set_cursor(self, symbol: str) -> None:
        self.view = replace(self.view, cursor=symbol)

    def toggle_pause(self) -> bool:
        self.view = replace(self.view, paused=not self.view.paused)
        return self.view.paused

    # --- the anchor ----------------------------------------------------------------------------
    def set_anchor(self, mode: str) -> str:
        """Measure returns since ``mode``; returns it. Raises ValueError (one line) for a mode
        the state does not know."""
        self.pipeline.set_anchor(mode)
        if mode != "ytd":
            self.day_anchor = mode
        return mode

    def cycle_anchor(self) -> str:
        modes = list(ANCHOR_MODES)
        current = self.pipeline.anchor
        mode = modes[(modes.index(current) + 1) % len(modes)] if current in modes else "prev"
        return self.set_anchor(mode)

    def toggle_ytd(self) -> str:
        """YTD, or back to the day's anchor it came from (prev close, open or first)."""
        return self.set_anchor(self.day_anchor if self.pipeline.anchor == "ytd" else "ytd")

    def change_anchor(self, change: Callable[[], str]) -> bool:
        """Run an anchor change (one of the above) and say what returns are measured from now;
        a mode the state does not know is one error line. Whether the anchor changed."""
        try:
            mode = change()
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self.notify(f"Returns since {fmt.anchor_phrase(mode)}", timeout=2, markup=False)
        return True

    def toggle_bell(self) -> None:
        notices = self.notices
        notices.bell_on = not notices.bell_on
        self.notify(f"Bell on crossings: {'on' if notices.bell_on else 'off'}", timeout=2)

    # --- levels, mutes, acknowledgements --------------------------------------------------------
    def load_levels(self) -> None:
        """The levels saved in earlier sessions (after the configured ones) and the mutes."""
        warning = self.alerts.load()
        if warning:
            warn(self.notify, warning, "Saved levels", severity="warning", timeout=20)

    def add_level(self, level: LevelInput) -> bool:
        """Add and save a user level, and say so; whether the ladder changed."""
        return self._tell(self.alerts.add(level))

    def remove_level(self, price: float, undo_key: str = "u") -> bool:
        """Remove a user level; the toast names the key that puts it back (``undo_key``) and
        stays as long as that works (:data:`feeds.alertctl.UNDO_S`)."""
        change = self.alerts.remove_level(price)
        if change is not None and self.alerts.can_undo():
            change = replace(change, message=f"{change.message} · {undo_key} undoes")
        return self._tell(change, timeout=UNDO_S)

    def undo_remove(self) -> bool:
        """Put back the level removed last (within UNDO_S); whether the ladder changed."""
        change = self.alerts.undo_remove()
        if change is None:
            self.notify("No removal to undo", timeout=3)
        return self._tell(change)

    def toggle_mute(self, symbol: str, level: float) -> bool:
        """Mute or unmute a level (``^RUT``) or spread threshold (``RUT-SPX``, bp)."""
        return self._tell(self.alerts.toggle_mute(symbol, level))

    def acknowledge(self, alert: AlertEvent | None) -> bool:
        """Acknowledge one alert, or every one waiting (None); whether any was."""
        if alert is None:
            n = self.alerts.acknowledge_all()
            self.notify(
                f"{fmt.plural(n, 'alert')} acknowledged" if n else "No alert waits for you",
                timeout=3,
            )
        else:
            n = self.alerts.acknowledge(alert_key(alert))
            if not n:
                self.notify(_waits_for_nobody(alert), timeout=3, markup=False)
        return n > 0

    def _tell(self, change: Change | None, timeout: float | None = None) -> bool:
        if change is None:
            return False
        if change.error is not None:
            warn(self.notify, change.error, "Levels not saved", severity="error", timeout=15)
        if timeout is None:
            timeout = 8 if len(change.message) > 60 else 3
        self.notify(change.message, timeout=timeout, markup=False)
        return change.changed

    # --- quitting --------------------------------------------------------------------------------
    def queued_alerts(self) -> int:
        """Alerts the webhooks have queued or are posting."""
        sinks = self.pipeline.desk.sinks
        return sum(s.pending for s in sinks if isinstance(s, WebhookSink))

    async def wind_down(self, stopping: Iterable[Awaitable[object]]) -> None:
        """On quit: wait for the feed to stop (``stopping``: its tasks, cancelled; a websocket
        then closes with 1000, at most EXIT_CLOSE_S), then deliver what the webhooks queued (at
        most EXIT_DRAIN_S). Never raises for the feed's own errors."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(EXIT_CLOSE_S):
                for stopped in stopping:
                    with contextlib.suppress(Exception):
                        await stopped
        await self.drain(EXIT_DRAIN_S)

    async def drain(self, seconds: float) -> None:
        """Deliver what the webhooks have queued, waiting at most about ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds + 1.0):  # even if a post ignores its cancel
                await drain_webhooks(self.pipeline, seconds)
