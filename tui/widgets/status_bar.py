"""The status bar: exchange clock, feed and its state, session, tick age, rate, anchor, PAUSED.

One line, rebuilt from the frame at the refresh rate and redrawn only when its text changed.
Feed text (labels, error reasons) is plain text: it is never parsed as markup.

When the feed is not simply live, what is wrong comes right after the state, before the session
and the tick age, so as much of the reason as the width allows is read first; ``(f)`` says which
key opens the feed-status screen with the whole reason and the run's history.
"""

from __future__ import annotations

import time

from textual.content import Content

from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame
from tui import fmt
from tui.widgets.text import Line

STATE_LOOK: dict[FeedState, tuple[str, str]] = {
    FeedState.CONNECTING: ("◌ connecting", "$text-warning"),
    FeedState.LIVE: ("● live", "$text-success"),
    FeedState.STALE: ("◐ STALE", "bold reverse $text-warning"),
    FeedState.RECONNECTING: ("↻ reconnecting", "bold $text-warning"),
    FeedState.ERROR: ("✖ ERROR", "bold reverse $text-error"),
    FeedState.ENDED: ("■ ended", "$text-muted"),
}
SESSION_LOOK = {
    "open": ("open", "$text-success"),
    "pre": ("pre-market", "$text-warning"),
    "post": ("after hours", "$text-warning"),
    "closed": ("closed", "$text-muted"),
}
SEP = (" │ ", "$text-muted")


#: states whose reason the bar shows (after the state, before the session)
TROUBLE = (FeedState.ERROR, FeedState.RECONNECTING, FeedState.STALE, FeedState.CONNECTING)


def feed_trouble(status: FeedStatus, now_ms: int) -> list[str | tuple[str, str]]:
    """What is wrong with the feed, for one line: the retry time, the malformed-frame count and
    the reason (``[]`` while simply live)."""
    parts: list[str | tuple[str, str]] = []
    warn = "$text-error" if status.state is FeedState.ERROR else "$text-warning"
    trouble = status.state in TROUBLE
    if trouble:
        parts.append((" (f)", "$text-muted"))
    if status.state is FeedState.RECONNECTING:
        if status.retry_at > now_ms:
            wait = max(1, round((status.retry_at - now_ms) / 1000))
            parts += [" · ", (f"retry in {wait} s", warn)]
        else:
            parts += [" · ", ("retrying", warn)]
    if status.malformed:
        n = status.malformed
        parts += [" · ", (f"{n:,} malformed frame{'s' if n != 1 else ''} skipped", warn)]
    if trouble and status.detail:
        parts += [" · ", (fmt.clean(status.detail, 300), warn)]
    return parts


def status_content(
    frame: Frame | None,
    *,
    feed_label: str,
    status: FeedStatus,
    anchor: str,
    paused: bool,
    wide: bool = False,
    narrow: bool = False,
    now_ms: int | None = None,
) -> Content:
    """The status line. ``wide`` adds the date; ``narrow`` (80 columns) drops filler words when
    PAUSED needs the room. ``now_ms`` (wall clock) times the retry countdown."""
    narrow = narrow and paused
    parts: list[str | tuple[str, str]] = []
    if paused:
        parts += [(" PAUSED ", "bold reverse $text-warning"), "" if narrow else " "]
    if frame is not None:
        parts.append((fmt.clock(frame.as_of) + " ET", "bold"))
        if wide:
            parts.append((" " + fmt.day(frame.as_of), "$text-muted"))
    else:
        parts.append(("--:--:-- ET", "bold"))
    state_text, state_style = STATE_LOOK.get(status.state, (str(status.state), ""))
    parts += [SEP, fmt.clean(feed_label, 40), " ", (state_text, state_style)]
    now = int(time.time() * 1000) if now_ms is None else now_ms
    parts += feed_trouble(status, now)
    if frame is not None:
        session_text, session_style = SESSION_LOOK.get(frame.session, (frame.session, ""))
        stale = frame.stale or paused
        age_style = "$text-warning" if frame.stale else "$text-muted" if stale else ""
        parts += [SEP, (session_text, session_style)]
        parts += [SEP, ("" if narrow else "tick ", "$text-muted")]
        parts.append((fmt.age(frame.tick_age_s), age_style))
        parts += [
            " " if narrow else "  ",
            (fmt.rate(frame.ticks_per_s), "$text-muted" if stale else ""),
        ]
    parts += [SEP, ("vs ", "$text-muted"), fmt.anchor_name(anchor)]
    return Content.assemble(*parts)


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
