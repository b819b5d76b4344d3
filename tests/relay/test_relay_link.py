"""NATS URLs, prefixes and credentials: checked up front, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.settings.config import load_settings
from feeds.sources.relay.link import resolve
from feeds.sources.relay.subjects import Subjects, shard_of


def test_url_forms_and_prefix() -> None:
    link = resolve("nats://10.1.2.3:4333/desk.alpaca", env={}, config={})
    assert (link.url, link.prefix) == ("nats://10.1.2.3:4333", "desk.alpaca")
    assert link.subjects.stream == "R2K_DESK_ALPACA"
    assert resolve("127.0.0.1", env={}, config={}).url == "nats://127.0.0.1:4222"
    assert resolve(None, env={}, config={}).display == "nats://127.0.0.1:4222/r2k"
    env = {"R2K_NATS_URL": "tls://nats.example:7422", "R2K_NATS_PREFIX": "p"}
    link = resolve(None, env=env, config={"url": "nats://ignored:1"})
    assert (link.url, link.prefix, link.tls) == ("tls://nats.example:7422", "p", True)


def test_credentials_leave_the_url_and_are_redacted() -> None:
    link = resolve("nats://alice:s3cr3t-pw@host:4222", env={}, config={})
    assert "s3cr3t" not in link.url + link.display + repr(link)
    assert link.connect_kwargs()["user"] == "alice"
    assert link.redact("login s3cr3t-pw refused") == "login *** refused"
    token = resolve("nats://tok-123456@host", env={}, config={})
    assert token.token == "tok-123456" and "tok" not in token.display
    from_env = resolve(None, env={"R2K_NATS_TOKEN": "t0k"}, config={"user": "u"})
    assert from_env.connect_kwargs()["token"] == "t0k"


def test_a_failed_connection_names_the_server_and_the_reason() -> None:
    link = resolve("nats://u:pw-1234567@10.1.2.3:4333", env={}, config={})
    refused = ConnectionRefusedError(111, "Connect call failed ('10.1.2.3', 4333)")
    assert link.error_text(refused) == "cannot connect to 10.1.2.3:4333: Connection refused"
    assert link.error_text(TimeoutError()) == "timed out connecting to 10.1.2.3:4333"
    other = link.error_text(ValueError("bad pw-1234567"))
    assert other == "NATS at nats://10.1.2.3:4333: ValueError: bad ***"


@pytest.mark.parametrize(
    ("url", "prefix", "fragment"),
    [
        ("http://host:4222", None, "scheme 'http'"),
        ("nats://host:99999", None, "bad port"),
        ("nats://host:4222", "bad prefix!", "relay prefix"),
    ],
)
def test_bad_settings_are_one_line(url: str, prefix: str | None, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        resolve(url, prefix=prefix, env={}, config={})


def test_a_missing_creds_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"creds file .* not found"):
        resolve(None, env={"R2K_NATS_CREDS": str(tmp_path / "no.creds")}, config={})


def test_the_nats_config_table(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('feed = "nats://127.0.0.1:4333/desk"\n[nats]\nuser = "bob"\npassword = "pw"\n')
    settings = load_settings(cfg, env={})
    assert settings.feed_config() == {"user": "bob", "password": "pw"}
    cfg.write_text("[nats]\nport = 4222\n")
    with pytest.raises(ConfigError, match=r"unknown key 'nats\.port'"):
        load_settings(cfg, env={})


def test_subjects_and_shards_are_stable() -> None:
    s = Subjects("r2k")
    assert (s.live, s.meta, s.snap(3), s.hist(0)) == (
        "r2k.live",
        "r2k.snap.meta",
        "r2k.snap.3",
        "r2k.hist.0",
    )
    assert shard_of("^RUT", 32) == shard_of("^RUT", 32) < 32
