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

    confirm = "tick"         # tick | 1m | 5m: a crossing confirmed on a print or a bar close
    notify = ["toast", "bell"]   # also "osc9", "osc777": desktop notifications via the terminal
    webhook_format = "json"  # json | slack | discord

    [levels]
    defaults = true          # keep the five built-in levels
    [[levels.user]]
    price = 2500
    label = "round number"
    confirm = "5m"

    [alerts]
    spread_band_bp = 4       # a crossing needs the spread this far past the threshold
    spread_dwell_s = 30      # ...for this long (feed time)
    sessions = "regular"     # or "extended": pre- and post-market prints cross too
    [[alerts.spread]]
    pair = "RUT-SPX"         # or "RUT-MAGS"
    bp = 50
    label = "small caps lead"
    [alerts.command]         # run per alert: no shell, each placeholder one argument
    argv = ["notify-send", "{title}", "{body}"]
    timeout = 10

    [keys]                   # remap keys by binding id (r2k's help screen lists the ids)
    pause = "space"
    sort = "o,s"

``r2k config init`` writes a commented file with every key (feeds/settings/configdoc.py).

    [feeds.alpaca]
    key = "..."

    [nats]                   # r2k relay and --feed nats://: see feeds/sources/relay/link.py
    url = "nats://127.0.0.1:4222"
    prefix = "r2k"
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect as mi
import platformdirs
from msgspec import Meta

from feeds.alerting.levelinput import DEFAULT_LABEL, check_label, check_level, check_spread_level
from feeds.alerting.levels import (
    CONFIRM_MODES,
    DEFAULT_APPROACH,
    DEFAULT_HYSTERESIS,
    DEFAULT_LEVELS,
    DEFAULT_SPREAD_BAND_BP,
    DEFAULT_SPREAD_DWELL_S,
)
from feeds.errors import ConfigError
from feeds.market.state import ANCHOR_MODES
from feeds.reference.holdings import MAX_UNIVERSE

APP = "r2k"


@dataclass(slots=True, frozen=True)
class LevelSpec:
    price: float
    label: str
    user: bool = False
    confirm: str | None = None  # "tick" | "1m" | "5m"; None: the run's ``confirm``


# spread thresholds, delivery
SPREAD_PAIRS = ("RUT-SPX", "RUT-MAGS")  # feeds.symbols.SPREADS names their legs
NOTIFY_METHODS = ("toast", "bell", "osc9", "osc777")
WEBHOOK_FORMATS = ("json", "slack", "discord")
#: what ``[alerts.command] argv`` may name; each fills its own argument (feeds.alerting.delivery)
COMMAND_PLACEHOLDERS = (
    "title",
    "body",
    "symbol",
    "level",
    "label",
    "direction",
    "price",
    "kind",
    "confirm",
    "ts",
    "feed",
)


@dataclass(slots=True, frozen=True)
class SpreadSpec:
    """A spread threshold: ``pair`` (one of SPREAD_PAIRS) crossing ``bp`` basis points."""

    pair: str
    bp: float
    label: str
    confirm: str | None = None  # None: the run's ``confirm``
    band_bp: float | None = None  # this threshold's own band (None: ``spread_band_bp``)
    dwell_s: float | None = None  # this threshold's own dwell (None: ``spread_dwell_s``)


# --- where things live: platformdirs (XDG on Linux: $XDG_STATE_HOME, $XDG_CONFIG_HOME) ---------


#: the state directory, when set: ``r2k serve`` gives each trader's monitor its own
STATE_DIR_ENV = "R2K_STATE_DIR"


def state_dir() -> Path:
    """r2k's state directory: ``$R2K_STATE_DIR`` when set, else ``$XDG_STATE_HOME/r2k``
    (``~/.local/state/r2k``) on Linux."""
    own = os.environ.get(STATE_DIR_ENV)
    if own:
        return Path(own).expanduser()
    return platformdirs.user_state_path(APP)


def default_alert_log() -> Path:
    return state_dir() / "alerts.jsonl"


def default_levels_file() -> Path:
    """Where the monitor keeps the levels added with ``+`` (the state directory)."""
    return state_dir() / "levels.json"


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/r2k/config.toml`` (``~/.config/r2k/config.toml``) on Linux."""
    return platformdirs.user_config_path(APP) / "config.toml"


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
    # the [nats] table (relay over NATS, issue 13; feeds/sources/relay/link.py)
    nats: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None  # the file these settings were read from, if any
    confirm: str = "tick"  # the confirmation of levels that name none (CONFIRM_MODES)
    notify: tuple[str, ...] = ("toast", "bell")  # what the screen does per alert
    webhook_format: str = "json"  # the webhook's payload: json | slack | discord
    spreads: tuple[SpreadSpec, ...] = ()  # [[alerts.spread]] and --spread-level
    spread_band_bp: float = DEFAULT_SPREAD_BAND_BP  # the spread thresholds' band, bp
    spread_dwell_s: float = DEFAULT_SPREAD_DWELL_S  # s past the band before a crossing fires
    #: when level and spread alerts fire: "regular" (09:30-16:00 ET, the early close) or
    #: "extended" (the pre- and post-market too)
    sessions: str = "regular"
    command: tuple[str, ...] = ()  # [alerts.command] argv (empty: no command)
    command_timeout: float = 10.0  # seconds before a command is killed
    #: where each setting the user gave came from ("file", "$R2K_FEED", "--feed", ...); a
    #: setting absent here has its default (``r2k config check`` prints them)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def feed_name(self) -> str:
        return self.feed.partition(":")[0].strip().lower()

    def feed_config(self) -> Mapping[str, Any]:
        """The ``[feeds.<name>]`` table of the selected feed (empty if none).

        A relay's terminal (``nats://``, ``tls://``) gets the ``[nats]`` table.
        """
        if self.feed_name in NATS_FEEDS:
            return self.nats
        return self.feeds.get(self.feed_name, {})


# --- the schema of the config file -----------------------------------------------------------
# Each key: its type, its range and an example, in one declaration. msgspec checks types
# strictly ("4" is not 4, true is not 1) and every bound; NaN fails every bound and every float
# has an upper one, and _check_finite refuses inf/nan anywhere (even in [feeds.*] tables).
# To add a key: a field here (and on Settings, if the app reads it). To add a section: a
# Section subclass and a field of that type here (and on Settings, e.g. `relay: RelayTable =
# field(default_factory=RelayTable)`); its errors then name `section.key` like any other.


def _num(example: float, **bounds: float) -> Any:
    return Annotated[float, Meta(**bounds, examples=[example])]


def _int(example: int, **bounds: int) -> Any:
    return Annotated[int, Meta(**bounds, examples=[example])]


def _text(example: str) -> Any:
    return Annotated[str, Meta(min_length=1, examples=[example])]


class Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A table of the config file: unknown keys are errors that list the valid ones."""


_CONFIRM = Annotated[Literal[CONFIRM_MODES], Meta(examples=["1m"])]  # type: ignore[valid-type]


class UserLevel(Section):
    price: Annotated[
        float, Meta(examples=[2500])
    ]  # checked by feeds.alerting.levelinput.check_level
    label: Annotated[str, Meta(examples=["round number"])] = DEFAULT_LABEL
    confirm: _CONFIRM | None = None  # None = the run's ``confirm``


class LevelsTable(Section):
    defaults: Annotated[bool, Meta(examples=[True])] = True  # keep the five technical levels
    user: list[UserLevel] = msgspec.field(default_factory=list)


# --- relay over NATS (issue 13) ---------------------------------------------------------------
NATS_FEEDS = ("nats", "tls")  # feed names whose settings are the [nats] table


class NatsTable(Section):
    """``[nats]``: where ``r2k relay`` publishes and ``--feed nats://`` reads, and the login
    (feeds/sources/relay/link.py checks the URL and prefix; secrets are never printed)."""

    url: _text("nats://127.0.0.1:4222") | None = None
    prefix: _text("r2k") | None = None
    user: _text("desk") | None = None
    password: _text("...") | None = None
    token: _text("...") | None = None
    creds: _text("~/.nats/desk.creds") | None = None
    nkey: _text("~/.nats/desk.nk") | None = None
    ca: _text("~/.nats/ca.pem") | None = None
    cert: _text("~/.nats/cert.pem") | None = None
    key: _text("~/.nats/key.pem") | None = None


def _nats(table: NatsTable, where: str) -> dict[str, Any]:
    from feeds.sources.relay.link import check_table

    values = {k: getattr(table, k) for k in table.__struct_fields__ if getattr(table, k)}
    try:
        return check_table(values)
    except ValueError as e:
        raise ConfigError(f"{where}: nats {e}") from None


# --- end relay ---------------------------------------------------------------------------------


# --- the [feeds.<name>] tables: each feed's own keys (R2K_<FEED>_<KEY> in the environment wins) ---
# feeds/settings/configdoc.py's FEED_SETTINGS explains each key; a test keeps the two in
# step. Every key is optional (None: the feed's own default), so a table sets only what it names.
_URL = Annotated[str, Meta(min_length=1, examples=["https://127.0.0.1:8080"])]
_FLAG = Annotated[bool, Meta(examples=[True])]
_SECRET = Annotated[str, Meta(min_length=1, examples=["..."])]


class SimTable(Section):
    """``[feeds.sim]`` (feeds/sources/sim.py)."""

    tick_rate: _num(1.0, gt=0, le=1000) | None = None
    start_ms: _int(1763735400000, ge=0, le=2**53) | None = None


class YahooTable(Section):
    """``[feeds.yahoo]`` (feeds/sources/providers/yahoo.py)."""

    url: _URL | None = None
    rest_url: _URL | None = None
    backfill: _FLAG | None = None
    directory_url: _URL | None = None


class EtfOnlyTable(Section):
    """The keys of a feed that estimates ^RUT/^GSPC from IWM/SPY
    (feeds/sources/providers/closes.py)."""

    index_closes: _FLAG | None = None
    yahoo_rest_url: _URL | None = None


class AlpacaTable(EtfOnlyTable):
    """``[feeds.alpaca]`` (feeds/sources/providers/alpaca.py)."""

    key: _SECRET | None = None
    secret: _SECRET | None = None
    url: _URL | None = None
    rest_url: _URL | None = None
    trading_url: _URL | None = None
    max_trades: _int(30, ge=0, le=MAX_UNIVERSE) | None = None


class FinnhubTable(EtfOnlyTable):
    """``[feeds.finnhub]`` (feeds/sources/providers/finnhub.py)."""

    token: _SECRET | None = None
    url: _URL | None = None
    rest_url: _URL | None = None
    max_symbols: _int(50, ge=0, le=MAX_UNIVERSE) | None = None
    rest_per_minute: _int(60, ge=0, le=100_000) | None = None


class PolygonTable(Section):
    """``[feeds.polygon]`` or ``[feeds.massive]`` (feeds/sources/providers/polygon.py)."""

    key: _SECRET | None = None
    delayed: _FLAG | None = None
    channel: (
        Annotated[  # type: ignore[valid-type]
            Literal["trades", "minute", "second", "t", "am", "a"], Meta(examples=["trades"])
        ]
        | None
    ) = None
    indices: _FLAG | None = None
    url: _URL | None = None
    rest_url: _URL | None = None
    rest_per_minute: _int(5, ge=0, le=100_000) | None = None


#: the feeds that read a ``[feeds.<name>]`` table, and its schema
FEED_TABLES: dict[str, type[Section]] = {
    "sim": SimTable,
    "yahoo": YahooTable,
    "alpaca": AlpacaTable,
    "finnhub": FinnhubTable,
    "polygon": PolygonTable,
    "massive": PolygonTable,
}
#: keys whose values are never repeated in an error (feeds/settings/configdoc.py hides them too)
SECRET_KEYS = frozenset({"key", "secret", "token", "password"})


def _feed_tables(tables: dict[str, dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    """``[feeds.<name>]`` tables checked against :data:`FEED_TABLES` (names lower-cased).

    Raises ConfigError naming the table and key: an unknown feed or key, a wrong type or range.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        key = str(name).lower()
        schema = FEED_TABLES.get(key)
        if schema is None:
            valid = ", ".join(f"[feeds.{n}]" for n in sorted(FEED_TABLES))
            raise ConfigError(
                f"{where}: unknown table [feeds.{name}]; valid: {valid} ([nats] for a relay)"
            )
        try:
            msgspec.convert(table, schema)
        except msgspec.ValidationError as e:
            raise _schema_error(e, {"feeds": {key: table}}, where, f"feeds.{key}") from None
        out[key] = dict(table)
    return out


# [alerts] -----------------------------------------------------------
class SpreadLevel(Section):
    """``[[alerts.spread]]``: a spread threshold in basis points."""

    bp: Annotated[
        float, Meta(examples=[50])
    ]  # checked by feeds.alerting.levelinput.check_spread_level
    pair: Annotated[Literal[SPREAD_PAIRS], Meta(examples=["RUT-SPX"])] = "RUT-SPX"  # type: ignore[valid-type]
    label: Annotated[str, Meta(examples=["small caps lead"])] = ""
    confirm: _CONFIRM | None = None
    #: a band of its own (tighter or wider than spread_band_bp) and a dwell of its own
    band_bp: _num(2, ge=0, le=100) | None = None
    dwell_s: _num(30, ge=0, le=3600) | None = None


class CommandTable(Section):
    """``[alerts.command]``: a program run per alert (no shell)."""

    argv: Annotated[
        list[Annotated[str, Meta(min_length=1)]],
        Meta(examples=[["notify-send", "{title}", "{body}"]]),
    ] = msgspec.field(default_factory=list)
    timeout: _num(10, gt=0, le=300) = 10.0


class AlertsTable(Section):
    """``[alerts]``: spread thresholds and the command sink."""

    spread_band_bp: _num(4, ge=0, le=100) = DEFAULT_SPREAD_BAND_BP
    spread_dwell_s: _num(30, ge=0, le=3600) = DEFAULT_SPREAD_DWELL_S
    sessions: Literal["regular", "extended"] = "regular"
    spread: list[SpreadLevel] = msgspec.field(default_factory=list)
    command: CommandTable = msgspec.field(default_factory=CommandTable)


def _spreads(table: AlertsTable, where: str) -> tuple[SpreadSpec, ...]:
    out = []
    for n, row in enumerate(table.spread, 1):
        try:
            bp = check_spread_level(row.bp)
        except ValueError as e:
            raise ConfigError(
                f"{where}: alerts.spread #{n} bp {row.bp!r}: {e} (e.g. bp = 50)"
            ) from None
        label = check_label(row.label) if row.label.strip() else f"spread {bp:+g} bp"
        out.append(SpreadSpec(row.pair, bp, label, row.confirm, row.band_bp, row.dwell_s))
    return tuple(out)


def _command(table: CommandTable, where: str) -> tuple[str, ...]:
    """The argv with every ``{placeholder}`` checked against COMMAND_PLACEHOLDERS."""
    for n, arg in enumerate(table.argv, 1):
        for name in re.findall(r"\{([^{}]*)\}", arg):
            if name not in COMMAND_PLACEHOLDERS:
                raise ConfigError(
                    f"{where}: alerts.command.argv #{n} {arg!r} has an unknown placeholder "
                    f"{{{name}}}; use {', '.join('{' + p + '}' for p in COMMAND_PLACEHOLDERS)}"
                )
    return tuple(table.argv)


def _alerts(table: AlertsTable, where: str, given: Any = None) -> dict[str, Any]:
    """The Settings fields of an ``[alerts]`` table; only those its keys set when ``given``
    (the raw table) says which (an empty ``[alerts.command]`` sets nothing)."""
    out = {
        "spreads": _spreads(table, where),
        "spread_band_bp": float(table.spread_band_bp),
        "spread_dwell_s": float(table.spread_dwell_s),
        "sessions": table.sessions,
        "command": _command(table.command, where),
        "command_timeout": float(table.command.timeout),
    }
    if not isinstance(given, dict):
        return out
    command = given.get("command") or {}
    keys = {k: k in given for k in ("spread_band_bp", "spread_dwell_s", "sessions")}
    keys["spreads"] = "spread" in given
    keys |= {"command": "argv" in command, "command_timeout": "timeout" in command}
    return {k: v for k, v in out.items() if keys[k]}


def _set_keys(raw: dict[str, Any]) -> list[str]:
    """The keys a file sets: an empty table (``[levels]``, ``[feeds.yahoo]`` with every line
    commented out, as ``r2k config init`` writes them) sets nothing."""

    def empty(v: Any) -> bool:
        return isinstance(v, dict) and all(empty(x) for x in v.values())

    return [k for k, v in raw.items() if not empty(v)]


class ConfigFile(Section):
    """The whole file. Defaults live on :class:`Settings`; only the keys a file sets are used."""

    feed: _text("sim") = "sim"
    refresh_hz: _num(4, gt=0, le=60) = 4.0
    anchor: Annotated[Literal[ANCHOR_MODES], Meta(examples=["prev"])] = "prev"  # type: ignore[valid-type]
    speed: _num(1, ge=0, le=100_000) = 1.0
    seed: _int(0, ge=0, le=2**63 - 1) = 0
    universe: _int(2000, ge=0, le=MAX_UNIVERSE) = 0
    holdings: _text("~/holdings.csv") | None = None
    hysteresis: _num(0.0005, ge=0, le=0.1) = DEFAULT_HYSTERESIS
    # TOML has no null: false (or 0) turns the "approaching" notice off
    approach: _num(0.0025, ge=0, le=0.1) | Literal[False] = DEFAULT_APPROACH
    stale_after: _num(15, gt=0, le=86_400) = 15.0
    alert_log: _text("~/.local/state/r2k/alerts.jsonl") | None = None
    levels_file: _text("~/.local/state/r2k/levels.json") | None = None
    bell: Annotated[bool, Meta(examples=[True])] = True
    mouse: Annotated[bool, Meta(examples=[False])] = False
    # binding id -> comma-separated Textual key names (the app checks the ids it knows)
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    webhook: (
        Annotated[str, Meta(pattern=r"^https?://\S+$", examples=["https://example.com/hook"])]
        | None
    ) = None
    levels: LevelsTable = msgspec.field(default_factory=LevelsTable)
    feeds: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    record: _text("~/ticks.csv") | None = None
    nats: NatsTable = msgspec.field(default_factory=NatsTable)  # relay over NATS (issue 13)
    confirm: _CONFIRM = "tick"
    notify: Annotated[
        list[Literal[NOTIFY_METHODS]],  # type: ignore[valid-type]
        Meta(examples=[["toast", "bell", "osc9"]]),
    ] = msgspec.field(default_factory=lambda: ["toast", "bell"])
    webhook_format: Annotated[Literal[WEBHOOK_FORMATS], Meta(examples=["slack"])] = "json"  # type: ignore[valid-type]
    alerts: AlertsTable = msgspec.field(default_factory=AlertsTable)


FLAGS = {"refresh_hz": "--refresh"}  # where a flag's name differs from its setting's
_PATH_KEYS = ("holdings", "alert_log", "levels_file", "record")


def _tables(info: Any, prefix: str = "") -> dict[str, Any]:
    """Every table of the schema by its dotted path ("", "levels", "levels.user")."""
    out = {prefix: info}
    for f in info.fields:
        t = f.type.type if isinstance(f.type, mi.Metadata) else f.type
        if isinstance(t, mi.ListType):
            t = t.item_type
        if isinstance(t, mi.StructType):
            out.update(_tables(t, f"{prefix}.{f.name}" if prefix else f.name))
    return out


@functools.cache
def _schema_tables() -> dict[str, Any]:
    """Every table of the config schema and each ``[feeds.<name>]`` table by dotted path, built
    on the first error message that needs one (msgspec's introspection is not start-up work)."""
    tables = _tables(mi.type_info(ConfigFile))
    tables.update({f"feeds.{name}": mi.type_info(t) for name, t in FEED_TABLES.items()})
    return tables


def _field(path: str) -> Any:
    """The schema field at a dotted path (list indices dropped), or None."""
    table, _, key = re.sub(r"\[\d+\]", "", path).rpartition(".")
    info = _schema_tables().get(table)
    return next((f for f in info.fields if f.name == key), None) if info else None


def _example(path: str) -> str:
    """`` (e.g. key = value)`` from the schema's example for that key, or ""."""
    f = _field(path)
    t = f.type if f is not None else None
    if isinstance(t, mi.UnionType):
        t = next((x for x in t.types if isinstance(x, mi.Metadata)), None)
    examples = (t.extra_json_schema or {}).get("examples") if isinstance(t, mi.Metadata) else None
    if not examples:
        return ""
    key = re.sub(r"\[\d+\]", "", path).rpartition(".")[2]
    return f" (e.g. {key} = {toml_value(examples[0])})"


def toml_value(value: Any) -> str:
    """A value as TOML writes it: ``"text"``, ``true``, ``4``, ``0.0005``, ``["a", "b"]``."""
    if isinstance(value, str):
        return msgspec.json.encode(value).decode()  # a JSON string is a TOML basic string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_value(str(value))


_PLAIN = [  # msgspec's wording -> the user's
    (r"^Expected `str` of length >= 1", "must not be empty"),
    (r"^Expected `str` matching regex .*", "must be an http:// or https:// URL"),
    (r"^Expected `bool( \| null)?`.*", "must be true or false"),
    (r"^Expected `str( \| null)?`.*", "must be text"),
    (r"^Expected `object`.*", "must be a table"),
    (r"^Expected `array`.*", "must be a list of tables"),
]
_BOUND_WORDS = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}


def _plain(message: str, path: str) -> str:
    m = re.match(r"^Expected `(float|int)(?: \| null)?` (>=|>|<=|<) (\S+)$", message)
    if m:
        _kind, op, bound = m.groups()
        return f"must be {_BOUND_WORDS[op]} {float(bound):,g}"
    m = re.match(r"^Expected `(float|int|float \| bool)(?: \| null)?`", message)
    if m:
        return "must be a whole number" if m.group(1) == "int" else "must be a number"
    if message.startswith("Invalid enum value"):
        return f"must be {_choices(path)}"
    # a choice given as another type; a list of values (not of tables)
    if message.startswith("Expected `str`") and _choices(path) != "valid":
        return f"must be {_choices(path)}"
    f = _field(path)
    if message.startswith("Expected `array`") and f is not None:
        t = f.type.type if isinstance(f.type, mi.Metadata) else f.type
        if isinstance(t, mi.ListType) and not isinstance(t.item_type, mi.StructType):
            return "must be a list"
    for pattern, words in _PLAIN:
        if re.match(pattern, message):
            return words
    return message[:1].lower() + message[1:]


def _choices(path: str) -> str:
    """What a Literal (or number-or-literal) key accepts, in the schema's order."""
    table, _, key = re.sub(r"\[\d+\]", "", path).rpartition(".")
    info = _schema_tables().get(table)
    cls = info.cls if info is not None else ConfigFile
    hint = typing.get_type_hints(cls, include_extras=True).get(key)
    while typing.get_origin(hint) in (Annotated, list):  # a list of choices (notify)
        hint = typing.get_args(hint)[0]
    words: list[str] = []
    for arg in typing.get_args(hint) if typing.get_origin(hint) is not Literal else (hint,):
        if typing.get_origin(arg) is Annotated:
            arg = typing.get_args(arg)[0]
        if typing.get_origin(arg) is Literal:
            words += [
                str(v).lower() if isinstance(v, bool) else str(v) for v in typing.get_args(arg)
            ]
        elif arg in (float, int):
            words.append("a number")
    if len(words) > 2:
        return "one of " + ", ".join(words)
    return " or ".join(words) or "valid"


def _value_at(raw: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            raw = raw[int(part[1:-1])] if isinstance(raw, list) else None
        elif isinstance(raw, dict):
            raw = raw.get(part)
    return raw


def _shown(path: str) -> str:
    """``levels.user[0].price`` as a person counts: ``levels.user #1 price``."""
    shown = re.sub(r"\[(\d+)\]\.?", lambda m: f" #{int(m.group(1)) + 1} ", path)
    return " ".join(shown.split())


def _check_finite(raw: Any, where: str) -> None:
    """Refuse inf and nan anywhere in the file (also in the [feeds.*] tables)."""
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(
                f"{where}: {_shown(path)} is {v}; use a finite number{_example(path)}"
            )
        if isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", x) for i, x in enumerate(v))


def _schema_error(e: msgspec.ValidationError, raw: Any, where: str, table: str = "") -> ConfigError:
    """One line for a schema error; ``table``: the dotted path of the table ``e`` was
    raised for, when it was checked on its own (a ``[feeds.<name>]`` table)."""
    message, _, at = str(e).partition(" - at `$")
    path = ".".join(p for p in (table, at.rstrip("`").lstrip(".")) if p)
    if path.endswith("[...]"):  # a table of tables given a value, e.g. feeds.alpaca = 3
        table = path.removesuffix("[...]")
        if table == "keys":
            return ConfigError(
                f'{where}: keys must map binding ids to key names, e.g. [keys] pause = "space"'
            )
        return ConfigError(
            f'{where}: {table} must hold one table per entry, e.g. [{table}.alpaca] key = "..."'
        )
    missing = re.match(r"Object missing required field `(.+)`", message)
    if missing:
        key = f"{path}.{missing.group(1)}" if path else missing.group(1)
        return ConfigError(f"{where}: {_shown(path)} needs {missing.group(1)}{_example(key)}")
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        info = _schema_tables().get(re.sub(r"\[\d+\]", "", path))
        valid = sorted(f.name for f in info.fields) if info else []
        table = re.sub(r"\[\d+\]", "", path)
        key = f"{table}.{unknown.group(1)}" if table else unknown.group(1)
        place = f" in {_shown(path)}" if "[" in path else ""
        return ConfigError(f"{where}: unknown key {key!r}{place}; valid keys: {', '.join(valid)}")
    value = _value_at(raw, path)
    if path.rpartition(".")[2] in SECRET_KEYS:  # a key typed in the wrong place is still a key
        return ConfigError(f"{where}: {_shown(path)} {_plain(message, path)}{_example(path)}")
    return ConfigError(
        f"{where}: {_shown(path)} {_plain(message, path)}, not {value!r}{_example(path)}"
    )


def _validate(raw: dict[str, Any], where: str) -> ConfigFile:
    """The raw TOML (or flag) values checked against :class:`ConfigFile`. Raises ConfigError."""
    _check_finite(raw, where)
    try:
        return msgspec.convert(raw, ConfigFile)
    except msgspec.ValidationError as e:
        raise _schema_error(e, raw, where) from None
    except RecursionError:
        raise ConfigError(f"{where}: values nested too deeply; flatten them") from None


def _levels(table: LevelsTable, where: str) -> tuple[LevelSpec, ...]:
    out = [LevelSpec(p, lbl) for p, lbl in DEFAULT_LEVELS] if table.defaults else []
    for n, row in enumerate(table.user, 1):
        try:
            price, label = check_level(row.price), check_label(row.label)
        except ValueError as e:
            raise ConfigError(
                f"{where}: levels.user #{n} price {row.price!r}: {e} (e.g. price = 2500)"
            ) from None
        out = merge_level(out, LevelSpec(price, label, user=True, confirm=row.confirm))
    return tuple(out)


def _keymap(table: dict[str, str], where: str) -> dict[str, str]:
    """``[keys]``: binding id -> key names, spaces around the commas dropped."""
    out: dict[str, str] = {}
    for binding_id, value in table.items():
        parts = [p.strip() for p in value.split(",")]
        if not all(parts) or any(" " in p for p in parts):
            raise ConfigError(
                f"{where}: keys.{binding_id} must be key names separated by commas, "
                f'not {value!r} (e.g. {binding_id} = "ctrl+r,r")'
            )
        out[binding_id] = ",".join(parts)
    return out


def merge_level(levels: list[LevelSpec], spec: LevelSpec) -> list[LevelSpec]:
    """``levels`` with ``spec`` added; one at a price already there sets that level's
    label (unless left at the default) and confirmation (if it names one) instead: a
    ``[[levels.user]]`` row or ``--level 2642:5m`` at a technical level's price confirms that
    level on 5-minute closes."""
    for k, lv in enumerate(levels):
        if lv.price == spec.price:
            label = spec.label if spec.label != DEFAULT_LABEL else lv.label
            levels[k] = replace(lv, label=label, confirm=spec.confirm or lv.confirm)
            return levels
    return [*levels, spec]


def _settings_values(
    cfg: ConfigFile, keys: Any, where: str, raw: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Settings fields from the keys a file (or flags) set, converted to their Python types."""
    values: dict[str, Any] = {}
    for key in keys:
        v = getattr(cfg, key)
        if key == "levels":
            v = _levels(v, where)
        elif key == "feeds":
            v = _feed_tables(v, where)
        elif key == "nats":
            v = _nats(v, where)
        elif key == "keys":
            v = _keymap(v, where)
        elif key == "alerts":  # one table, several settings
            values.update(_alerts(v, where, (raw or {}).get("alerts")))
            continue
        elif key == "notify":
            v = tuple(dict.fromkeys(v))  # in the order given, once each
        elif key == "approach":
            v = None if v is False or v == 0 else float(v)
        elif key in _PATH_KEYS and v is not None:
            v = Path(v.strip()).expanduser()
        elif key == "feed":
            v = v.strip()
            if not v:
                raise ConfigError(f"{where}: feed must not be empty, not {getattr(cfg, key)!r}")
        values[key] = v
    return values


def read_file(path: Path, problems: list[str] | None = None) -> dict[str, Any]:
    """The checked values from one config file (only the keys it sets). With ``problems``,
    each top-level key is checked on its own and every bad one is listed there (and left at
    its default) instead of raising the first; a file that is not TOML still raises."""
    where = f"config file '{path}'"
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{where} not found; check the path (or drop --config)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where} is not valid TOML: {e}; fix the syntax") from None
    except RecursionError:
        raise ConfigError(
            f"{where}: arrays or tables nested too deeply to read; flatten them"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{where} cannot be read ({reason}); check it") from None
    keys = _set_keys(raw)
    if problems is None:
        return _settings_values(_validate(raw, where), keys, where, raw)
    out: dict[str, Any] = {}
    for key in keys:
        part = {key: raw[key]}
        try:
            out.update(_settings_values(_validate(part, where), [key], where, part))
        except ConfigError as e:
            problems.append(str(e))
    return out


def check_value(key: str, value: Any, where: str) -> Any:
    """Validate one setting from a flag or the environment (``where`` names it)."""
    if key not in ConfigFile.__struct_fields__ or key in ("levels", "alerts"):
        raise ConfigError(
            f"unknown setting {key!r}; valid: {', '.join(sorted(ConfigFile.__struct_fields__))}"
        )
    if isinstance(value, Path):
        value = str(value)
    cfg = _validate({key: value}, where)
    return _settings_values(cfg, [key], where)[key]


def config_path(explicit: str | Path | None, env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """(path, must_exist): ``--config`` and ``$R2K_CONFIG`` must exist; the default need not."""
    if explicit is not None:
        return Path(explicit).expanduser(), True
    if env.get("R2K_CONFIG"):
        return Path(env["R2K_CONFIG"]).expanduser(), True
    return default_config_path(), False


_UNSET = object()  # a value that failed its check while problems are being collected


def load_settings(
    config: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_levels: tuple[LevelSpec, ...] = (),
    extra_spreads: tuple[SpreadSpec, ...] = (),
    problems: list[str] | None = None,
) -> Settings:
    """Settings from defaults, the config file, the environment and ``overrides`` (flags).

    With ``problems``, every bad value (of the file, the environment or a flag) is listed there
    and left at its default, instead of raising on the first (:mod:`tui.validate`).

    ``overrides`` maps setting names to values from the command line (None = not given); they
    are checked like file values, with errors naming the flag. ``extra_levels`` (``--level``)
    are added to the configured levels, ``extra_spreads`` (``--spread-level``) to the spread
    thresholds. ``env`` (default ``os.environ``) supplies ``R2K_CONFIG`` and ``R2K_FEED``;
    directories come from platformdirs (``XDG_*``). ``Settings.sources`` says where each
    setting given came from. The bell rings only when ``bell`` is on and ``notify`` has it.
    """
    env = os.environ if env is None else env
    settings = Settings()
    sources: dict[str, str] = {}
    path, must_exist = config_path(config, env)
    if path is not None and (must_exist or path.is_file()):
        if must_exist and not path.is_file():
            source = "--config" if config is not None else "$R2K_CONFIG"
            raise ConfigError(f"config file '{path}' ({source}) not found; check the path")
        from_file = read_file(path, problems)
        settings = replace(settings, **from_file, config_path=path)
        sources.update(dict.fromkeys(from_file, "file"))

    def checked(key: str, value: Any, where: str) -> Any:
        if problems is None:
            return check_value(key, value, where)
        try:
            return check_value(key, value, where)
        except ConfigError as e:
            problems.append(str(e))
            return _UNSET

    if env.get("R2K_FEED"):
        feed = checked("feed", env["R2K_FEED"], "$R2K_FEED")
        if feed is not _UNSET:
            settings = replace(settings, feed=feed)
            sources["feed"] = "$R2K_FEED"
    flags = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        flag = FLAGS.get(key, f"--{key.replace('_', '-')}")
        v = checked(key, value, flag)
        if v is not _UNSET:
            flags[key] = v
            sources[key] = flag
    settings = replace(settings, **flags)
    if extra_levels:
        levels = list(settings.levels)
        for spec in extra_levels:
            levels = merge_level(levels, spec)
        settings = replace(settings, levels=tuple(levels))
        sources["levels"] = sources.get("levels", "default") + " + --level"
    if extra_spreads:
        settings = replace(settings, spreads=settings.spreads + tuple(extra_spreads))
        sources["spreads"] = sources.get("spreads", "default") + " + --spread-level"
    if settings.bell and "bell" not in settings.notify:
        settings = replace(settings, bell=False)
    return replace(settings, sources=sources)


def parse_level(text: str) -> LevelSpec:
    """``--level PRICE[:CONFIRM][:LABEL]`` (``2642:5m:breakout``) -> a user level, checked as
    the monitor's add-level dialog checks one (:func:`feeds.alerting.levelinput.parse_level_input`).
    Raises ConfigError naming the option."""
    from feeds.alerting.levelinput import parse_level_input

    try:
        level = parse_level_input(text)
    except ValueError as e:
        raise ConfigError(
            f"--level {text!r}: {e}; expected PRICE[:CONFIRM][:LABEL], e.g. 2642:5m:breakout"
        ) from None
    return LevelSpec(level.price, level.label, user=True, confirm=level.confirm)


def parse_spread_flag(text: str) -> SpreadSpec:
    """``--spread-level BP[:CONFIRM][:LABEL]`` -> a RUT-SPX threshold in basis points.
    Raises ConfigError naming the option."""
    from feeds.alerting.levelinput import parse_spread_level

    try:
        level = parse_spread_level(text)
    except ValueError as e:
        raise ConfigError(
            f"--spread-level {text!r}: {e}; expected BP[:CONFIRM][:LABEL], "
            "e.g. 50:1m:small caps lead"
        ) from None
    return SpreadSpec("RUT-SPX", level.price, level.label, level.confirm)
