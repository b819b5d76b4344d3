"""A small prompt to add a level: ``price [label]``, validated as you type."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from feeds.levelinput import parse_level


class LevelText(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_level(value)
        except ValueError as exc:
            return self.failure(str(exc))
        return self.success()


class AddLevelScreen(ModalScreen[tuple[float, str] | None]):
    """Returns (price, label), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    AddLevelScreen { align: center middle; }
    AddLevelScreen #box {
        width: 60; max-width: 95%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    AddLevelScreen #error { color: $text-error; height: auto; width: 100%; }
    AddLevelScreen #hint { color: $text-muted; }
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
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#error", Label).update(" ".join(result.failure_descriptions))
            return
        self.dismiss(parse_level(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
