"""Trade condition codes -> last-sale eligibility flags (:mod:`feeds.market.lastsale`), per
provider.

Massive (Polygon.io) numbers the SIPs' sale conditions and publishes, for each, the
consolidated tape's update rules: ``GET /v3/reference/conditions`` returns
``{"id", "name", "sip_mapping": {"CTA": letter, "UTP": letter}, "update_rules":
{"consolidated": {"updates_high_low", "updates_open_close", "updates_volume"}}, ...}``
(client-python ``massive/rest/models/conditions.py``). ``updates_open_close`` is the tape's
"Update Last" column (the close is the last sale); an ``updates_last`` key is read too if a
listing carries one. A trade is barred from the last sale (or the high/low) when any of its
conditions is; a code the listing does not have is a regular sale.

- Polygon/Massive trades carry those ids (``"c": [12, 37]``): :attr:`SaleConditions.by_id`.
- Alpaca sends the SIPs' own letters (``"c": ["@", "I"]``): CTA letters on tapes A and B, UTP
  letters on tape C (Alpaca forum "Trade Conditions": the codes are CTS's and UTDF's). The
  listing's ``sip_mapping`` gives each letter its rule: :attr:`SaleConditions.cta` / ``utp``.
- Finnhub numbers conditions its own way, in a list linked from its websocket docs
  (https://finnhub.io/docs/api/websocket-trades, a Google Sheet). That list was not reachable
  when this was written, so ``feeds/data/finnhub_conditions.json`` holds no codes yet: every
  Finnhub trade counts as a regular sale until it is filled in from that list.

The listing ships in ``feeds/data/massive_conditions.json`` (sources in its ``source`` field), is
refreshed from the live endpoint by the Polygon feed when older than :data:`MAX_AGE_S`, and
cached in ``$XDG_CACHE_HOME/r2k/``. Alpaca reads the same cache or copy: the rules are the SIPs'.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from feeds.market.lastsale import NOT_HIGH_LOW, NOT_LAST

MASSIVE_FILE = "massive_conditions.json"
FINNHUB_FILE = "finnhub_conditions.json"
MAX_AGE_S = 30 * 86_400  # the SIPs change a sale condition's rules a few times a decade
CTA_TAPES = frozenset(("A", "B"))  # tape C is UTP's (Nasdaq-listed)


@dataclass(slots=True)
class SaleConditions:
    """Only codes that bar something are kept; each maps to ``NOT_LAST | NOT_HIGH_LOW`` bits."""

    by_id: dict[int, int] = field(default_factory=dict)
    cta: dict[str, int] = field(default_factory=dict)
    utp: dict[str, int] = field(default_factory=dict)
    fetched_ms: int = 0  # when the listing was read from the provider (0: the shipped copy)

    def letters(self, tape: object) -> dict[str, int]:
        """The letter table of an Alpaca tape (``z``): CTA for A and B, UTP for C."""
        return self.cta if tape in CTA_TAPES else self.utp


def flags_of(codes: Iterable[object], table: Mapping[Any, int]) -> int:
    """The union of the codes' flags in ``table`` (0: a regular sale)."""
    flags = 0
    for code in codes:
        f = table.get(code)
        if f:
            flags |= f
    return flags


def _rule_flags(rules: Mapping[str, Any]) -> int:
    flags = 0
    if rules.get("updates_high_low") is False:
        flags |= NOT_HIGH_LOW
    if rules.get("updates_open_close") is False or rules.get("updates_last") is False:
        flags |= NOT_LAST
    return flags


def parse_listing(results: Iterable[Any], fetched_ms: int = 0) -> SaleConditions:
    """:class:`SaleConditions` from the ``results`` of ``/v3/reference/conditions``.

    Only stock trade conditions with consolidated rules count (quote and settlement conditions
    share ids with them). A letter two current conditions share gets both their bars; a legacy
    condition's letter gives way to a current one. Raises ValueError when no entry is usable.
    """
    out = SaleConditions(fetched_ms=fetched_ms)
    # (sip, letter) -> [flags of current entries, flags of legacy entries]
    letters: dict[tuple[str, str], list[int | None]] = {}
    usable = 0
    for r in results:
        if not isinstance(r, dict) or r.get("asset_class", "stocks") != "stocks":
            continue
        rules = (r.get("update_rules") or {}).get("consolidated")
        cid = r.get("id")
        if "trade" not in (r.get("data_types") or ()) or not isinstance(rules, dict):
            continue
        if not isinstance(cid, int):
            continue
        usable += 1
        flags = _rule_flags(rules)
        if flags:
            out.by_id[cid] = out.by_id.get(cid, 0) | flags
        slot = 1 if r.get("legacy") else 0
        for sip, letter in (r.get("sip_mapping") or {}).items():
            if sip in ("CTA", "UTP") and isinstance(letter, str) and letter:
                both = letters.setdefault((sip, letter), [None, None])
                both[slot] = (both[slot] or 0) | flags
    if not usable:
        raise ValueError("no stock trade condition with consolidated update rules")
    for (sip, letter), (current, legacy) in letters.items():
        flags = current if current is not None else legacy
        if flags:
            (out.cta if sip == "CTA" else out.utp)[letter] = flags
    return out


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/r2k`` (``~/.cache/r2k``); ``env`` first, then the process's."""
    base = (env or {}).get("XDG_CACHE_HOME") or os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "r2k"


def _shipped(name: str) -> bytes:
    return resources.files("feeds").joinpath("data", name).read_bytes()


def load_massive(cache: Path | None = None) -> SaleConditions:
    """The cached live listing if readable, else the shipped copy. Never raises."""
    path = cache if cache is not None else cache_dir() / MASSIVE_FILE
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, KeyError):
        data = orjson.loads(path.read_bytes())
        return parse_listing(data["results"], int(data.get("fetched_ms") or 0))
    return parse_listing(orjson.loads(_shipped(MASSIVE_FILE))["results"])


def is_stale(conditions: SaleConditions, now_ms: int | None = None) -> bool:
    """True for the shipped copy or a listing read more than :data:`MAX_AGE_S` ago."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now - conditions.fetched_ms > MAX_AGE_S * 1000


def save_massive(results: list[Any], fetched_ms: int, cache: Path | None = None) -> None:
    """Cache a live listing (atomically); a read-only home only costs the next run a fetch."""
    from feeds.atomic import write_atomic

    path = cache if cache is not None else cache_dir() / MASSIVE_FILE
    body = {"fetched_ms": fetched_ms, "results": results}
    with contextlib.suppress(OSError):
        write_atomic(path, orjson.dumps(body).decode())


def load_finnhub() -> dict[str, int]:
    """Finnhub's condition codes (strings, as its stream sends them) -> flags; see above."""
    data = orjson.loads(_shipped(FINNHUB_FILE))
    table: dict[str, int] = {}
    for code, rules in (data.get("codes") or {}).items():
        flags = _rule_flags(rules)
        if flags:
            table[str(code)] = flags
    return table
