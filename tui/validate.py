"""The one check of the settings: ``r2k config check`` runs it, and so does every command
before it starts (the monitor, ``snapshot``, ``alerts``, ``record``, ``relay``), so the check
says "valid" exactly when the app would start (issue 19 §4).

It covers the values (:func:`feeds.settings.config.load_settings`, each file key,
``$R2K_FEED`` and flag on its own), the feed spec (a known feed), the key remaps
(:func:`tui.keys.keymap_problems`: no unknown id, no key another binding uses), the levels
and the paths (a holdings file that exists, a recording's format). Every problem is listed,
each naming where its value came from (the config file, ``$R2K_FEED`` or the flag), not only
the first. No Textual import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feeds.errors import ConfigError, FeedSpecError, InputFileError
from feeds.settings.config import Settings, load_settings


class SettingsProblems(ConfigError):
    """One or more settings r2k cannot start with; ``problems`` holds one line each (the CLI
    prints each as its own ``r2k: error:`` line). Exit status 2."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems")


def origin(settings: Settings, key: str) -> str:
    """Where ``key``'s value came from: ``config file 'PATH'``, ``$R2K_FEED``, ``--feed``, or
    ``default``."""
    source = settings.sources.get(key)
    if source == "file":
        return f"config file '{settings.config_path}'"
    return source or "default"


def problems(settings: Settings, *, check_holdings: bool = True) -> list[str]:
    """What the app would refuse at start in ``settings`` (already loaded), one line each.
    ``check_holdings`` False: the command inspects the holdings file itself (``holdings show
    PATH`` names the file in its own words)."""
    from feeds.feed import check_spec
    from tui.keys import keymap_problems

    out: list[str] = []
    try:
        check_spec(settings.feed)
    except FeedSpecError as e:
        out.append(f"{origin(settings, 'feed')}: {e}")
    out += [f"{origin(settings, 'keys')}: {p}" for p in keymap_problems(settings.keys)]
    holdings = settings.holdings if check_holdings else None
    if holdings is not None and not Path(holdings).expanduser().is_file():
        out.append(
            f"{origin(settings, 'holdings')}: holdings file {holdings} not found; check the "
            "path (or omit it to use the bundled snapshot)"
        )
    if settings.record is not None:
        from feeds.storage.recorder import recording_path

        try:
            recording_path(settings.record)
        except InputFileError as e:
            out.append(f"{origin(settings, 'record')}: {e}")
    return out


def load_valid(
    config: str | Path | None,
    *,
    overrides: Mapping[str, Any],
    extra: Mapping[str, Any],
    check_holdings: bool = True,
) -> Settings:
    """The settings from defaults < config file < environment < flags, checked whole. Raises
    SettingsProblems listing every problem."""
    found: list[str] = []
    settings = load_settings(config, overrides=overrides, problems=found, **extra)
    found += problems(settings, check_holdings=check_holdings)
    if found:
        raise SettingsProblems(found)
    return settings
