"""``r2k config path | init | check`` (issue 10), the default file generated from the schema, and
the one-line error of every key issue 10 adds."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.settings.config import Settings, load_settings
from feeds.settings.configdoc import DOCS, FEED_SETTINGS, default_file, schema_paths, undocumented
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LINE = re.compile(r"^# ([a-z_]+ = .*)$")  # a setting at its default, commented out
EXAMPLE_MARK = "  # example"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def uncomment(text: str, *, examples: bool) -> str:
    """Turn the commented defaults (and, with ``examples``, the examples) into settings."""
    out: list[str] = []
    for line in text.splitlines():
        if line.endswith(EXAMPLE_MARK):
            if examples:
                line = line.removesuffix(EXAMPLE_MARK).removeprefix("# ")
                key = line.split(" = ")[0]
                if out and out[-1].startswith(f"{key} = "):
                    out.pop()  # the example instead of the default (argv = [])
            out.append(line)
            continue
        m = DEFAULT_LINE.match(line)
        out.append(m.group(1) if m else line)
    return "\n".join(out) + "\n"


def test_config_path_prints_where_the_file_is(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run(["config", "path"], capsys)
    assert status == 0 and out == f"{isolated_env / 'config' / 'r2k' / 'config.toml'}\n"
    assert "no config file there yet" in err
    monkeypatch.setenv("R2K_CONFIG", "/etc/r2k.toml")
    assert run(["config", "path"], capsys)[1] == "/etc/r2k.toml\n"
    assert run(["config", "path", "--config", "~/x.toml"], capsys)[1] == f"{Path.home()}/x.toml\n"


def test_config_init_writes_once_and_replaces_only_with_force(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = isolated_env / "config" / "r2k" / "config.toml"
    status, out, _ = run(["config", "init"], capsys)
    assert status == 0 and out == f"{path}\n"
    written = path.read_text()
    path.write_text(written + 'feed = "yahoo"\n')
    status, out, err = run(["config", "init"], capsys)
    assert status == 2 and out == ""
    assert err.startswith(f"r2k: error: config file '{path}' already exists; ")
    assert err.count("\n") == 1 and path.read_text().endswith('feed = "yahoo"\n')
    assert run(["config", "init", "--force"], capsys)[0] == 0
    assert path.read_text() == written
    assert path.with_name("config.toml.bak").read_text().endswith('feed = "yahoo"\n')


def test_the_default_file_names_every_key_its_default_and_what_it_does() -> None:
    assert undocumented() == []
    assert set(DOCS) == set(schema_paths())  # and no sentence for a key that is gone
    text = default_file({"--refresh", "--confirm"})
    for path in schema_paths():
        key = path.rpartition(".")[2]
        if path in ("levels.user", "alerts.spread"):
            assert f"# [[{path}]]{EXAMPLE_MARK}" in text
        elif path in ("levels", "nats", "alerts", "alerts.command", "keys"):
            assert f"\n[{path}]\n" in text
        elif path == "feeds":
            assert all(f"\n[feeds.{name}]\n" in text for name in FEED_SETTINGS)
        else:
            assert re.search(rf"^# {key} = ", text, re.M), path
    assert "above 0, at most 60 (--refresh)" in text
    assert 'one of tick, 1m, 5m (--confirm)\n# confirm = "tick"' in text
    assert '# notify = ["toast", "bell"]' in text and "allow-passthrough on" in text


def test_config_init_then_check_round_trips_to_the_defaults(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["config", "init"], capsys)[0] == 0
    path = isolated_env / "config" / "r2k" / "config.toml"
    status, out, err = run(["config", "check"], capsys)
    assert status == 0 and err == ""
    assert out.startswith(f"# config file {path}: valid\n")
    assert all(line.endswith("# default") for line in out.splitlines() if " = " in line)
    # every default uncommented: the same settings as no file at all
    path.write_text(uncomment(path.read_text(), examples=False))
    loaded = load_settings()
    defaults = Settings()
    for f in fields(Settings):
        if f.name not in ("config_path", "sources", "feeds", "nats"):
            assert getattr(loaded, f.name) == getattr(defaults, f.name), f.name
    documented = {name: {k.key: k.value for k in keys} for name, keys in FEED_SETTINGS.items()}
    for name, table in loaded.feeds.items():
        assert table == {k: v for k, v in documented[name].items() if k in table}
        assert table  # the feeds' own defaults, as their modules have them


def test_every_example_in_the_default_file_is_a_valid_setting(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the example holdings path (~/holdings.csv) must exist: the check refuses a missing file,
    # as the monitor does at start
    monkeypatch.setenv("HOME", str(isolated_env))
    (isolated_env / "holdings.csv").write_text("symbol,name,sector,weight_pct\nAAA,A,Tech,1\n")
    assert run(["config", "init"], capsys)[0] == 0
    path = isolated_env / "config" / "r2k" / "config.toml"
    path.write_text(uncomment(path.read_text(), examples=True))
    status, out, err = run(["config", "check"], capsys)
    assert status == 0, err
    assert 'webhook = "https://example.com/***"' in out  # the hook's path is never printed
    assert 'argv = ["notify-send", "{title}", "{body}"]' in out


def test_config_check_prints_where_each_setting_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        'feed = "alpaca:iex"\nrefresh_hz = 2\nwebhook = "https://hooks.slack.com/services/T0/B0/s3cr3t"\n'
        '[feeds.alpaca]\nkey = "AKFILEKEY"\nsecret = "FILESECRET"\n'
        "[[alerts.spread]]\nbp = 50\n"
    )
    monkeypatch.setenv("R2K_ALPACA_URL", "wss://proxy.example/v2/{feed}")
    status, out, _ = run(
        ["config", "check", str(config), "--refresh", "8", "--spread-level", "-20"], capsys
    )
    assert status == 0
    lines = {line.split(" = ")[0]: line for line in out.splitlines() if " = " in line}
    assert lines["feed"].endswith("# file") and '"alpaca:iex"' in lines["feed"]
    assert lines["refresh_hz"].startswith("refresh_hz = 8") and lines["refresh_hz"].endswith(
        "--refresh"
    )
    assert lines["anchor"].endswith("# default")
    assert lines["webhook"].startswith('webhook = "https://hooks.slack.com/***"')
    assert lines["key"].startswith('key = "***"') and lines["key"].endswith("# file")
    assert lines["url"].endswith("# $R2K_ALPACA_URL")
    assert "AKFILEKEY" not in out and "FILESECRET" not in out and "s3cr3t" not in out
    assert "+50 bp" in out and "-20 bp" in out and "file + --spread-level" in out


def test_config_check_names_the_file_the_key_and_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[alerts.command]\nargv = ["notify-send", "{titel}"]\n')
    status, out, err = run(["config", "check", str(config)], capsys)
    assert status == 2 and out == ""
    assert err == (
        f"r2k: error: config file '{config}': alerts.command.argv #2 '{{titel}}' has an unknown "
        "placeholder {titel}; use {title}, {body}, {symbol}, {level}, {label}, {direction}, "
        "{price}, {kind}, {confirm}, {ts}, {feed}\n"
    )
    status, _, err = run(["config", "check", str(tmp_path / "none.toml")], capsys)
    assert status == 2 and "none.toml' not found; check the path" in err


def test_config_check_warns_of_a_command_not_on_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[alerts.command]\nargv = ["no-such-notifier-r2k", "{title}"]\n')
    status, _, err = run(["config", "check", str(config)], capsys)
    assert status == 0
    assert err.startswith(
        "r2k: warning: [alerts.command] argv: 'no-such-notifier-r2k' is not on PATH"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('confirm = "2m"', "confirm must be one of tick, 1m, 5m, not '2m' (e.g. confirm = \"1m\")"),
        ("confirm = 1", "confirm must be one of tick, 1m, 5m, not 1"),
        (
            'notify = ["toast", "osc8"]',
            "notify #2 must be one of toast, bell, osc9, osc777, not 'osc8'",
        ),
        ('notify = "osc9"', "notify must be a list, not 'osc9'"),
        ('webhook_format = "teams"', "webhook_format must be one of json, slack, discord"),
        ("[alerts]\nspread_band_bp = -1", "alerts.spread_band_bp must be at least 0, not -1"),
        ("[alerts]\nspread_band_bp = 101", "alerts.spread_band_bp must be at most 100"),
        (
            "[alerts]\nfoo = 1",
            "unknown key 'alerts.foo'; valid keys: command, sessions, spread, spread_band_bp, "
            "spread_dwell_s",
        ),
        (
            '[[alerts.spread]]\nbp = 50\npair = "RUT-QQQ"',
            "alerts.spread #1 pair must be RUT-SPX or RUT-MAGS",
        ),
        ('[[alerts.spread]]\npair = "RUT-SPX"', "alerts.spread #1 needs bp (e.g. bp = 50)"),
        (
            "[[alerts.spread]]\nbp = 90000",
            "alerts.spread #1 bp 90000.0: 90,000 bp is beyond any RUT spread",
        ),
        ('[[alerts.spread]]\nbp = "50"', "alerts.spread #1 bp must be a number, not '50'"),
        ("[[alerts.spread]]\nbp = nan", "alerts.spread #1 bp is nan; use a finite number"),
        (
            '[[alerts.spread]]\nbp = 50\nconfirm = "2m"',
            "alerts.spread #1 confirm must be one of tick, 1m, 5m",
        ),
        ("[[alerts.spread]]\nbp = 50\nlabel = 5", "alerts.spread #1 label must be text"),
        (
            '[[alerts.spread]]\nbp = 50\nlabl = "x"',
            "unknown key 'alerts.spread.labl' in alerts.spread #1; valid keys: band_bp, bp, "
            "confirm, dwell_s, label, pair",
        ),
        (
            '[alerts.command]\nargv = "notify-send"',
            "alerts.command.argv must be a list, not 'notify-send'",
        ),
        (
            '[alerts.command]\nargv = ["notify-send", ""]',
            "alerts.command.argv #2 must not be empty",
        ),
        (
            '[alerts.command]\nargv = ["x"]\ntimeout = 0',
            "alerts.command.timeout must be above 0, not 0",
        ),
        (
            '[alerts.command]\nargv = ["x"]\ntimeout = 1000',
            "alerts.command.timeout must be at most 300",
        ),
        (
            '[[levels.user]]\nprice = 2642\nconfirm = "10m"',
            "levels.user #1 confirm must be one of tick, 1m, 5m",
        ),
        ("alerts = 3", "alerts must be a table, not 3"),
    ],
)
def test_every_new_key_is_checked_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(config)
    line = str(e.value)
    assert line.startswith(f"config file '{config}': ") and "\n" not in line
    assert message in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--confirm", "2m"], "argument --confirm: invalid choice: '2m'"),
        (["--spread-level", "lots"], "--spread-level 'lots': 'lots' is not a number"),
        (["--spread-level", "1e9"], "is beyond any RUT spread"),
        (["--level", "2642:10m:breakout"], "'10m' is not a confirmation: use tick, 1m, 5m"),
    ],
)
def test_the_new_flags_are_checked_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["alerts", *args], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1 and message in err


def test_every_key_a_provider_reads_is_in_the_default_file() -> None:
    """Scan the providers for the [feeds.*] keys they read."""
    pattern = re.compile(r"""(?:setting|count_setting|require_secret)\(\s*"(\w+)",\s*"(\w+)\"""")
    found: set[tuple[str, str]] = set()
    for module in (ROOT / "feeds" / "sources" / "providers").glob("*.py"):
        found |= set(pattern.findall(module.read_text()))
    found |= {
        ("sim", k)
        for k in re.findall(
            r'config(?:\.get\(|\[)"(\w+)"', (ROOT / "feeds" / "sources" / "sim.py").read_text()
        )
    }
    found |= {("yahoo", "backfill")}  # read as config.get("backfill") beside its variable
    listed = {(name, k.key) for name, keys in FEED_SETTINGS.items() for k in keys}
    assert found - {("nats", k) for _, k in found} <= listed


def test_every_documented_feed_key_is_in_the_feeds_schema_and_back() -> None:
    from feeds.settings.config import FEED_TABLES

    for name, keys in FEED_SETTINGS.items():
        assert {k.key for k in keys} == set(FEED_TABLES[name].__struct_fields__), name
    assert set(FEED_TABLES) == {*FEED_SETTINGS, "massive"}
