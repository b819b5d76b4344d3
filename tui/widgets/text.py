"""Text helpers for per-frame updates that must not trigger layout or parse markup."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static


class Line(Static):
    """Static for per-frame text: ``show`` is a no-op when nothing changed.

    ``Content.__eq__`` compares the plain text only, so the key includes the spans: a sign that
    keeps its digits but changes colour still redraws. ``Static.update`` runs a layout of the
    whole screen by default (tens of ms); a line count that did not change cannot change the
    size, so a repaint is enough.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self._key: object = None
        self._lines = -1

    def show(self, content: Content) -> None:
        key = (content.plain, tuple(content.spans))
        if key != self._key:
            self._key = key
            lines = content.plain.count("\n")
            self.update(content, layout=lines != self._lines)
            self._lines = lines


def set_titles(
    widget: Widget, title: str | Content | None = None, subtitle: str | None = None
) -> None:
    """Set border titles as plain text (a str would be parsed as markup) or styled Content, only
    when their text changed: every assignment repaints the whole panel, children included."""
    if title is not None:
        content = Content(title) if isinstance(title, str) else title
        current = widget._border_title
        if current is None or current.plain != content.plain:
            widget.border_title = content
    if subtitle is not None:
        current = widget._border_subtitle
        if current is None or current.plain != subtitle:
            widget.border_subtitle = Content(subtitle)
