"""``r2k alerts log`` (issue 10): the durable log, by feed and date, with ack and bust state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.alerting.alerts import AlertJournal, offline_log_path
from feeds.alerting.levels import AlertEvent
from feeds.settings.config import load_settings
from feeds.timefmt import iso_ms
from tui.alertlog import parse_since, run_log
from tui.cli import main

DAY1 = 1_762_353_000_000  # 2025-11-05 09:30 ET
DAY2 = DAY1 + 86_400_000  # 2025-11-06 09:30 ET
NOW = DAY2 + 3_600_000  # 10:30 ET on day 2


def alert(ts: int, feed: str, level: float = 2450.0, kind: str = "cross") -> AlertEvent:
    return AlertEvent(ts, "^RUT", level, "support", "up", level + 2, kind, feed=feed)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(f'alert_log = "{tmp_path / "alerts.jsonl"}"\n')
    live = AlertJournal(tmp_path / "alerts.jsonl")
    first, second = alert(DAY1, "yahoo"), alert(DAY2, "polygon", 2642.0)
    third = alert(DAY2 + 60_000, "yahoo", 2300.0)
    for a in (first, second, third):
        live(a)
    live.acknowledge([second], DAY2 + 120_000)
    live.close()
    # a crossing busted by a cancelled trade (the line a bust appends)
    busted = {**third.to_dict(), "kind": "busted", "ts": iso_ms(DAY2 + 61_000)}
    busted["original_ts"] = iso_ms(third.ts)
    with (tmp_path / "alerts.jsonl").open("a") as f:
        f.write(json.dumps(busted) + "\n")
    practice = AlertJournal(offline_log_path(tmp_path / "alerts.jsonl"))
    practice(alert(DAY2, "sim", 2861.0))
    practice(alert(DAY2, "replay", 3000.0))
    practice.close()
    return config


def test_today_live_feeds_by_default_with_ack_and_bust(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(logs)
    assert run_log(settings, since=None, which="live", as_json=True, now_ms=NOW) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["feed"], r["level"], r["acknowledged"], r["busted"]) for r in rows] == [
        ("polygon", 2642.0, True, False),
        ("yahoo", 2300.0, False, True),
    ]
    assert rows[0]["acknowledged_at"] == iso_ms(DAY2 + 120_000) and rows[1]["kind"] == "cross"


def test_by_feed_and_since_as_a_table(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(logs)
    run_log(settings, since="2025-11-05", which="all", as_json=False, now_ms=NOW)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "FEED",
        "SYMBOL",
        "ALERT",
        "LEVEL",
        "PRICE",
        "LABEL",
        "STATE",
    ]
    assert [line.split()[3] for line in lines[1:]] == ["yahoo", "polygon", "sim", "replay", "yahoo"]
    assert lines[2].endswith("ack 09:32") and lines[5].endswith("BUSTED")
    run_log(settings, since="yesterday", which="sim", as_json=False, now_ms=NOW)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and " sim " in out[1] and "2,861" in out[1]


def test_nothing_found_says_so_on_stderr(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_log(load_settings(logs), since=None, which="live", as_json=False, now_ms=NOW + 86_400_000)
    out, err = capsys.readouterr()
    assert out == "" and err == "r2k: no live alerts since 2025-11-07 00:00 ET\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "2025-11-06T05:00:00.000+00:00"),  # midnight New York
        ("today", "2025-11-06T05:00:00.000+00:00"),
        ("yesterday", "2025-11-05T05:00:00.000+00:00"),
        ("7d", "2025-10-30T04:00:00.000+00:00"),  # before the clocks changed
        ("2025-11-05", "2025-11-05T05:00:00.000+00:00"),
        ("2025-11-05T09:30:00-05:00", "2025-11-05T14:30:00.000+00:00"),
    ],
)
def test_since(text: str | None, expected: str) -> None:
    assert iso_ms(parse_since(text, NOW)) == expected


def test_a_bad_since_is_one_line(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["alerts", "log", "--config", str(logs), "--since", "last tuesday"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("r2k: error: --since 'last tuesday': expected a date (2025-11-05)")
    status = main(["alerts", "log", "--config", str(logs), "--since", "2025-11-05T09:30"])
    assert status == 2 and "a time with its offset" in capsys.readouterr().err
