"""A small prompt to add a level: ``price [label]``, validated as you type Enter."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from feeds.levelinput import parse_level
from tui import keys
from tui.messages import AddLevel


class LevelText(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_level(value)
        except ValueError as exc:
            return self.failure(str(exc))
        return self.success()


class AddLevelScreen(ModalScreen[None]):
    """Posts :class:`~tui.messages.AddLevel` and closes; Esc closes without a change."""

    BINDINGS: ClassVar[list[BindingType]] = [keys.TABLE["dialog"][1].binding()]
    DEFAULT_CSS = """
    AddLevelScreen { align: center middle; }
    AddLevelScreen #box {
        width: 60; max-width: 95%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    AddLevelScreen #error { color: $text-error; height: auto; width: 1fr; }
    AddLevelScreen #hint { color: $text-muted; width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="box") as box:
            box.border_title = "Add a level (^RUT points)"
            yield Label("price [label], e.g. 2500 breakout", id="hint", markup=False)
            yield Input(
                placeholder="2500 breakout",
                validators=[LevelText()],
                validate_on=["submitted"],
                id="level",
            )
            yield Label("", id="error", markup=False)

    @on(Input.Changed)
    def clear_error(self) -> None:
        self.query_one("#error", Label).update("")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#error", Label).update(" ".join(result.failure_descriptions))
            return
        price, label = parse_level(event.value)  # the label comes back clean and short
        self.app.post_message(AddLevel(price, label))  # this screen is closing
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
