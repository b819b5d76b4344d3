"""Settings: defaults < config file (TOML) < environment (``R2K_FEED``) < command-line flags.

The config file is optional: ``--config PATH`` (must exist), else ``$R2K_CONFIG`` (must exist),
else ``$XDG_CONFIG_HOME/r2k/config.toml`` (``~/.config/r2k/config.toml``) when present.
Every problem is a :class:`ConfigError` of one line naming the file, the key and the fix.

Example::

    feed = "yahoo"
    refresh_hz = 4
    anchor = "prev"          # prev | open | first | ytd
    hysteresis = 0.0005      # fraction of the level
    approach = 0.0025        # fraction, or false to disable "approaching" notices
    stale_after = 15         # seconds
    alert_log = "~/r2k-alerts.jsonl"
    levels_file = "~/r2k-levels.json"   # levels added with + in the monitor (default: state dir)
    bell = true
    mouse = false            # the monitor needs no mouse; true turns mouse reporting on
    webhook = "https://hooks.example.com/r2k"

    [keys]                   # remap keys by binding id (r2k's help screen lists the ids)
    pause = "space"
    sort = "o,s"

    [levels]
    defaults = true          # keep the five built-in levels
    [[levels.user]]
    price = 2500
    label = "round number"

    [feeds.alpaca]
    key = "..."
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from feeds.errors import ConfigError
from feeds.levels import DEFAULT_APPROACH, DEFAULT_HYSTERESIS, DEFAULT_LEVELS
from feeds.levelstore import parse_level as parse_level_text
from feeds.state import ANCHOR_MODES


@dataclass(slots=True, frozen=True)
class LevelSpec:
    price: float
    label: str
    user: bool = False


def default_alert_log(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "r2k" / "alerts.jsonl"


def default_levels_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the monitor keeps the levels added with ``+`` (``$XDG_STATE_HOME/r2k``)."""
    return default_alert_log(env).with_name("levels.json")


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "r2k" / "config.toml"


@dataclass(slots=True, frozen=True)
class Settings:
    feed: str = "sim"
    refresh_hz: float = 4.0
    anchor: str = "prev"
    speed: float = 1.0  # sim/replay: multiple of real time; 0 = as fast as possible
    seed: int = 0
    universe: int = 0  # sim: pad the holdings with synthetic names up to this many (0 = don't)
    holdings: Path | None = None  # None: the bundled snapshot
    levels: tuple[LevelSpec, ...] = tuple(LevelSpec(p, lbl) for p, lbl in DEFAULT_LEVELS)
    hysteresis: float = DEFAULT_HYSTERESIS
    approach: float | None = DEFAULT_APPROACH
    stale_after: float = 15.0
    alert_log: Path = field(default_factory=default_alert_log)
    levels_file: Path = field(default_factory=default_levels_file)  # levels added in the app
    bell: bool = True
    mouse: bool = False  # mouse reporting in the monitor (off: plain click-drag copies text)
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> keys ("ctrl+r,r")
    webhook: str | None = None
    feeds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    record: Path | None = None  # also write every tick to this CSV (replay format)
    config_path: Path | None = None  # the file these settings were read from, if any

    @property
    def feed_name(self) -> str:
        return self.feed.partition(":")[0].strip().lower()

    def feed_config(self) -> Mapping[str, Any]:
        """The ``[feeds.<name>]`` table of the selected feed (empty if none)."""
        return self.feeds.get(self.feed_name, {})


# --- value checks: each returns the clean value or raises ValueError(the fix) ------------------


def _number(*, lo: float | None = None, hi: float | None = None, lo_open: bool = False):
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError("must be a number")
        x = float(v)
        if x != x or (lo is not None and (x <= lo if lo_open else x < lo)):
            raise ValueError(f"must be {'above' if lo_open else 'at least'} {lo:g}")
        if hi is not None and x > hi:
            raise ValueError(f"must be at most {hi:g}")
        return x

    return check


def _integer(*, lo: int = 0):
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("must be a whole number")
        if v < lo:
            raise ValueError(f"must be at least {lo}")
        return v

    return check


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must be a non-empty string")
    return v.strip()


def _choice(options: tuple[str, ...]):
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return v

    return check


def _path(v: Any) -> Path:
    return Path(_text(v)).expanduser()


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def _url(v: Any) -> str:
    s = _text(v)
    if not s.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return s


def _approach(v: Any) -> float | None:
    if v is False or v == 0:  # TOML has no null: false (or 0) turns the notice off
        return None
    return _number(lo=0, hi=0.1, lo_open=True)(v)


def _feeds(v: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(v, dict) or not all(isinstance(t, dict) for t in v.values()):
        raise ValueError('must hold one table per feed, e.g. [feeds.alpaca] key = "..."')
    return {str(k).lower(): dict(t) for k, t in v.items()}


def _keys(v: Any) -> dict[str, str]:
    """``[keys]``: binding id -> comma-separated keys (the app checks the ids it knows)."""
    if not isinstance(v, dict):
        raise ValueError('must be a table of binding id = "keys", e.g. [keys] pause = "space"')
    out: dict[str, str] = {}
    for k, keys in v.items():
        parts = [p.strip() for p in keys.split(",")] if isinstance(keys, str) else [""]
        if not all(parts) or any(" " in p for p in parts):
            raise ValueError(f'{k} must be key names separated by commas, e.g. {k} = "ctrl+r,r"')
        out[str(k)] = ",".join(parts)
    return out


CHECKS: dict[str, Callable[[Any], Any]] = {
    "feed": _text,
    "refresh_hz": _number(lo=0, hi=60, lo_open=True),
    "anchor": _choice(ANCHOR_MODES),
    "speed": _number(lo=0, hi=100_000),
    "seed": _integer(lo=0),
    "universe": _integer(lo=0),
    "holdings": _path,
    "hysteresis": _number(lo=0, hi=0.1),
    "approach": _approach,
    "stale_after": _number(lo=0, lo_open=True),
    "alert_log": _path,
    "levels_file": _path,
    "bell": _bool,
    "mouse": _bool,
    "keys": _keys,
    "webhook": _url,
    "feeds": _feeds,
    "record": _path,
}
FILE_KEYS = (*CHECKS, "levels")
FLAGS = {"refresh_hz": "--refresh"}  # where a flag's name differs from its setting's
EXAMPLES = {
    "feed": 'feed = "sim"',
    "refresh_hz": "refresh_hz = 4",
    "anchor": 'anchor = "prev"',
    "speed": "speed = 1",
    "seed": "seed = 0",
    "universe": "universe = 2000",
    "holdings": 'holdings = "~/holdings.csv"',
    "hysteresis": "hysteresis = 0.0005",
    "approach": "approach = 0.0025",
    "stale_after": "stale_after = 15",
    "alert_log": 'alert_log = "~/.local/state/r2k/alerts.jsonl"',
    "levels_file": 'levels_file = "~/.local/state/r2k/levels.json"',
    "bell": "bell = true",
    "mouse": "mouse = false",
    "webhook": 'webhook = "https://example.com/hook"',
    "record": 'record = "~/ticks.csv"',
}


def check_value(key: str, value: Any, where: str) -> Any:
    """Validate one setting; ``where`` names its source (a file, ``--flag``, an env var)."""
    try:
        return CHECKS[key](value)
    except ValueError as e:
        example = f" (e.g. {EXAMPLES[key]})" if key in EXAMPLES and "file" in where else ""
        raise ConfigError(f"{where}: {key} {e}, not {value!r}{example}") from None


def _levels(table: Any, where: str) -> tuple[LevelSpec, ...]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: levels must be a table: [levels] then [[levels.user]] rows")
    unknown = [k for k in table if k not in ("defaults", "user")]
    if unknown:
        raise ConfigError(f"{where}: unknown key 'levels.{unknown[0]}'; valid keys: defaults, user")
    defaults = table.get("defaults", True)
    if not isinstance(defaults, bool):
        raise ConfigError(f"{where}: levels.defaults must be true or false, not {defaults!r}")
    out = [LevelSpec(p, lbl) for p, lbl in DEFAULT_LEVELS] if defaults else []
    users = table.get("user", [])
    if not isinstance(users, list):
        raise ConfigError(f"{where}: levels.user must be [[levels.user]] rows with price, label")
    for n, row in enumerate(users, 1):
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: levels.user #{n} must be a table with price and label")
        extra = [k for k in row if k not in ("price", "label")]
        if extra:
            raise ConfigError(
                f"{where}: unknown key 'levels.user.{extra[0]}' in level #{n}; "
                "valid keys: price, label"
            )
        price = row.get("price")
        if isinstance(price, bool) or not isinstance(price, int | float) or not price > 0:
            raise ConfigError(
                f"{where}: levels.user #{n} price must be a positive number of index points, "
                f"not {price!r} (e.g. price = 2500)"
            )
        label = row.get("label", "user level")
        if not isinstance(label, str):
            raise ConfigError(f"{where}: levels.user #{n} label must be a string, not {label!r}")
        out.append(LevelSpec(float(price), label, user=True))
    return tuple(out)


def read_file(path: Path) -> dict[str, Any]:
    """The checked values from one config file (only the keys it sets)."""
    where = f"config file '{path}'"
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{where} not found; check the path (or drop --config)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where} is not valid TOML: {e}; fix the syntax") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{where} cannot be read ({reason}); check it") from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "levels":
            values["levels"] = _levels(value, where)
        elif key in CHECKS:
            values[key] = check_value(key, value, where)
        else:
            raise ConfigError(
                f"{where}: unknown key {key!r}; valid keys: {', '.join(sorted(FILE_KEYS))}"
            )
    return values


def config_path(explicit: str | Path | None, env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """(path, must_exist): ``--config`` and ``$R2K_CONFIG`` must exist; the default need not."""
    if explicit is not None:
        return Path(explicit).expanduser(), True
    if env.get("R2K_CONFIG"):
        return Path(env["R2K_CONFIG"]).expanduser(), True
    return default_config_path(env), False


def load_settings(
    config: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_levels: tuple[LevelSpec, ...] = (),
) -> Settings:
    """Settings from defaults, the config file, the environment and ``overrides`` (flags).

    ``overrides`` maps setting names to values from the command line (None = not given); they
    are checked like file values, with errors naming the flag. ``extra_levels`` (``--level``)
    are added to the configured levels.
    """
    env = os.environ if env is None else env
    settings = Settings(alert_log=default_alert_log(env), levels_file=default_levels_file(env))
    path, must_exist = config_path(config, env)
    if path is not None and (must_exist or path.is_file()):
        if must_exist and not path.is_file():
            source = "--config" if config is not None else "$R2K_CONFIG"
            raise ConfigError(f"config file '{path}' ({source}) not found; check the path")
        settings = replace(settings, **read_file(path), config_path=path)
    if env.get("R2K_FEED"):
        settings = replace(settings, feed=check_value("feed", env["R2K_FEED"], "$R2K_FEED"))
    flags = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in CHECKS:
            raise ConfigError(f"unknown setting {key!r}; valid: {', '.join(sorted(CHECKS))}")
        flag = FLAGS.get(key, f"--{key.replace('_', '-')}")
        flags[key] = check_value(key, value, flag)
    settings = replace(settings, **flags)
    if extra_levels:
        settings = replace(settings, levels=settings.levels + tuple(extra_levels))
    return settings


def parse_level(text: str) -> LevelSpec:
    """``--level PRICE[:LABEL]`` -> a user level (read by :func:`feeds.levelstore.parse_level`,
    as the monitor's add-level dialog is). Raises ConfigError naming the flag and the form."""
    try:
        price, label = parse_level_text(text)
    except ValueError as e:
        raise ConfigError(f"--level {text!r}: {e}; the form is PRICE[:LABEL]") from None
    return LevelSpec(price, label, user=True)
