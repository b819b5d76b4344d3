"""Canonical symbols (Yahoo style) and conversions to providers' forms."""

from __future__ import annotations

import re
from typing import Literal

RUT, SPX, MAGS, IWM, SPY = "^RUT", "^GSPC", "MAGS", "IWM", "SPY"
INDEX_SYMBOLS = (RUT, SPX)
HEADLINE = (RUT, SPX, MAGS, IWM, SPY)
#: the spreads alerts watch, by name: (small, large); bp = (r_small - r_large) * 10,000
SPREADS: dict[str, tuple[str, str]] = {"RUT-SPX": (RUT, SPX), "RUT-MAGS": (RUT, MAGS)}

Style = Literal["yahoo", "dot"]

# Only a class suffix after a root (MOG-A, BRK.B) is rewritten; index carets and plain tickers pass.
_YAHOO_CLASS = re.compile(r"^([A-Z0-9]+)-([A-Z])$")
_DOT_CLASS = re.compile(r"^([A-Z0-9]+)\.([A-Z])$")


def to_provider(symbol: str, style: Style) -> str:
    """Canonical ``MOG-A`` -> the provider's form: ``yahoo`` keeps it, ``dot`` gives ``MOG.A``
    (Alpaca, Polygon, Finnhub)."""
    if style == "yahoo":
        return symbol
    if style == "dot":
        return _YAHOO_CLASS.sub(r"\1.\2", symbol)
    raise ValueError(f"unknown symbol style {style!r}; use 'yahoo' or 'dot'")


def from_provider(symbol: str, style: Style) -> str:
    """The provider's form -> canonical (Yahoo, class shares with a dash)."""
    if style == "yahoo":
        return symbol
    if style == "dot":
        return _DOT_CLASS.sub(r"\1-\2", symbol)
    raise ValueError(f"unknown symbol style {style!r}; use 'yahoo' or 'dot'")
