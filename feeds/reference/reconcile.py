"""Holdings tickers meet the feed's spelling: reconciliation against symbol directories.

iShares writes NYSE class shares without their dot (``JWA`` for JW.A, ``MOGA`` for MOG.A), and
nothing in the file tells them from plain tickers that end in a class letter (``ZETA``,
``RUSHA``: their names say "CLASS A" too). So each ticker is looked up in the directories of the
symbols the feed really has, in order of trust (a replay's own file, then the provider's list or
the bundled US listing):

1. listed as written: kept (``ZETA``, ``RUSHA``, ``BE``);
2. else exactly one listed symbol is spelt the same but for punctuation: that symbol
   (``JWA`` -> ``JW-A``); several: ambiguous, kept as written and reported;
3. not in this directory at all: the next directory decides;
4. in none: the hand list (:data:`HAND_SPELLINGS`, for what no directory resolves), else
   unmatched: kept as written and reported.

Later, a symbol a stream sends that no holding has can still claim an unmatched holding with
the same key (:meth:`Reconciler.adopt`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from feeds.reference.directory import SymbolDirectory, compact
from feeds.reference.holdings import Holdings

#: Tickers no directory resolves, and the symbol they stand for. Every entry of the former
#: hand-kept map (MOGA, GEFB, CRDA, BFB, HEIA, LENB...) is resolved by the bundled directory,
#: so none is needed today; add one only with the reason, when a real file needs it.
HAND_SPELLINGS: Mapping[str, str] = {}
HAND_LIST = "r2k's hand list"
STREAM = "the symbols the feed sent"
_SHOWN = 8  # tickers named in a one-line summary before "+N more"


@dataclass(frozen=True, slots=True)
class Respelt:
    """A holdings ticker written differently from the feed: ``ticker`` -> ``symbol``, found in
    ``by`` (a directory's description, the hand list, or the stream)."""

    ticker: str
    symbol: str
    by: str


@dataclass(slots=True)
class Reconciliation:
    """The outcome for one holdings file: the holdings as the feed spells them, and the report.

    ``respelt``: tickers written differently from the feed; ``unmatched``: tickers no directory
    lists (kept as written: they get ticks only if the feed sends them so); ``ambiguous``:
    tickers several listed symbols match (kept as written), with those symbols.
    """

    holdings: Holdings
    respelt: list[Respelt] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)  # the directories, most trusted first

    def summary(self, *, brief: bool = False) -> str | None:
        """One line for a load warning, or None when every ticker is listed as written.

        ``brief`` (a toast titled "Holdings"): without the file's name and the sources.
        """
        parts = []
        if self.respelt:
            pairs = [f"{r.ticker}→{r.symbol}" for r in self.respelt]
            by = "" if brief else f"; by {', '.join(sorted({r.by for r in self.respelt}))}"
            parts.append(
                f"{_count(self.respelt, 'ticker')} respelt as the feed lists "
                f"{'it' if len(self.respelt) == 1 else 'them'} ({_names(pairs)}{by})"
            )
        if self.ambiguous:
            shown = [f"{t}: {' or '.join(c)}" for t, c in self.ambiguous.items()]
            parts.append(
                f"{_count(self.ambiguous, 'ticker')} ambiguous, kept as written ({_names(shown)})"
            )
        if self.unmatched:
            parts.append(
                f"{_count(self.unmatched, 'ticker')} listed nowhere, kept as written "
                f"({_names(self.unmatched)})"
            )
        if not parts:
            return None
        source = self.holdings.source
        head = "" if brief else f"holdings{f' ({source})' if source else ''}: "
        return head + "; ".join(parts)


def _count(items: Sequence[object] | Mapping[str, object], noun: str) -> str:
    n = len(items)
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _names(items: Sequence[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f", +{more} more" if more > 0 else "")


class Reconciler:
    """Resolves a holdings file's tickers against directories; re-resolves when one is added.

    ``holdings`` are as parsed (the file's spelling); ``directories`` most trusted first;
    ``hand`` maps tickers no directory resolves to their symbols. ``result`` holds the latest
    :class:`Reconciliation`.
    """

    def __init__(
        self,
        holdings: Holdings,
        directories: Sequence[SymbolDirectory],
        hand: Mapping[str, str] | None = None,
    ) -> None:
        self.raw = holdings
        self.directories = list(directories)
        self.hand = HAND_SPELLINGS if hand is None else hand
        self._adopted: dict[str, str] = {}  # ticker -> symbol a stream sent
        self.result = self._resolve()
        self._unmatched_keys = self._keys()

    def prefer(self, directory: SymbolDirectory) -> Reconciliation:
        """Put ``directory`` first (a replay file's symbols) and resolve again."""
        self.directories = [directory, *(d for d in self.directories if d.label != directory.label)]
        self.result = self._resolve()
        self._unmatched_keys = self._keys()
        return self.result

    @property
    def can_adopt(self) -> bool:
        """True while some unmatched ticker could still be claimed by a streamed symbol."""
        return bool(self._unmatched_keys)

    def adopt(self, symbol: str) -> tuple[str, str] | None:
        """A streamed ``symbol`` no holding has: ``(ticker, symbol)`` when it is the one unmatched
        ticker with its key (the holding is now spelt ``symbol``), else None."""
        tickers = self._unmatched_keys.get(compact(symbol))
        if not tickers or len(tickers) != 1:
            return None
        ticker = tickers[0]
        self._adopted[ticker] = symbol
        self.result = self._resolve()
        self._unmatched_keys = self._keys()
        return ticker, symbol

    def _keys(self) -> dict[str, list[str]]:
        keys: dict[str, list[str]] = {}
        for t in self.result.unmatched:
            keys.setdefault(compact(t), []).append(t)
        return keys

    def _resolve(self) -> Reconciliation:
        written = {c.symbol for c in self.raw.constituents}
        taken: set[str] = set()
        out = Reconciliation(self.raw, checked=[d.describe() for d in self.directories])
        spelt: dict[str, str] = {}
        for c in self.raw.constituents:
            symbol, by, candidates = self._one(c.symbol)
            if symbol != c.symbol and (symbol in taken or symbol in written):
                # the file has both spellings (or two tickers meet one symbol): keep as written
                candidates, symbol, by = (symbol,), c.symbol, None
            if by is not None:
                out.respelt.append(Respelt(c.symbol, symbol, by))
                spelt[c.symbol] = symbol
            elif len(candidates) > 1 or (candidates and candidates[0] != c.symbol):
                out.ambiguous[c.symbol] = candidates
            elif not candidates:
                out.unmatched.append(c.symbol)
            taken.add(symbol)
        out.holdings = respell(self.raw, spelt)
        return out

    def _one(self, ticker: str) -> tuple[str, str | None, tuple[str, ...]]:
        """(symbol, who respelt it or None, the candidates seen)."""
        for d in self.directories:
            found = d.match(ticker)
            if found == (ticker,):
                return ticker, None, found
            if len(found) == 1:
                return found[0], d.describe(), found
            if found:
                return ticker, None, found  # several: the most trusted directory cannot tell
        if ticker in self._adopted:
            return self._adopted[ticker], STREAM, ()
        if ticker in self.hand:
            return self.hand[ticker], HAND_LIST, ()
        return ticker, None, ()


def respell(holdings: Holdings, spelt: Mapping[str, str]) -> Holdings:
    """``holdings`` with each constituent whose symbol is a key of ``spelt`` renamed to its
    value (a new object; the input is unchanged). Other fields are kept as they are."""
    if not spelt:
        return holdings
    constituents = [
        dataclasses.replace(c, symbol=spelt[c.symbol]) if c.symbol in spelt else c
        for c in holdings.constituents
    ]
    return dataclasses.replace(holdings, constituents=constituents)
