"""The desk server under load: N traders' SSH sessions through one ``r2k serve``.

Run: ``.venv/bin/python bench/desk.py [--sessions 20] [--size 120x40] [--rate 5000]
[--seconds 20] [--presses 5]``

Starts ``r2k serve`` on 127.0.0.1 with the embedded relay on the sim at the open (``--rate``
ticks/s over 2,000 names, the ``tick_rate`` that gives it counted from the deterministic sim),
then opens ``--sessions`` sessions one after another with OpenSSH's ``ssh -tt`` on a PTY of
``--size`` (one trader each), and prints (targets from issue 21):
- time from starting ``ssh`` to the first frame (``RUT`` drawn), p50 and worst (target <= 1.5 s);
- key-to-screen, ``p`` until ``PAUSED`` is drawn, over ``--presses`` per session taken in turns
  while every session runs, p50/p99 (target p99 <= 150 ms);
- bytes/s per session, mean and max;
- CPU over ``--seconds`` of serve, the relay, nats-server and the N monitors, in % of one core,
  and their total (target <= 170 % of the machine's 200 %); the ssh clients' own CPU apart;
- RSS per monitor (mean, max) and of serve.
Figures depend on what else runs on the machine: the load average is printed with them.
``R2K_BENCH_SCALE`` scales ``--seconds``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402 - the sibling module, after the path is set
    OPEN_MS,
    PYTHON,
    Terminal,
    figure,
    load,
    multiplier_for,
    pct,
    process_cpu_seconds,
    scale,
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(pid)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--rate", type=float, default=5000.0, help="ticks/s the sim sends")
    ap.add_argument("--universe", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=20.0, help="the CPU and bytes window")
    ap.add_argument("--presses", type=int, default=5, help="key presses per session")
    args = ap.parse_args()
    if shutil.which("ssh") is None:
        sys.exit("bench/desk.py drives OpenSSH's ssh client; install openssh-client")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import asyncssh
    cols, rows = (int(x) for x in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="r2k-desk-bench-"))
    users = tmp / "users"
    users.mkdir()
    names = [f"t{i:02d}" for i in range(args.sessions)]
    for name in names:
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(tmp / f"{name}_key")
        (tmp / f"{name}_key").chmod(0o600)
        (users / f"{name}.keys").write_bytes(key.export_public_key())
    multiplier, got = multiplier_for(args.rate, args.universe)
    cfg = tmp / "relay.toml"
    cfg.write_text(f"[feeds.sim]\ntick_rate = {multiplier}\nstart_ms = {OPEN_MS}\n")
    port = _free_port()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_CONFIG_HOME": str(tmp / "config")}  # fmt: skip
    serve = subprocess.Popen(
        [
            str(PYTHON),
            "-m",
            "tui",
            "serve",
            "--users",
            str(users),
            "--ssh",
            f"127.0.0.1:{port}",
            "--feed",
            "sim",
            "--config",
            str(cfg),
            "--universe",
            str(args.universe),
            "--seed",
            "1",
            "--max-sessions",
            str(args.sessions + 1),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert serve.stderr is not None
    for line in serve.stderr:
        if "upstream: feed live" in line:
            break
    else:
        sys.exit("serve did not start")
    # keep draining serve's stderr so it never blocks on a full pipe
    import threading

    threading.Thread(target=lambda: [None for _ in serve.stderr], daemon=True).start()
    print(
        f"r2k serve: {args.sessions} SSH sessions at {args.size}, sim {got:,.0f} ticks/s over "
        f"{args.universe:,} names; load {load()}",
        flush=True,
    )
    terms: list[Terminal] = []
    first: list[float] = []
    ssh_env = {"PATH": os.environ["PATH"], "TERM": "xterm-256color", "HOME": str(tmp)}
    try:
        for name in names:
            argv = [shutil.which("ssh") or "ssh", "-tt", "-p", str(port),
                    "-i", str(tmp / f"{name}_key"), "-o", "IdentitiesOnly=yes",
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                    f"{name}@127.0.0.1"]  # fmt: skip
            term = Terminal(argv, cols, rows, ssh_env)
            terms.append(term)
            t = term.seen_at(b"RUT", 60)
            first.append((t - term.started) if t is not None else float("nan"))
        time.sleep(3)  # every session drawing at its pace
        status = (tmp / "state" / "r2k" / "desk" / "serve.json").read_text()
        import json

        monitors = [s["pid"] for s in json.loads(status)["sessions"]]
        relay = [p for p in _children(serve.pid) if " relay " in _cmdline(p)]
        nats = [c for p in relay for c in _children(p) if "nats-server" in _cmdline(c)]
        ssh_pids = [t.pid for t in terms]
        groups = {
            "serve": [serve.pid],
            "relay": relay,
            "nats-server": nats,
            f"{len(monitors)} monitors": monitors,
        }
        cpu0 = {k: _cpu(v) for k, v in groups.items()}
        ssh0 = _cpu(ssh_pids)
        b0 = [t.bytes for t in terms]
        t0 = time.monotonic()
        time.sleep(args.seconds * scale())
        dt = time.monotonic() - t0
        cpu = {k: 100 * (_cpu(v) - cpu0[k]) / dt for k, v in groups.items()}
        ssh_cpu = 100 * (_cpu(ssh_pids) - ssh0) / dt
        bps = [(t.bytes - b) / dt for t, b in zip(terms, b0, strict=True)]
        rss = [_rss_kb(p) / 1024 for p in monitors]
        serve_rss = _rss_kb(serve.pid) / 1024
        keys: list[float] = []
        for _ in range(args.presses):
            for term in terms:
                mark = term.bytes
                k0 = time.monotonic()
                term.send(b"p")
                t = term.seen_at(b"PAUSED", 3, after=mark)
                if t is not None:
                    keys.append((t - k0) * 1000)
                term.send(b"p")
                time.sleep(0.05)
        total = sum(cpu.values())
        print(f"figures (load {load()}):", flush=True)
        ok = [x for x in first if x == x]
        figure(
            "ssh to first frame",
            f"p50 {statistics.median(ok):.2f} s, worst {max(ok):.2f} s" if ok else "none",
            "<= 1.5 s",
            bool(ok) and max(ok) <= 1.5,
        )
        figure(
            f"key-to-screen ({len(keys)} presses)",
            f"p50 {pct(keys, 0.5):.0f} ms, p99 {pct(keys, 0.99):.0f} ms",
            "p99 <= 150 ms",
            bool(keys) and pct(keys, 0.99) <= 150,
        )
        figure(
            "bytes/s per session",
            f"mean {statistics.mean(bps) / 1024:.1f} KiB/s, max {max(bps) / 1024:.1f}",
            "",
            None,
        )
        for k, v in cpu.items():
            figure(f"CPU {k}", f"{v:.0f} % of a core", "", None)
        figure("CPU total (serve+relay+nats+monitors)", f"{total:.0f} %", "<= 170 %", total <= 170)
        figure("CPU of the ssh clients (not counted)", f"{ssh_cpu:.0f} %", "", None)
        figure(
            "RSS per monitor",
            f"mean {statistics.mean(rss):.0f} MiB, max {max(rss):.0f} MiB",
            "",
            None,
        )
        figure("RSS of serve", f"{serve_rss:.0f} MiB", "", None)
    finally:
        for term in terms:
            term.close()
        serve.send_signal(signal.SIGTERM)
        serve.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
