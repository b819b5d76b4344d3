"""tui/sgr.py: the short style sequences draw exactly what Textual's own draw, cell for cell
(a terminal emulator, pyte, reads both), in fewer bytes."""

from __future__ import annotations

import random

import pyte
import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui import sgr

COLORS = [None, "default", "red", "#5fd7af", "color(233)", "color(16)", "#102030", "bright_white"]
ATTRS = ["bold", "dim", "italic", "underline", "reverse", "strike", "blink"]


def random_style(rng: random.Random) -> Style | None:
    if rng.random() < 0.08:
        return None
    kw = {a: True for a in ATTRS if rng.random() < 0.15}
    if rng.random() < 0.05:
        kw["bold"] = False  # set, but off: not drawn
    return Style(color=rng.choice(COLORS), bgcolor=rng.choice(COLORS), **kw)


def screen_of(data: str, width: int) -> list[list[tuple[object, ...]]]:
    screen = pyte.Screen(width, 1)
    pyte.Stream(screen).feed(data)
    line = screen.buffer[0]
    return [
        [
            (c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse, c.strikethrough)
            for c in (line[x] for x in range(width))
        ]
    ]


@pytest.mark.parametrize("system", ["256", "truecolor", "standard"])
def test_random_lines_draw_the_same_cells_in_fewer_bytes(system: str) -> None:
    console = Console(color_system=system, force_terminal=True, width=200)  # type: ignore[arg-type]
    rng = random.Random(22)
    ours = theirs = 0
    for _ in range(400):
        segments = [
            Segment(rng.choice(["a", "bc", " ", "▲ ", "12.5"]), random_style(rng))
            for _ in range(rng.randrange(1, 14))
        ]
        width = sum(len(s.text) for s in segments) + 2
        textual = sgr._original_render(Strip(segments), console)
        short = sgr.render(Strip(segments), console)
        # after each line the terminal is back to plain: what follows draws as before
        after = "Z"
        assert screen_of(short + after, width) == screen_of(textual + after, width), segments
        ours, theirs = ours + len(short), theirs + len(textual)
    assert ours < theirs  # random styles change often; a real row saves more (below)


def test_a_board_row_in_one_colour_on_one_background() -> None:
    console = Console(color_system="256", force_terminal=True)
    bg = "color(233)"
    row = [
        Segment("   37 ", Style(color="color(231)", bgcolor=bg)),
        Segment("QLYS   ", Style(color="color(253)", bgcolor=bg)),
        Segment("  148.97", Style(color="color(253)", bgcolor=bg, bold=True)),
        Segment("▲ +1.60", Style(color="color(115)", bgcolor=bg)),
        Segment("  0.18%", Style(color="color(253)", bgcolor=bg)),
    ]
    assert sgr.render(Strip(row), console) == (
        "\x1b[38;5;231;48;5;233m   37 \x1b[38;5;253mQLYS   \x1b[0;1;38;5;253;48;5;233m  148.97"
        "\x1b[0;38;5;115;48;5;233m▲ +1.60\x1b[38;5;253m  0.18%\x1b[0m"
    )


def test_install_and_uninstall() -> None:
    try:
        sgr.install()
        assert Strip.render is sgr.render
    finally:
        sgr.uninstall()
    assert Strip.render is sgr._original_render
