"""Settings: defaults, the TOML file, precedence, and one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.alerting.levels import DEFAULT_LEVELS
from feeds.errors import ConfigError
from feeds.settings.config import LevelSpec, Settings, load_settings, parse_level


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_config_file(isolated_env: Path) -> None:
    s = load_settings()
    assert (s.feed, s.refresh_hz, s.anchor, s.speed, s.seed, s.universe) == (
        "sim",
        4.0,
        "prev",
        1.0,
        0,
        0,
    )
    assert s.holdings is None and s.webhook is None and s.record is None
    assert s.levels == tuple(LevelSpec(p, label) for p, label in DEFAULT_LEVELS)
    assert (s.hysteresis, s.approach, s.stale_after, s.bell) == (0.0005, 0.0025, 15.0, True)
    assert s.alert_log == isolated_env / "state" / "r2k" / "alerts.jsonl"
    assert s.levels_file == isolated_env / "state" / "r2k" / "levels.json"
    assert s.feeds == {} and s.config_path is None


def test_home_defaults_when_xdg_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings()
    assert settings.alert_log == tmp_path / ".local" / "state" / "r2k" / "alerts.jsonl"
    assert settings.levels_file == tmp_path / ".local" / "state" / "r2k" / "levels.json"


def test_file_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
feed = "alpaca:iex"
refresh_hz = 2
anchor = "ytd"
speed = 10
seed = 7
universe = 2000
holdings = "~/h.csv"
hysteresis = 0.001
approach = false
stale_after = 30
alert_log = "/tmp/a.jsonl"
levels_file = "~/my-levels.json"
bell = false
webhook = "https://example.com/hook"

[levels]
defaults = false
[[levels.user]]
price = 2500
label = "round"
[[levels.user]]
price = 2200.5

[feeds.alpaca]
key = "k"
secret = "s"
""",
    )
    s = load_settings(path)
    assert s.feed == "alpaca:iex" and s.feed_name == "alpaca"
    assert s.refresh_hz == 2.0 and isinstance(s.refresh_hz, float)
    assert (s.anchor, s.speed, s.seed, s.universe) == ("ytd", 10.0, 7, 2000)
    assert s.holdings == Path("~/h.csv").expanduser()
    assert (s.hysteresis, s.approach, s.stale_after, s.bell) == (0.001, None, 30.0, False)
    assert s.alert_log == Path("/tmp/a.jsonl")
    assert s.levels_file == Path("~/my-levels.json").expanduser()
    assert s.webhook == "https://example.com/hook"
    assert s.levels == (LevelSpec(2500.0, "round", True), LevelSpec(2200.5, "user level", True))
    assert s.feed_config() == {"key": "k", "secret": "s"}
    assert s.config_path == path


def test_default_location_and_r2k_config(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    default = isolated_env / "config" / "r2k" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text('feed = "yahoo"\n')
    assert load_settings().feed == "yahoo"
    other = write(tmp_path, 'feed = "finnhub"\n')
    monkeypatch.setenv("R2K_CONFIG", str(other))
    assert load_settings().feed == "finnhub"
    monkeypatch.setenv("R2K_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"\(\$R2K_CONFIG\) not found"):
        load_settings()


def test_precedence_defaults_file_env_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'feed = "yahoo"\nseed = 5\nrefresh_hz = 2\n')
    assert load_settings(path).feed == "yahoo"
    monkeypatch.setenv("R2K_FEED", "finnhub")
    s = load_settings(path)
    assert (s.feed, s.seed, s.refresh_hz) == ("finnhub", 5, 2.0)
    s = load_settings(path, overrides={"feed": "sim", "seed": None, "refresh_hz": 8.0})
    assert (s.feed, s.seed, s.refresh_hz) == ("sim", 5, 8.0)  # None: flag not given
    s = load_settings(path, extra_levels=(parse_level("2500:round"),))
    assert s.levels[-1] == LevelSpec(2500.0, "round", True) and len(s.levels) == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feed = \n",
            "is not valid TOML: Invalid value (at line 1, column 8); fix the syntax",
        ),
        (
            "refesh_hz = 4\n",
            "unknown key 'refesh_hz'; valid keys: alert_log, alerts, anchor, approach, bell, "
            "confirm, feed, feeds, holdings, hysteresis, keys, levels, levels_file, mouse, nats, "
            "notify, record, refresh_hz, seed, speed, stale_after, universe, webhook, "
            "webhook_format",
        ),
        (
            'refresh_hz = "fast"\n',
            "refresh_hz must be a number, not 'fast' (e.g. refresh_hz = 4)",
        ),
        ('anchor = "noon"\n', "anchor must be one of prev, open, first, ytd, not 'noon'"),
        ("seed = 1.5\n", "seed must be a whole number, not 1.5 (e.g. seed = 0)"),
        ("bell = 1\n", "bell must be true or false, not 1 (e.g. bell = true)"),
        ('webhook = "ftp://x"\n', "webhook must be an http:// or https:// URL"),
        (
            "levels_file = 3\n",
            'levels_file must be text, not 3 (e.g. levels_file = "~/.local/state/r2k/levels.json")',
        ),
        ("[feeds]\nalpaca = 3\n", "feeds must hold one table per entry"),
        (
            "[levels]\nuser = [{price = -1}]\n",
            "levels.user #1 price -1.0: A level must be a positive, finite number",
        ),
        ('[[levels.user]]\nprice = 1\nlable = "x"\n', "unknown key 'levels.user.lable'"),
        # issue 8 §4: non-finite numbers, deep nesting, ranges
        ("[[levels.user]]\nprice = inf\n", "levels.user #1 price is inf; use a finite number"),
        ("[[levels.user]]\nprice = nan\n", "levels.user #1 price is nan; use a finite number"),
        ("[[levels.user]]\nprice = 1e9\n", "is far from the Russell 2000"),
        ("[[levels.user]]\nprice = 0.5\n", "is far from the Russell 2000"),
        ("speed = inf\n", "speed is inf; use a finite number (e.g. speed = 1)"),
        ("stale_after = nan\n", "stale_after is nan; use a finite number"),
        ("hysteresis = -inf\n", "hysteresis is -inf; use a finite number"),
        ("[feeds.alpaca]\nlimits = [1.0, [2.0, inf]]\n", "feeds.alpaca.limits #2 #2 is inf"),
        ("universe = 100000000\n", "universe must be at most 10,000, not 100000000"),
        ("a = " + "[" * 2000 + "]" * 2000 + "\n", "nested too deeply to read; flatten them"),
        ("approach = true\n", "approach must be a number or false, not True"),
        # the [feeds.<name>] tables have a schema too (a wrong type was an unexpected ValueError)
        ('[feeds.sim]\ntick_rate = "x"\n', "feeds.sim.tick_rate must be a number, not 'x'"),
        (
            "[feeds.sim]\nbogus = 1\n",
            "unknown key 'feeds.sim.bogus'; valid keys: start_ms, tick_rate",
        ),
        ("[feeds.replay]\nx = 1\n", "unknown table [feeds.replay]; valid: [feeds.alpaca]"),
        ("[feeds.finnhub]\nmax_symbols = -1\n", "feeds.finnhub.max_symbols must be at least 0"),
        ('[feeds.polygon]\nchannel = "hour"\n', "feeds.polygon.channel must be one of trades"),
        ('[feeds.yahoo]\nbackfill = "no"\n', "feeds.yahoo.backfill must be true or false"),
        ("[feeds.alpaca]\nkey = 31415926\n", "feeds.alpaca.key must be text (e.g. key = "),
    ],
)
def test_config_errors_are_one_line_naming_file_place_and_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text_of = str(info.value)
    assert "\n" not in text_of
    assert text_of.startswith(f"config file '{path}'")
    assert message in text_of


def test_flag_values_are_checked_and_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--speed: speed must be at least 0, not -1"):
        load_settings(overrides={"speed": -1.0})
    with pytest.raises(ConfigError, match=r"^\$R2K_FEED: feed must not be empty"):
        load_settings(env={"R2K_FEED": " ", "XDG_STATE_HOME": str(tmp_path)})


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("2500", LevelSpec(2500.0, "user level", True)),
        ("2,500:round number", LevelSpec(2500.0, "round number", True)),
    ],
)
def test_parse_level(text: str, level: LevelSpec) -> None:
    assert parse_level(text) == level


def test_settings_is_a_plain_dataclass() -> None:
    assert Settings().feed_config() == {}


# --- every input is validated (issue 8 §4) -----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("speed", float("inf"), "--speed: speed is inf; use a finite number"),
        ("refresh_hz", float("nan"), "--refresh: refresh_hz is nan"),
        ("universe", 100_000_000, "--universe: universe must be at most 10,000"),
        ("seed", -1, "--seed: seed must be at least 0"),
    ],
)
def test_flags_get_the_same_checks(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("$", r"\$")):
        load_settings(overrides={key: value})


@pytest.mark.parametrize("text", ["1e9", "0.5", "inf", "nan", "-5", "abc", ""])
def test_level_flag_is_checked_as_the_add_level_dialog_checks(text: str) -> None:
    from feeds.alerting.levelinput import parse_level as dialog_parse

    with pytest.raises(ValueError) as dialog:
        dialog_parse(text)
    with pytest.raises(ConfigError) as flag:
        parse_level(text)
    assert str(dialog.value) in str(flag.value)
    assert str(flag.value).startswith(f"--level {text!r}: ")


def test_level_flag_accepts_what_the_dialog_accepts() -> None:
    assert parse_level("2,475.5 breakout") == LevelSpec(2475.5, "breakout", True)
    assert parse_level("2475:re\u202etest") == LevelSpec(2475.0, "re test", True)


def test_directories_come_from_platformdirs_honouring_xdg(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    s = load_settings()
    assert s.alert_log == platformdirs.user_state_path("r2k") / "alerts.jsonl"
    assert s.alert_log.is_relative_to(isolated_env / "state")
    from feeds.settings.config import default_config_path

    assert default_config_path() == isolated_env / "config" / "r2k" / "config.toml"


def test_every_file_key_is_a_setting() -> None:
    """Adding a key to the schema without a Settings field would be read and then dropped."""
    from dataclasses import fields

    from feeds.settings.config import ConfigFile

    tables = {"alerts"}  # one table, several settings (spreads, spread_band_bp, command...)
    assert set(ConfigFile.__struct_fields__) - tables <= {f.name for f in fields(Settings)}


def test_a_key_of_the_wrong_type_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    for text in ("[feeds.alpaca]\nsecret = 31415926\n", "[nats]\npassword = 27182818\n"):
        with pytest.raises(ConfigError) as info:
            load_settings(write(tmp_path, text))
        assert "must be text" in str(info.value)
        assert "31415926" not in str(info.value) and "27182818" not in str(info.value)


def test_feed_tables_keep_only_the_keys_they_set(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[feeds.Polygon]\nkey = "k"\ndelayed = true\n'))
    assert s.feeds == {"polygon": {"key": "k", "delayed": True}}
