"""What a screen shows instead of its panels when the terminal is smaller than r2k can use."""

from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH = 60
MIN_HEIGHT = 18


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


class TooSmall(Static):
    """Hidden unless its screen has the ``-too-small`` class."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        padding: 0 1;
        color: $text-warning;
    }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False, id="too-small")

    def show_size(self, width: int, height: int) -> None:
        self.update(
            f"Terminal too small: {width}×{height}.\n"
            f"r2k needs at least {MIN_WIDTH}×{MIN_HEIGHT}: enlarge the window or shrink the "
            "font. q quits."
        )
