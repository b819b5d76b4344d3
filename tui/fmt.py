"""The shared look: number and text formats, sign styles, and the words for each state.

Every figure is signed and fixed-width where it ticks, so columns do not jitter and the sign is
readable without colour (NO_COLOR, 16-colour terminals, colour-blind readers); a figure that
rounds to zero is shown unsigned (``0.00``, never ``-0.00``). Everything that comes from a feed
passes through :func:`clean` before it reaches a widget. Styles are Textual style strings (theme
variables), so this module imports no Textual and the headless commands share its formats.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from feeds.alerting.delivery import is_spread, level_text
from feeds.alerting.levels import AlertEvent, LevelState
from feeds.events import FeedState
from feeds.text import clean as clean  # the one sanitiser, shared with feeds/ outputs
from feeds.timefmt import exchange_time

if TYPE_CHECKING:
    from feeds.frame import LevelView

DASH = "—"  # shown for an unknown value (never a zero, which would read as a fact)
UP, DOWN, FLAT = "▲", "▼", "·"


def known(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def price(x: float | None, decimals: int = 2) -> str:
    return f"{x:,.{decimals}f}" if known(x) else DASH


def _signed(x: float, decimals: int) -> str:
    """``x`` with an explicit sign, unsigned when it rounds to zero (no ``-0.00``)."""
    if round(x, decimals) == 0:
        return f"{0:,.{decimals}f}"
    return f"{x:+,.{decimals}f}"


def signed(x: float | None, decimals: int = 2) -> str:
    """Signed points: +12.30 / -4.10 (an explicit + so the sign never relies on colour)."""
    return _signed(x, decimals) if known(x) else DASH  # type: ignore[arg-type]


def pct(fraction: float | None, decimals: int = 2) -> str:
    """A fraction as a signed percentage: 0.0051 -> +0.51%."""
    return _signed(fraction * 100, decimals) + "%" if known(fraction) else DASH  # type: ignore[operator]


def weight_pct(fraction: float | None) -> str:
    return f"{fraction * 100:.2f}%" if known(fraction) else DASH  # type: ignore[operator]


def bp(x: float | None, decimals: int = 0) -> str:
    """Signed basis points (no unit): +65 / -12.5."""
    return _signed(x, decimals) if known(x) else DASH  # type: ignore[arg-type]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 name``, ``1,924 names``."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def arrow(x: float | None) -> str:
    if not known(x) or x == 0:
        return FLAT
    return UP if x > 0 else DOWN  # type: ignore[operator]


def sign_class(x: float | None, decimals: int | None = None) -> str:
    """'up', 'down' or 'flat': the style name a signed value takes. With ``decimals``, a value
    shown as zero at that precision is flat, so its colour agrees with its (absent) sign."""
    if not known(x) or x == 0 or (decimals is not None and round(x, decimals) == 0):  # type: ignore[arg-type]
        return "flat"
    return "up" if x > 0 else "down"  # type: ignore[operator]


#: Content styles of the three sign classes (``$text-*``: readable on the theme's background).
SIGN_STYLE = {
    "up": "$text-success",
    "down": "$text-error",
    "flat": "$text-muted",
    "warn": "$text-warning",
}


def rate(per_s: float) -> str:
    """Ticks per second, compact: 812/s, 4.8k/s."""
    if per_s >= 9_999.5:
        return f"{per_s / 1000:.0f}k/s"
    if per_s >= 1_000:
        return f"{per_s / 1000:.1f}k/s"
    return f"{per_s:.0f}/s"


def age(seconds: float | None) -> str:
    """Age of the last tick, coarse enough not to flicker at 4 Hz."""
    if seconds is None:
        return "no ticks"
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def clock(ts_ms: int) -> str:
    """Exchange time of day, HH:MM:SS (America/New_York)."""
    return exchange_time(ts_ms).strftime("%H:%M:%S") if ts_ms > 0 else "--:--:--"


def day(ts_ms: int, *, weekday: bool = True) -> str:
    """The exchange (New York) day: "Fri 27 Nov", or "27 Nov" (``weekday=False``)."""
    return exchange_time(ts_ms).strftime("%a %d %b" if weekday else "%d %b") if ts_ms > 0 else ""


def same_day(a_ms: int, b_ms: int) -> bool:
    """Whether two instants fall on the same New York calendar day."""
    return a_ms > 0 and b_ms > 0 and exchange_time(a_ms).date() == exchange_time(b_ms).date()


def time_labels(t0: int, t1: int) -> tuple[str, str]:
    """The labels of a chart's time axis from ``t0`` to ``t1`` (epoch ms), precise enough that
    the two ends differ: HH:MM over an hour or more, HH:MM:SS under, with the day when the span
    crosses midnight; ("", label) for a single instant."""
    if t1 <= t0:
        return "", hhmm(t1)
    if not same_day(t0, t1):
        return (
            exchange_time(t0).strftime("%a %H:%M"),
            exchange_time(t1).strftime("%a %H:%M"),
        )
    if t1 - t0 < 3_600_000:
        return clock(t0), clock(t1)
    return hhmm(t0), hhmm(t1)


def countdown(at_ms: int, now_ms: int) -> str:
    """ "4 s": whole seconds from ``now_ms`` until ``at_ms`` (epoch ms), at least 1."""
    return f"{max(1, round((at_ms - now_ms) / 1000))} s"


def iso_day(ts_ms: int) -> str:
    """The exchange (New York) date of ``ts_ms``, ISO: "2025-11-20" ("" for no time)."""
    return exchange_time(ts_ms).date().isoformat() if ts_ms > 0 else ""


def hhmm(ts_ms: int) -> str:
    return exchange_time(ts_ms).strftime("%H:%M") if ts_ms > 0 else "--:--"


def stamp(ts_ms: int) -> str:
    """Date and time for the alert log, where earlier sessions' alerts mix with today's."""
    if ts_ms <= 0:
        return "--"
    t: datetime = exchange_time(ts_ms)
    return t.strftime("%m-%d %H:%M:%S")


#: Short names (status bar, chart labels) and the phrase after "returns since" of each anchor.
def coverage(names: int, weight: float | None) -> str:
    """ "1,924 names · 99.4% of the index": the members on the board and their index weight."""
    text = plural(names, "name")
    return text if weight is None else f"{text} · {weight * 100:.1f}% of the index"


def weights_basis(as_of: str | None) -> str:
    """Where the board's weights stand: at the anchor, or as of the holdings' date."""
    if as_of is None:
        return "at the anchor"
    try:
        when = datetime.fromisoformat(as_of).strftime("%b %d, %Y")
    except ValueError:
        when = as_of
    return f"as of {when}"


ANCHOR_NAMES = {
    "prev": "prev close",
    "open": "today's open",
    "first": "first price",
    "ytd": "year start",
}
ANCHOR_PHRASES = {
    "prev": "the previous close",
    "open": "today's open",
    "first": "the first price seen",
    "ytd": "the start of the year (last year's close)",
}


def anchor_name(mode: str) -> str:
    return ANCHOR_NAMES.get(mode, mode)


def anchor_phrase(mode: str) -> str:
    """What "returns since ..." reads for ``mode``: "the previous close", "today's open"."""
    return ANCHOR_PHRASES.get(mode, mode)


# --- states: the words and styles each one is shown with -----------------------------------

#: Feed state -> (text, style) in the status bar.
FEED_STATE: dict[FeedState, tuple[str, str]] = {
    FeedState.CONNECTING: ("◌ connecting", "$text-warning"),
    FeedState.LIVE: ("● live", "$text-success"),
    FeedState.STALE: ("◐ STALE", "bold reverse $text-warning"),
    FeedState.RECONNECTING: ("↻ reconnecting", "bold $text-warning"),
    FeedState.ERROR: ("✖ ERROR", "bold reverse $text-error"),
    FeedState.ENDED: ("■ ended", "$text-muted"),
}
#: Market session -> (text, style).
SESSION: dict[str, tuple[str, str]] = {
    "open": ("open", "$text-success"),
    "pre": ("pre-market", "$text-warning"),
    "post": ("after hours", "$text-warning"),
    "closed": ("closed", "$text-muted"),
}
#: Level state -> (long text, short text, sign class).
LEVEL_STATE: dict[LevelState, tuple[str, str, str]] = {
    LevelState.ARMED: ("armed", "armed", "flat"),
    LevelState.APPROACHING: ("approaching", "near", "warn"),
    LevelState.CROSSED_UP: ("▲ crossed up", "▲ up", "up"),
    LevelState.CROSSED_DOWN: ("▼ crossed down", "▼ dn", "down"),
}


def level_state(lv: LevelView) -> tuple[str, str, str]:
    """(long text, short text, sign class) of a level's state: :data:`LEVEL_STATE`, or, for a
    bar-confirmed level with the price past it, that it awaits the bar's close (▲ when the price
    is above the level: the crossing would be up)."""
    if lv.awaiting_close:
        arrow = UP if lv.distance is not None and lv.distance < 0 else DOWN
        return f"{arrow} awaits close", f"{arrow}wait", "warn"
    if lv.dwell_left_ms is not None:  # past the band, waiting out the dwell
        arrow = UP if lv.distance is not None and lv.distance < 0 else DOWN
        secs = -(-lv.dwell_left_ms // 1000)
        return f"{arrow} past, {secs}s", f"{arrow}{secs}s", "warn"
    return LEVEL_STATE[lv.state]


#: What confirms a crossing, by a level's ``confirm`` (the level drilldown says it in words).
CONFIRM_WORDS = {
    "tick": "any print beyond the level (tick)",
    "1m": "a one-minute bar closing beyond the level (1m, New York clock)",
    "5m": "a five-minute bar closing beyond the level (5m, New York clock)",
}

#: When crossings fire, by ``[alerts] sessions``: (the ladder's short words, the drilldowns').
SESSIONS_WORDS = {
    "regular": ("regular hrs", "regular session only (09:30-16:00 ET, early closes)"),
    "extended": ("ext. hrs", "pre- and post-market included (sessions = extended)"),
}

#: The one sign convention for a level's distance, said wherever a distance is shown.
DISTANCE_RULE = "to go = level − price: + the level is above the price, − below"


def describe(alert: AlertEvent) -> tuple[str, str]:
    """(text, sign class) of what an alert says happened: "▲ crossed up", "◆ near, below",
    "✖ busted ▲" (the crossing's trade was cancelled)..."""
    if alert.kind == "cross":
        if alert.direction == "up":
            return "▲ crossed up", "up"
        return "▼ crossed down", "down"
    if alert.kind == "busted":
        return ("✖ busted ▲" if alert.direction == "up" else "✖ busted ▼"), "warn"
    return ("◆ near, below" if alert.direction == "up" else "◆ near, above"), "warn"


def alert_level(alert: AlertEvent) -> str:
    """An alert's level as its series counts: ``2,642`` index points, or ``+50 bp`` (spread)."""
    return level_text(alert, alert.level)


def alert_price(alert: AlertEvent) -> str:
    """An alert's price: ``2,645.20`` index points, or ``+51.3 bp`` for a spread."""
    return level_text(alert, alert.price) if is_spread(alert.symbol) else price(alert.price)


def level_price(x: float) -> str:
    """Levels are usually round numbers: no decimals unless the level has them."""
    return price(x, 0 if x == int(x) else 2)
