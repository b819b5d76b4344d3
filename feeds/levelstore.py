"""The user's levels: the ones added with ``+`` kept across restarts.

A level a trader types is read by :func:`feeds.levelinput.parse_level` (``--level``, the config
file, the add-level dialog). :class:`UserLevels` puts user levels on the
:class:`~feeds.levels.LevelEngine` and keeps the ones added in the monitor in a
:class:`LevelStore`.

The file (``$XDG_STATE_HOME/r2k/levels.json`` unless ``levels_file`` says otherwise) holds only
the levels added in the app; the technical levels, ``[[levels.user]]`` in the config file and
``--level`` stay where they are written, and r2k never rewrites the user's TOML. Every change
re-reads the file first (a second r2k may have changed it), then replaces it atomically::

    {"version": 1, "symbol": "^RUT", "levels": [{"price": 2475.0, "label": "breakout"}]}

A file r2k cannot read is moved aside to ``levels.json.bad`` and the monitor starts without it:
:meth:`LevelStore.load` returns the one-line warning to show, and never raises.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.atomic import write_atomic
from feeds.errors import R2KError
from feeds.levelinput import DEFAULT_LABEL
from feeds.levels import LevelEngine

VERSION = 1


class LevelStoreError(R2KError):
    """The levels file could not be written (one line: the file and the reason)."""


class _Unreadable(Exception):
    """The file exists but is not a levels file r2k can read (the reason is the message)."""


@dataclass(slots=True, frozen=True)
class SavedLevel:
    price: float
    label: str


def _parse(text: str) -> list[SavedLevel]:
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
        label = row.get("label", DEFAULT_LABEL)
        if not isinstance(label, str):
            raise _Unreadable(f"level #{n} label {label!r} is not text")
        if float(price) not in seen:
            seen.add(float(price))
            out.append(SavedLevel(float(price), label))
    return out


class LevelStore:
    """The saved levels (``levels``, in the order they were added) and the file behind them."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.levels: list[SavedLevel] = []

    def _read(self) -> list[SavedLevel]:
        """The file's levels; [] when there is none. Raises _Unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except UnicodeDecodeError:
            raise _Unreadable("not UTF-8 text") from None
        except OSError as e:
            raise _Unreadable(e.strerror or type(e).__name__) from None
        return _parse(text)

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
            where = self._set_aside()
            return f"saved levels '{self.path}' unreadable ({e}); {where}; started without them"
        return None

    def __contains__(self, price: float) -> bool:
        return any(lv.price == price for lv in self.levels)

    def add(self, price: float, label: str) -> None:
        """Save a level (a price already saved keeps its first label). Raises LevelStoreError."""
        self._refresh()
        if price not in self:
            self.levels.append(SavedLevel(float(price), label))
        self._save()

    def remove(self, price: float) -> bool:
        """Forget a saved level; False if it was not saved. Raises LevelStoreError."""
        self._refresh()
        if price not in self:
            return False
        self.levels = [lv for lv in self.levels if lv.price != price]
        self._save()
        return True

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
            "levels": [{"price": lv.price, "label": lv.label} for lv in self.levels],
        }
        try:
            write_atomic(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        except OSError as e:
            raise LevelStoreError(
                f"could not save levels to '{self.path}' ({e.strerror or e}); "
                "set levels_file in the config file to a writable path"
            ) from None


def add_saved_levels(engine: LevelEngine, store: LevelStore) -> str | None:
    """Levels saved from the monitor (``+``), after the configured ones.

    Returns a one-line warning when the saved file was unreadable (it is set aside).
    """
    warning = store.load()
    for lv in store.levels:
        engine.add(lv.price, lv.label, user=True)
    return warning


@dataclass(slots=True, frozen=True)
class LevelChange:
    """What adding or removing a level did: ``message`` for the user; ``error`` when saving failed
    (the change holds for this session only)."""

    message: str
    changed: bool = True
    error: str | None = None


def _points(price: float) -> str:
    return f"{price:,.2f}"


class UserLevels:
    """The user's levels on the engine, saved to ``store`` when added in the monitor.

    ``configured`` are the prices set in the config file or by ``--level``: removing one lasts
    until a restart (r2k never rewrites the user's TOML). Without a store nothing is saved.
    """

    def __init__(
        self, engine: LevelEngine, store: LevelStore | None, configured: Iterable[float] = ()
    ) -> None:
        self.engine = engine
        self.store = store
        self.configured = frozenset(configured)

    def load(self) -> str | None:
        """Add the saved levels; a one-line warning if the file was unreadable (set aside)."""
        return add_saved_levels(self.engine, self.store) if self.store is not None else None

    def add(self, price: float, label: str) -> LevelChange:
        """Add a user level and save it, so it is there after a restart."""
        if any(lv.price == price for lv in self.engine.levels):
            return LevelChange(f"Level {_points(price)} is already on the ladder", changed=False)
        self.engine.add(price, label, user=True)
        message = f"Level {_points(price)} added: {label}"
        if self.store is not None:
            try:
                self.store.add(price, label)
            except LevelStoreError as e:
                return LevelChange(message + " (this session only)", error=str(e))
        return LevelChange(message)

    def remove(self, price: float) -> LevelChange | None:
        """Remove a user level (and forget it in the file); None if it was not on the engine."""
        if not self.engine.remove(price):
            return None
        error = None
        if self.store is not None:
            try:
                self.store.remove(price)  # re-reads the file: a no-op if it is not there
            except LevelStoreError as e:
                error = str(e)
        if price in self.configured:
            message = (
                f"Level {_points(price)} removed until restart: it is set in the config file "
                "([[levels.user]]) or by --level; remove it there to drop it for good"
            )
        else:
            message = f"Level {_points(price)} removed"
        return LevelChange(message, error=error)
