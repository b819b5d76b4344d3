"""A small prompt to add a level: ``price [confirm] [label]``, checked when Enter is pressed."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from feeds.alerting.levelinput import CONFIRM_EXAMPLE, parse_level_input
from tui import keys
from tui.messages import AddLevel


class LevelText(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_level_input(value)
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
            yield Label(
                f"price [tick|1m|5m] [label], e.g. {CONFIRM_EXAMPLE}", id="hint", markup=False
            )
            yield Input(
                placeholder=CONFIRM_EXAMPLE,
                validators=[LevelText()],
                validate_on=["submitted"],
                id="level",
            )
            yield Label("", id="error", markup=False)

    async def on_key(self, event: events.Key) -> None:
        """Keys typed right after ``+`` can reach the dialog before its box has focus (the
        screen focuses it when it resumes): they go into the box, in order, not nowhere."""
        box = self.query_one("#level", Input)
        if self.focused is box:
            return
        if event.key == "enter":
            event.stop()
            box.focus()
            await box.action_submit()
        elif event.is_printable and event.character:
            event.stop()
            box.focus()
            box.insert_text_at_cursor(event.character)

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
        level = parse_level_input(event.value)  # the label comes back clean and short
        self.app.post_message(AddLevel(level))  # this screen is closing
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
