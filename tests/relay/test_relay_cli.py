"""``r2k relay`` from the command line: clear refusals, and a real run with --embedded."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.desk.natsd import port_in_use
from tui.cli import main

R2K = [sys.executable, "-m", "tui"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["relay", "--feed", "nats://127.0.0.1:4333"], "must be an upstream"),
        (["relay", "--embedded", "--nats", "nats://10.9.8.7:4333"], "loopback"),
        (["relay", "--nats", "http://x"], "scheme 'http'"),
    ],
)
def test_refusals_are_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_relay_serves_a_snapshot_then_stops_its_server(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    relay = subprocess.Popen(
        [*R2K, "relay", "--embedded", "--nats", f"nats://127.0.0.1:{port}", "--speed", "30"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert relay.stderr is not None
        lines = []
        for line in relay.stderr:  # wait for the relay to say it is publishing (or fail)
            lines.append(line)
            if "publishing sim" in line:
                break
        assert any("started nats-server" in x for x in lines), lines
        # "publishing" is said when the relay starts its feed; on a loaded machine its first
        # batch can come seconds later, and a snapshot that hears none exits 3: ask again
        feed = f"nats://127.0.0.1:{port}"
        for _ in range(5):
            snap = subprocess.run(
                [*R2K, "snapshot", "--feed", feed, "--json", "--duration", "4"],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            if "waiting for the relay" not in snap.stderr:
                break
        assert snap.returncode == 0, snap.stderr
        data = json.loads(snap.stdout)
        assert data["indices"]["^RUT"]["last"] > 2000
        assert len(data["constituents"]) > 50
    finally:
        relay.send_signal(signal.SIGTERM)
        _, err = relay.communicate(timeout=30)
    assert relay.returncode == 0, err
    assert "stopped:" in err and "Traceback" not in err
    assert not port_in_use("127.0.0.1", port)  # the embedded server went with the relay


@pytest.mark.parametrize("stop", ["duration", "ctrl-c"])
def test_a_relay_whose_upstream_never_connects_says_so_at_exit(tmp_path: Path, stop: str) -> None:
    """The headless commands' exit statuses: 3 and ``r2k: feed error: <reason>`` as the last
    line when the upstream failed (it exited 0); 130 on Ctrl+C (it exited 0 too)."""
    port, dead = _free_port(), _free_port()
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "R2K_YAHOO_URL": f"ws://127.0.0.1:{dead}",
        "R2K_YAHOO_REST_URL": f"http://127.0.0.1:{dead}",
        "R2K_YAHOO_DIRECTORY_URL": f"http://127.0.0.1:{dead}",
    }
    argv = [*R2K, "relay", "--embedded", "--nats", f"nats://127.0.0.1:{port}", "--feed", "yahoo"]
    if stop == "duration":
        # long enough for the first attempt on a loaded machine (at 2 s the run sometimes ended
        # while the feed was still opening, and the reason could not name the host yet)
        argv += ["--duration", "6"]
    relay = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert relay.stderr is not None
        lines = []
        for line in relay.stderr:
            lines.append(line)
            if "cannot connect to" in line:  # the upstream's reason, published to terminals
                break
        if stop == "ctrl-c":
            relay.send_signal(signal.SIGINT)
        _, err = relay.communicate(timeout=60)
    finally:
        if relay.poll() is None:
            relay.kill()
    err = "".join(lines) + err
    assert "Traceback" not in err
    if stop == "duration":
        assert relay.returncode == 3, err
        last = err.strip().splitlines()[-1]  # the reason names the host it tried
        assert last.startswith("r2k: feed error: never connected: ") and f"127.0.0.1:{dead}" in last
    else:
        assert relay.returncode == 130, err
        assert "r2k: feed error" not in err
    assert not port_in_use("127.0.0.1", port)
