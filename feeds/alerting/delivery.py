"""How an alert reads wherever it is delivered (issue 10): one title and body for the toast, the
desktop notification, the command's ``{title}``/``{body}`` and the Slack or Discord webhook; the
bytes of the terminal's desktop notifications (OSC 9, OSC 777); and which alerts notify at all.

Nothing here does I/O except :class:`TerminalNotifier`, which writes through the callable the app
hands it (Textual's driver), so the escape sequences go out in order with the screen's own output
and over SSH reach the terminal on the trader's laptop.

Terminal sequences (the de facto standards, as terminals document them):

- OSC 9 ``ESC ] 9 ; text BEL``: one line, shown as a notification by iTerm2, WezTerm, Windows
  Terminal, kitty, Ghostty, ConEmu. ConEmu and Windows Terminal read ``9;<digit>;`` as other
  commands (``9;4;`` is a progress bar), so the text never starts with a digit: it starts "r2k".
- OSC 777 ``ESC ] 777 ; notify ; title ; body BEL``: rxvt-unicode's extension, also foot, WezTerm,
  Ghostty; ``;`` separates the fields, so none is left in them.
- Inside tmux (``$TMUX`` set) a sequence tmux does not know is dropped unless wrapped in tmux's
  passthrough (``ESC P tmux; ... ESC \\`` with every ESC doubled) and the session allows it:
  ``set -g allow-passthrough on`` (tmux 3.3 or later).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from feeds.alerting.levels import AlertEvent
from feeds.feed import is_live
from feeds.symbols import RUT
from feeds.text import clean
from feeds.timefmt import exchange_time, iso_ms

OSC_METHODS = ("osc9", "osc777")
NOTIFY_KINDS = frozenset({"cross", "busted"})  # approach notices stay in the panel and the log
TEXT_MAX = 240  # characters of a notification's title or body
DISCORD_MAX = 2000  # Discord's limit on a message's content
NOTIFY_GAP_S = 5.0  # per level: the least time between two desktop notifications


def notifies(alert: AlertEvent) -> bool:
    """Whether an alert interrupts the trader (toast, bell, desktop notification): a crossing
    (or a busted one) of a level that is not muted. Every alert is logged and listed anyway."""
    return alert.kind in NOTIFY_KINDS and not alert.muted


def needs_ack(alert: AlertEvent) -> bool:
    """Whether an alert waits for the trader's acknowledgement (``x`` in the alert panel): a
    crossing of a level that is not muted, not yet acknowledged. Approach notices, busted alerts
    and muted levels' alerts do not, nor an earlier practice run's (listed as history). The
    status bar counts these; the panel marks them."""
    return (
        alert.kind == "cross" and not alert.muted and not alert.acknowledged and not alert.past_run
    )


def is_spread(symbol: str) -> bool:
    """A spread's "symbol" (``RUT-SPX``), whose levels and prices are in basis points."""
    return "-" in symbol and not symbol.startswith("^")


def level_text(alert: AlertEvent, value: float) -> str:
    """A level or price as the alert's series counts: ``2,642`` / ``2,645.20`` index points, or
    ``+50 bp`` for a spread."""
    if is_spread(alert.symbol):
        return f"{value:+,.1f} bp".replace(".0 bp", " bp")
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def alert_text(alert: AlertEvent) -> tuple[str, str]:
    """(title, body) of an alert, plain text: ``r2k: ^RUT crossed up through 2,642`` and
    ``upside target · 2,645.20 at 10:31:00 ET · 1m close``. Practice alerts (sim, replay) say so
    in the title; an index estimated from its ETF says "est."."""
    where = "" if is_live(alert.feed) or not alert.feed else f" ({alert.feed})"
    what = f"{alert.symbol} spread" if is_spread(alert.symbol) else alert.symbol
    level = level_text(alert, alert.level)
    way = "up" if alert.direction == "up" else "down"
    if alert.kind == "cross":
        title = f"{what} crossed {way} through {level}"
    elif alert.kind == "approach":
        title = f"{what} approaching {level}"
    elif alert.kind == "busted":
        title = f"{what} crossing {way} through {level} busted"
    else:
        title = f"{what} {alert.kind} {level}"
    at = exchange_time(alert.ts).strftime("%H:%M:%S ET") if alert.ts > 0 else ""
    parts = [clean(alert.label, 60), f"{level_text(alert, alert.price)} at {at}".strip()]
    if alert.kind == "cross" and alert.confirm != "tick":
        parts.append(f"{alert.confirm} close")
    if alert.estimated and alert.symbol == RUT:
        parts.append("est. from IWM")
    body = " · ".join(p for p in parts if p)
    return clean(f"r2k{where}: {title}", TEXT_MAX), clean(body, TEXT_MAX)


# --- the terminal: OSC 9 and OSC 777 -----------------------------------------------------------
def _osc_text(text: str) -> str:
    # no control character may end the sequence early; ";" separates OSC 777's fields
    return clean(text, TEXT_MAX).replace(";", ",")


def osc9(title: str, body: str) -> str:
    """``ESC ] 9 ; title: body BEL`` (one line of text)."""
    return f"\x1b]9;{_osc_text(f'{title}: {body}')}\x07"


def osc777(title: str, body: str) -> str:
    """``ESC ] 777 ; notify ; title ; body BEL``."""
    return f"\x1b]777;notify;{_osc_text(title)};{_osc_text(body)}\x07"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` wrapped for tmux's passthrough (every ESC doubled), which tmux forwards to
    the outer terminal when ``allow-passthrough`` is on."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


class TerminalNotifier:
    """Desktop notifications through the terminal for the methods of ``notify`` that are OSC
    (``osc9``, ``osc777``); none: :attr:`enabled` is False and nothing is ever written.

    ``write`` takes the text to send to the terminal; the app passes its driver's writer, so the
    bytes go out through Textual in order with the screen's (over SSH they reach the laptop).
    Inside tmux (``$TMUX``) each sequence is wrapped for its passthrough. One notification per
    level every :data:`NOTIFY_GAP_S` seconds (a replay at full speed can cross a level many times
    a second; every crossing is in the panel and the log).
    """

    def __init__(
        self,
        methods: Collection[str],
        write: Callable[[str], Any],
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self.methods = tuple(m for m in OSC_METHODS if m in methods)
        self.write = write
        self.tmux = bool(env.get("TMUX"))
        self.clock = clock
        self.sent = 0
        self._last: dict[tuple[str, float], float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.methods)

    def sequences(self, alert: AlertEvent) -> list[str]:
        """The escape sequences for one alert (empty when no OSC method is on)."""
        title, body = alert_text(alert)
        out = []
        for method in self.methods:
            seq = osc9(title, body) if method == "osc9" else osc777(title, body)
            out.append(tmux_passthrough(seq) if self.tmux else seq)
        return out

    def __call__(self, alert: AlertEvent) -> bool:
        """Notify one alert if it notifies at all (:func:`notifies`) and its level has not just
        notified; returns whether anything was written."""
        if not self.methods or not notifies(alert):
            return False
        now = self.clock()
        key = (alert.symbol, alert.level)
        if now - self._last.get(key, -1e18) < NOTIFY_GAP_S:
            return False
        self._last[key] = now
        text = "".join(self.sequences(alert))
        self.write(text)
        self.sent += 1
        return True


# --- webhooks: payload presets -----------------------------------------------------------------
def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup (<!channel> pings everyone): escape exactly these three
    # (api.slack.com/reference/surfaces/formatting#escaping)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(alert: AlertEvent, fmt: str) -> dict[str, Any]:
    """The JSON body posted for an alert: ``json`` is the alert itself (as ``r2k alerts`` prints
    it); ``slack`` an incoming webhook's ``{"text": ...}``; ``discord`` an execute-webhook body
    ``{"content": ..., "username": "r2k"}`` (content at most 2,000 characters) that mentions
    nobody, whatever a label says (``allowed_mentions``). Raises ValueError for another format."""
    if fmt == "json":
        return alert.to_dict()
    title, body = alert_text(alert)
    if fmt == "slack":
        return {"text": _slack_escape(f"{title}\n{body}")}
    if fmt == "discord":
        return {
            "content": f"{title}\n{body}"[:DISCORD_MAX],
            "username": "r2k",
            "allowed_mentions": {"parse": []},
        }
    raise ValueError(f"unknown webhook format {fmt!r}; use json, slack or discord")


# --- the command sink's arguments --------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _plain_number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if x == x else "nan"


def command_fields(alert: AlertEvent) -> dict[str, str]:
    """What ``[alerts.command]`` placeholders stand for: ``title``, ``body``, ``symbol``,
    ``level`` and ``price`` (plain numbers: ``2642``, ``2645.2``; bp for a spread), ``label``,
    ``direction``, ``kind``, ``confirm``, ``ts`` (ISO-8601 UTC) and ``feed``. No control
    characters."""
    title, body = alert_text(alert)
    return {
        "title": title,
        "body": body,
        "symbol": clean(alert.symbol, 40),
        "level": _plain_number(alert.level),
        "label": clean(alert.label, 80),
        "direction": alert.direction,
        "price": _plain_number(alert.price),
        "kind": alert.kind,
        "confirm": alert.confirm,
        "ts": iso_ms(alert.ts),
        "feed": clean(alert.feed, 40),
    }


def command_argv(argv: Sequence[str], alert: AlertEvent) -> list[str]:
    """``argv`` with each ``{placeholder}`` replaced by the alert's field, inside its own
    argument: ``["notify-send", "{title}", "{body}"]`` gives three arguments whatever the label
    holds (no shell ever reads them). An unknown placeholder stays as written (the config check
    refuses them)."""
    fields = command_fields(alert)
    return [_PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), a) for a in argv]
