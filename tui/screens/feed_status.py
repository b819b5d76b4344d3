"""Feed status: the whole reason, uncut, and this run's status history (issue 8 §2).

The status bar has one line and cuts the reason at any width; here it is in full, wrapped, with
the reconnect attempts, the next retry, the malformed-frame count and every status change of the
run (time, state, reason), newest first. It reads only the frame (``frame.status``,
``frame.status_history``, ``frame.feed_label``, ``frame.wall_ms`` for the retry countdown);
while the figures are paused it keeps showing the feed as it is.
"""

from __future__ import annotations

import textwrap
from typing import ClassVar

from textual import events
from textual.content import Content

from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame, View
from tui import fmt
from tui.screens.base import DetailScreen

LABEL_WIDTH = 12
HISTORY_INDENT = 28  # "HH:MM:SS ET  " + a 15-column state
REASON_LIMIT = 2000  # characters of one reason (the feed already bounds it)
FRAME_COLUMNS = 6  # the panel's border (2) and padding (2), and a vertical scrollbar (2)
HEADING = "History of this run, newest first (the feed's clock)"


def hanging(text: str, indent: int, width: int | None) -> str:
    """``text`` wrapped to ``width`` columns, continuation lines indented by ``indent`` (so a
    long reason reads as one column); unwrapped when ``width`` is None."""
    if width is None or width - indent < 20:
        return text
    lines = textwrap.wrap(text, width - indent, break_on_hyphens=False) or [""]
    return ("\n" + " " * indent).join(lines)


def _label(text: str) -> tuple[str, str]:
    return (f"{text:<{LABEL_WIDTH}}", "$text-muted")


def _state(status: FeedStatus) -> tuple[str, str]:
    return fmt.FEED_STATE.get(status.state, (str(status.state), ""))


def next_retry(status: FeedStatus, now_ms: int) -> str:
    """When the next connection attempt is (``now_ms``: the wall clock, epoch ms): a countdown,
    with the wall-clock time labelled as such (the screen's other times are the feed's)."""
    if status.state is not FeedState.RECONNECTING:
        return fmt.DASH
    if not status.retry_at:
        return "trying now"
    at = f"{fmt.clock(status.retry_at)} ET wall clock"
    if status.retry_at > now_ms:
        return f"in {fmt.countdown(status.retry_at, now_ms)} ({at})"
    return f"trying now ({at})"


def status_facts(frame: Frame, width: int | None = None) -> Content:
    """The current state in full: feed, state, reason, next retry, reconnects, malformed.

    ``width``: wrap the reason to that many columns under its own column."""
    st = frame.status
    n = st.malformed
    reason = hanging(fmt.clean(st.detail, REASON_LIMIT) or fmt.DASH, LABEL_WIDTH, width)
    lines = [
        Content.assemble(_label("Feed"), (fmt.clean(frame.feed_label, 80) or fmt.DASH, "bold")),
        Content.assemble(
            _label("Clock"),
            (f"{fmt.clock(frame.as_of)} ET", "bold"),
            (" feed · ", "$text-muted"),
            f"{fmt.clock(frame.wall_ms)} ET",
            (" wall", "$text-muted"),
        ),
        Content.assemble(_label("State"), _state(st)),
        Content.assemble(_label("Reason"), reason),
        Content.assemble(_label("Next retry"), next_retry(st, frame.wall_ms)),
        Content.assemble(_label("Reconnects"), f"{fmt.plural(st.reconnects, 'attempt')} this run"),
        Content.assemble(
            _label("Malformed"),
            (f"{fmt.plural(n, 'frame')} skipped as unreadable", "$text-warning" if n else ""),
        ),
    ]
    return Content("\n").join(lines)


def history_lines(history: tuple[FeedStatus, ...], width: int | None = None) -> Content:
    """Every status change of the run, newest first: time (ET), state, then the full reason
    (wrapped to ``width`` columns under its own column)."""
    if not history:
        return Content.styled("no status yet", "$text-muted")
    lines: list[Content] = []
    for st in reversed(history):
        text, style = _state(st)
        lines.append(
            Content.assemble(
                (f"{fmt.clock(st.ts)} ET  ", "$text-muted"),
                (f"{text:<15}", style),
                hanging(fmt.clean(st.detail, REASON_LIMIT), HISTORY_INDENT, width),
            )
        )
    return Content("\n").join(lines)


class FeedStatusScreen(DetailScreen):
    """``f`` or the palette's "Feed status"; Escape goes back."""

    SCROLLS: ClassVar[bool] = True
    DEFAULT_CSS = """
    FeedStatusScreen #facts { text-wrap: nowrap; }
    """

    def wants(self, view: View) -> View:
        return View(paused=view.paused)  # no board query, no charts: the status is all it reads

    def describe(self, frame: Frame) -> tuple[str, Content]:
        width = max(40, self.size.width - FRAME_COLUMNS)
        body = Content("\n").join(
            [
                status_facts(frame, width),
                Content(""),
                Content.styled(HEADING, "bold $text-accent"),
                history_lines(frame.status_history, width),
            ]
        )
        return f"Feed status · {fmt.clean(frame.feed_label, 40)}", body

    def render_paused(self, frame: Frame) -> None:
        self.render_frame(frame)  # pausing freezes the figures, never what the feed is doing

    def show_status(self, frame: Frame) -> None:
        super().show_status(frame)
        self.render_frame(frame)  # idle: the retry countdown moves on with the clock

    def on_resize(self, event: events.Resize) -> None:
        if self.frame is not None:  # the reasons wrapped again for the new width
            self.render_frame(self.frame)
