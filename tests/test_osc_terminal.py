"""OSC 9 desktop notifications reach the terminal from the running monitor when ``notify`` has
``osc9``, and never otherwise (issue 10): the app in a real pty, its bytes read back."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.screen import Terminal  # r2k in a pty, its output read back by a thread
from tests.conftest import write_csv

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC (09:30 ET)
OSC9 = b"\x1b]9;"


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[object]:
    rows: list[tuple[object, ...]] = []
    for k, price in enumerate([2440.0, 2455.0, 2456.0]):
        rows.append((T0 + k * 1000, "^RUT", price, 2440.0))
        rows.append((T0 + k * 1000, "^GSPC", 6000.0, 6000.0))
    replay = write_csv(tmp_path / "x.csv", "ts,symbol,price,prev_close", rows)
    started: list[Terminal] = []

    def start(notify: str | None) -> Terminal:
        config = tmp_path / f"config-{len(started)}.toml"
        config.write_text(f"notify = {notify}\n" if notify else "")
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
        env.pop("TMUX", None)
        argv = [sys.executable, "-m", "tui", "--config", str(config)]
        argv += ["--feed", f"replay:{replay}", "--speed", "0"]
        term = Terminal(argv, 100, 30, env)
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()


def test_osc9_reaches_the_terminal_when_enabled(monitor) -> None:  # type: ignore[no-untyped-def]
    term = monitor('["toast", "osc9"]')
    needle = OSC9 + b"r2k (replay): ^RUT crossed up through 2,450: support"
    assert term.wait_for(needle, 60) is not None


def test_no_osc9_by_default(monitor) -> None:  # type: ignore[no-untyped-def]
    term = monitor(None)
    # the same crossing, listed in the alert panel (on the monitor it is not toasted over it)
    assert term.wait_for(b"crossed up", 60) is not None
    assert term.bytes == len(term.tail)  # all of the output is at hand
    assert OSC9 not in term.tail and b"\x1b]777;" not in term.tail
