"""Alert delivery: the durable log, stdout lines and the webhook (against a local server)."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest

from feeds.alerts import AlertJournal, StatusLineSink, StdoutSink, WebhookSink, read_recent
from feeds.errors import ConfigError
from feeds.events import FeedState, FeedStatus
from feeds.levels import AlertEvent

T0 = 1_762_353_000_000


def alert(i: int, direction: str = "up") -> AlertEvent:
    return AlertEvent(T0 + i * 1000, "^RUT", 2450.0, "support", direction, 2452.0 + i, "cross")


def test_log_appends_durably_and_reads_back_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "alerts.jsonl"  # parents are created
    log = AlertJournal(path)
    log(alert(0))
    log(alert(1, "down"))
    log.close()
    log = AlertJournal(path)  # a restart appends, never truncates
    log(alert(2))
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0]) == {
        "ts": "2025-11-05T14:30:00.000+00:00",
        "symbol": "^RUT",
        "level": 2450.0,
        "label": "support",
        "direction": "up",
        "price": 2452.0,
        "kind": "cross",
        "estimated": False,
    }
    assert read_recent(path, 10) == [alert(2), alert(1, "down"), alert(0)]
    assert read_recent(path, 2) == [alert(2), alert(1, "down")]


def test_read_recent_skips_garbled_lines(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    good = [json.dumps(alert(i).to_dict()) for i in range(3)]
    path.write_text(
        "\n".join(
            [
                good[0],
                "not json at all",
                '{"ts": "yesterday"}',
                "[1, 2]",
                good[1],
                "\x00\xff",
                good[2],
            ]
        )
        + '\n{"ts": "2025-11-05T14:3',  # a crash mid-write
        encoding="utf-8",
    )
    assert read_recent(path, 10) == [alert(2), alert(1), alert(0)]
    assert read_recent(tmp_path / "missing.jsonl", 10) == []


def test_read_recent_reads_only_the_tail_of_a_long_log(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(json.dumps(alert(i).to_dict()) + "\n" for i in range(3000)))
    assert path.stat().st_size > 3 * 64 * 1024
    assert read_recent(path, 3) == [alert(2999), alert(2998), alert(2997)]


def test_unwritable_log_is_a_one_line_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as info:
        AlertJournal(blocker / "alerts.jsonl")
    message = str(info.value)
    assert "\n" not in message
    assert f"cannot write the alert log '{blocker / 'alerts.jsonl'}'" in message
    assert "set alert_log in the config file" in message


def test_stdout_and_status_lines() -> None:
    out = io.StringIO()
    StdoutSink(out)(alert(0))
    assert json.loads(out.getvalue())["direction"] == "up"
    assert out.getvalue().count("\n") == 1
    err = io.StringIO()
    StatusLineSink(err)(FeedStatus(FeedState.STALE, "no ticks for 15 s", T0))
    assert json.loads(err.getvalue()) == {
        "kind": "status",
        "state": "stale",
        "detail": "no ticks for 15 s",
        "ts": "2025-11-05T14:30:00.000+00:00",
    }


async def test_webhook_posts_each_alert(hook_server: tuple[str, list[dict[str, object]]]) -> None:
    url, received = hook_server
    sink = WebhookSink(url + "/hook", trust_env=False)
    sink(alert(0))
    sink(alert(1, "down"))
    await sink.aclose()  # drains the queue
    assert received == [alert(0).to_dict(), alert(1, "down").to_dict()]
    assert (sink.sent, sink.failed, sink.dropped) == (2, 0, 0)
    assert sink.status_text() == "webhook: 2 sent"


async def test_webhook_failures_are_counted_never_raised(
    hook_server: tuple[str, list[dict[str, object]]],
) -> None:
    url, _ = hook_server
    sink = WebhookSink(url + "/fail", trust_env=False)
    sink(alert(0))
    await sink.aclose()
    assert (sink.sent, sink.failed) == (0, 1)
    assert sink.status_text() == "webhook: 0 sent, 1 failed (last: HTTP 500)"

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = WebhookSink(f"http://127.0.0.1:{port}/", trust_env=False)
    refused(alert(0))
    await refused.aclose()
    assert refused.failed == 1 and "ConnectError" in refused.last_error


async def test_webhook_queue_is_bounded(hook_server: tuple[str, list[dict[str, object]]]) -> None:
    url, received = hook_server
    sink = WebhookSink(url, queue_size=2, trust_env=False)
    for i in range(5):  # no await in between: the poster has not run yet
        sink(alert(i))
    await sink.aclose()
    assert sink.dropped == 3 and sink.sent == 2 and len(received) == 2
    assert "3 dropped (queue full)" in sink.status_text()


def test_webhook_without_a_loop_drops_instead_of_raising() -> None:
    sink = WebhookSink("http://127.0.0.1:9/")
    sink(alert(0))
    assert sink.dropped == 1


def test_an_alert_log_that_cannot_write_reports_a_problem(tmp_path: Path) -> None:
    log = AlertJournal(tmp_path / "alerts.jsonl")
    assert log.problem() is None
    log(alert(1))
    assert log.problem() is None
    log.close()  # stands for a disk gone bad: writes now fail
    log(alert(2))  # never raises into the pipeline...
    problem = log.problem()  # ...but says so
    assert problem is not None and "1 alert(s) not written" in problem
    assert "alert_log" in problem  # names the setting that fixes it


async def test_webhook_problem_only_once_something_failed(
    hook_server: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = hook_server
    sink = WebhookSink(url)
    sink(alert(1))
    await sink.aclose()
    assert received and sink.problem() is None
