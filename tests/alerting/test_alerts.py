"""Alert delivery: the durable log, stdout lines and the webhook (against a local server)."""

from __future__ import annotations

import io
import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.alerting.alerts import (
    AlertJournal,
    StatusLineSink,
    StdoutSink,
    WebhookSink,
    alert_log_path,
    offline_log_path,
    read_recent,
)
from feeds.alerting.levels import AlertEvent
from feeds.errors import ConfigError
from feeds.events import FeedState, FeedStatus
from feeds.feed import is_live

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
        "feed": "",
        "confirm": "tick",
        "muted": False,
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
    # the file in the way is named (it said "File exists"), however deep the log is below it
    assert f"('{blocker}' is a file, not a folder)" in message
    with pytest.raises(ConfigError) as deeper:
        AlertJournal(blocker / "a" / "b" / "alerts.jsonl")
    assert f"('{blocker}' is a file, not a folder)" in str(deeper.value)


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


async def test_practice_alerts_are_never_posted(
    hook_server: tuple[str, list[dict[str, object]]],
) -> None:
    """A terminal on a relay of the sim or a replay fires practice alerts on a live feed spec:
    the desk's webhook never gets them."""
    url, received = hook_server
    sink = WebhookSink(url + "/hook", trust_env=False)
    sink(replace(alert(0), feed="sim"))
    sink(replace(alert(1), feed="replay"))
    sink(replace(alert(2), feed="alpaca"))
    await sink.aclose()
    assert received == [replace(alert(2), feed="alpaca").to_dict()]


def test_a_split_live_log_keeps_practice_alerts_in_the_offline_log(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    log = AlertJournal(path, split=True)
    live, practice = replace(alert(0), feed="alpaca"), replace(alert(1), feed="sim")
    log(live)
    log(practice)
    assert log.acknowledge([practice, live], T0 + 9000) == 2
    log.close()
    assert read_recent(path, 10) == [replace(live, acknowledged=True)]
    assert read_recent(offline_log_path(path), 10) == [replace(practice, acknowledged=True)]
    assert log.problem() is None and log.not_written == 0


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


# --- a full disk loses nothing already written (issue 8 §3) -----------------------------------


def _full_disk_after(monkeypatch: pytest.MonkeyPatch, budget: int) -> list[int]:
    """os.write in feeds.alerting.alerts gives ENOSPC once ``budget`` bytes are used (short writes
    first,
    as a disk filling up does). Returns a one-item list: the bytes still free."""
    import errno
    import os

    free = [budget]
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        if free[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real_write(fd, bytes(data[: free[0]]))
        free[0] -= n
        return n

    monkeypatch.setattr("feeds.alerting.alerts.os.write", write)
    return free


def test_a_full_disk_keeps_whole_lines_and_counts_what_was_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "alerts.jsonl"
    log = AlertJournal(path)
    log(alert(0))
    free = _full_disk_after(monkeypatch, 40)  # the next line is cut after 40 bytes
    log(alert(1))  # never raises into the pipeline
    log(alert(2))
    assert log.not_written == 2
    problem = log.problem()
    assert problem is not None and "\n" not in problem
    assert f"alert log '{path}': 2 alert(s) not written (No space left on device)" in problem
    # no cut line: the file holds only the whole first entry
    assert path.read_text() == json.dumps(alert(0).to_dict(), separators=(", ", ": ")) + "\n"
    free[0] = 10_000  # space again: the next alert starts on a line of its own
    log(alert(3))
    log.close()
    assert read_recent(path, 10) == [alert(3), alert(0)]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_full_disk_on_dev_full_is_counted_not_raised(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    log = AlertJournal("/dev/full")
    log(alert(0))
    log.close()
    assert log.not_written == 1 and "No space left on device" in (log.problem() or "")


def test_a_cut_last_line_is_repaired_when_the_log_opens(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    whole = json.dumps(alert(0).to_dict())
    path.write_text(whole + "\n" + whole[:30], encoding="utf-8")  # a crash mid-write
    log = AlertJournal(path)
    assert log.repaired is not None and "removed a cut last line (30 bytes" in log.repaired
    log(alert(1))
    log.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["price"] for line in lines] == [2452.0, 2453.0]  # nothing glued


def test_a_whole_last_entry_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text(json.dumps(alert(0).to_dict()), encoding="utf-8")
    log = AlertJournal(path)
    assert log.repaired is None
    log(alert(1))
    log.close()
    assert read_recent(path, 10) == [alert(1), alert(0)]


# --- outputs carry no control characters (issue 8 §5) -----------------------------------------

HOSTILE = "sup\x1b[2Jport\x9b31m \u202eevil\u2066x\u2069\x85"


def _raw_controls(text: str) -> list[str]:
    import re

    return re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


def test_the_log_stdout_and_status_lines_escape_control_characters(tmp_path: Path) -> None:
    bad = AlertEvent(T0, "^RUT", 2450.0, HOSTILE, "up", 2452.0, "cross")
    path = tmp_path / "alerts.jsonl"
    log = AlertJournal(path)
    log(bad)
    log.close()
    out, err = io.StringIO(), io.StringIO()
    StdoutSink(out)(bad)
    StatusLineSink(err)(FeedStatus(FeedState.ERROR, HOSTILE, T0))
    StatusLineSink(err).warning(HOSTILE)
    for text in (path.read_text(), out.getvalue(), err.getvalue()):
        assert _raw_controls(text) == []
        assert "\\u202e" in text and "\\u009b" in text  # escaped, so nothing is lost
    assert read_recent(path, 1)[0].label == HOSTILE  # reads back as it was
    assert json.loads(out.getvalue())["label"] == HOSTILE


async def test_the_webhook_body_escapes_control_characters(
    hook_server: tuple[str, list[dict[str, object]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    bodies: list[bytes] = []
    real_post = httpx.AsyncClient.post

    async def post(self: httpx.AsyncClient, url: str, **kw: object) -> httpx.Response:
        response = await real_post(self, url, **kw)  # type: ignore[arg-type]
        bodies.append(response.request.content)
        return response

    monkeypatch.setattr(httpx.AsyncClient, "post", post)
    url, received = hook_server
    sink = WebhookSink(url + "/hook", trust_env=False)
    sink(AlertEvent(T0, "^RUT", 2450.0, HOSTILE, "up", 2452.0, "cross", feed="yahoo"))
    await sink.aclose()
    assert received[0]["label"] == HOSTILE and received[0]["feed"] == "yahoo"
    assert bodies and _raw_controls(bodies[0].decode("utf-8")) == []


# --- the alert history tells the truth (issue 8 §7) -------------------------------------------


def test_each_entry_names_its_feed_and_identical_events_are_written_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alerts.offline.jsonl"
    sim = [replace(alert(i), feed="sim") for i in range(2)]
    for _ in range(2):  # a seed-0 sim run, twice: the same events
        log = AlertJournal(path)
        for a in sim:
            log(a)
        log.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [d["feed"] for d in lines] == ["sim", "sim"]
    assert log.duplicates == 2
    assert read_recent(path, 10) == [sim[1], sim[0]]


def test_read_recent_is_in_time_order_filtered_and_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    entries = [
        replace(alert(5), feed="yahoo"),
        replace(alert(1), feed="replay"),  # a replay of an older day, logged later
        replace(alert(5), feed="yahoo"),  # the same event again (hand-merged logs)
        replace(alert(3), feed="alpaca"),
        alert(4),  # written before entries named their feed: origin unknown
    ]
    path.write_text("".join(json.dumps(a.to_dict()) + "\n" for a in entries))
    assert [a.ts for a in read_recent(path, 10)] == [T0 + 5000, T0 + 4000, T0 + 3000, T0 + 1000]
    live = read_recent(path, 10, keep=lambda a: is_live(a.feed))
    assert [(a.ts, a.feed) for a in live] == [(T0 + 5000, "yahoo"), (T0 + 3000, "alpaca")]


def test_offline_feeds_log_beside_the_live_log(tmp_path: Path) -> None:
    live = tmp_path / "alerts.jsonl"
    assert alert_log_path(live, "yahoo") == live
    assert alert_log_path(live, "alpaca") == live
    assert alert_log_path(live, "sim") == tmp_path / "alerts.offline.jsonl"
    assert alert_log_path(live, "replay") == offline_log_path(live)
