"""Keys never leak, even in part: every text r2k shows or writes can be masked here.

Rules (issue 8 §6):

* Mask **before any cut**. A server that echoes a key in a long message must not leave its first
  characters in front of an ellipsis, so :func:`server_text` masks first and cuts after.
* Mask **whole tokens**, never substrings of words. A token is a run of characters between
  white space and punctuation that cannot occur in a key (quotes, ``,;:=&?()[]{}<>|``).
* A token is masked when it contains any piece of a secret at least :data:`MIN_PIECE` (4)
  characters long, so a key cut by the server, glued to other text or split over a line break
  still goes; no 4-character piece of a secret reaches stdout, stderr, the screen, a log or a
  recording. A secret shorter than that (a typo such as ``s`` or ``tok``) is masked only where a
  token equals it: masking it inside words garbles every status (``previou*** clo***e***``) and
  shows what the key is.
* Key-like query parameters (``token=…``, ``apikey=…``) are masked whatever their value.

Secrets are remembered process-wide by :func:`remember` (``require_secret`` calls it when a
provider reads a key), so the last line of defence, the CLI's error line and the headless status
lines, masks them without being handed the feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "***"
#: the shortest piece of a secret that counts as a leak (and is masked wherever it appears)
MIN_PIECE = 4

_TOKEN = re.compile(r"""[^\s"'`,;:=&?()\[\]{}<>|]+""")
_SECRET_QUERY = re.compile(r"(?i)((?:token|apikey|api_key|key|secret)=)[^&\s\"']+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")

_known: set[str] = set()


def remember(secret: str | None) -> None:
    """Mask ``secret`` in every later :func:`redact` of this process."""
    if secret:
        _known.add(secret)


def forget_all() -> None:
    """Drop the remembered secrets (tests use it between cases)."""
    _known.clear()


@lru_cache(maxsize=64)
def _pieces(secret: str) -> frozenset[str]:
    n = len(secret)
    return frozenset(secret[i : i + MIN_PIECE] for i in range(n - MIN_PIECE + 1))


def _leaks(token: str, short: frozenset[str], pieces: frozenset[str]) -> bool:
    if token in short:
        return True
    if not pieces or len(token) < MIN_PIECE:
        return False
    return any(token[i : i + MIN_PIECE] in pieces for i in range(len(token) - MIN_PIECE + 1))


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every token that holds a secret (given or remembered) replaced by ``***``,
    and every key-like query parameter's value masked. Never cuts or reflows the text."""
    keys = {s for s in secrets if s} | _known
    if keys:
        short = frozenset(k for k in keys if len(k) < MIN_PIECE)
        pieces = frozenset().union(*(_pieces(k) for k in keys if len(k) >= MIN_PIECE))

        def mask(m: re.Match[str]) -> str:
            return MASK if _leaks(m.group(), short, pieces) else m.group()

        text = _TOKEN.sub(mask, text)
    return _SECRET_QUERY.sub(rf"\1{MASK}", text)


def server_text(text: object, secrets: Iterable[str | None] = (), limit: int = 200) -> str:
    """A server's words made safe to show: secrets masked first, then control and bidi
    characters removed, one line, at most ``limit`` characters (cut with ``…``)."""
    s = redact(str(text), *secrets)
    s = " ".join(_CONTROL.sub(" ", s).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
