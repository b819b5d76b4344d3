"""User-facing errors: each carries one line that names the problem and the fix."""

from __future__ import annotations


class R2KError(Exception):
    """An error shown to the user as one line (no traceback); exit status 2 from the CLI."""

    exit_code = 2


class FeedSpecError(R2KError):
    """The feed spec string does not name a known feed or is malformed."""


class InputFileError(R2KError):
    """A file the user pointed at is missing or malformed (replay, holdings, config)."""


class ConfigError(R2KError):
    """The config file or an option value is invalid."""


class CredentialsError(R2KError):
    """An API key is missing or was rejected."""
