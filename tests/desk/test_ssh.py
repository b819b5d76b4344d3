"""``r2k serve`` over SSH with real clients: the monitor on the trader's screen (pyte) at the
client's size and after a window change, refusals, per-trader state, a drop, a full desk."""

from __future__ import annotations

import asyncio
import os
import shutil

import orjson
import pytest

from tests.desk.conftest import (
    Screen,
    Serve,
    alive,
    asyncssh,
    connect,
    environ,
    open_monitor,
    pids_in_group,
    until,
)
from tui.serve.proc import PtyProcess


def laid_out_at_80x24(s: Screen) -> bool:
    """The whole screen drawn again for 80x24: the header on top, the footer at the bottom
    (pyte keeps the old bottom rows when it shrinks, so one of them alone proves nothing)."""
    rows = s.rows
    return (
        " ET " in rows[0]
        and "Quit" in rows[23]
        and "Leaders" in s.text
        and "Rotation" in s.text
        and any(r.rstrip().endswith("─") and len(r.rstrip()) == 80 for r in rows)
    )


async def test_monitor_fills_the_client_terminal_and_follows_its_window(serve: Serve) -> None:
    own_config = serve.desk.desk_dir / "ann" / "config.toml"  # an admin gave ann her own
    own_config.parent.mkdir(parents=True, exist_ok=True)
    own_config.write_text('anchor = "prev"\n')
    mon = await open_monitor(serve, "ann", 100, 30, NO_COLOR="1")
    try:
        await mon.screen.wait_text("Rotation", "Levels", "Leaders", "Quit")
        await mon.screen.wait_for(lambda s: "● live" in s.rows[0])  # synced with the relay
        rows = mon.screen.rows
        assert " ET " in rows[0], rows[0]
        assert "Quit" in rows[29]  # the footer on the client's last row: 30 rows tall
        assert rows[1].rstrip().endswith("╮")  # and 100 wide: the right border in column 100
        assert len(rows[1].rstrip()) == 100
        # the session runs with the client's TERM and NO_COLOR, in ann's own state directory
        (pid,) = serve.session_pids("ann")
        env = environ(pid)
        assert env["TERM"] == "xterm-256color" and env["NO_COLOR"] == "1"
        assert env["R2K_STATE_DIR"] == str(serve.desk.desk_dir / "ann")
        assert env["R2K_CONFIG"] == str(own_config)
        # a window change: the monitor lays itself out again at 80x24
        mon.resize(80, 24)
        await mon.screen.wait_for(laid_out_at_80x24, within=20)
        assert "Rotation" in mon.screen.text
        # and `r2k serve status` says the size she has now (it kept "100x30" before tryout2)
        details = lambda: [s["detail"] for s in serve.status()["sessions"]]  # noqa: E731
        await until(lambda: details() == ["80x24 xterm-256color"], 10, "the new size in status")
    finally:
        await mon.close()


@pytest.mark.skipif(shutil.which("ssh") is None, reason="OpenSSH's ssh client is not installed")
async def test_openssh_client_gets_the_monitor_and_window_changes(serve: Serve) -> None:
    screen = Screen(100, 30)
    argv = [
        "ssh", "-tt", "-p", str(serve.ssh_port), "-i", str(serve.desk.key_file("bob")),
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "bob@127.0.0.1",
    ]  # fmt: skip
    env = {"PATH": os.environ["PATH"], "TERM": "xterm-256color", "HOME": str(serve.desk.root)}
    ssh = PtyProcess(argv, env, cols=100, rows=30, on_output=screen.feed)
    await ssh.start()
    try:
        await screen.wait_text("Rotation", "Leaders", "Quit")
        assert "Quit" in screen.rows[29]
        screen.resize(80, 24)
        ssh.resize(80, 24)  # SIGWINCH to ssh, which sends the window change
        await screen.wait_for(laid_out_at_80x24, 20)
        ssh.write(b"q")  # quit the monitor: ssh ends with it
        async with asyncio.timeout(10):
            assert await ssh.wait() == 0
    finally:
        await ssh.stop()


@pytest.mark.parametrize(
    ("name", "how"),
    [("ann", "wrong key"), ("zed", "unknown name"), ("ann", "password")],
)
async def test_logins_other_than_a_traders_own_key_are_refused(
    serve: Serve, name: str, how: str
) -> None:
    kw: dict[str, object] = {}
    if how == "wrong key":
        kw["key"] = serve.desk.stranger
    elif how == "unknown name":
        kw["key"] = serve.desk.keys["ann"]  # a real key, under a name that is no trader
    else:
        kw["password"] = serve.desk.password  # even ann's web password opens no SSH
    with pytest.raises(asyncssh.PermissionDenied):
        await connect(serve, name, **kw)  # type: ignore[arg-type]
    serve.wait_line(lambda s: "failed login as" in s and f"'{name}'" in s, 10, "failed login")


async def test_shell_exec_and_forwarding_requests_are_refused(serve: Serve) -> None:
    conn = await connect(serve, "cy")
    try:
        for command in ("cat /etc/passwd", "sh -i", "bash", "snapshot --config /etc/shadow"):
            result = await conn.run(command)
            assert result.exit_status == 2, (command, result)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("r2k serve:"), lines
            assert result.stdout == ""
        # a shell without a terminal: no shell, one line
        result = await conn.run()
        assert result.exit_status == 2 and "needs a terminal" in result.stderr
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", serve.web_port)  # -L
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)  # -R
        with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
            await conn.start_sftp_client()
        # the headless commands do run, for cy, against the desk's upstream
        result = await conn.run("snapshot --json --duration 1")
        assert result.exit_status == 0, result.stderr
        snap = orjson.loads(result.stdout)
        assert snap["feed"]["spec"].startswith("nats://127.0.0.1:")
        assert "^RUT" in snap["indices"]
        result = await conn.run("r2k alerts log --json")
        assert result.exit_status == 0, result.stderr
    finally:
        conn.close()


async def _add_level(serve: Serve, name: str, text: str, label: str) -> None:
    mon = await open_monitor(serve, name)
    try:
        await mon.screen.wait_text("Levels", "Quit")
        mon.keys("+")
        await mon.screen.wait_text("Add a level")
        mon.keys(text + "\r")
        await mon.screen.wait_for(lambda s: label in s.text and "Add a level" not in s.text)
    finally:
        await mon.close()


async def test_a_trader_added_while_serving_logs_in_at_once(serve: Serve) -> None:
    import asyncssh as ssh

    key = ssh.generate_private_key("ssh-ed25519")
    path = serve.desk.users / "dee.keys"
    path.write_bytes(b"# dee, added by the admin\n" + key.export_public_key())
    try:
        conn = await connect(serve, "dee", key)
        result = await conn.run("alerts log")
        conn.close()
        assert result.exit_status == 0, result.stderr
        assert (serve.desk.desk_dir / "dee").is_dir()
    finally:
        path.unlink()
    from tui.serve.users import Users

    assert Users(serve.desk.users).authorized_keys("dee") is None  # gone from the next login


async def test_each_trader_keeps_their_own_levels_across_reconnects(serve: Serve) -> None:
    await _add_level(serve, "ann", "2475 annlevel", "annlevel")
    await _add_level(serve, "bob", "2390 boblevel", "boblevel")
    ann = serve.desk.desk_dir / "ann" / "levels.json"
    bob = serve.desk.desk_dir / "bob" / "levels.json"
    assert [lv["label"] for lv in orjson.loads(ann.read_bytes())["levels"]] == ["annlevel"]
    assert [lv["label"] for lv in orjson.loads(bob.read_bytes())["levels"]] == ["boblevel"]
    for name, own, other in (("ann", "annlevel", "boblevel"), ("bob", "boblevel", "annlevel")):
        mon = await open_monitor(serve, name)
        try:
            await mon.screen.wait_text(own, "Quit")
            assert other not in mon.screen.text
        finally:
            await mon.close()


async def test_a_dropped_connection_ends_its_monitor_within_2_s(serve: Serve) -> None:
    mon = await open_monitor(serve, "cy")
    await mon.screen.wait_text("Rotation")
    (pid,) = serve.session_pids("cy")
    assert alive(pid)
    mon.conn.abort()  # the connection drops: no goodbye
    gone_after = await until(lambda: not alive(pid), 5, "the monitor to end")
    assert gone_after <= 2.0, f"the monitor outlived its connection by {gone_after:.2f} s"
    assert pids_in_group(pid) == []  # nothing it started is left either
    serve.wait_line(lambda s: "cy from" in s and "connection closed" in s, 5, "the end line")
    (last,) = [x for x in serve.logins() if x["name"] == "cy" and x["ended"]][-1:]
    assert last["via"] == "ssh" and last["ended"] == "connection closed" and last["end"]


async def test_beyond_max_sessions_a_login_gets_the_desk_is_full_line(serve: Serve) -> None:
    conns = [await connect(serve, n) for n in ("ann", "bob", "cy")]
    try:
        procs = [await c.create_process("alerts --duration 60") for c in conns]
        await until(lambda: len(serve.status()["sessions"]) == 3, 20, "3 sessions")
        extra = await connect(serve, "ann")
        result = await extra.run("snapshot --json")
        extra.close()
        assert result.exit_status == 1
        assert result.stderr.strip() == "r2k serve: the desk is full (3 sessions); try again later"
        for p in procs:
            p.close()
    finally:
        for c in conns:
            c.close()
    await until(lambda: not serve.status()["sessions"], 10, "the sessions to end")
