"""Where a provider finds its URLs and keys: environment first, then the config file.

Keys are read here and nowhere else, and never appear in a status, log line or error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from feeds.errors import ConfigError, CredentialsError


def setting(
    provider: str,
    key: str,
    env: Mapping[str, str],
    config: Mapping[str, Any],
    default: str | None = None,
) -> str | None:
    """``R2K_<PROVIDER>_<KEY>`` from the environment, else ``key`` in ``[feeds.<provider>]``."""
    var = f"R2K_{provider.upper()}_{key.upper()}"
    value = env.get(var)
    if value:
        return value
    value = config.get(key)
    # a config ``false`` or ``0`` is a real answer, not "unset" (``indices = false``)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def count_setting(
    provider: str, key: str, env: Mapping[str, str], config: Mapping[str, Any], default: int
) -> int:
    """A whole number >= 0 (a cap or a rate; 0 means none), or a one-line ConfigError."""
    raw = setting(provider, key, env, config)
    if raw is None:
        return default
    where = f"R2K_{provider.upper()}_{key.upper()} / {key}"
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{where} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{where} must be 0 or more, got {value}")
    return value


def require_secret(
    provider: str, key: str, env: Mapping[str, str], config: Mapping[str, Any], *, what: str
) -> str:
    """A credential, or a one-line error naming the variable to set."""
    value = setting(provider, key, env, config)
    if not value:
        var = f"R2K_{provider.upper()}_{key.upper()}"
        raise CredentialsError(
            f"{provider} needs {what}: set {var} in the environment "
            f'(or {key} = "..." under [feeds.{provider}] in the config file)'
        )
    return value


_SECRET_QUERY = re.compile(r"(?i)((?:token|apikey|api_key|key|secret)=)[^&\s]+")


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret and every key-like query parameter masked."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return _SECRET_QUERY.sub(r"\1***", text)
