"""Standard output that fails as the user's problem, never as a bug in r2k.

A full device (``r2k snapshot --json > /dev/full``, a disk that fills under ``> board.json``)
raises ``OSError(ENOSPC)`` from a write or a flush far from the code that printed. The CLI wraps
``sys.stdout`` in :class:`GuardedStdout`, which turns such an error into
:class:`StdoutNotWritten` (exit status 4, "some output was not written", one line naming
standard output). A reader that went away (``| head -1``) is a ``BrokenPipeError``, left as it
is: :func:`tui.cli.main` ends quietly on it.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from feeds.errors import R2KError

#: Exit status when output could not be written (the same as a recording or log cut short).
EXIT_NOT_WRITTEN = 4


class StdoutNotWritten(R2KError):
    """Standard output could not take what r2k wrote (a full disk, an I/O error)."""

    exit_code = EXIT_NOT_WRITTEN


def _not_written(e: OSError) -> StdoutNotWritten:
    reason = e.strerror or (os.strerror(e.errno) if e.errno else type(e).__name__)
    return StdoutNotWritten(
        f"cannot write to standard output: {reason}; free space where it goes, or send it elsewhere"
    )


class GuardedStdout:
    """A text stream proxy: ``write``/``writelines``/``flush`` raise :class:`StdoutNotWritten`
    for any OSError but a broken pipe; every other attribute is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise _not_written(e) from None

    def write(self, text: str) -> int:
        return int(self._call("write", text))

    def writelines(self, lines: Any) -> None:
        self._call("writelines", lines)

    def flush(self) -> None:
        self._call("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdout() -> TextIO:
    """Wrap ``sys.stdout`` (once); returns the stream that was there before."""
    before = sys.stdout
    if not isinstance(before, GuardedStdout) and before is not None:
        sys.stdout = GuardedStdout(before)  # type: ignore[assignment]
    return before


def silence_stdout() -> None:
    """After a write error: point fd 1 at /dev/null so the interpreter's final flush of what
    is still buffered neither fails nor prints "Exception ignored"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass
