"""The config file explained (issue 10): ``r2k config init`` writes every setting with its default
and one line on what it does; ``r2k config check`` prints the effective settings and where each
came from.

Both walk the msgspec schema (:class:`feeds.settings.config.ConfigFile`): the keys, their types,
ranges,
choices, defaults and examples come from it, so the file ``init`` writes cannot drift from what
r2k reads. The sentences come from :data:`DOCS`, keyed by the dotted path of each key; a test
fails when a key of the schema has none. The per-feed tables (``[feeds.yahoo]``...) are checked
against :data:`feeds.settings.config.FEED_TABLES` (each provider reads its own keys, environment
first):
:data:`FEED_SETTINGS` explains them, a test keeps the two in step, and another scans the
providers' source for keys it misses.

The default file shows each setting commented out with its default (``# refresh_hz = 4``), so
uncommenting a line changes one setting and everything else follows r2k's defaults as they
evolve. A key with no default shows an example instead, marked ``# example``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import msgspec.inspect as mi

from feeds.settings.config import FLAGS, SECRET_KEYS, ConfigFile, Settings, _choices, toml_value

EXAMPLE_MARK = "  # example"

#: One line per key of the schema, by dotted path (list tables: ``levels.user.price``).
DOCS: dict[str, str] = {
    "feed": "The market data feed: sim, replay:PATH, yahoo, alpaca:iex, alpaca:sip, finnhub, "
    "polygon, polygon:delayed, nats://HOST[:PORT][/PREFIX]",
    "refresh_hz": "Screen refreshes per second",
    "anchor": "What returns are measured from: prev (previous close), open, first (first price "
    "seen), ytd (last close of the previous year)",
    "speed": "Sim and replay pace: 1 is real time, 0 as fast as possible",
    "seed": "The simulated market's random seed: one seed plays the same day every time",
    "universe": "Sim only: pad the constituents with synthetic names up to this many (0: the "
    "holdings only)",
    "holdings": "An iShares IWM holdings CSV (unset: the latest one r2k holdings fetch kept, else "
    "the bundled whole-index snapshot)",
    "hysteresis": "The level crossing band, a fraction of the level: 0.0005 is 0.05 %, about 1.2 "
    "points at 2,450; the price must go past the level by more than this to fire, and back "
    "beyond it to re-arm",
    "approach": 'The "approaching" notice distance, a fraction of the level; false turns it off',
    "stale_after": "Seconds without a tick, market open, before the feed is shown stale",
    "alert_log": "The durable JSON-lines log of live feeds' alerts and acknowledgements (sim and "
    "replay alerts go to alerts.offline.jsonl beside it)",
    "levels_file": "Where the monitor saves the levels added with +, their confirmation and the "
    "mutes",
    "bell": 'Ring the terminal bell on a crossing (needs "bell" in notify too)',
    "mouse": "Turn the terminal's mouse reporting on (off: click-drag selects and copies text, "
    "as over SSH one expects); --mouse for one run",
    "keys": 'Remap keys by binding id: id = "key,key" (Textual key names). r2k\'s help screen '
    "(?) lists every id; a key another binding uses is refused",
    "webhook": "POST each live feed's alert to this URL (not a muted level's); see webhook_format",
    "record": "Also append every tick to this CSV, replayable with --feed replay:PATH",
    "confirm": "How levels that name none confirm a crossing: on the price itself (tick), or on "
    "the close of a one- or five-minute bar (1m, 5m; New York clock)",
    "notify": "What the monitor does on a crossing: toast, bell, and desktop notifications "
    "through the terminal, osc9 (iTerm2, WezTerm, Windows Terminal, kitty, Ghostty) and osc777 "
    "(foot, urxvt, WezTerm, Ghostty); they reach your laptop over SSH (in tmux: set -g "
    "allow-passthrough on)",
    "webhook_format": "The webhook's payload: json (the alert as r2k alerts prints it), slack "
    '({"text": ...}), discord ({"content": ...})',
    "levels": "The ^RUT levels alerted on, in index points",
    "levels.defaults": "Keep the five technical levels: 2,300 critical support, 2,450 support, "
    "2,642, 2,861 and 3,000 upside targets",
    "levels.user": "Your own levels (repeat the table per level); one at a technical level's "
    "price sets that level's label and confirmation",
    "levels.user.price": "The level in ^RUT index points, 100 to 10,000",
    "levels.user.label": "What the ladder and the alerts call it",
    "levels.user.confirm": "How this level confirms a crossing (unset: the confirm setting above)",
    "feeds": "Per-feed settings, one table per feed; R2K_<FEED>_<KEY> in the environment wins",
    "nats": "The relay over NATS (r2k relay, --feed nats://...); R2K_NATS_<KEY> wins",
    "nats.url": "The NATS server (tls://... for TLS)",
    "nats.prefix": "The subject prefix, so relays can share a server",
    "nats.user": "The NATS user name (with password)",
    "nats.password": "The NATS password",
    "nats.token": "A NATS token (instead of user and password)",
    "nats.creds": "A NATS credentials file (JWT and seed)",
    "nats.nkey": "A NATS nkey seed file",
    "nats.ca": "A private CA certificate for TLS",
    "nats.cert": "A client certificate for mutual TLS",
    "nats.key": "The client certificate's key",
    "alerts": "Spread thresholds and the alert command",
    "alerts.spread_band_bp": "The spread thresholds' crossing band in basis points: a crossing "
    "needs the spread past the threshold by this much (4: twice the sim spread's 1.9 bp "
    "standard deviation over a minute)",
    "alerts.spread_dwell_s": "Seconds of feed time the spread must stay past the band before a "
    "crossing fires; a spread back inside the band starts the wait afresh (0: at once)",
    "alerts.sessions": "When level and spread crossings fire: regular (09:30-16:00 ET, the "
    "early close) or extended (the pre- and post-market too)",
    "alerts.spread": "A spread crossing a threshold in basis points, measured from the run's "
    "day anchor (repeat the table per threshold; --spread-level BP adds RUT-SPX ones)",
    "alerts.spread.bp": "The threshold in basis points (-5,000 to 5,000)",
    "alerts.spread.pair": "Which spread",
    "alerts.spread.label": "What the card and the alerts call it",
    "alerts.spread.confirm": "How this threshold confirms a crossing (unset: the confirm "
    "setting above)",
    "alerts.spread.band_bp": "This threshold's own band in bp, tighter or wider (unset: "
    "spread_band_bp)",
    "alerts.spread.dwell_s": "This threshold's own dwell in seconds (unset: spread_dwell_s)",
    "alerts.command": "A program run per alert of a live feed (not a muted level's): no shell; "
    "each {placeholder} fills one argument: {title} {body} {symbol} {level} {label} {direction} "
    "{price} {kind} {confirm} {ts} {feed}",
    "alerts.command.argv": "The program and its arguments ([] runs nothing)",
    "alerts.command.timeout": "Seconds before a command still running is killed (counted as "
    "failed)",
}


@dataclass(frozen=True, slots=True)
class FeedKey:
    """One key of a ``[feeds.<name>]`` table: what it does, its default (text) or an example."""

    key: str
    doc: str
    value: Any
    default: bool = True  # ``value`` is the default (False: an example)


_INDEX_CLOSES = FeedKey(
    "index_closes", "Fetch ^RUT/^GSPC daily closes from Yahoo for the streak and YTD", True
)
_YAHOO_REST = FeedKey(
    "yahoo_rest_url", "Where those closes come from", "https://query2.finance.yahoo.com"
)

#: The keys each feed reads from its table (and from R2K_<FEED>_<KEY>).
FEED_SETTINGS: dict[str, tuple[FeedKey, ...]] = {
    "sim": (
        FeedKey("tick_rate", "Multiply the simulated tick rate (load tests)", 1.0),
        FeedKey("start_ms", "Pin the sim clock's start, epoch ms (tests)", 1763735400000, False),
    ),
    "yahoo": (
        FeedKey("url", "The streamer", "wss://streamer.finance.yahoo.com/?version=2"),
        FeedKey("rest_url", "The chart REST API", "https://query2.finance.yahoo.com"),
        FeedKey("backfill", "Fetch today's minute bars and daily closes at start", True),
        FeedKey(
            "directory_url",
            "A folder holding nasdaqtraded.txt (the symbol list)",
            "https://www.nasdaqtrader.com/dynamic/SymDir",
        ),
    ),
    "alpaca": (
        FeedKey("key", "API key id", "...", False),
        FeedKey("secret", "API secret key", "...", False),
        FeedKey(
            "url", "The stream ({feed}: iex, sip)", "wss://stream.data.alpaca.markets/v2/{feed}"
        ),
        FeedKey("rest_url", "The market data REST API", "https://data.alpaca.markets"),
        FeedKey("trading_url", "The trading API (asset list)", "https://api.alpaca.markets", False),
        FeedKey("max_trades", "Symbols streamed as trades (0: no cap; iex default 30)", 30, False),
        _INDEX_CLOSES,
        _YAHOO_REST,
    ),
    "finnhub": (
        FeedKey("token", "API token", "...", False),
        FeedKey("url", "The stream", "wss://ws.finnhub.io"),
        FeedKey("rest_url", "The REST API", "https://finnhub.io"),
        FeedKey("max_symbols", "Symbols streamed (the free plan allows about 50)", 50),
        FeedKey("rest_per_minute", "REST calls a minute (0: no cap)", 60),
        _INDEX_CLOSES,
        _YAHOO_REST,
    ),
    "polygon": (
        FeedKey("key", "Massive (Polygon.io) API key", "...", False),
        FeedKey("delayed", "Use the 15-minute delayed host", False),
        FeedKey("channel", "trades or minute (minute bars)", "trades"),
        FeedKey("indices", "Stream I:RUT and I:SPX (false: estimate from IWM/SPY)", True),
        FeedKey("url", "The websocket base", "wss://socket.massive.com"),
        FeedKey("rest_url", "The REST API", "https://api.massive.com"),
        FeedKey("rest_per_minute", "REST calls a minute (0: no cap; Basic plan: 5)", 5),
    ),
}


# --- the schema, walked ------------------------------------------------------------------------
def _unwrap(t: Any) -> tuple[Any, dict[str, Any]]:
    """(the type under Metadata and Optional, its constraints and json-schema extras)."""
    meta: dict[str, Any] = {}
    if isinstance(t, mi.UnionType):
        parts = [x for x in t.types if not isinstance(x, mi.NoneType)]
        literal = [x for x in parts if isinstance(x, mi.LiteralType)]
        other = [x for x in parts if not isinstance(x, mi.LiteralType)]
        if other:
            t, extra = _unwrap(other[0])
            meta.update(extra)
            if literal:
                meta["or"] = [v for lt in literal for v in lt.values]
            return t, meta
        t = parts[0]
    if isinstance(t, mi.Metadata):
        meta.update(t.extra_json_schema or {})
        t = t.type
    return t, meta


def _range(path: str, t: Any) -> str:
    """``above 0, at most 60`` from a number's bounds; the choices of a literal (or of a list's
    items), in the schema's order."""
    words = []
    for attr, word in (("gt", "above"), ("ge", "at least"), ("lt", "below"), ("le", "at most")):
        bound = getattr(t, attr, None)
        if bound is not None:
            words.append(f"{word} {bound:,}" if isinstance(bound, int) else f"{word} {bound:,g}")
    if isinstance(t, mi.LiteralType):
        words.append(_choices(path))
    if isinstance(t, mi.ListType) and isinstance(t.item_type, mi.LiteralType):
        words.append(_choices(path).replace("one of", "any of"))
    return ", ".join(words)


def _default_value(path: str, field: Any) -> Any:
    """The effective default of a key: Settings' for top-level keys (platform paths
    included), else the schema's; None when unset by default."""
    if "." not in path and path in Settings.__dataclass_fields__:
        value = getattr(Settings(), path)
    elif field.default is not msgspec.NODEFAULT:
        value = field.default
    elif field.default_factory is not msgspec.NODEFAULT:
        value = field.default_factory()
    else:
        return None
    if isinstance(value, Path):
        return _home(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _home(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def _wrap(text: str, prefix: str = "# ", width: int = 99) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=prefix, subsequent_indent=prefix)


def _where(path: str, flags: Collection[str]) -> str:
    """`` (--refresh; $R2K_FEED)``: the flag and the environment variable that set a key."""
    where = []
    if "." not in path:
        flag = FLAGS.get(path, f"--{path.replace('_', '-')}")
        if flag in flags:
            where.append(flag)
        if path == "feed":
            where.append("$R2K_FEED")
    elif path.startswith("nats."):
        where.append(f"$R2K_NATS_{path.split('.')[1].upper()}")
    return f" ({'; '.join(where)})" if where else ""


def _key_lines(path: str, field: Any, flags: Collection[str], *, example_only: bool) -> list[str]:
    t, meta = _unwrap(field.type)
    doc = DOCS.get(path, "")
    rng = _range(path, t)
    if "or" in meta:
        rng = (rng + ", or " if rng else "") + " or ".join(toml_value(v) for v in meta["or"])
    text = doc + (f"; {rng}" if rng else "") + _where(path, flags)
    lines = _wrap(text)
    key = path.rpartition(".")[2]
    default = None if example_only else _default_value(path, field)
    if default is not None:
        lines.append(f"# {key} = {toml_value(default)}")
    examples = meta.get("examples")
    if examples and (default is None or default == []):
        lines.append(f"# {key} = {toml_value(examples[0])}{EXAMPLE_MARK}")
    return lines


def _is_table(t: Any) -> bool:
    return isinstance(t, mi.StructType | mi.DictType) or (
        isinstance(t, mi.ListType) and isinstance(t.item_type, mi.StructType)
    )


def _table_lines(path: str, info: Any, flags: Collection[str]) -> list[str]:
    """A table: its header, its keys, then its sub-tables and lists of tables."""
    out = ["", *_wrap(DOCS.get(path, "")), f"[{path}]"]
    subs = []
    for f in info.fields:
        t, _ = _unwrap(f.type)
        if _is_table(t):
            subs.append((f, t))
        else:
            out += _key_lines(f"{path}.{f.name}", f, flags, example_only=False)
    for f, t in subs:
        sub = f"{path}.{f.name}"
        if isinstance(t, mi.StructType):
            out += _table_lines(sub, t, flags)
        elif isinstance(t, mi.ListType):
            out += _list_lines(sub, t.item_type, flags)
    return out


def _list_lines(path: str, info: Any, flags: Collection[str]) -> list[str]:
    """A list of tables (``[[levels.user]]``): one commented example entry."""
    out = ["", *_wrap(DOCS.get(path, "")), f"# [[{path}]]{EXAMPLE_MARK}"]
    for f in info.fields:
        out += _key_lines(f"{path}.{f.name}", f, flags, example_only=True)
    return out


def _feed_lines() -> list[str]:
    out = ["", *_wrap(DOCS["feeds"])]
    for name, keys in FEED_SETTINGS.items():
        out.append(f"[feeds.{name}]")
        for k in keys:
            mark = "" if k.default else EXAMPLE_MARK
            env = f"R2K_{name.upper()}_{k.key.upper()}"
            out += _wrap(f"{k.doc} (${env})")
            out.append(f"# {k.key} = {toml_value(k.value)}{mark}")
    return out


def default_file(flags: Collection[str] = ()) -> str:
    """The commented default config file: every setting with its default (or an example) and a
    line on what it does. ``flags`` are the command line's option strings, named beside the
    settings they set."""
    info = mi.type_info(ConfigFile)
    out = [
        "# r2k configuration (TOML). Every setting is shown with its default, commented out:",
        "# uncomment a line to change that setting. Precedence: defaults < this file <",
        "# environment < command-line flags. `r2k config check` validates this file and prints",
        "# the effective settings.",
    ]
    tables = []
    for f in info.fields:
        t, _ = _unwrap(f.type)
        if _is_table(t):
            tables.append((f, t))
        else:
            out += ["", *_key_lines(f.name, f, flags, example_only=False)]
    for f, t in tables:
        if f.name == "keys":
            out += ["", *_wrap(DOCS["keys"]), "[keys]", f'# pause = "space"{EXAMPLE_MARK}']
        elif isinstance(t, mi.DictType):
            out += _feed_lines()
        elif isinstance(t, mi.StructType):
            out += _table_lines(f.name, t, flags)
    return "\n".join(out) + "\n"


def schema_paths() -> list[str]:
    """Every key's dotted path in the schema (the keys :data:`DOCS` must explain)."""
    out: list[str] = []

    def walk(info: Any, prefix: str) -> None:
        for f in info.fields:
            path = f"{prefix}{f.name}"
            out.append(path)
            t, _ = _unwrap(f.type)
            if isinstance(t, mi.ListType):
                t = t.item_type
            if isinstance(t, mi.StructType):
                walk(t, path + ".")

    walk(mi.type_info(ConfigFile), "")
    return out


# --- r2k config check --------------------------------------------------------------------------
def _masked_url(url: str) -> str:
    """A webhook URL without its path and query (Slack and Discord hooks carry their token
    there): ``https://hooks.slack.com/***``."""
    parts = urlsplit(url)
    rest = "/***" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{rest}"


def _line(text: str, source: str, width: int = 44) -> str:
    return f"{text.ljust(width)} # {source}"


def effective(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The effective settings as TOML-like lines, each saying where its value came from
    (default, file, $R2K_FEED, a flag). Secrets and webhook paths are masked."""
    env = os.environ if env is None else env
    src = settings.sources
    out = []
    scalars = [
        "feed",
        "refresh_hz",
        "anchor",
        "speed",
        "seed",
        "universe",
        "holdings",
        "hysteresis",
        "approach",
        "stale_after",
        "alert_log",
        "levels_file",
        "record",
        "confirm",
        "notify",
        "bell",
        "webhook",
        "webhook_format",
    ]
    for key in scalars:
        value = getattr(settings, key)
        if value is None:
            if key == "approach":
                value = False
            else:
                out.append(_line(f"# {key} (not set)", src.get(key, "default")))
                continue
        if key == "webhook":
            value = _masked_url(value)
        elif isinstance(value, Path):
            value = _home(value)
        elif isinstance(value, tuple):
            value = list(value)
        source = src.get(key, "default")
        if key == "bell" and not value and "bell" not in settings.notify:
            source += '; off: "bell" is not in notify'
        out.append(_line(f"{key} = {toml_value(value)}", source))
    out += ["", "# levels watched (^RUT, index points), highest first"]
    for lv in sorted(settings.levels, key=lambda x: -x.price):
        confirm = lv.confirm or settings.confirm
        mine = "yours" if lv.user else "technical"
        out.append(f"#   {lv.price:>9,.2f}  {lv.label[:24]:<24} {confirm:<4}  {mine}")
    out.append(_line("# levels", src.get("levels", "default")))
    out += ["", "[alerts]"]
    out.append(
        _line(
            f"spread_band_bp = {toml_value(settings.spread_band_bp)}", _src(src, "spread_band_bp")
        )
    )
    out.append(
        _line(
            f"spread_dwell_s = {toml_value(settings.spread_dwell_s)}", _src(src, "spread_dwell_s")
        )
    )
    out.append(_line(f"sessions = {toml_value(settings.sessions)}", _src(src, "sessions")))
    if settings.spreads:
        out.append("# spread thresholds (bp, from the run's day anchor)")
        for sp in settings.spreads:
            confirm = sp.confirm or settings.confirm
            out.append(f"#   {sp.pair:<8} {sp.bp:>+8g} bp  {sp.label[:24]:<24} {confirm}")
        out.append(_line("# spreads", _src(src, "spreads")))
    else:
        out.append("# no spread thresholds ([[alerts.spread]] or --spread-level)")
    out += ["", "[alerts.command]"]
    out.append(_line(f"argv = {toml_value(list(settings.command))}", _src(src, "command")))
    out.append(
        _line(f"timeout = {toml_value(settings.command_timeout)}", _src(src, "command_timeout"))
    )
    out += _effective_feed(settings, env)
    return "\n".join(out) + "\n"


def _src(sources: Mapping[str, str], *keys: str) -> str:
    return next((sources[k] for k in keys if k in sources), "default")


def _effective_feed(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """The selected feed's table: each key from the environment, the file, or its default."""
    name = settings.feed_name
    keys = FEED_SETTINGS.get(name)
    table = settings.feed_config()
    if keys is None:
        if not table:
            return []
        keys = tuple(FeedKey(k, "", None, False) for k in table)
    out = ["", f"[feeds.{name}]" if name not in ("nats", "tls") else "[nats]"]
    for k in keys:
        var = f"R2K_{name.upper()}_{k.key.upper()}"
        if env.get(var):
            value, source = env[var], f"${var}"
        elif k.key in table:
            value, source = table[k.key], "file"
        elif k.default:
            value, source = k.value, "default"
        else:
            out.append(_line(f"# {k.key} (not set)", "default"))
            continue
        if k.key in SECRET_KEYS:
            value = "***"
        out.append(_line(f"{k.key} = {toml_value(value)}", source))
    return out


def warnings(settings: Settings) -> list[str]:
    """Problems that do not stop r2k but that the trader should hear about now."""
    out = []
    if settings.command:
        program = settings.command[0]
        if shutil.which(program) is None:
            out.append(
                f"[alerts.command] argv: {program!r} is not on PATH here; alerts will report "
                "each failed run (install it, or give its full path)"
            )
    return out


def undocumented() -> list[str]:
    """Schema keys that :data:`DOCS` does not explain (a test keeps this empty)."""
    return [p for p in schema_paths() if p not in DOCS]
