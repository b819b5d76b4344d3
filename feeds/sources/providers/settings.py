"""Where a provider finds its URLs and keys: environment first, then the config file.

Keys are read here and nowhere else, and never appear in a status, log line or error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feeds import secrets
from feeds.errors import ConfigError, CredentialsError
from feeds.secrets import redact

__all__ = ["count_setting", "redact", "require_secret", "setting"]


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
    """A credential, or a one-line error naming the variable to set.

    The value is remembered (:func:`feeds.secrets.remember`) so no output of this process shows it.
    """
    value = setting(provider, key, env, config)
    if not value:
        var = f"R2K_{provider.upper()}_{key.upper()}"
        raise CredentialsError(
            f"{provider} needs {what}: set {var} in the environment "
            f'(or {key} = "..." under [feeds.{provider}] in the config file)'
        )
    secrets.remember(value)
    return value
