"""Issue 19 §5: every input's edge gives one clean line, through the real CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from feeds.events import Tick
from feeds.storage.recorder import Recorder

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "cases"


def r2k(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    # the feed's JSON status lines may come first; the error is one line, the last
    lines = [ln for ln in done.stderr.splitlines() if not ln.startswith('{"kind": "status"')]
    assert len(lines) == 1 and lines[0].startswith("r2k: error: "), done.stderr
    assert done.stderr.endswith(lines[0] + "\n")
    return lines[0]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1"])
@pytest.mark.parametrize("command", ["snapshot", "alerts", "record"])
def test_duration_must_be_finite_and_positive(command: str, value: str, tmp_path: Path) -> None:
    extra = ["--out", str(tmp_path / "r.csv")] if command == "record" else []
    line = one_error_line(r2k(command, "--speed", "0", f"--duration={value}", *extra))
    assert "--duration must be a positive number of seconds" in line
    assert not (tmp_path / "r.csv").exists()


def test_holdings_show_json_escapes_bidi_overrides(tmp_path: Path) -> None:
    name = "EVIL \u202egnp.exe CORP"
    holdings = tmp_path / "h.csv"
    holdings.write_text(
        f"# as_of: 2025-11-05\nsymbol,name,sector,weight_pct\nAAA,{name},Tech,1.5\n",
        encoding="utf-8",
    )
    done = r2k("holdings", "show", "--json", str(holdings))
    assert done.returncode == 0, done.stderr
    assert "\u202e" not in done.stdout and "\\u202e" in done.stdout
    assert name in json.dumps(json.loads(done.stdout), ensure_ascii=False)  # data kept


def test_every_json_output_goes_through_the_one_sanitiser() -> None:
    # json.dumps / orjson.dumps outside feeds/text.py only for wire formats and caches
    allowed = {
        "feeds/text.py",  # the sanitiser itself
        "feeds/market/calendar.py",  # the calendar cache (no user text)
        "feeds/market/conditions.py",  # the condition-code cache (the provider's table)
        "feeds/sources/relay/codec.py",  # the relay wire format (terminals clean what they show)
    }
    found = []
    for path in [*ROOT.glob("feeds/**/*.py"), *ROOT.glob("tui/**/*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or "/providers/" in rel:  # providers: requests to the servers
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\b(json|orjson)\.dumps\(", line) and "escape_json_text(" not in line:
                found.append(f"{rel}:{n}")
    assert found == []


def test_a_timestamp_past_int64_is_one_line_without_numpy_warnings(tmp_path: Path) -> None:
    replay = tmp_path / "big.csv"
    replay.write_text("ts,symbol,price\n99999999999999999999,^RUT,2100\n1741271400000,^RUT,2106\n")
    line = one_error_line(r2k("snapshot", "--json", "--feed", f"replay:{replay}"))
    assert "line 2" in line and "epoch" in line


def test_a_huge_weight_is_named_in_a_short_message(tmp_path: Path) -> None:
    holdings = tmp_path / "h.csv"
    holdings.write_text("# as_of: 2025-11-05\nsymbol,name,sector,weight_pct\nAAA,A,Tech,1e308\n")
    line = one_error_line(r2k("holdings", "show", str(holdings)))
    assert "weights sum to 1e+308%" in line and len(line) < 300


def test_figure_shortens_only_what_would_bury_a_message() -> None:
    from feeds.text import figure

    assert figure(1234.56) == "1,234.6"
    assert figure(1e308) == "1e+308"
    assert figure(float("inf")) == "inf"
    assert figure(-3e15, ",.0f") == "-3e+15"


def test_recording_twice_to_the_same_csv_is_refused_when_it_goes_back_in_time(
    tmp_path: Path,
) -> None:
    # issue 19 §5: the second run appended rows stamped 09:30:00 after rows up to 09:30:14,
    # which the replay dropped as out of sequence without a word
    out = tmp_path / "rec.csv"
    first = r2k("record", "--speed", "0", "--duration", "5", "--out", str(out))
    assert first.returncode == 0, first.stderr
    kept = out.read_bytes()
    line = one_error_line(r2k("record", "--speed", "0", "--duration", "5", "--out", str(out)))
    assert f"recording file '{out}' ends at " in line and "out of sequence" in line
    assert out.read_bytes() == kept  # nothing appended


def test_an_append_that_continues_the_file_in_time_is_taken(tmp_path: Path) -> None:
    out = tmp_path / "rec.csv"
    t0 = 1_762_353_000_000
    with Recorder(out) as rec:
        rec.write(Tick("AAA", 10.0, t0))
        rec.write(Tick("AAA", 11.0, t0 + 5_000))
    again = Recorder(out)
    assert again.ends_ms == t0 + 5_000
    again.check_continues(t0 + 5_000)  # the same instant continues it
    again.check_continues(t0 - 1)  # checked once only: the first row decides
    again.close()
    late = Recorder(out)
    with pytest.raises(Exception, match="out of sequence"):
        late.check_continues(t0 + 4_999)
    late.close()
