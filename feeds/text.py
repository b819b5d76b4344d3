"""Text made safe for every output: the screen, plain-text lines, JSON and files r2k writes.

Names, symbols, labels and error text come from feeds, holdings files and configs that r2k does
not control. A raw C0 control (ESC starts a terminal escape sequence), a C1 control (U+0080 to
U+009F: U+009B is a one-byte CSI on some terminals) or a bidirectional override (U+202A to
U+202E, U+2066 to U+2069: "Trojan Source", CVE-2021-42574) can rewrite or reorder what a trader
reads. So:

* :func:`clean` removes them from text for a screen or a plain-text line (bounded, one line);
* :func:`dumps` writes JSON in which the same characters are ``\\uXXXX`` escapes: the data keeps
  every character (it reads back the same) but no raw control reaches a pipe, a log or a webhook.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

# C0 and C1 controls, DEL, the zero-width and bidi marks, the bidi embeddings and overrides
# (U+202A-U+202E), the isolates (U+2066-U+2069) and other invisible format characters, the line
# and paragraph separators (a line break to some readers) and the BOM.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean(text: object, limit: int = 200) -> str:
    """Text made safe to show: control and bidi characters removed, one line, ``limit`` long.

    Every other format character (Unicode category Cf) is dropped too; runs of blanks become
    one space. Longer text is cut with an ellipsis.
    """
    s = str(text)
    if _CONTROL.search(s):
        s = _CONTROL.sub(" ", s)
    if not s.isascii():
        s = "".join(ch for ch in s if unicodedata.category(ch) != "Cf")
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character :func:`clean` would remove."""
    return bool(_CONTROL.search(text)) or (
        not text.isascii() and any(unicodedata.category(ch) == "Cf" for ch in text)
    )


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def escape_json_text(encoded: str) -> str:
    """JSON text with every control/bidi character written as a ``\\uXXXX`` escape.

    Safe on any JSON document: such characters can only occur inside its strings, where the
    escape means the same character.
    """
    return _CONTROL.sub(_escape, encoded) if _CONTROL.search(encoded) else encoded


def dumps(
    obj: Any, *, separators: tuple[str, str] | None = (", ", ": "), indent: int | None = None
) -> str:
    """One line of JSON (or, with ``indent``, a file laid out on lines), UTF-8 friendly
    (``ensure_ascii=False``) but with no raw controls inside its strings.

    NaN and infinities are refused (ValueError): JSON has none; callers write ``null``.
    """
    text = json.dumps(
        obj, ensure_ascii=False, allow_nan=False, separators=separators, indent=indent
    )
    if indent is None:
        return escape_json_text(text)
    # the layout's own line breaks stay: json.dumps writes none inside a string
    return "\n".join(escape_json_text(line) for line in text.split("\n"))


#: the largest magnitude a message prints in full; beyond it, three significant digits
FIGURE_MAX = 1e12


def figure(x: float, spec: str = ",.1f") -> str:
    """A number for a message: ``format(x, spec)``, or ``1e+308`` style (3 significant
    digits) when it is so large (or not finite) that the full form would bury the message
    (a holdings weight of 1e308 printed 300 digits)."""
    if not math.isfinite(x) or abs(x) >= FIGURE_MAX:
        return f"{x:.3g}"
    return format(x, spec)
