"""The feed interface and the registry of feeds by spec string.

A feed is an async context manager; iterating it yields :mod:`feeds.events` events until the
feed ends (replay) or is closed. Specs look like ``sim``, ``replay:PATH``, ``alpaca:iex``: the part
before the first colon names the feed, the rest is its argument.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from feeds.errors import FeedSpecError
from feeds.events import Event

if TYPE_CHECKING:
    from feeds.reference.directory import DirectoryCache, SymbolDirectory
    from feeds.reference.holdings import Holdings


@dataclass(slots=True)
class FeedOptions:
    """Everything a feed may need to start. Providers read only what applies to them."""

    # canonical symbols to stream, in priority order (indices and ETFs first)
    symbols: list[str] = field(default_factory=list)
    speed: float = 1.0  # sim/replay: multiple of real time (0 = as fast as possible)
    seed: int = 0  # sim: random seed
    # sim: pad the universe with synthetic names up to this many (0 = bundled only)
    universe: int = 0
    config: Mapping[str, Any] = field(default_factory=dict)  # the [feeds.<name>] config table
    env: Mapping[str, str] = field(default_factory=dict)  # environment (keys, URL overrides)
    stale_after: float = 15.0  # seconds without a tick while the market is open -> STALE
    holdings: Holdings | None = None  # the constituent universe with weights (sim uses it)
    # live providers: where their downloaded symbol list is cached (None: no download at all)
    symbol_cache: DirectoryCache | None = None


class Feed(ABC):
    """Base class for every feed (sim, replay, live providers, a relay)."""

    #: True when ^RUT/^GSPC are not streamed but estimated from IWM/SPY by the pipeline.
    estimates_indices: bool = False

    def __init__(self, spec: str, options: FeedOptions) -> None:
        self.spec = spec
        self.options = options

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and tasks. Safe to call twice."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Event]: ...

    def batches(self) -> AsyncIterator[list[Event]] | None:
        """The same events in the groups they come in (a provider's frame, a relay's batch, what
        the sim releases at one wake-up), for a consumer that applies a group in one call
        (:meth:`feeds.pipeline.Pipeline.handle_batch`, issue 12 §5); None when the feed has no
        groups (then iterate the feed itself). Iterate one or the other, never both."""
        return None

    def listed(self) -> SymbolDirectory | None:
        """The symbols this feed is known to carry as soon as it is built (a replay file's), for
        spelling holdings tickers as the feed does; None when only the stream will tell."""
        return None

    def now_ms(self) -> int:
        """The feed's clock in epoch ms: simulated/replayed time, or the wall clock when live."""
        return int(time.time() * 1000)

    @property
    def label(self) -> str:
        return self.spec


FeedFactory = Callable[[str, str, FeedOptions], Feed]  # (spec, argument, options) -> Feed

_REGISTRY: dict[str, FeedFactory] = {}
_LAZY: dict[str, str] = {
    # name -> module that registers it on import; keeps heavy provider imports off start-up.
    "sim": "feeds.sources.sim",
    "replay": "feeds.storage.replay",
    "yahoo": "feeds.sources.providers.yahoo",
    "alpaca": "feeds.sources.providers.alpaca",
    "finnhub": "feeds.sources.providers.finnhub",
    "polygon": "feeds.sources.providers.polygon",
    "massive": "feeds.sources.providers.polygon",
    # a desk's relay over NATS (issue 13): nats://HOST:PORT[/PREFIX], tls://...
    "nats": "feeds.sources.relay.consumer",
    "tls": "feeds.sources.relay.consumer",
}


def register(name: str) -> Callable[[FeedFactory], FeedFactory]:
    def deco(factory: FeedFactory) -> FeedFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def feed_names() -> list[str]:
    return sorted(set(_REGISTRY) | set(_LAZY))


#: How a feed is written in a spec where it takes more than its name.
SPEC_FORMS = {
    "replay": "replay:PATH",
    "alpaca": "alpaca[:iex|:sip]",
    "polygon": "polygon[:delayed]",
    "nats": "nats://HOST:PORT[/PREFIX]",
    "tls": "tls://HOST:PORT[/PREFIX]",
}


def spec_forms() -> str:
    """Every feed as a spec writes it (``sim, replay:PATH, nats://HOST:PORT[/PREFIX], ...``):
    what ``--help`` and an unknown-feed error list, so neither misses one."""
    return ", ".join(SPEC_FORMS.get(n, n) for n in feed_names())


def parse_spec(spec: str) -> tuple[str, str]:
    name, _, arg = spec.strip().partition(":")
    return name.strip().lower(), arg.strip()


#: Feeds whose prices are not the market's now: their alerts are kept apart from live ones.
OFFLINE_FEEDS = frozenset({"sim", "replay"})


def feed_kind(spec: str) -> str:
    """The kind a spec names (``"alpaca:iex"`` -> ``"alpaca"``), as alerts record it."""
    return parse_spec(spec)[0]


def is_live(kind: str) -> bool:
    """True for a market data provider (or a relay of one); False for sim, replay and ""."""
    return bool(kind) and kind not in OFFLINE_FEEDS


def check_spec(spec: str) -> FeedFactory:
    """The factory of the feed ``spec`` names. Raises FeedSpecError (one line, naming no
    option: the caller says whether the spec came from --feed, the config file or $R2K_FEED)."""
    name, _ = parse_spec(spec)
    if not name:
        raise FeedSpecError(f"empty feed spec; use one of: {spec_forms()}")
    if name not in _REGISTRY and name in _LAZY:
        import importlib

        importlib.import_module(_LAZY[name])
    factory = _REGISTRY.get(name)
    if factory is None:
        raise FeedSpecError(f"unknown feed {name!r}; use one of: {spec_forms()}")
    return factory


def open_feed(spec: str, options: FeedOptions | None = None) -> Feed:
    """Build the feed a spec names. Raises FeedSpecError with a one-line fix on a bad spec."""
    factory = check_spec(spec)
    return factory(spec, parse_spec(spec)[1], options or FeedOptions())
