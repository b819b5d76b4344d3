"""``r2k config path | init [--force] | check [PATH]`` (issue 10): where the config file is, a
commented default written there, and the effective settings with where each came from.

No Textual, no network. A config mistake is one line naming the file, the key and the fix, exit
status 2 (:class:`feeds.errors.ConfigError`, printed by :func:`tui.cli.main`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import IO, Any

from feeds.atomic import write_atomic
from feeds.errors import ConfigError
from feeds.settings.config import config_path
from feeds.settings.configdoc import default_file, effective, warnings
from feeds.text import clean


def _path(explicit: str | None, env: Mapping[str, str]) -> Path:
    path, _ = config_path(explicit, env)
    assert path is not None
    return path


def run_path(explicit: str | None, *, out: IO[str] | None = None) -> int:
    """Print the config file's path (``--config``, ``$R2K_CONFIG`` or the platform default);
    say on stderr when there is no file there yet."""
    path = _path(explicit, os.environ)
    (out or sys.stdout).write(f"{path}\n")
    if not path.is_file():
        sys.stderr.write("r2k: no config file there yet; `r2k config init` writes one\n")
    return 0


def run_init(explicit: str | None, *, force: bool, flags: Collection[str] = ()) -> int:
    """Write the commented default to the config file's path. An existing file is never
    replaced without ``force``; with it, the old file is kept as ``config.toml.bak``.
    Raises ConfigError (one line)."""
    path = _path(explicit, os.environ)
    if path.exists() and not force:
        raise ConfigError(
            f"config file '{path}' already exists; `r2k config check` shows what it sets, "
            "`r2k config init --force` replaces it (the old one kept as .bak)"
        )
    try:
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            write_atomic(backup, path.read_text(encoding="utf-8", errors="replace"))
        write_atomic(path, default_file(flags))
    except OSError as e:
        raise ConfigError(
            f"cannot write the config file '{path}' ({e.strerror or e}); "
            "pick another place with --config PATH or $R2K_CONFIG"
        ) from None
    sys.stdout.write(f"{path}\n")
    sys.stderr.write(
        "r2k: wrote a commented default config (every setting at its default); "
        "edit it, then `r2k config check`\n"
    )
    return 0


def run_check(
    path: str | None,
    explicit: str | None,
    *,
    overrides: Mapping[str, Any],
    extra: Mapping[str, Any],
    out: IO[str] | None = None,
) -> int:
    """Validate the config file (``path``, else ``--config``/``$R2K_CONFIG``/the default) with
    the environment and the command line's flags, and print the effective settings. Raises
    ConfigError naming the file, the key and the problem."""
    chosen = path or explicit
    if path is not None and not Path(path).expanduser().is_file():
        raise ConfigError(
            f"config file '{Path(path).expanduser()}' not found; check the path "
            "(`r2k config path` shows the default one)"
        )
    from tui.validate import load_valid

    # exactly the check every command runs before it starts (every problem, each sourced)
    settings = load_valid(chosen, overrides=overrides, extra=extra)
    stream = out or sys.stdout
    where = settings.config_path
    if where is None:
        head = f"# no config file at {_path(None, os.environ)}: defaults, environment and flags"
    else:
        head = f"# config file {clean(str(where), 500)}: valid"
    stream.write(head + "\n")
    stream.write("# effective settings (defaults < config file < environment < command line)\n")
    stream.write(effective(settings))
    for warning in warnings(settings):
        sys.stderr.write(f"r2k: warning: {warning}\n")
    return 0
