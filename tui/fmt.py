"""Number and text formatting for the screen.

Every figure is signed and fixed-width where it ticks, so columns do not jitter and the sign is
readable without colour (NO_COLOR, 16-colour terminals, colour-blind readers). Everything that
comes from a feed passes through :func:`clean` before it reaches a widget.
"""

from __future__ import annotations

import math
from datetime import datetime

from feeds.text import clean as clean  # the one sanitiser, shared with feeds/ outputs
from feeds.timefmt import exchange_time

DASH = "—"  # shown for an unknown value (never a zero, which would read as a fact)
UP, DOWN, FLAT = "▲", "▼", "·"


def known(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def price(x: float | None, decimals: int = 2) -> str:
    return f"{x:,.{decimals}f}" if known(x) else DASH


def signed(x: float | None, decimals: int = 2) -> str:
    """Signed points: +12.30 / -4.10 (an explicit + so the sign never relies on colour)."""
    return f"{x:+,.{decimals}f}" if known(x) else DASH


def pct(fraction: float | None, decimals: int = 2) -> str:
    """A fraction as a signed percentage: 0.0051 -> +0.51%."""
    return f"{fraction * 100:+.{decimals}f}%" if known(fraction) else DASH  # type: ignore[operator]


def weight_pct(fraction: float | None) -> str:
    return f"{fraction * 100:.2f}%" if known(fraction) else DASH  # type: ignore[operator]


def bp(x: float | None, decimals: int = 0) -> str:
    return f"{x:+,.{decimals}f}" if known(x) else DASH


def arrow(x: float | None) -> str:
    if not known(x) or x == 0:
        return FLAT
    return UP if x > 0 else DOWN  # type: ignore[operator]


def sign_class(x: float | None) -> str:
    """'up', 'down' or 'flat': the style name a signed value takes."""
    if not known(x) or x == 0:
        return "flat"
    return "up" if x > 0 else "down"  # type: ignore[operator]


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


def day(ts_ms: int) -> str:
    return exchange_time(ts_ms).strftime("%a %d %b") if ts_ms > 0 else ""


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


def coverage(names: int, weight: float | None) -> str:
    """ "1,924 names · 99.4% of the index": the members on the board and their index weight."""
    text = f"{names:,} name{'s' if names != 1 else ''}"
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


def anchor_name(mode: str) -> str:
    return ANCHOR_NAMES.get(mode, mode)
