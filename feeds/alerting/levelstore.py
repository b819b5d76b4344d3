"""The levels a user adds with ``+`` in the monitor, kept across restarts in a small JSON file.

The file (``$XDG_STATE_HOME/r2k/levels.json`` unless ``levels_file`` says otherwise) holds only
the levels added in the app; the technical levels, ``[[levels.user]]`` in the config file and
``--level`` stay where they are written, and r2k never rewrites the user's TOML. Every change
re-reads the file first (a second r2k may have changed it), then replaces it atomically::

    {"version": 1, "symbol": "^RUT", "levels": [{"price": 2475.0, "label": "breakout"}]}

Issue 10 adds, in the same version (an older r2k ignores them): a level's ``"confirm"`` (``"1m"``,
``"5m"``; absent: the run's default) and ``"muted"``, the levels and spread thresholds muted with
``m`` in the monitor, any of them (technical, configured or added)::

    "muted": [{"symbol": "^RUT", "level": 2450.0}, {"symbol": "RUT-SPX", "level": 50.0}]

A file r2k cannot read is moved aside to ``levels.json.bad`` and the monitor starts without it:
:meth:`LevelStore.load` returns the one-line warning to show, and never raises.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.alerting.levels import CONFIRM_MODES
from feeds.atomic import write_atomic
from feeds.errors import R2KError
from feeds.text import dumps

VERSION = 1


def _row(lv: SavedLevel) -> dict[str, Any]:
    row: dict[str, Any] = {"price": lv.price, "label": lv.label}
    if lv.confirm is not None:
        row["confirm"] = lv.confirm
    return row


class LevelStoreError(R2KError):
    """The levels file could not be written (one line: the file and the reason)."""


class _Unreadable(Exception):
    """The file exists but is not a levels file r2k can read (the reason is the message)."""


@dataclass(slots=True, frozen=True)
class SavedLevel:
    price: float
    label: str
    confirm: str | None = None  # "1m" | "5m" | "tick"; None: the run's default


Muted = tuple[str, float]  # (symbol, level): ("^RUT", 2450.0), ("RUT-SPX", 50.0)


def _data(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _Unreadable(f"not JSON: {e.msg}, line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError) as e:  # absurd nesting or number sizes
        raise _Unreadable(f"not a levels file: {type(e).__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("levels"), list):
        raise _Unreadable('expected an object with a "levels" list')
    version = data.get("version", VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version > VERSION:
        raise _Unreadable(f"version {version!r} is not one this r2k reads ({VERSION})")
    return data


def _parse(text: str) -> list[SavedLevel]:
    data = _data(text)
    out: list[SavedLevel] = []
    seen: set[float] = set()
    for n, row in enumerate(data["levels"], 1):
        if not isinstance(row, dict):
            raise _Unreadable(f"level #{n} is not an object with price and label")
        price = row.get("price")
        if (
            isinstance(price, bool)
            or not isinstance(price, int | float)
            or not (price > 0 and math.isfinite(price))
        ):
            raise _Unreadable(f"level #{n} price {price!r} is not a positive number")
        label = row.get("label", "user level")
        if not isinstance(label, str):
            raise _Unreadable(f"level #{n} label {label!r} is not text")
        confirm = row.get("confirm")
        if confirm is not None and confirm not in CONFIRM_MODES:
            raise _Unreadable(f"level #{n} confirm {confirm!r} is not one of {CONFIRM_MODES}")
        if float(price) not in seen:
            seen.add(float(price))
            out.append(SavedLevel(float(price), label, confirm))
    return out


def _parse_muted(text: str) -> set[Muted]:
    rows = _data(text).get("muted", [])
    if not isinstance(rows, list):
        raise _Unreadable('"muted" is not a list')
    out: set[Muted] = set()
    for n, row in enumerate(rows, 1):
        symbol = row.get("symbol") if isinstance(row, dict) else None
        level = row.get("level") if isinstance(row, dict) else None
        if (
            not isinstance(symbol, str)
            or isinstance(level, bool)
            or not isinstance(level, int | float)
            or not math.isfinite(level)
        ):
            raise _Unreadable(f"muted #{n} is not an object with symbol and level")
        out.add((symbol, float(level)))
    return out


class LevelStore:
    """The saved levels (``levels``, in the order they were added) and the file behind them."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.levels: list[SavedLevel] = []
        self.muted: set[Muted] = set()

    def _read(self) -> list[SavedLevel]:
        """The file's levels (and :attr:`muted`); [] when there is none. Raises _Unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.muted = set()
            return []
        except UnicodeDecodeError:
            raise _Unreadable("not UTF-8 text") from None
        except OSError as e:
            raise _Unreadable(e.strerror or type(e).__name__) from None
        levels = _parse(text)
        self.muted = _parse_muted(text)
        return levels

    def _set_aside(self) -> str:
        """Move an unreadable file out of the way (kept for the user); says where it went."""
        bad = self.path.with_name(self.path.name + ".bad")
        try:
            os.replace(self.path, bad)
        except OSError as e:
            return f"could not move it aside ({e.strerror or e})"
        return f"moved to {bad.name}"

    def load(self) -> str | None:
        """Read the saved levels. Returns a one-line warning if the file was unreadable."""
        try:
            self.levels = self._read()
        except _Unreadable as e:
            self.levels = []
            self.muted = set()
            where = self._set_aside()
            return f"saved levels '{self.path}' unreadable ({e}); {where}; started without them"
        return None

    def __contains__(self, price: float) -> bool:
        return any(lv.price == price for lv in self.levels)

    def add(self, price: float, label: str, confirm: str | None = None) -> None:
        """Save a level (a price already saved keeps its first label), with its confirmation
        (None: the run's default; a price already saved takes a confirmation given). Raises
        LevelStoreError."""
        self._refresh()
        if price not in self:
            self.levels.append(SavedLevel(float(price), label, confirm))
        elif confirm is not None:
            self.levels = [
                SavedLevel(lv.price, lv.label, confirm) if lv.price == price else lv
                for lv in self.levels
            ]
        self._save()

    def set_muted(self, symbol: str, level: float, muted: bool) -> None:
        """Remember that the level ``level`` of ``symbol`` (a spread's threshold in bp) is muted,
        or forget it. Raises LevelStoreError."""
        self._refresh()
        key = (symbol, float(level))
        if muted:
            self.muted.add(key)
        else:
            self.muted.discard(key)
        self._save()

    def is_muted(self, symbol: str, level: float) -> bool:
        return (symbol, float(level)) in self.muted

    def remove(self, price: float) -> bool:
        """Forget a saved level and its mute (a removed level's mute must not come back with a
        level later added at that price); False if neither was saved. Raises
        LevelStoreError."""
        self._refresh()
        muted = ("^RUT", float(price))
        if price not in self and muted not in self.muted:
            return False
        self.levels = [lv for lv in self.levels if lv.price != price]
        self.muted.discard(muted)
        self._save()
        return True

    def saved(self, price: float) -> SavedLevel | None:
        """The saved level at ``price`` (None: not saved)."""
        return next((lv for lv in self.levels if lv.price == price), None)

    def _refresh(self) -> None:
        """Pick up what another r2k saved since; an unreadable file is set aside, not merged."""
        try:
            self.levels = self._read()
        except _Unreadable:
            self._set_aside()  # keep the user's file; ours (in memory) replaces it

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": VERSION,
            "symbol": "^RUT",
            "levels": [_row(lv) for lv in self.levels],
        }
        if self.muted:
            data["muted"] = [{"symbol": s, "level": lv} for s, lv in sorted(self.muted)]
        try:
            write_atomic(self.path, dumps(data, separators=None, indent=2) + "\n")
        except OSError as e:
            raise LevelStoreError(
                f"could not save levels to '{self.path}' ({e.strerror or e}); "
                "set levels_file in the config file to a writable path"
            ) from None
