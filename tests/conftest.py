"""Shared fixtures. Every test runs without the user's config, state or r2k environment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

R2K_ENV = ("R2K_CONFIG", "R2K_FEED", "R2K_DEBUG")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG config/state at a fresh directory so no test reads ~/.config or writes ~/.local."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    for var in R2K_ENV:
        monkeypatch.delenv(var, raising=False)
    return home


def write_csv(path: Path, header: str, rows: Iterable[Sequence[object]]) -> Path:
    """A small CSV: ``header`` as given, then each row joined by commas."""
    lines = [header, *(",".join(str(c) for c in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_holdings(path: Path, rows: Iterable[tuple[str, str, str, float]], as_of: str) -> Path:
    """A holdings file in the bundled-snapshot format (weight in percent, as published)."""
    lines = [f"# as_of: {as_of}", "# source: test", "symbol,name,sector,weight_pct"]
    lines += [f"{s},{n},{sec},{w}" for s, n, sec, w in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
