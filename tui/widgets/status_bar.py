"""The status bar: exchange clock, feed and its state, session, tick age, rate, anchor, PAUSED.

One line from the frame alone (the feed's label and status, the view's pause), redrawn only when
its text changed. It fits the width by dropping the least important parts first (filler words,
the tick rate, the anchor), never the feed's state. The date shows when the feed's day is not
today (a replay, the sim replaying Friday on a Monday) and on wide terminals. Feed text (labels,
error reasons) is plain text: never parsed as markup.
"""

from __future__ import annotations

from textual.content import Content

from feeds.events import FeedState
from feeds.frame import Frame
from tui import fmt
from tui.widgets.text import Line

SEP = (" │ ", "$text-muted")
WIDE = 110  # from here the date always shows
DETAIL_STATES = (FeedState.ERROR, FeedState.RECONNECTING, FeedState.STALE)


def _parts(frame: Frame, width: int, level: int) -> list[str | tuple[str, str]]:
    """The status line at detail ``level`` (0 = everything; each level drops something)."""
    paused = frame.view.paused
    other_day = not fmt.same_day(frame.as_of, frame.wall_ms) and frame.wall_ms > 0
    parts: list[str | tuple[str, str]] = []
    if paused:
        parts += [(" PAUSED ", "bold reverse $text-warning"), " " if level == 0 else ""]
    parts.append((fmt.clock(frame.as_of) + " ET", "bold"))
    if other_day or (width >= WIDE and level == 0):
        # another day's data must never read as today's
        parts.append(
            (" " + fmt.day(frame.as_of), "bold $text-warning" if other_day else "$text-muted")
        )
    status = frame.status
    state_text, state_style = fmt.FEED_STATE.get(status.state, (str(status.state), ""))
    label = fmt.clean(frame.feed_label, 40 if level < 3 else 12)
    parts += [SEP, label, " ", (state_text, state_style)]
    session_text, session_style = fmt.SESSION.get(frame.session, (frame.session, ""))
    stale = frame.stale or paused
    age_style = "$text-warning" if frame.stale else "$text-muted" if stale else ""
    parts += [SEP, (session_text, session_style), SEP]
    if level == 0:
        parts.append(("tick ", "$text-muted"))
    parts.append((fmt.age(frame.tick_age_s), age_style))
    if level < 2:
        parts += [
            "  " if level == 0 else " ",
            (fmt.rate(frame.ticks_per_s), "$text-muted" if stale else ""),
        ]
    if level < 3:
        parts += [SEP, ("vs " if level == 0 else "", "$text-muted"), fmt.anchor_name(frame.anchor)]
    if status.detail and status.state in DETAIL_STATES:
        style = "$text-error" if status.state is FeedState.ERROR else "$text-warning"
        parts += [SEP, (fmt.clean(status.detail, 160), style)]
    return parts


def status_content(frame: Frame | None, width: int = 200) -> Content:
    """The status line for ``frame`` in ``width`` cells (an error's reason may still be cut)."""
    if frame is None:
        return Content.assemble(("--:--:-- ET", "bold"), SEP, ("starting…", "$text-muted"))
    content = Content("")
    for level in range(4):
        content = Content.assemble(*_parts(frame, width, level))
        detail = frame.status.detail if frame.status.state in DETAIL_STATES else ""
        reason = min(len(detail), 160) + 3 if detail else 0
        if content.cell_length - reason <= width:
            break
    return content


class StatusBar(Line):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    _frame: Frame | None = None

    def show_frame(self, frame: Frame | None) -> None:
        self._frame = frame
        self.show(status_content(frame, self.content_region.width or 200))

    def on_resize(self) -> None:
        self.show_frame(self._frame)  # the same frame laid out for the new width
