"""A ^RUT level typed by a person: the one parser and check behind ``--level``, the config
file's ``[[levels.user]]`` and the monitor's ``+`` dialog, so all three accept the same levels.

A level is a price of the Russell 2000 in index points. The range is wide enough for any level a
trader would set on the index (it has traded between about 100, in 1987, and 2,500-3,000 in the
2020s) and narrow enough that a typo such as ``1e9`` or ``0.5`` (a fraction, or an ETF price) is
refused instead of stretching the ladder over nothing.
"""

from __future__ import annotations

import math

from feeds.text import clean

LEVEL_MIN = 100.0  # index points
LEVEL_MAX = 10_000.0
LABEL_MAX = 40  # characters kept of a label
DEFAULT_LABEL = "user level"
EXAMPLE = "2500 breakout"


def check_level(price: object) -> float:
    """A level's price, checked: a finite number within [LEVEL_MIN, LEVEL_MAX] index points,
    rounded to the cent. Raises ValueError with one sentence to show the user."""
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise ValueError(f"A level must be a number of index points, e.g. {EXAMPLE}")
    x = float(price)
    if not math.isfinite(x) or x <= 0:
        raise ValueError("A level must be a positive, finite number of index points")
    if not LEVEL_MIN <= x <= LEVEL_MAX:
        raise ValueError(
            f"{x:,.10g} is far from the Russell 2000 (about 2,000-3,000): "
            f"use {LEVEL_MIN:,.0f} to {LEVEL_MAX:,.0f} points"
        )
    return round(x, 2)


def check_label(label: object) -> str:
    """A level's label made safe and short (control characters removed, 40 characters)."""
    if not isinstance(label, str):
        raise ValueError("A level's label must be text")
    return clean(label, LABEL_MAX) or DEFAULT_LABEL


def parse_level(text: str) -> tuple[float, str]:
    """``"2,500 breakout"`` or ``"2500:breakout"`` -> ``(2500.0, "breakout")``.

    The price may use thousands commas or underscores; the label follows a colon or a space.
    Raises ValueError with one sentence to show the user.
    """
    s = text.strip()
    if ":" in s:
        price_text, _, label = s.partition(":")
    else:
        price_text, _, label = s.partition(" ")
    price_text = price_text.strip()
    if not price_text:
        raise ValueError(f"Type a level in index points, e.g. 2500 or {EXAMPLE}")
    try:
        value = float(price_text.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(
            f"{clean(price_text, 20)!r} is not a number: try 2500 or {EXAMPLE}"
        ) from None
    return check_level(value), check_label(label)
