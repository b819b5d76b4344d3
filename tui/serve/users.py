"""The desk's traders: plain files in ``--users DIR`` that an admin manages with ordinary tools.

- ``DIR/NAME.keys``: NAME's OpenSSH public keys, one per line (``authorized_keys`` format:
  comments, blank lines and per-key options such as ``from="10.0.0.0/8"`` are honoured);
- ``DIR/NAME.web``: NAME's web password as a salted argon2id hash in PHC string form
  (``$argon2id$v=19$m=65536,t=3,p=4$...``), written by ``r2k serve passwd NAME --users DIR``.

A name is letters, digits, ``-`` and ``_`` (at most 64). Every login reads the files afresh, so
a key added or a password changed applies from the next login, without a restart. Nothing here
imports Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from feeds.atomic import write_atomic
from feeds.errors import R2KError, path_reason

if TYPE_CHECKING:
    import asyncssh

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
KEYS_SUFFIX = ".keys"
WEB_SUFFIX = ".web"
MIN_PASSWORD = 8


class UsersError(R2KError):
    """The users directory or a trader's file cannot be used."""


def valid_name(name: str) -> bool:
    """Whether ``name`` is a trader's name: 1 to 64 letters, digits, ``-`` or ``_``."""
    return NAME_RE.fullmatch(name) is not None


def check_name(name: str) -> str:
    """``name`` if valid, else UsersError naming the rule."""
    if not valid_name(name):
        raise UsersError(
            f"'{name}' is not a trader's name; use 1 to 64 letters, digits, '-' and '_'"
        )
    return name


@dataclass(frozen=True, slots=True)
class Users:
    """The users directory ``root``; read on every login, never cached."""

    root: Path

    def check(self) -> Users:
        """Raise UsersError unless ``root`` is a readable directory."""
        if not self.root.is_dir():
            raise UsersError(
                f"users directory '{self.root}' does not exist; create it and put NAME.keys "
                "files (OpenSSH public keys) in it"
            )
        return self

    def names(self) -> list[str]:
        """Every trader with a keys file or a web password, sorted."""
        out = {
            p.stem
            for p in self.root.iterdir()
            if p.suffix in (KEYS_SUFFIX, WEB_SUFFIX) and valid_name(p.stem)
        }
        return sorted(out)

    def keys_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}{KEYS_SUFFIX}"

    def web_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}{WEB_SUFFIX}"

    def authorized_keys(self, name: str) -> asyncssh.SSHAuthorizedKeys | None:
        """NAME's public keys, or None when NAME is no trader, has no keys file, or the file
        cannot be read or parsed (a login is then refused; the reason is logged by the caller
        through :meth:`keys_problem`)."""
        import asyncssh

        if not valid_name(name):
            return None
        try:
            text = self.keys_path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        try:
            return asyncssh.import_authorized_keys(text)
        except (ValueError, asyncssh.KeyImportError):
            return None

    def keys_problem(self, name: str) -> str | None:
        """Why NAME's keys file cannot be used (one line), or None when it can."""
        import asyncssh

        path = self.keys_path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None  # no such trader: not a problem of the desk's files
        except OSError as e:
            return f"cannot read '{path}': {path_reason(path, e)}"
        except UnicodeDecodeError:
            return f"'{path}' is not text; it should hold OpenSSH public keys, one per line"
        try:
            asyncssh.import_authorized_keys(text)
        except (ValueError, asyncssh.KeyImportError) as e:
            return f"'{path}' holds a line that is not an OpenSSH public key ({e})"
        return None

    def check_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is NAME's web password (argon2 or bcrypt PHC hash in
        ``NAME.web``). False for an unknown name, a missing or garbled file."""
        if not valid_name(name):
            return False
        try:
            stored = self.web_path(name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return False
        return verify_password(stored, password)

    def set_password(self, name: str, password: str) -> Path:
        """Store ``password``'s argon2id hash in ``NAME.web`` (mode 0600, replaced atomically).
        Raises UsersError for a bad name, a short password or a write failure."""
        check_name(name)
        if len(password) < MIN_PASSWORD:
            raise UsersError(f"the password is too short; use at least {MIN_PASSWORD} characters")
        path = self.web_path(name)
        try:
            write_atomic(path, hash_password(password) + "\n")
            path.chmod(0o600)
        except OSError as e:
            raise UsersError(f"cannot write '{path}': {path_reason(path, e)}") from None
        return path


def hash_password(password: str) -> str:
    """An argon2id PHC string for ``password`` (argon2-cffi's defaults: RFC 9106's second
    recommended option, 64 MiB, 3 passes, 4 lanes, 16-byte salt)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the PHC string ``stored``: ``$argon2...`` (argon2-cffi) or
    ``$2b$``/``$2a$``/``$2y$`` (bcrypt, when the bcrypt package is installed)."""
    if stored.startswith("$argon2"):
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error, InvalidHashError

        try:
            return PasswordHasher().verify(stored, password)
        except (Argon2Error, InvalidHashError):
            return False
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            import bcrypt  # type: ignore[import-not-found]
        except ImportError:
            return False
        try:
            return bool(bcrypt.checkpw(password.encode(), stored.encode()))
        except ValueError:
            return False
    return False
