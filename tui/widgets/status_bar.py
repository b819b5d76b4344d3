"""The status bar: exchange clock, feed and its state, session, tick age, rate, anchor, PAUSED.

One line from the frame alone (the feed's label and ``frame.status``, the view's pause), redrawn
only when its text changed. It fits the width by shortening the least important parts first
(filler words, the tick rate, the label; the anchor to its short name), never dropping the
feed's state, the session or the anchor: without it nothing on screen says what returns are
measured from. The date shows when the feed's
day is not today (a replay, the sim replaying Friday on a Monday) and on wide terminals. Feed
text (labels, error reasons) is plain text: never parsed as markup.

When the feed is not simply live, what is wrong comes right after the state, before the session
and the tick age, cut to the room the rest leaves (first of all: the whole reason is one key
away); ``(f)`` says which key opens the feed-status screen with it and the run's history.

The count of alerts waiting for an acknowledgement (``frame.unacknowledged``) sits at the right
end, in the words that fit (``⚑ 3 alerts to acknowledge (X)`` down to ``⚑3``): what is left of
the line is fitted to the room before it, so neither the count nor the feed's state is cut.
"""

from __future__ import annotations

from textual.content import Content

from feeds.events import FeedState, FeedStatus
from feeds.frame import Frame
from tui import fmt, keys
from tui.messages import OpenFeedStatus
from tui.widgets.text import Line

SEP = (" │ ", "$text-muted")
WIDE = 110  # from here the date always shows
#: states whose reason the bar shows (after the state, before the session)
TROUBLE = (FeedState.ERROR, FeedState.RECONNECTING, FeedState.STALE, FeedState.CONNECTING)
REASON_LIMIT = 300  # characters of a reason on the bar (the feed-status screen has it whole)


def retry_in(status: FeedStatus, now_ms: int) -> str:
    """ "retry in 4 s" while a reconnect is pending (``now_ms``: the wall clock), else
    "retrying"."""
    if status.retry_at > now_ms:
        return f"retry in {fmt.countdown(status.retry_at, now_ms)}"
    return "retrying"


def feed_trouble(
    status: FeedStatus,
    now_ms: int,
    key: str = "f",
    reason: int = REASON_LIMIT,
    *,
    counts: bool = True,
) -> list[str | tuple[str, str]]:
    """What is wrong with the feed, for one line: the key of the feed-status screen, the retry
    time and the malformed-frame count (unless ``counts`` is False) and the reason, cut to
    ``reason`` characters (left out under :data:`REASON_MIN`); ``[]`` while simply live."""
    parts: list[str | tuple[str, str]] = []
    warn = "$text-error" if status.state is FeedState.ERROR else "$text-warning"
    trouble = status.state in TROUBLE
    if trouble and key:
        parts.append((f" ({key})", "$text-muted"))
    if status.state is FeedState.RECONNECTING and counts:
        parts += [" · ", (retry_in(status, now_ms), warn)]
    if status.malformed and counts:
        n = status.malformed
        parts += [" · ", (f"{fmt.plural(n, 'malformed frame')} skipped", warn)]
    if trouble and status.detail and reason >= REASON_MIN:
        parts += [" · ", (fmt.clean(status.detail, min(reason, REASON_LIMIT)), warn)]
    return parts


REASON_MIN = 12  # a reason cut shorter than this says nothing: (f) has it whole
#: short anchor names for narrow bars (the long ones: :data:`tui.fmt.ANCHOR_NAMES`)
ANCHOR_SHORT = {"prev": "prev close", "open": "open", "first": "first", "ytd": "YTD"}
SESSION_SHORT = {"pre": "pre", "post": "post"}
STATE_SHORT = {"↻ reconnecting": "↻ reconnect", "◌ connecting": "◌ connect"}


def _parts(
    frame: Frame, width: int, level: int, key: str, reason: int = REASON_LIMIT
) -> list[str | tuple[str, str]]:
    """The status line at detail ``level`` (0 = everything; each level shortens something:
    1 the filler words, 2 the tick rate, 3 the feed's label and the anchor's name, 4 another
    day's weekday, the label more, the retry time and malformed count (on the feed-status
    screen), 5 the session's and the state's names and "ET"), with the reason cut to ``reason``
    characters. The clock, the feed's state, the session and the anchor stay at every level."""
    paused = frame.view.paused
    other_day = not fmt.same_day(frame.as_of, frame.wall_ms) and frame.wall_ms > 0
    parts: list[str | tuple[str, str]] = []
    if paused:
        parts += [(" PAUSED " if level < 4 else "PAUSED", "bold reverse $text-warning"), " "]
    parts.append((fmt.clock(frame.as_of) + (" ET" if level < 5 else ""), "bold"))
    if other_day or (width >= WIDE and level == 0):
        # another day's data must never read as today's
        parts.append(
            (
                " " + fmt.day(frame.as_of, weekday=level < 4),
                "bold $text-warning" if other_day else "$text-muted",
            )
        )
    status = frame.status
    state_text, state_style = fmt.FEED_STATE.get(status.state, (str(status.state), ""))
    if level >= 5:
        state_text = STATE_SHORT.get(state_text, state_text)
    label = fmt.clean(frame.feed_label, 40 if level < 3 else 12 if level < 4 else 8)
    parts += [SEP, label, " ", (state_text, state_style)]
    parts += feed_trouble(status, frame.wall_ms, key, reason, counts=level < 4)
    session_text, session_style = fmt.SESSION.get(frame.session, (frame.session, ""))
    if level >= 5:
        session_text = SESSION_SHORT.get(frame.session, session_text)
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
    # what returns are measured from: on screen at every width
    anchor = fmt.anchor_name(frame.anchor) if level < 3 else ANCHOR_SHORT.get(frame.anchor, "")
    parts += [SEP, ("vs " if level == 0 else "", "$text-muted"), anchor or frame.anchor]
    return parts


LEVELS = 6


def ack_badge(waiting: int, width: int, key: str = "X") -> Content:
    """The count of alerts waiting for an acknowledgement, in the words that fit a status line of
    ``width`` cells (empty when none waits); ``key`` acknowledges them all."""
    if not waiting:
        return Content("")
    if width >= 100:
        text = f"⚑ {fmt.plural(waiting, 'alert')} to acknowledge ({key})"
    elif width >= 70:
        text = f"⚑ {waiting:,} to ack"
    else:
        text = f"⚑{waiting:,}"
    return Content.styled(text, "bold $text-warning")


def status_content(
    frame: Frame | None, width: int = 200, key: str = "f", ack_key: str = "X"
) -> Content:
    """The status line for ``frame`` in ``width`` cells; ``key`` opens the feed-status screen,
    ``ack_key`` acknowledges every alert. The feed's reason takes the room the rest leaves (cut
    first: its whole text is on ``key``); the state, the session, the tick age, the anchor and
    the count of alerts waiting at the right end stay at every width."""
    if frame is None:
        return Content.assemble(("--:--:-- ET", "bold"), SEP, ("starting…", "$text-muted"))
    badge = ack_badge(frame.unacknowledged, width, ack_key)
    room = width - badge.cell_length - (1 if badge.cell_length else 0)
    content = Content("")
    for level in range(LEVELS):
        # the filler words and the rate (levels 1-2) go before the reason is cut; then the
        # reason is cut to the room left, before the label and the anchor are shortened
        content = Content.assemble(*_parts(frame, room, level, key))
        if content.cell_length <= room:
            break
        bare = Content.assemble(*_parts(frame, room, level, key, reason=0))
        if bare.cell_length <= room and level >= 2:
            spare = room - bare.cell_length - 3  # " · " before the reason
            content = Content.assemble(*_parts(frame, room, level, key, reason=spare))
            break
        content = bare
    if content.cell_length > room:
        content = content.truncate(room, ellipsis=True)
    if not badge.cell_length:
        return content
    return Content.assemble(content, " " * (room - content.cell_length + 1), badge)


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
    feed_key = "f"  # the key shown in "(f)": the feed-status binding after the user's remaps
    ack_key = "X"  # the acknowledge-all key after the user's remaps

    def on_mount(self) -> None:
        # the key as remapped by [keys] (the binding table's "feed-status" id)
        for active in self.screen.active_bindings.values():
            if active.binding.id == "feed-status":
                self.feed_key = self.app.get_key_display(active.binding)
                break
        self.ack_key = keys.display(self.app, "acknowledge-all")

    def show_frame(self, frame: Frame | None) -> None:
        self._frame = frame
        width = self.content_region.width or 200
        self.show(status_content(frame, width, self.feed_key, self.ack_key))

    def on_resize(self) -> None:
        self.show_frame(self._frame)  # the same frame laid out for the new width

    def on_click(self) -> None:  # with --mouse: the line is where the feed's trouble is said
        self.post_message(OpenFeedStatus())
