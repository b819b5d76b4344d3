"""A ^RUT level typed by a person: the one parser and check behind ``--level``, the config
file's ``[[levels.user]]`` and the monitor's ``+`` dialog, so all three accept the same levels.
The same goes for a level's confirmation mode (``2642 5m breakout``) and for spread thresholds
in basis points (``--spread-level``, ``[[alerts.spread]]``).

A level is a price of the Russell 2000 in index points. The range is wide enough for any level a
trader would set on the index (it has traded between about 100, in 1987, and 2,500-3,000 in the
2020s) and narrow enough that a typo such as ``1e9`` or ``0.5`` (a fraction, or an ETF price) is
refused instead of stretching the ladder over nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from feeds.alerting.levels import CONFIRM_MODES
from feeds.alerting.levels import check_confirm as check_confirm  # the one check, re-exported
from feeds.text import clean

LEVEL_MIN = 100.0  # index points
LEVEL_MAX = 10_000.0
LABEL_MAX = 40  # characters kept of a label
DEFAULT_LABEL = "user level"
EXAMPLE = "2500 breakout"


def check_level(price: object) -> float:
    """A level's price, checked: a finite number within [LEVEL_MIN, LEVEL_MAX] index points,
    rounded to the cent. Raises ValueError with one sentence to show the user (at most 56
    characters for any price a person types: the add-level dialog shows it on one line)."""
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise ValueError(f"A level must be a number of index points, e.g. {EXAMPLE}")
    x = float(price)
    if not math.isfinite(x) or x <= 0:
        raise ValueError("A level must be a positive, finite number of points")
    if not LEVEL_MIN <= x <= LEVEL_MAX:
        raise ValueError(
            f"{x:,.10g} is far from the Russell 2000 ({LEVEL_MIN:,.0f}-{LEVEL_MAX:,.0f})"
        )
    return round(x, 2)


def check_label(label: object) -> str:
    """A level's label made safe and short (control characters removed, 40 characters)."""
    if not isinstance(label, str):
        raise ValueError("A level's label must be text")
    return clean(label, LABEL_MAX) or DEFAULT_LABEL


def parse_level(text: str) -> tuple[float, str]:
    """``"2,500 breakout"`` or ``"2500:breakout"`` -> ``(2500.0, "breakout")``.

    The price may use thousands commas or underscores; the label follows a colon or a space. A
    confirmation typed after the price (``2642 5m breakout``) is read by
    :func:`parse_level_input`, which callers that keep it use. Raises ValueError with one
    sentence to show the user.
    """
    level = parse_level_input(text)
    return level.price, level.label


# a level's confirmation mode, and spread thresholds
SPREAD_MIN_BP = -5_000.0  # a spread threshold in basis points: +-50 % covers any day or year
SPREAD_MAX_BP = 5_000.0
SPREAD_EXAMPLE = "50 small caps lead"
CONFIRM_EXAMPLE = "2642 5m breakout"
_TIMEFRAME = re.compile(r"^\d+(s|m|min|h|d)$")


@dataclass(slots=True, frozen=True)
class LevelInput:
    """A level as typed: ``price`` (index points, or bp for a spread), ``label`` and ``confirm``
    (one of :data:`feeds.alerting.levels.CONFIRM_MODES`, or None when not typed: the run's
    default)."""

    price: float
    label: str
    confirm: str | None = None


def _split(text: str) -> tuple[str, str | None, str]:
    """``"2642 5m breakout"`` / ``"2642:5m:breakout"`` -> ("2642", "5m", "breakout")."""
    s = text.strip()
    sep = ":" if ":" in s else " "
    price_text, _, rest = s.partition(sep)
    rest = rest.strip()
    word, _, after = rest.partition(sep)
    word = word.strip().lower()
    if word in CONFIRM_MODES:
        return price_text.strip(), word, after.strip()
    if _TIMEFRAME.match(word):  # "10m", "1h": a bar length r2k does not confirm on
        raise ValueError(
            f"{clean(word, 10)!r} is not a confirmation: use {', '.join(CONFIRM_MODES)}"
        )
    return price_text.strip(), None, rest


def _number(price_text: str, example: str) -> float:
    if not price_text:
        raise ValueError(f"Type a level, e.g. {example}")
    try:
        return float(price_text.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"{clean(price_text, 15)!r} is not a number, e.g. {example}") from None


def parse_level_input(text: str) -> LevelInput:
    """A ^RUT level as typed in the add-level dialog or ``--level``, with an optional
    confirmation mode after the price: ``"2642"``, ``"2642 breakout"``, ``"2642 5m breakout"``,
    ``"2642:5m:breakout"``. Raises ValueError with one sentence to show the user."""
    price_text, confirm, label = _split(text)
    price = check_level(_number(price_text, CONFIRM_EXAMPLE))
    return LevelInput(price, check_label(label), confirm)


def check_spread_level(bp: object) -> float:
    """A spread threshold in basis points: finite, within +-5,000 bp, rounded to 0.01 bp.
    Raises ValueError with one sentence to show the user."""
    if isinstance(bp, bool) or not isinstance(bp, int | float) or not math.isfinite(bp):
        raise ValueError("A spread threshold must be a finite number of basis points, e.g. 50")
    x = float(bp)
    if not SPREAD_MIN_BP <= x <= SPREAD_MAX_BP:
        raise ValueError(
            f"{x:,.10g} bp is beyond any RUT spread: use {SPREAD_MIN_BP:,.0f} to "
            f"{SPREAD_MAX_BP:,.0f} basis points"
        )
    return round(x, 2)


def parse_spread_level(text: str) -> LevelInput:
    """``--spread-level BP[:CONFIRM][:LABEL]`` (``"50"``, ``"-25:large caps lead"``, ``"50 5m"``,
    ``"50:1m:small caps lead"``) -> a threshold in basis points. Raises ValueError with one
    sentence to show the user."""
    price_text, confirm, label = _split(text)
    bp = check_spread_level(_number(price_text.removesuffix("bp").strip(), SPREAD_EXAMPLE))
    return LevelInput(bp, clean(label, LABEL_MAX) or f"spread {bp:+g} bp", confirm)
