"""Issue 19 §2: a full device or a closed pipe on standard output is the user's, never a bug.

Driven through the real CLI in a subprocess: ``> /dev/full`` and ``| head -1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases"
REPLAY = CASES / "class-shares" / "replay.csv"
FULL = Path("/dev/full")

needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")

COMMANDS = [
    ["snapshot", "--json", "--feed", f"replay:{REPLAY}"],
    ["snapshot", "--feed", f"replay:{REPLAY}"],
    ["config", "check"],
    ["alerts", "--feed", f"replay:{CASES / 'record-high-close' / 'replay.csv'}", "--level", "2120"],
    ["holdings", "show", "--json"],
    ["alerts", "log", "--feed", "all"],
]


def r2k(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=ROOT,
        env=dict(os.environ),
        text=True,
        timeout=120,
        **kw,  # type: ignore[arg-type]
    )


@needs_dev_full
@pytest.mark.parametrize("args", COMMANDS[:5], ids=lambda a: " ".join(a[:2]))
def test_stdout_on_a_full_device_is_exit_4_with_one_line(args: list[str]) -> None:
    with FULL.open("w") as full:
        done = r2k(args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 4, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("r2k: error: cannot write to standard output: No space left")
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr


def test_a_reader_that_goes_away_ends_r2k_quietly() -> None:
    # `r2k snapshot | head -1`: head reads one line and closes the pipe
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "snapshot", "--feed", f"replay:{REPLAY}", "--top", "50"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    rc = proc.wait(timeout=120)
    assert rc in (0, 141)
    assert err == ""


def test_alerts_log_on_a_link_to_a_device_is_one_line(tmp_path: Path) -> None:
    # it used to read /dev/zero until the kernel killed it (23 GB)
    log = tmp_path / "alerts.jsonl"
    log.symlink_to("/dev/zero")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'alert_log = "{log}"\n')
    done = r2k(["alerts", "log", "--config", str(cfg)], capture_output=True)
    assert done.returncode == 2
    assert done.stderr == (
        f"r2k: error: cannot read the alert log '{log}' (not a regular file (a device, a pipe "
        "or a socket)); check alert_log\n"
    )


def test_alerts_log_skips_overlong_and_garbled_lines_and_says_so(tmp_path: Path) -> None:
    from feeds.alerting.alerts import LOG_LINE_MAX

    good = (
        '{"ts": "2025-11-05T15:00:00.000+00:00", "symbol": "^RUT", "level": 2450.0, '
        '"label": "support", "direction": "up", "price": 2451.0, "kind": "cross", '
        '"feed": "yahoo"}\n'
    )
    log = tmp_path / "alerts.jsonl"
    log.write_text(good + "x" * (LOG_LINE_MAX * 3) + "\n" + "{garbled\n" + good)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'alert_log = "{log}"\n')
    done = r2k(["alerts", "log", "--json", "--since", "2025-11-01", "--config", str(cfg)],
               capture_output=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1  # the same alert twice is listed once
    assert done.stderr == (
        f"r2k: warning: alert log '{log}': skipped 1 unreadable and 1 longer than 64 KiB lines\n"
    )
