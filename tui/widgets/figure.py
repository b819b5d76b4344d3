"""Large figures in solid blocks, three rows tall: the spread a trader reads across the room.

Textual's ``Digits`` draws with thin box lines (``╶─╮`` / ``╶─╯``), which at a glance read as
strokes rather than numbers; solid half-block glyphs (``█▀▄``) keep their shape in 16 colours,
with NO_COLOR and at small font sizes. Each glyph is three cells wide with one blank column
between glyphs; the sign is a glyph of its own, so the figure reads without colour.
"""

from __future__ import annotations

GLYPHS: dict[str, tuple[str, str, str]] = {
    "0": ("█▀█", "█ █", "▀▀▀"),
    "1": ("▀█ ", " █ ", "▀▀▀"),
    "2": ("▀▀█", "█▀▀", "▀▀▀"),
    "3": ("▀▀█", " ▀█", "▀▀▀"),
    "4": ("█ █", "▀▀█", "  ▀"),
    "5": ("█▀▀", "▀▀█", "▀▀▀"),
    "6": ("█▀▀", "█▀█", "▀▀▀"),
    "7": ("▀▀█", "  █", "  ▀"),
    "8": ("█▀█", "█▀█", "▀▀▀"),
    "9": ("█▀█", "▀▀█", "▀▀▀"),
    "+": ("   ", "▄█▄", " ▀ "),  # arms and upright cross at the figure's middle pixel row
    "-": ("   ", "▄▄▄", "   "),
    "−": ("   ", "▄▄▄", "   "),
    ".": ("   ", "   ", " ▀ "),
    ",": ("   ", "   ", " ▀ "),
    " ": ("   ", "   ", "   "),
}
UNKNOWN = ("   ", "▄▄▄", "   ")  # a dash: the figure is not known yet


def big(text: str) -> str:
    """``text`` (digits, sign, point) as three lines of block glyphs; other characters show as
    a dash. Width: 4 cells per character, less the last gap."""
    rows = ["", "", ""]
    for k, ch in enumerate(text):
        glyph = GLYPHS.get(ch, UNKNOWN)
        narrow = ch in ".,"  # a point takes one column, not three
        for r in range(3):
            cell = glyph[r][1] if narrow else glyph[r]
            rows[r] += (" " if k else "") + cell
    return "\n".join(rows)


def big_width(text: str) -> int:
    """The cells :func:`big` takes for ``text``."""
    return len(big(text).split("\n")[0])
