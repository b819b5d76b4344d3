"""User-facing errors: each carries one line that names the problem and the fix."""

from __future__ import annotations

import os


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


def os_reason(exc: OSError) -> str:
    """Why a connection attempt failed, in the system's words (name lookup, refused...)."""
    import socket

    if isinstance(exc, socket.gaierror):
        return f"name lookup failed ({exc.strerror or exc})"
    if exc.errno and exc.errno > 0:
        # asyncio's own text ("Connect call failed ('127.0.0.1', 9)") hides the cause
        return os.strerror(exc.errno)
    return str(exc.strerror or exc)


def path_reason(path: str | os.PathLike[str], e: OSError) -> str:
    """Why ``path`` cannot be read or written, in the system's words; when a folder on the way
    to it is a file (ENOTDIR, or EEXIST from creating the folder), which one that is:
    ``'/srv/r2k' is a file, not a folder`` rather than ``File exists``."""
    import errno
    from pathlib import Path

    if e.errno in (errno.ENOTDIR, errno.EEXIST):
        for parent in Path(path).expanduser().parents:
            if parent.exists():  # False for a path through a file (ENOTDIR): look further up
                if not parent.is_dir():
                    return f"'{parent}' is a file, not a folder"
                break
    return e.strerror or str(e) or type(e).__name__
