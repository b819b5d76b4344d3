"""Issue 19 §4: one validator, used by `r2k config check` and by every command at start.

`config check` said "valid" (exit 0) for feed = "simm", [keys] pause = "q" and
[keys] pauze = "z", which the monitor refused at start (blaming --feed for the file's value).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BAD = 'feed = "simm"\nspeed = -3\n[keys]\npause = "q"\npauze = "z"\n'


def r2k(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def expected(cfg: Path) -> list[str]:
    where = f"r2k: error: config file '{cfg}':"
    return [
        f"{where} speed must be at least 0, not -3 (e.g. speed = 1)",
        f"{where} unknown feed 'simm'; use one of: ",
        f"{where} [keys] has no binding id 'pauze'; ids: ",
        f"{where} [keys] pause = 'q': 'q' already runs quit; pick another key or remap quit too",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["config", "check"],
        ["snapshot", "--duration", "1"],
        ["alerts", "--duration", "1"],
        [],  # the monitor: refused before Textual starts
    ],
    ids=["config check", "snapshot", "alerts", "monitor"],
)
def test_check_and_every_command_list_every_problem_naming_the_file(
    tmp_path: Path, command: list[str]
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(BAD)
    args = [*command, str(cfg)] if command[:1] == ["config"] else [*command, "--config", str(cfg)]
    done = r2k(*args)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 4, done.stderr
    for line, start in zip(lines, expected(cfg), strict=True):
        assert line.startswith(start), line
    assert "--feed" not in done.stderr  # the value came from the file
    assert done.stdout == ""


def test_a_value_from_the_environment_or_a_flag_is_named_as_such(tmp_path: Path) -> None:
    done = r2k("config", "check", env={"R2K_FEED": "simm"})
    assert done.returncode == 2
    assert done.stderr.startswith("r2k: error: $R2K_FEED: unknown feed 'simm'")
    done = r2k("config", "check", "--feed", "nope", "--holdings", str(tmp_path / "none.csv"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        done.stderr.splitlines()[0],
        f"r2k: error: --holdings: holdings file {tmp_path / 'none.csv'} not found; check the "
        "path (or omit it to use the bundled snapshot)",
    ]
    assert done.stderr.startswith("r2k: error: --feed: unknown feed 'nope'")


def test_a_good_config_is_valid_for_check_and_for_the_app(tmp_path: Path) -> None:
    cfg = tmp_path / "good.toml"
    cfg.write_text('feed = "sim"\n[keys]\npause = "space"\n')
    done = r2k("config", "check", str(cfg))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# config file {cfg}: valid")
    snap = r2k("snapshot", "--config", str(cfg), "--speed", "0", "--duration", "1", "--json")
    assert snap.returncode == 0, snap.stderr


def test_the_validator_never_imports_textual() -> None:
    code = (
        "import sys; from tui.cli import main; rc = main(['config', 'check']); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
