"""Symbol directories: the symbols a feed really has, to spell holdings tickers as the feed does.

A :class:`SymbolDirectory` is a set of canonical (Yahoo-style: ``MOG-A``) symbols with a label
saying where it came from. Sources, by feed:

* the bundled directory ``feeds/data/us_listed_symbols.txt``: every symbol listed on a US
  exchange on the dates its header names, built from NASDAQ Trader's public symbol directory
  files (``nasdaqlisted.txt``/``otherlisted.txt``/``nasdaqtraded.txt``). The sim, ``holdings
  show``, a replay (after its own file) and a live provider with nothing cached use it;
* a live provider's own list of tradable symbols, downloaded
(``feeds.sources.providers.directories``)
  and kept in the user cache directory (platformdirs), one text file per provider;
* the symbols of a replay file, and symbols a stream sends (``feeds.reference.reconcile``).

The on-disk format (bundled copy and cache alike) is ``# key: value`` header lines (``label``,
``as_of``, ``fetched``, ``source``) then one canonical symbol a line.

``python -m feeds.reference.directory OUT FILE...`` rebuilds a directory file from NASDAQ Trader
files.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from feeds.atomic import write_atomic
from feeds.errors import InputFileError

BUNDLED = Path(__file__).parent.parent / "data" / "us_listed_symbols.txt"
#: a downloaded directory older than this is fetched again (listings change a few times a day)
MAX_AGE_S = 24 * 3600.0
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# NASDAQ Trader's own symbology (the "NASDAQ Symbol" column): a class share is ROOT.X; other
# suffix characters mark preferreds (-), warrants (+), units (=), rights (^), when-issued (#).
_NASDAQ_COMMON = re.compile(r"^[A-Z0-9]+(\.[A-Z])?$")
_CREATED = re.compile(r"File Creation Time:\s*(\d{2})(\d{2})(\d{4})")


def compact(symbol: str) -> str:
    """The spelling-blind key of a symbol: upper case, letters and digits only.

    ``JWA``, ``JW-A``, ``JW.A`` and ``jw a`` all give ``JWA``.
    """
    return _NOT_ALNUM.sub("", symbol.upper())


@dataclass(frozen=True)
class SymbolDirectory:
    """Canonical symbols one source lists, with where they came from.

    ``label`` names the source for messages ("alpaca's asset list"); ``as_of`` is the listing
    date when the source gives one; ``fetched_ms`` when it was downloaded (epoch ms), if it was.
    """

    label: str
    symbols: frozenset[str]
    as_of: dt.date | None = None
    fetched_ms: int | None = None
    source: str = ""  # provenance text kept in the file header (URLs, repositories, dates)

    @cached_property
    def by_key(self) -> dict[str, tuple[str, ...]]:
        """compact key -> the listed symbols with that key (index values ``^X`` left out)."""
        groups: dict[str, list[str]] = {}
        for s in self.symbols:
            if not s.startswith("^"):
                groups.setdefault(compact(s), []).append(s)
        return {k: tuple(sorted(v)) for k, v in groups.items()}

    def match(self, ticker: str) -> tuple[str, ...]:
        """``(ticker,)`` when listed as written; else every listed symbol spelt the same but for
        punctuation (none, one, or several: the caller decides what several means)."""
        if ticker in self.symbols:
            return (ticker,)
        return self.by_key.get(compact(ticker), ())

    def __len__(self) -> int:
        return len(self.symbols)

    def describe(self) -> str:
        """``label`` with its date, for messages: "the bundled US listing directory of
        2026-03-03"."""
        return f"{self.label} of {self.as_of.isoformat()}" if self.as_of else self.label


def of_symbols(symbols: Iterable[str], label: str) -> SymbolDirectory:
    """A directory of the symbols a file or a stream carries (a replay's, say)."""
    return SymbolDirectory(label, frozenset(s.strip() for s in symbols if s and s.strip()))


# ---- NASDAQ Trader symbol directory files ---------------------------------------------------
def parse_nasdaq_trader(text: str) -> tuple[set[str], dt.date | None]:
    """Canonical symbols and the file's creation date from one NASDAQ Trader directory file.

    Reads ``nasdaqlisted.txt`` (``Symbol|Security Name|Market Category|Test Issue|...``),
    ``otherlisted.txt`` (``ACT Symbol|...|Test Issue|NASDAQ Symbol``) and ``nasdaqtraded.txt``
    (``Nasdaq Traded|Symbol|...|NASDAQ Symbol|NextShares``), pipe-separated, ending with
    ``File Creation Time: MMDDYYYYHH:MM``. Layout: nasdaqtrader.com "Symbol Look-Up/Directory
    Data Fields & Definitions". Test issues are skipped, and so are preferreds, warrants, units
    and rights (only plain symbols and ``ROOT.X`` class shares, as ``ROOT-X``, are kept): no
    index holding is one of them, and their look-alike keys would only blur the matching.
    Raises ValueError when the header is not one of those layouts.
    """
    lines = text.splitlines()
    if not lines:
        raise ValueError("empty file")
    header = [c.strip() for c in lines[0].lstrip("\ufeff").split("|")]
    col = {name: i for i, name in enumerate(header)}
    sym_col = col.get("NASDAQ Symbol", col.get("Symbol"))
    test_col = col.get("Test Issue")
    if sym_col is None or test_col is None:
        raise ValueError(f"not a NASDAQ Trader symbol directory header: {lines[0][:80]!r}")
    symbols: set[str] = set()
    created: dt.date | None = None
    for line in lines[1:]:
        if line.startswith("File Creation Time"):
            m = _CREATED.search(line)
            if m:
                month, day, year = (int(x) for x in m.groups())
                created = dt.date(year, month, day)
            continue
        cells = line.split("|")
        if len(cells) < len(header) or cells[test_col].strip() == "Y":
            continue
        s = cells[sym_col].strip().upper()
        if _NASDAQ_COMMON.match(s):
            symbols.add(s.replace(".", "-"))
    return symbols, created


# ---- the on-disk format ---------------------------------------------------------------------
def read_directory(path: Path) -> SymbolDirectory:
    """Load a directory file. Raises OSError when unreadable, ValueError when it is not one."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    symbols: set[str] = set()
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            key, sep, value = s[1:].partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip()
            continue
        symbols.add(s)
    if "label" not in meta:
        raise ValueError("no '# label:' header line")
    as_of = dt.date.fromisoformat(meta["as_of"]) if meta.get("as_of") else None
    fetched = _parse_stamp(meta["fetched"]) if meta.get("fetched") else None
    return SymbolDirectory(
        meta["label"], frozenset(symbols), as_of, fetched, meta.get("source", "")
    )


def format_directory(d: SymbolDirectory) -> str:
    """The text :func:`read_directory` reads back."""
    head = [
        "# r2k symbol directory: one canonical (Yahoo-style) symbol a line",
        f"# label: {d.label}",
    ]
    if d.as_of:
        head.append(f"# as_of: {d.as_of.isoformat()}")
    if d.fetched_ms is not None:
        stamp = dt.datetime.fromtimestamp(d.fetched_ms / 1000, dt.UTC)
        head.append(f"# fetched: {stamp.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if d.source:
        head.append(f"# source: {' '.join(d.source.split())}")
    return "\n".join([*head, *sorted(d.symbols)]) + "\n"


def _parse_stamp(text: str) -> int:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


@cache
def bundled() -> SymbolDirectory:
    """The directory shipped with r2k (US-listed symbols; see its header for sources and dates).

    Raises InputFileError when the installed copy is missing or damaged (reinstall r2k).
    """
    try:
        return read_directory(BUNDLED)
    except (OSError, ValueError) as e:
        raise InputFileError(
            f"the bundled symbol directory {BUNDLED} cannot be read ({e}); reinstall r2k"
        ) from None


# ---- the download cache ---------------------------------------------------------------------
def cache_root() -> Path:
    """Where r2k keeps downloaded symbol directories: ``<user cache dir>/r2k/symbols``
    (platformdirs: ``$XDG_CACHE_HOME/r2k`` or ``~/.cache/r2k`` on Linux)."""
    import platformdirs

    return platformdirs.user_cache_path("r2k", appauthor=False) / "symbols"


@dataclass(slots=True)
class DirectoryCache:
    """One source's downloaded directory on disk: where, and how long it stays fresh.

    ``name`` is the file stem (``alpaca``, ``polygon``, ``finnhub``, ``nasdaqtrader``) and
    ``label`` the source's name in messages. Never raises: an unreadable or corrupt cache file
    counts as no cache, and a failed write is reported by :meth:`save`'s return value.
    """

    name: str
    label: str
    root: Path | None = None  # default: cache_root()
    max_age_s: float = MAX_AGE_S

    @property
    def path(self) -> Path:
        return (self.root or cache_root()) / f"{self.name}.txt"

    def load(self) -> SymbolDirectory | None:
        try:
            return read_directory(self.path)
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def is_fresh(self, d: SymbolDirectory | None, now_ms: int | None = None) -> bool:
        """True when ``d`` was fetched less than ``max_age_s`` ago."""
        if d is None or d.fetched_ms is None:
            return False
        now = int(time.time() * 1000) if now_ms is None else now_ms
        return 0 <= now - d.fetched_ms < self.max_age_s * 1000

    def save(self, d: SymbolDirectory) -> str:
        """Write ``d`` atomically; "" on success, else why not (one line)."""
        try:
            write_atomic(self.path, format_directory(d))
        except OSError as e:
            return f"cannot write {self.path} ({e.strerror or e})"
        return ""


#: live feed -> (cache file stem, the source's name in messages)
PROVIDER_LISTS = {
    "yahoo": ("nasdaqtrader", "NASDAQ Trader's US listing"),
    "alpaca": ("alpaca", "alpaca's asset list"),
    "polygon": ("polygon", "Massive's ticker list"),
    "massive": ("polygon", "Massive's ticker list"),
    "finnhub": ("finnhub", "finnhub's US symbol list"),
}


def for_feed(
    feed_name: str, root: Path | None = None
) -> tuple[list[SymbolDirectory], DirectoryCache | None]:
    """What spells holdings for ``feed_name`` at start, without any network: the provider's
    cached list (of any age: the feed refreshes it in the background) when there is one, else
    the bundled directory; and that provider's cache (None for the sim, a replay, a relay).
    """
    known = PROVIDER_LISTS.get(feed_name)
    if known is None:
        return [bundled()], None
    cache = DirectoryCache(known[0], known[1], root)
    cached = cache.load()
    return ([cached] if cached is not None and cached.symbols else [bundled()]), cache


def build(out: Path, files: list[Path], label: str, source: str) -> SymbolDirectory:
    """The union of NASDAQ Trader files written to ``out`` (how the bundled copy is made)."""
    symbols: set[str] = set()
    dates: list[dt.date] = []
    for f in files:
        found, created = parse_nasdaq_trader(f.read_text(encoding="utf-8-sig"))
        symbols |= found
        if created:
            dates.append(created)
    d = SymbolDirectory(label, frozenset(symbols), max(dates, default=None), None, source)
    write_atomic(out, format_directory(d))
    return d


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a maintainer's tool
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m feeds.reference.directory", description="Build a symbol directory file."
    )
    p.add_argument("out", type=Path)
    p.add_argument("files", type=Path, nargs="+", help="NASDAQ Trader directory files")
    p.add_argument("--label", default="the bundled US listing directory")
    p.add_argument("--source", default="", help="provenance for the header")
    a = p.parse_args(argv)
    d = build(a.out, a.files, a.label, a.source)
    print(f"{a.out}: {len(d):,} symbols, as of {d.as_of}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
