"""Keys never leak, even in part (issue 8 §6): masking rules, and what reaches a status."""

from __future__ import annotations

import pytest

from feeds import secrets
from feeds.secrets import MIN_PIECE, redact, server_text

KEY = "PKQ7ZX4W9M2VR8TL3NJC"


def pieces(secret: str) -> list[str]:
    """Every piece of ``secret`` that must never be shown (MIN_PIECE characters or more)."""
    return [secret[i : i + MIN_PIECE] for i in range(len(secret) - MIN_PIECE + 1)]


def assert_no_piece(text: str, *keys: str) -> None:
    for key in keys:
        for piece in pieces(key):
            assert piece not in text, (piece, text)


def test_a_key_is_masked_as_a_whole_token() -> None:
    text = f'auth failed for key {KEY}, "key":"{KEY}" and token={KEY}&x=1'
    assert redact(text, KEY) == 'auth failed for key ***, "key":"***" and token=***&x=1'


def test_masking_comes_before_the_cut() -> None:
    # the key straddles the cut: masking after the cut would leave its first characters
    text = "x" * 150 + " " + KEY + " and more words"
    shown = server_text(text, [KEY], limit=160)
    assert len(shown) <= 160 and shown.endswith("…")
    assert_no_piece(shown, KEY)


def test_a_key_cut_by_the_server_or_glued_to_text_still_goes() -> None:
    for text in (f"invalid key {KEY[:9]}…", f"bad:{KEY[5:]}", f"x{KEY}y", KEY[3:11]):
        shown = redact(text, KEY)
        assert_no_piece(shown, KEY)


def test_short_keys_never_garble_words() -> None:
    status = "previous closes 2/3; subscribed 30 symbols; token refused; reconnecting in 3 s"
    assert redact(status, "tok") == status
    assert redact("the stream sent s and stopped", "s") == "the stream sent *** and stopped"
    assert redact(status.replace("3 s", "3s"), "s") == status.replace("3 s", "3s")
    assert redact("invalid key tok", "tok") == "invalid key ***"


def test_key_like_query_parameters_are_masked_whatever_their_value() -> None:
    url = "wss://ws.finnhub.io/?token=abc123&apikey=zzz&x=1"
    assert redact(url) == "wss://ws.finnhub.io/?token=***&apikey=***&x=1"


def test_remembered_secrets_are_masked_everywhere() -> None:
    from feeds.sources.providers.settings import require_secret

    assert require_secret("alpaca", "key", {"R2K_ALPACA_KEY": KEY}, {}, what="a key") == KEY
    assert redact(f"unexpected error near {KEY}") == "unexpected error near ***"
    secrets.forget_all()
    assert KEY in redact(f"x {KEY}")


def test_server_text_is_one_printable_line() -> None:
    assert server_text("a\nb\tc\x1b[31m\u202ed", limit=50) == "a b c [31m d"


@pytest.mark.parametrize("limit", [10, 40, 159, 160, 161, 200])
def test_no_piece_survives_any_cut(limit: int) -> None:
    secret = "q8Zr3vW1xK9mT4bY7nL2cP5fH0jD6sG1aE8uV3kQ"
    for start in range(0, 60, 7):
        text = "w" * start + f" {KEY}{secret} " + "z" * 50
        assert_no_piece(server_text(text, [KEY, secret], limit), KEY, secret)
