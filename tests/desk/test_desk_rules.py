"""The desk's rules without a server: what a trader may exec, names, the failed-login brake."""

from __future__ import annotations

import pytest

from tui.serve.record import Brake
from tui.serve.sessions import Refused, parse_command
from tui.serve.users import valid_name
from tui.serve.web import is_loopback


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("snapshot --json", ["snapshot", "--json"]),
        ("r2k snapshot --top 5 --json", ["snapshot", "--top", "5", "--json"]),
        ("snapshot --top=5", ["snapshot", "--top=5"]),
        ("alerts --duration 30", ["alerts", "--duration", "30"]),
        (
            "alerts log --since yesterday --feed all --json",
            ["alerts", "log", "--since", "yesterday", "--feed", "all", "--json"],
        ),
    ],
)
def test_the_headless_commands_a_trader_may_run(command: str, args: list[str]) -> None:
    assert parse_command(command) == args


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("cat /etc/passwd", "'cat' cannot run here"),
        ("", "'(nothing)' cannot run here"),
        ("sh -c 'r2k snapshot'", "'sh' cannot run here"),
        ("snapshot --feed sim", "does not take '--feed'"),  # the desk's upstream only
        ("snapshot --config /etc/shadow", "does not take '--config'"),
        ("alerts --record /tmp/x.csv", "does not take '--record'"),
        ("snapshot --top", "needs a value"),
        ("snapshot --json=1", "takes no value"),
        ("relay --embedded", "'relay' cannot run here"),
        ("serve passwd ann", "'serve' cannot run here"),
        ("snapshot 'unclosed", "cannot run here"),
    ],
)
def test_anything_else_is_refused_with_one_line(command: str, fragment: str) -> None:
    with pytest.raises(Refused) as e:
        parse_command(command)
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_names_are_letters_digits_dash_underscore() -> None:
    assert valid_name("ann") and valid_name("Desk-2_b")
    for bad in ("", "../x", "a b", "a.keys", "x" * 65, "ann\n", "é"):
        assert not valid_name(bad), bad


def test_failed_logins_are_slowed_after_5_in_a_minute() -> None:
    brake = Brake()
    for i in range(5):
        brake.failed("10.0.0.9", now=100.0 + i)
    assert brake.delay("10.0.0.9", now=105.0) == 0.0  # five are free
    brake.failed("10.0.0.9", now=106.0)
    assert brake.delay("10.0.0.9", now=106.0) == 1.0
    for i in range(20):
        brake.failed("10.0.0.9", now=107.0 + i / 10)
    assert brake.delay("10.0.0.9", now=109.0) == 10.0  # at most 10 s
    assert brake.delay("10.0.0.8", now=109.0) == 0.0  # per address
    assert brake.delay("10.0.0.9", now=200.0) == 0.0  # a minute later: forgotten


def test_loopback_is_this_machine_only() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.8.9.10")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    assert not is_loopback("desk.example.com")
