"""Feed status: the whole reason, uncut, and this run's status history (issue 8 §2).

The status bar has one line and cuts the reason at any width; here it is in full, wrapped, with
the reconnect attempts, the next retry, the malformed-frame count and every status change of the
run (time, state, reason), newest first. It reads only the frame (``frame.status``,
``frame.status_history``, ``frame.feed``): nothing here reaches into the feed or the pipeline.
"""

from __future__ import annotations

import textwrap

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame
from tui import fmt
from tui.screens.base import DetailScreen
from tui.widgets.status_bar import STATE_LOOK, StatusBar
from tui.widgets.text import set_titles

LABEL_WIDTH = 12
HISTORY_INDENT = 28  # "HH:MM:SS ET  " + a 15-column state
REASON_LIMIT = 2000  # characters of one reason (the feed already bounds it)
FRAME_COLUMNS = 6  # the panel's border (2) and padding (2), and a vertical scrollbar (2)


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
    text, style = STATE_LOOK.get(status.state, (str(status.state), ""))
    return text, style


def _retry(status: FeedStatus, now_ms: int) -> str:
    if status.state is not FeedState.RECONNECTING:
        return fmt.DASH
    if not status.retry_at:
        return "trying now"
    at = f"{fmt.clock(status.retry_at)} ET"
    if status.retry_at > now_ms:
        return f"{at} (in {max(1, round((status.retry_at - now_ms) / 1000))} s)"
    return f"{at} (trying now)"


def status_facts(frame: Frame, width: int | None = None) -> Content:
    """The current state in full: feed, state, reason, next retry, reconnects, malformed.

    ``width``: wrap the reason to that many columns under its own column."""
    st = frame.status
    n = st.malformed
    reason = hanging(fmt.clean(st.detail, REASON_LIMIT) or fmt.DASH, LABEL_WIDTH, width)
    lines = [
        Content.assemble(_label("Feed"), (fmt.clean(frame.feed, 80) or fmt.DASH, "bold")),
        Content.assemble(_label("State"), _state(st)),
        Content.assemble(_label("Reason"), reason),
        Content.assemble(_label("Next retry"), _retry(st, frame.as_of)),
        Content.assemble(_label("Reconnects"), f"{st.reconnects:,} attempts this run"),
        Content.assemble(
            _label("Malformed"),
            (f"{n:,} frames skipped as unreadable", "$text-warning" if n else ""),
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

    DEFAULT_CSS = """
    FeedStatusScreen #facts { height: auto; margin-bottom: 1; }
    FeedStatusScreen .heading { height: 1; text-style: bold; color: $text-accent; }
    FeedStatusScreen #history { height: auto; }
    FeedStatusScreen #facts, FeedStatusScreen #history { text-wrap: nowrap; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, tuple[object, ...]] = {}
        self._frame: Frame | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll(id="detail", classes="panel"):
            yield Static(id="facts", markup=False)
            yield Static("History of this run, newest first", classes="heading", markup=False)
            yield Static(id="history", markup=False)
        yield Footer()

    def screen_ready(self) -> None:
        set_titles(self.query_one("#detail"), "Feed status", "Esc back")
        self.query_one("#detail").focus()

    def _show(self, widget_id: str, content: Content) -> None:
        # wrapped text can change height with the same line count: re-layout when it changes
        key = (content.plain, tuple(content.spans))
        if self._shown.get(widget_id) != key:
            self._shown[widget_id] = key
            self.query_one(f"#{widget_id}", Static).update(content)

    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        self._frame = frame
        width = max(40, self.size.width - FRAME_COLUMNS)
        set_titles(self.query_one("#detail"), f"Feed status · {fmt.clean(frame.feed, 40)}")
        self._show("facts", status_facts(frame, width))
        self._show("history", history_lines(frame.status_history, width))

    def on_resize(self, event: events.Resize) -> None:
        if self.ready and self._frame is not None:
            self.show_frame(self._frame, charts=False)
