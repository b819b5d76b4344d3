"""``r2k serve``'s life and record: one upstream for every session (the fake provider counts its
connections, and the upstream's key reaches no session), the idle timeout, ``serve status``,
the login log, and SIGTERM ending everything within 5 s."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from tests.desk.conftest import (
    R2K,
    Serve,
    alive,
    connect,
    environ,
    make_desk,
    open_monitor,
    pids_in_group,
    until,
)
from tests.sources.providers.fake_finnhub import FakeFinnhub


def _status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*R2K, "serve", "status"], env=env, capture_output=True, text=True, timeout=30
    )


def _pgrep(pattern: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()


async def test_three_sessions_share_one_upstream_connection_and_never_see_its_key(
    tmp_path: Path,
) -> None:
    async with FakeFinnhub() as fake:
        fake.conn_limit = 5  # a second connection would be accepted, and counted
        desk = make_desk(tmp_path)
        serve = Serve(desk, "--feed", "finnhub", env=fake.env())
        await asyncio.to_thread(serve.start)
        mons = []
        try:
            for name in ("ann", "bob", "cy"):
                mons.append(await open_monitor(serve, name))
            for mon in mons:
                await mon.screen.wait_text("Rotation", "Leaders")
            await until(lambda: len(serve.status()["sessions"]) == 3, 20, "3 sessions")
            assert len(fake.conns) == 1, fake.conns  # one upstream for the whole desk
            for pid in serve.session_pids("ann") + serve.session_pids("bob"):
                env = environ(pid)
                assert fake.token not in "".join(f"{k}={v}" for k, v in env.items())
                assert not any(k.startswith("R2K_FINNHUB") for k in env)
                assert env["R2K_STATE_DIR"].startswith(str(desk.desk_dir))
        finally:
            for mon in mons:
                await mon.close()
            await asyncio.to_thread(serve.stop)


async def test_idle_status_logins_and_sigterm_within_5_s(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    serve = Serve(desk, "--feed", "sim", "--speed", "20", "--idle-timeout", "1.5")
    await asyncio.to_thread(serve.start)
    env = serve.env
    try:
        # --idle-timeout: a monitor nobody types into ends, with its line
        mon = await open_monitor(serve, "ann")
        await mon.screen.wait_text("no key pressed for 1.5 s", within=30)
        await mon.close()
        serve.wait_line(lambda s: "ann from" in s and "idle timeout" in s, 10, "idle end")
        # status: who is connected (a headless command is a session too, and never idles)
        conn = await connect(serve, "bob")
        proc = await conn.create_process("alerts --duration 60")
        await until(lambda: len(serve.status()["sessions"]) == 1, 20, "bob's session")
        (pid,) = serve.session_pids("bob")
        out = await asyncio.to_thread(_status, env)
        assert out.returncode == 0, out.stderr
        assert "1 of 50 sessions" in out.stdout
        (row,) = [x for x in out.stdout.splitlines() if x.startswith("bob ")]
        assert "ssh" in row and "127.0.0.1" in row and "command alerts --duration 60" in row
        # SIGTERM: the client is told, every process ends, serve exits within 5 s
        assert serve.proc is not None
        serve.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        code = await asyncio.to_thread(serve.proc.wait, 15)
        took = time.monotonic() - sent
        assert code == 0 and took <= 5.0, (code, took, serve.lines[-5:])
        stderr = await asyncio.wait_for(proc.stderr.read(), 5)
        assert "r2k serve is stopping; the session ends now" in stderr
        assert not alive(pid) and pids_in_group(pid) == []
        # nothing on the desk's NATS port either: the relay (and its monitors) nor nats-server
        line = serve.wait_line(lambda s: "embedded relay of" in s, 1, "the upstream line")
        port = line.rpartition("nats://127.0.0.1:")[2].split(";")[0]
        for pattern in (f"nats://127.0.0.1:{port}", f"nats-{port}"):
            found = await asyncio.to_thread(_pgrep, pattern)
            assert found == [], (pattern, found)
        assert not (desk.state / "r2k" / f"nats-{port}").exists()  # its store went with it
        conn.close()
    finally:
        await asyncio.to_thread(serve.stop)
    # the record: one line per login, with why it ended
    logins = serve.logins()
    ann = [x for x in logins if x["name"] == "ann"]
    bob = [x for x in logins if x["name"] == "bob"]
    assert ann[-1]["ended"] == "idle timeout" and ann[-1]["via"] == "ssh"
    assert bob[-1]["ended"] == "r2k serve is stopping"
    assert set(bob[-1]) == {"name", "address", "via", "start", "end", "ended", "failed_attempts"}
    out = await asyncio.to_thread(_status, env)
    assert out.returncode == 1 and "not running" in out.stdout


def test_passwd_keeps_only_an_argon2_hash(tmp_path: Path) -> None:
    from tui.serve.users import Users

    users = tmp_path / "users"
    users.mkdir()
    run = subprocess.run(
        [*R2K, "serve", "passwd", "dee", "--users", str(users)],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    stored = (users / "dee.web").read_text()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert (users / "dee.web").stat().st_mode & 0o777 == 0o600
    assert Users(users).check_password("dee", "correct horse battery")
    assert not Users(users).check_password("dee", "correct horse")
    for name, text, fragment in (
        ("dee", "short\n", "too short"),
        ("../etc", "long enough pass\n", "not a trader's name"),
    ):
        run = subprocess.run(
            [*R2K, "serve", "passwd", name, "--users", str(users)],
            input=text,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert run.returncode == 2 and run.stderr.count("\n") == 1 and fragment in run.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["serve", "--ssh", ":0"], "needs --users DIR"),
        (["serve", "--users", "/nonexistent/users", "--ssh", ":0"], "does not exist"),
        (["serve", "--users", "{users}"], "say where traders connect"),
        (
            ["serve", "--users", "{users}", "--ssh", ":0", "--nats", "nats://x:1", "--feed", "sim"],
            "not both",
        ),
        (["serve", "--users", "{users}", "--ssh", ":99999"], "port must be"),
        (["serve", "--users", "{users}", "--ssh", ":0", "--max-sessions", "0"], "1 or more"),
    ],
)
def test_serve_refusals_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    from tui.cli import main

    (tmp_path / "users").mkdir()
    argv = [a.replace("{users}", str(tmp_path / "users")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err


async def test_with_nats_the_sessions_read_an_existing_relay(serve: Serve, tmp_path: Path) -> None:
    line = serve.wait_line(lambda s: "embedded relay of" in s, 1, "the upstream line")
    url = "nats://127.0.0.1:" + line.rpartition("nats://127.0.0.1:")[2].split(";")[0]
    other = Serve(make_desk(tmp_path), "--nats", url)  # a second desk on the first one's relay
    await asyncio.to_thread(other.start)
    try:
        conn = await connect(other, "ann")
        result = await conn.run("snapshot --json --duration 2")
        conn.close()
        assert result.exit_status == 0, result.stderr
        snap = orjson.loads(result.stdout)
        assert snap["feed"]["spec"] == f"{url}/r2k" and snap["feed"]["state"] == "live"
        assert "^RUT" in snap["indices"]
        assert not any("upstream: feed" in x for x in other.lines)  # it runs no relay itself
    finally:
        await asyncio.to_thread(other.stop)
