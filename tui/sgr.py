"""Shorter terminal output: each style sequence says only what changed since the last one.

Textual renders every segment of a line as ``ESC[<full style>m text ESC[0m``: a board row of a
dozen cells in two or three colours on one background repeats the background and a reset a dozen
times. That was most of r2k's bytes to the terminal (about 60 % at 250x70), which matters over
SSH and for a desk server multiplying it by its sessions.

:func:`install` replaces :meth:`textual.strip.Strip.render` with :func:`render`, which draws the
same cells: within a line, a segment whose text attributes (bold, dim, ...) are those in effect
and whose colours are all set changes only the colours that differ (``ESC[38;5;115m``); anything
else (an attribute turned off, a colour going back to the default, a hyperlink) resets first, as
Textual does. Every line still ends reset, so lines stay independent of each other.
"""

from __future__ import annotations

from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual.strip import SGR_STYLES, Strip

#: the terminal's state after a reset: (attributes, foreground codes, background codes, all)
_PLAIN: tuple[int, str, str, str] = (0, "", "", "")
_codes_cache: dict[tuple[Style, ColorSystem], tuple[int, str, str, str]] = {}
_original_render = Strip.render


def _codes(style: Style, color_system: ColorSystem) -> tuple[int, str, str, str]:
    """(attribute bits on, foreground SGR codes, background SGR codes, all codes) of ``style``
    as Textual's own :meth:`Strip.render_ansi` writes them."""
    key = (style, color_system)
    got = _codes_cache.get(key)
    if got is None:
        attrs = style._attributes & style._set_attributes
        sgr = [SGR_STYLES[bit] for bit in range(attrs.bit_length()) if attrs & (1 << bit)]
        fg = bg = ""
        if style._color is not None:
            fg = ";".join(style._color.downgrade(color_system).get_ansi_codes())
            sgr.append(fg)
        if style._bgcolor is not None:
            bg = ";".join(style._bgcolor.downgrade(color_system).get_ansi_codes(False))
            sgr.append(bg)
        got = (attrs, fg, bg, ";".join(sgr))
        if len(_codes_cache) > 4096:  # styles are few; a theme change makes new ones
            _codes_cache.clear()
        _codes_cache[key] = got
    return got


def render(self: Strip, console: Console) -> str:
    """The strip's terminal sequences, each style change as short as it can be (see the module
    docstring); cached on the strip as Textual caches its own."""
    if self._render_cache is not None:
        return self._render_cache
    color_system = console._color_system or ColorSystem.TRUECOLOR
    out: list[str] = []
    append = out.append
    cur = _PLAIN
    for text, style, _ in self._segments:
        if style is None or style._link:
            if cur is not _PLAIN:
                append("\x1b[0m")
                cur = _PLAIN
            append(text if style is None else Strip.render_style(style, text, color_system))
            continue
        codes = _codes(style, color_system)
        if codes != cur:
            attrs, fg, bg, full = codes
            if attrs == cur[0] and (fg or not cur[1]) and (bg or not cur[2]):
                changed = [c for c, was in ((fg, cur[1]), (bg, cur[2])) if c != was]
                append(f"\x1b[{';'.join(changed)}m")
            elif cur is _PLAIN or cur == _PLAIN:
                append(f"\x1b[{full}m")
            else:
                append(f"\x1b[0;{full}m" if full else "\x1b[0m")
            cur = codes
        append(text)
    if cur != _PLAIN:
        append("\x1b[0m")
    self._render_cache = rendered = "".join(out)
    return rendered


def install() -> None:
    """Use :func:`render` for every strip Textual writes (idempotent)."""
    Strip.render = render  # type: ignore[method-assign]


def uninstall() -> None:
    """Textual's own renderer again (tests compare the two)."""
    Strip.render = _original_render  # type: ignore[method-assign]
