"""Delivery (issue 10): desktop notifications through the terminal (OSC 9, OSC 777, tmux), the
command sink (no shell, one argument per placeholder, a timeout, failures reported), webhook
payload presets (json, slack, discord)."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.alerting.alerts import CommandSink, WebhookSink
from feeds.alerting.delivery import (
    TerminalNotifier,
    alert_text,
    command_argv,
    osc9,
    osc777,
    webhook_payload,
)
from feeds.alerting.levels import AlertEvent

T0 = 1_762_353_001_000  # 2025-11-05 14:30:01 UTC = 09:30:01 ET
CROSS = AlertEvent(T0, "^RUT", 2450.0, "support", "up", 2451.3, "cross", feed="yahoo")
SPREAD = AlertEvent(
    T0, "RUT-SPX", 50.0, "small caps lead", "down", 47.25, "cross", feed="sim", confirm="1m"
)


def test_the_title_and_body_of_an_alert() -> None:
    assert alert_text(CROSS) == (
        "r2k: ^RUT crossed up through 2,450",
        "support · 2,451.30 at 09:30:01 ET",
    )
    assert alert_text(SPREAD) == (
        "r2k (sim): RUT-SPX spread crossed down through +50 bp",
        "small caps lead · +47.2 bp at 09:30:01 ET · 1m close",
    )


# --- the terminal ---------------------------------------------------------------------------


def test_osc9_bytes_are_written_when_enabled() -> None:
    written: list[str] = []
    notifier = TerminalNotifier(["toast", "bell", "osc9"], written.append, env={})
    assert notifier.enabled and notifier(CROSS)
    assert written == [
        "\x1b]9;r2k: ^RUT crossed up through 2,450: support · 2,451.30 at 09:30:01 ET\x07"
    ]


@pytest.mark.parametrize("methods", [[], ["toast"], ["toast", "bell"], ["bell"]])
def test_no_terminal_bytes_unless_an_osc_method_is_enabled(methods: list[str]) -> None:
    written: list[str] = []
    notifier = TerminalNotifier(methods, written.append, env={"TMUX": "/tmp/tmux-0/default"})
    assert not notifier.enabled
    assert [notifier(a) for a in (CROSS, SPREAD)] == [False, False]
    assert written == []


def test_osc777_has_a_title_and_a_body_and_no_field_separator_inside_them() -> None:
    written: list[str] = []
    alert = replace(CROSS, label="support; retest")
    TerminalNotifier(["osc777"], written.append, env={})(alert)
    assert written == [
        "\x1b]777;notify;r2k: ^RUT crossed up through 2,450;"
        "support, retest · 2,451.30 at 09:30:01 ET\x07"
    ]
    assert osc777("a;b", "c;d") == "\x1b]777;notify;a,b;c,d\x07"


def test_inside_tmux_the_sequence_goes_through_its_passthrough() -> None:
    written: list[str] = []
    TerminalNotifier(["osc9"], written.append, env={"TMUX": "/tmp/tmux-0/default,1,0"})(CROSS)
    inner = osc9(*alert_text(CROSS))
    assert written == ["\x1bPtmux;" + inner.replace("\x1b", "\x1b\x1b") + "\x1b\\"]


def test_a_label_cannot_end_the_sequence_or_start_another() -> None:
    evil = replace(CROSS, label="x\x07\x1b]52;c;ZXZpbA==\x07\x9c")
    seq = TerminalNotifier(["osc9"], lambda s: None, env={}).sequences(evil)[0]
    assert seq.count("\x1b") == 1 and seq.count("\x07") == 1 and "\x9c" not in seq


def test_muted_levels_and_approach_notices_notify_nothing_and_a_level_at_most_every_5_s() -> None:
    now = [0.0]
    written: list[str] = []
    notifier = TerminalNotifier(["osc9"], written.append, env={}, clock=lambda: now[0])
    assert not notifier(replace(CROSS, muted=True))
    assert not notifier(replace(CROSS, kind="approach"))
    assert notifier(CROSS) and not notifier(CROSS)  # the same level within 5 s
    assert notifier(SPREAD)  # another level
    now[0] = 5.0
    assert notifier(CROSS)
    assert len(written) == 3


# --- the command ----------------------------------------------------------------------------

RECORD = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"


def run_sink(sink: CommandSink, *alerts: AlertEvent) -> None:
    async def go() -> None:
        for a in alerts:
            sink(a)
        await sink.aclose(30)

    asyncio.run(go())


def test_a_command_receives_the_alerts_fields_as_separate_arguments(tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    label = 'breakout; rm -rf ~ $(reboot) "quoted" {title}'
    argv = [sys.executable, "-c", RECORD, str(out), "{title}", "{body}", "{symbol}", "{level}"]
    argv += [
        "{price}",
        "{direction}",
        "{label}",
        "{kind}",
        "{confirm}",
        "{ts}",
        "{feed}",
        "x{level}y",
    ]
    sink = CommandSink(argv)
    run_sink(sink, replace(CROSS, label=label))
    assert json.loads(out.read_text()) == [
        "r2k: ^RUT crossed up through 2,450",
        f"{label} · 2,451.30 at 09:30:01 ET",
        "^RUT",
        "2450",
        "2451.3",
        "up",
        label,  # one argument, never read by a shell, placeholders inside it left as they are
        "cross",
        "tick",
        "2025-11-05T14:30:01.000+00:00",
        "yahoo",
        "x2450y",
    ]
    assert (sink.sent, sink.failed, sink.problem()) == (1, 0, None)


def test_command_argv_fills_each_placeholder_within_its_own_argument() -> None:
    assert command_argv(["notify-send", "{title}", "{body}"], SPREAD) == [
        "notify-send",
        "r2k (sim): RUT-SPX spread crossed down through +50 bp",
        "small caps lead · +47.2 bp at 09:30:01 ET · 1m close",
    ]


def test_command_failures_are_counted_and_reported_in_one_line(tmp_path: Path) -> None:
    missing = CommandSink(["r2k-no-such-program", "{title}"])  # looked up on PATH: not there
    run_sink(missing, CROSS)
    assert missing.failed == 1
    assert missing.problem() == (
        "command: 0 sent, 1 failed (last: r2k-no-such-program: No such file or directory)"
    )
    failing = CommandSink([sys.executable, "-c", "import sys; sys.exit('boom')"])
    run_sink(failing, CROSS)
    assert (
        failing.problem()
        == f"command: 0 sent, 1 failed (last: {sys.executable}: exit status 1 (boom))"
    )
    slow = CommandSink([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.2)
    run_sink(slow, CROSS)
    assert slow.failed == 1 and "still running after 0.2 s; killed" in slow.last_error


def test_a_muted_levels_alert_runs_no_command_and_posts_no_webhook(tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    sink = CommandSink([sys.executable, "-c", RECORD, str(out)])
    run_sink(sink, replace(CROSS, muted=True))
    assert not out.exists() and sink.sent == sink.failed == 0


# --- the webhook ----------------------------------------------------------------------------


def test_webhook_presets() -> None:
    assert webhook_payload(CROSS, "json") == CROSS.to_dict()
    evil = replace(CROSS, label="<!channel> & @everyone")
    assert webhook_payload(evil, "slack") == {
        "text": "r2k: ^RUT crossed up through 2,450\n"
        "&lt;!channel&gt; &amp; @everyone · 2,451.30 at 09:30:01 ET"
    }
    discord = webhook_payload(evil, "discord")
    assert discord["content"].startswith("r2k: ^RUT crossed up through 2,450\n<!channel>")
    assert discord["allowed_mentions"] == {"parse": []} and discord["username"] == "r2k"
    with pytest.raises(ValueError, match="unknown webhook format"):
        webhook_payload(CROSS, "teams")


def test_the_webhook_posts_the_slack_preset(
    hook_server: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = hook_server
    sink = WebhookSink(url + "/hook", format="slack", trust_env=False)

    async def go() -> None:
        sink(CROSS)
        sink(replace(CROSS, muted=True))
        await sink.aclose(10)

    asyncio.run(go())
    assert received == [
        {"text": "r2k: ^RUT crossed up through 2,450\nsupport · 2,451.30 at 09:30:01 ET"}
    ]


def test_r2k_alerts_runs_the_configured_command_for_a_live_feeds_alerts(
    tmp_path: Path, live_replay: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import write_csv
    from tui.cli import main

    rows = [(T0 + k * 1000, "^RUT", p, 2440.0) for k, p in enumerate([2440.0, 2455.0, 2447.0])]
    replay = write_csv(tmp_path / "x.csv", "ts,symbol,price,prev_close", rows)
    out = tmp_path / "runs.jsonl"
    script = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n')"
    config = tmp_path / "c.toml"
    argv = [sys.executable, "-c", script, str(out), "{kind}", "{direction}", "{level}"]
    config.write_text(f"approach = false\n[alerts.command]\nargv = {json.dumps(argv)}\n")
    status = main(["alerts", "--config", str(config), "--feed", f"{live_replay}:{replay}"])
    assert status == 0, capsys.readouterr().err
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert runs == [["cross", "up", "2450"], ["cross", "down", "2450"]]
    # the sim's alerts are practice: they run nothing
    out.unlink()
    assert main(["alerts", "--config", str(config), "--feed", f"replay:{replay}"]) == 0
    assert not out.exists()
    assert "command: not run for replay alerts" in capsys.readouterr().err
