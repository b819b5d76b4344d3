"""What a trader does to alerts and levels (issue 10), as plain calls: the monitor's screens post
a message for each key and the app calls one of these; no Textual here, so it is tested without
a terminal and a headless tool could drive it too.

- ``+`` with ``2642 5m breakout``: :meth:`AlertControl.add_level` (parsed and checked by
  :func:`feeds.alerting.levelinput.parse_level_input`, saved to the levels file);
- ``x`` / ``Delete`` on a level: :meth:`AlertControl.remove_level`, undone by
  :meth:`AlertControl.undo_remove` (``u``, for :data:`UNDO_S` seconds);
- ``m`` on a level or a spread threshold: :meth:`AlertControl.toggle_mute` (saved);
- ``x`` / ``X`` in the alert panel: :meth:`AlertControl.acknowledge` /
  :meth:`AlertControl.acknowledge_all` (appended to the durable log).

Each returns a :class:`Change` whose ``message`` is the one line to show (a toast) and whose
``error`` says when saving failed (the change then lasts for this session only).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from feeds.alerting.levelinput import LevelInput, parse_level_input
from feeds.alerting.levels import Level
from feeds.alerting.levelstore import LevelStore, LevelStoreError, SavedLevel
from feeds.pipeline import Pipeline
from feeds.settings.setup import load_saved


@dataclass(slots=True, frozen=True)
class Change:
    """What an action did: ``message`` for the user; ``changed`` whether anything on screen
    changes; ``error`` when saving failed (one line: the file and the fix)."""

    message: str
    changed: bool = True
    error: str | None = None


#: how long a removed level can be put back (``u``; the toast saying so stays as long)
UNDO_S = 10.0


@dataclass(slots=True, frozen=True)
class _Removed:
    """A level just removed: what putting it back restores, and when it was removed."""

    level: Level
    saved: SavedLevel | None  # its line in the levels file, if it had one
    at: float  # monotonic seconds


def _points(price: float) -> str:
    return f"{price:,.2f}".removesuffix(".00")


class AlertControl:
    """The trader's levels, mutes and acknowledgements on one pipeline.

    ``store`` keeps the levels added in the monitor and the mutes (None: nothing is saved);
    ``configured`` are the ^RUT prices set in the config file or by ``--level`` (removing one
    lasts until a restart: r2k never rewrites the user's TOML).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        store: LevelStore | None = None,
        *,
        configured: Iterable[float] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.configured = frozenset(configured)
        self.clock = clock
        self._removed: _Removed | None = None

    def load(self) -> str | None:
        """Add the saved levels and mutes; a one-line warning if the file was unreadable."""
        return load_saved(self.pipeline, self.store) if self.store is not None else None

    # --- levels ----------------------------------------------------------------------------------
    def add_level(self, text: str) -> Change:
        """Add a ^RUT level typed as ``2642``, ``2642 breakout`` or ``2642 5m breakout`` (the
        confirmation after the price; none: the run's default) and save it. Raises ValueError
        with one sentence to show in the dialog when the text is not a level."""
        return self.add(parse_level_input(text))

    def add(self, typed: LevelInput) -> Change:
        """Add a ^RUT level already read by :func:`~feeds.alerting.levelinput.parse_level_input`
        (the monitor's dialog checks it as it is typed) and save it."""
        engine = self.pipeline.desk.levels
        found = engine.find(typed.price)
        if found is not None:
            if typed.confirm is None or typed.confirm == found.confirm:
                return Change(
                    f"Level {_points(typed.price)} is already on the ladder", changed=False
                )
            # "2642 5m" at a level already watched (a technical one): confirm it on that bar,
            # as a [[levels.user]] row or --level 2642:5m at its price does; saved likewise
            engine.set_confirm(typed.price, typed.confirm)
            message = (
                f"Level {_points(typed.price)} {found.label}: confirmed on a {typed.confirm} close"
                if typed.confirm != "tick"
                else f"Level {_points(typed.price)} {found.label}: confirmed on the price"
            )
            return self._save(typed, message)
        level = engine.add(typed.price, typed.label, user=True, confirm=typed.confirm)
        how = "" if level.confirm == "tick" else f", confirmed on a {level.confirm} close"
        return self._save(typed, f"Level {_points(typed.price)} added: {level.label}{how}")

    def _save(self, typed: LevelInput, message: str) -> Change:
        if self.store is not None:
            try:
                self.store.add(typed.price, typed.label, typed.confirm)
            except LevelStoreError as e:
                return Change(message + " (this session only)", error=str(e))
        return Change(message)

    def remove_level(self, price: float) -> Change | None:
        """Remove a ^RUT level (and forget it and its mute in the file); None if it was not
        watched. It can be put back for :data:`UNDO_S` seconds (:meth:`undo_remove`)."""
        engine = self.pipeline.desk.levels
        level = engine.find(price)
        if level is None or not engine.remove(price):
            return None
        saved = self.store.saved(price) if self.store is not None else None
        self._removed = _Removed(level, saved, self.clock())
        error = None
        if self.store is not None:
            try:
                self.store.remove(price)
            except LevelStoreError as e:
                error = str(e)
        if price in self.configured:
            message = (
                f"Level {_points(price)} removed until restart: it is set in the config file "
                "([[levels.user]]) or by --level; remove it there to drop it for good"
            )
        else:
            message = f"Level {_points(price)} removed"
        return Change(message, error=error)

    def can_undo(self) -> bool:
        """Whether a level removed less than :data:`UNDO_S` seconds ago can be put back."""
        return self._removed is not None and self.clock() - self._removed.at < UNDO_S

    def undo_remove(self) -> Change | None:
        """Put back the level removed last (its label, confirmation, mute and line in the
        levels file), within :data:`UNDO_S` seconds; None when there is none to put back."""
        removed, self._removed = self._removed, None
        if removed is None or self.clock() - removed.at >= UNDO_S:
            return None
        lv = removed.level
        engine = self.pipeline.desk.levels
        engine.add(lv.price, lv.label, user=lv.user, confirm=lv.confirm, muted=lv.muted)
        message = f"Level {_points(lv.price)} put back: {lv.label}"
        if self.store is not None:
            try:
                if removed.saved is not None:
                    saved = removed.saved
                    self.store.add(saved.price, saved.label, saved.confirm)
                if lv.muted:
                    self.store.set_muted(engine.symbol, lv.price, True)
            except LevelStoreError as e:
                return Change(message + " (this session only)", error=str(e))
        return Change(message)

    # --- mutes -----------------------------------------------------------------------------------
    def toggle_mute(self, symbol: str, level: float) -> Change:
        """Mute a level (``symbol`` ``^RUT``) or a spread threshold (``RUT-SPX``, bp), or unmute
        it: a muted level's alerts are logged and listed, marked muted, with no toast, bell,
        notification, webhook or command. Saved, so it lasts across restarts."""
        engine = self.pipeline.desk.engine_for(symbol)
        found = engine.find(level) if engine is not None else None
        what = f"{symbol} {level:+g} bp" if symbol != self.pipeline.desk.levels.symbol else ""
        what = what or f"Level {_points(level)}"
        if found is None:
            return Change(f"{what} is not watched", changed=False)
        muted = not found.muted
        self.pipeline.desk.set_muted(symbol, level, muted)
        message = (
            f"{what} muted: still logged, no toast, bell or notification"
            if muted
            else f"{what} unmuted"
        )
        if self.store is not None:
            try:
                self.store.set_muted(symbol, level, muted)
            except LevelStoreError as e:
                return Change(message + " (this session only)", error=str(e))
        return Change(message)

    # --- acknowledgements ------------------------------------------------------------------------
    def acknowledge(self, key: tuple[object, ...]) -> int:
        """Acknowledge one alert, by :func:`feeds.alerting.alerts.alert_key` (kept in the durable
        log)."""
        return self.pipeline.desk.acknowledge(key)

    def acknowledge_all(self) -> int:
        """Acknowledge every alert waiting for it; how many were."""
        return self.pipeline.desk.acknowledge(None)

    @property
    def unacknowledged(self) -> int:
        return self.pipeline.desk.unacknowledged()
