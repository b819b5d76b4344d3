"""Where the desk's NATS server is and how to log in: URL, prefix and credentials.

Read from, in order: the URL itself (``--nats URL``, ``--feed nats://HOST:PORT/PREFIX``), the
environment (``R2K_NATS_URL``, ``R2K_NATS_PREFIX``, ``R2K_NATS_USER``, ``R2K_NATS_PASSWORD``,
``R2K_NATS_TOKEN``, ``R2K_NATS_CREDS``, ``R2K_NATS_NKEY``, ``R2K_NATS_CA``, ``R2K_NATS_CERT``,
``R2K_NATS_KEY``), then the ``[nats]`` table of the config file (same names in lower case)::

    [nats]
    url = "tls://nats.desk.example:4222"
    prefix = "desk"                 # several relays can share a server under their own prefix
    creds = "~/.config/r2k/desk.creds"   # or user + password, token, or nkey (a seed file)
    ca = "~/.config/r2k/desk-ca.pem"     # a private CA for tls:// (and cert + key for mutual TLS)

Credentials typed into a URL (``nats://user:pass@host``) are moved out of it, so the URL that is
shown never carries them. ``tls://`` insists on TLS: a server that does not offer it is refused.
Every secret is listed in :attr:`NatsLink.secrets` so status lines can redact it.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from feeds.errors import ConfigError, os_reason
from feeds.sources.providers.settings import redact, setting
from feeds.sources.relay.subjects import DEFAULT_PREFIX, Subjects, check_prefix

Callback = Callable[[], Awaitable[None]]
ErrorCallback = Callable[[Exception], Awaitable[None]]

DEFAULT_URL = "nats://127.0.0.1:4222"
DEFAULT_PORT = 4222
SCHEMES = ("nats", "tls")
#: keys of the ``[nats]`` config table (also ``R2K_NATS_<KEY>`` in the environment)
KEYS = ("url", "prefix", "user", "password", "token", "creds", "nkey", "ca", "cert", "key")
_FILES = ("creds", "nkey", "ca", "cert", "key")


@dataclass(frozen=True, slots=True)
class NatsLink:
    """A checked NATS address and login. ``url`` never holds credentials."""

    url: str  # scheme://host:port
    prefix: str = DEFAULT_PREFIX
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    creds: Path | None = None  # a .creds file (JWT + nkey seed)
    nkey: Path | None = None  # a file holding an nkey seed
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.url.startswith("tls://")

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORT

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.prefix)

    @property
    def display(self) -> str:
        """``nats://host:port/prefix``: what status lines and labels show (no secrets)."""
        return f"{self.url}/{self.prefix}"

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.token) if s]

    def redact(self, text: str) -> str:
        return redact(text, *self.secrets)

    def error_text(self, e: BaseException) -> str:
        """One line on an error the NATS client reports, secrets masked. A connection that
        failed names the server and the system's reason (``cannot connect to 127.0.0.1:4222:
        Connection refused``), not asyncio's ``Connect call failed ('127.0.0.1', 4222)``."""
        host, port = self.host_port
        if isinstance(e, TimeoutError):
            return f"timed out connecting to {host}:{port}"
        if isinstance(e, OSError) and not isinstance(e, ssl.SSLError):
            return f"cannot connect to {host}:{port}: {os_reason(e)}"
        text = " ".join(f"{type(e).__name__}: {e}".rstrip(": ").split())
        return self.redact(f"NATS at {self.url}: {text}")

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (login and TLS; reconnect policy is the caller's).

        Raises ConfigError when a TLS file cannot be loaded.
        """
        kw: dict[str, Any] = {"servers": [self.url]}
        if self.user:
            kw["user"] = self.user
            kw["password"] = self.password or ""
        if self.token:
            kw["token"] = self.token
        if self.creds:
            kw["user_credentials"] = str(self.creds)
        if self.nkey:
            kw["nkeys_seed"] = str(self.nkey)
        if self.tls or self.ca or self.cert:
            kw["tls"] = self._ssl_context()
            kw["tls_hostname"] = self.host_port[0]
        return kw

    async def connect(
        self,
        name: str,
        *,
        reconnect_wait: float,
        disconnected: Callback,
        reconnected: Callback,
        error: ErrorCallback,
    ) -> Any:
        """A ``nats.aio.client.Client`` logged in, retrying forever (initially and after a drop).

        The callbacks see every drop, reconnect and error; nothing here gives up, because a
        desk's server coming back later must be picked up without a restart.
        """
        import nats

        return await nats.connect(
            **self.connect_kwargs(),
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=reconnect_wait,
            connect_timeout=2,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )

    def _ssl_context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
            if self.cert:
                ctx.load_cert_chain(str(self.cert), str(self.key) if self.key else None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(
                f"NATS TLS files cannot be loaded ({getattr(e, 'strerror', None) or e}); "
                "check ca, cert and key under [nats] or R2K_NATS_CA/CERT/KEY"
            ) from None
        return ctx


def check_table(table: Any) -> dict[str, Any]:
    """Validate the ``[nats]`` config table; raises ValueError(the fix) for config.py."""
    if not isinstance(table, dict):
        raise ValueError('must be a table: [nats] then url = "nats://host:4222"')
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ValueError(f"has unknown key {unknown[0]!r}; valid keys: {', '.join(KEYS)}")
    for k, v in table.items():
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{k} must be a non-empty string")
    if "url" in table:
        parse_url(table["url"])
    if "prefix" in table:
        check_prefix(table["prefix"])
    return dict(table)


def parse_url(text: str) -> tuple[str, str | None, str | None, str | None, str | None]:
    """(``scheme://host:port``, prefix from the path, user, password, token) from a NATS URL.

    ``host:port`` alone means ``nats://``. Raises ValueError naming the expected form.
    """
    raw = text.strip()
    if "://" not in raw:
        raw = "nats://" + raw.lstrip("/")
    parts = urlsplit(raw)
    form = "expected nats://HOST:PORT[/PREFIX] or tls://HOST:PORT[/PREFIX]"
    if parts.scheme not in SCHEMES:
        raise ValueError(f"NATS URL {_safe(text)!r} has scheme {parts.scheme!r}; {form}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"NATS URL {_safe(text)!r} has a bad port; {form}") from None
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    prefix = parts.path.strip("/").replace("/", ".") or None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    token = None
    if user and password is None:
        user, token = None, user  # nats://TOKEN@host
    return f"{parts.scheme}://{host}:{port}", prefix, user, password, token


def _safe(text: str) -> str:
    """A URL as it may be shown: userinfo masked."""
    head, sep, tail = text.partition("@")
    if not sep:
        return text
    scheme, _, _ = head.partition("://")
    return f"{scheme}://***@{tail}" if "://" in head else f"***@{tail}"


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def resolve(
    url: str | None,
    *,
    prefix: str | None = None,
    env: Mapping[str, str],
    config: Mapping[str, Any],
) -> NatsLink:
    """The link from a URL (or ``R2K_NATS_URL`` / ``[nats] url`` / the local default).

    A prefix in the URL's path wins over ``prefix``, which wins over the environment and config.
    Raises ConfigError with one line naming the setting and the fix.
    """

    def get(key: str) -> str | None:
        return setting("nats", key, env, config)

    text = url or get("url") or DEFAULT_URL
    try:
        base, url_prefix, user, password, token = parse_url(text)
        chosen = url_prefix or prefix or get("prefix") or DEFAULT_PREFIX
        check_prefix(chosen)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    files = {k: _path(get(k)) for k in _FILES}
    for k, p in files.items():
        if p is not None and not p.is_file():
            raise ConfigError(
                f"NATS {k} file '{p}' not found; fix R2K_NATS_{k.upper()} or {k} under [nats]"
            )
    return NatsLink(
        url=base,
        prefix=chosen,
        user=user or get("user"),
        password=password or get("password"),
        token=token or get("token"),
        **files,
    )
