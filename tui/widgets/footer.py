"""The footer: Textual's, laid out so that a key that does not fit is dropped whole.

Textual's ``Footer`` lays its keys out in a row and lets the last ones run off the edge, so a
narrow terminal showed half a word (``a Anc``, ``p Pau``) that reads as a different key. Here,
after every layout, the keys that do not fit the width left by ctrl+p's palette key are hidden
whole, from the right (the binding table lists the most used first); the help (``?``) lists
every key.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from textual.widgets._toast import ToastRack


def fit_keys(widths: list[int], room: int) -> int:
    """How many of the keys, ``widths`` cells each (with their gap), fit in ``room`` cells."""
    used = 0
    for n, w in enumerate(widths):
        if used + w > room:
            return n
        used += w
    return len(widths)


class KeyFooter(Footer):
    """A compact footer whose keys are shown whole or not at all."""

    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        """Hide the keys past the width, whole."""
        width = self.size.width
        if width <= 0:
            return
        keys = [k for k in self.query(FooterKey) if not k.has_class("-command-palette")]
        palette = [k for k in self.query(FooterKey) if k.has_class("-command-palette")]
        room = width - sum(self._cells(k) for k in palette)
        widths = [self._cells(k) for k in keys]
        shown = fit_keys(widths, room)
        for n, key in enumerate(keys):
            key.display = n < shown

    @staticmethod
    def _cells(key: FooterKey) -> int:
        huge = Size(1000, 1)
        styles = key.styles
        return key.get_content_width(huge, huge) + styles.gutter.width + styles.margin.width


def show_newest_note(screen: Screen[object]) -> None:
    """Show the newest note again once a newer one went (issue 18 §5).

    Notes (Textual's toasts) take the footer's line one at a time (app.tcss: the newest, by
    ``:last-of-type``). Textual works that pseudo-class out again when a toast is added, not
    when one expires, so the note under an expired one would stay at no height: the app calls
    this on its refresh timer, and it costs nothing while no note is up."""
    for rack in screen.query_children(ToastRack):
        holders = list(rack.children)
        newest = holders[-1].styles.height if holders else None
        if newest is not None and not newest.is_auto:  # still at no height: restyle them
            for holder in holders:
                holder.update_node_styles()
