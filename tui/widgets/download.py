"""A history download under way: what it fetches, how far it has got, and a bar.

Shown only while a feed is still downloading daily history (``Scoreboard.progress``: what, done,
total); hidden otherwise, so it costs the board a row only while the year-to-date figures are
still filling in. The first frame never waits for it: the figures fill in as history arrives.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar

from tui.widgets.text import Line


def progress_text(progress: tuple[str, int, int], width: int = 200) -> Content:
    """ "⤓ Downloading daily history · YTD anchors 12/98" (shorter when ``width`` is small)."""
    what, done, total = progress
    count = f"{done:,}/{total:,}"
    long = f"⤓ Downloading daily history · {what} {count} "
    text = long if len(long) + 20 <= width else f"⤓ {what} {count} "
    return Content.styled(text, "$text-warning")


class DownloadProgress(Horizontal):
    """One line: the download's words and a bar (no ETA: a snapshot must not move)."""

    def compose(self) -> ComposeResult:
        yield Line(id="download-what")
        yield ProgressBar(show_eta=False, id="download-bar")

    def show(self, progress: tuple[str, int, int] | None) -> None:
        """Show ``progress`` (what, done, total), or hide when None (no download under way)."""
        self.set_class(progress is not None, "-active")
        if progress is None:
            return
        self.query_one("#download-what", Line).show(progress_text(progress, self.size.width or 200))
        _, done, total = progress
        bar = self.query_one(ProgressBar)
        if (bar.total, bar.progress) != (total, done):
            bar.update(total=max(total, 1), progress=done)
