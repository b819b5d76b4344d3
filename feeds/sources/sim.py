"""The simulated market: the default feed, no account and no network.

A one-day market model stepped one simulated second at a time with numpy:

* three factors: the Russell 2000 (``^RUT``), the S&P 500 (correlated ~0.7, lower vol) and the
  Magnificent Seven (``MAGS``, correlated with the S&P 500, higher vol);
* constituents move as ``beta * RUT + idiosyncratic`` (opening gap, a day drift with a few news
  movers, noise), betas normalised so the weighted sum of their returns tracks the index;
* IWM and SPY track their index divided by a fixed ratio, with a tiny tracking error;
* Poisson tick arrivals (liquid names tick more often, indices once a second like real index
  feeds), U-shaped intraday activity, thin pre/post-market trading, nothing after 20:00.

Every random draw comes from generators seeded by ``options.seed`` and the events are produced in
simulated time; pacing only decides when they are released. So a seed gives the same events at
any speed on any machine. The opening minute is scripted: ^RUT opens ~3-4 points under 2,450 and
is lifted through it (by more than the default 0.05 % hysteresis band) within 40 s, so a first run
shows a level alert straight away whatever the seed.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from feeds.events import Event, FeedState, FeedStatus, Tick
from feeds.feed import Feed, FeedOptions, register
from feeds.market import calendar
from feeds.reference.holdings import Holdings, load_holdings, pad_universe
from feeds.sources.simhistory import make_history
from feeds.symbols import HEADLINE, IWM, MAGS, RUT, SPX, SPY

SUPPORT = 2450.0  # the ^RUT level the opening minute crosses
BAND = 0.0005  # the default hysteresis band (fraction of the level) the crossing must clear
IWM_RATIO = 10.01  # RUT / IWM around the holdings date (Nov 2025)
SPY_RATIO = 10.03  # SPX / SPY
SESSION_S = 23_400  # seconds in a regular session
_RAMP_S = 40  # the opening drift is spread over this many seconds, then stops
_DAY = {RUT: 0.014, SPX: 0.009, MAGS: 0.018}  # daily vols of the factors
_RHO_RUT_SPX = 0.7
_RHO_SPX_MAGS = 0.85
# Ticks per second at unit activity. Index feeds publish about once a second, so indices are
# not Poisson: they tick every second of the regular session.
_ETF_RATE = {MAGS: 1.5, IWM: 6.0, SPY: 8.0}
_RELEASE_QUANTUM_S = 0.01  # pacing granularity (wall seconds): ticks are at most this late
_CHUNK = 60  # factor shocks are drawn in blocks of this many seconds
#: The most ticks one group holds: the consumer applies a group in one go, so this bounds the
#: work per loop iteration (about 50 ms at the pipeline's ~200k ticks/s), and q, Ctrl+C and
#: --duration are answered between groups whatever tick_rate asks (issue 19 §1).
MAX_GROUP = 10_000
#: How far (wall seconds) the release may trail the sim's clock before the sim slows its clock
#: to what the machine applies and says so: a backlog never grows past this.
BEHIND_MAX_S = 2.0
_BEHIND_NOTE_S = 5.0  # the "falling behind" status is refreshed at most this often
_OPENING_S = 30  # every constituent has printed within this many seconds of the open


@dataclass(slots=True)
class _Phase:
    open_ms: int
    close_ms: int
    pre_ms: int
    post_end_ms: int


def _day_phase(start_ms: int) -> _Phase:
    """Phase boundaries of the sim's day (pre-market opens 5.5 h before the regular open)."""
    oc = calendar.session_open_close(start_ms)
    post_end = calendar.extended_end(start_ms)
    if oc is None or post_end is None:
        # Not a trading day (only a test hook can pick one): nothing trades.
        return _Phase(start_ms, start_ms, start_ms, start_ms)
    return _Phase(oc[0], oc[1], oc[0] - 19_800_000, post_end)


def _ref_price(symbol: str) -> float:
    """A stable, seed-independent price level for a name (its 'previous close' scale)."""
    u = zlib.crc32(symbol.encode()) / 2**32
    return round(40.0 * math.exp(3.2 * (u - 0.5)), 2)  # about $8 to $200


class Market:
    """The day's market model. ``step()`` returns the ticks of the next simulated second.

    Pure and synchronous (no clock, no asyncio) so tests and benchmarks can drive it directly.
    """

    def __init__(
        self, holdings: Holdings, seed: int, start_ms: int, tick_rate: float = 1.0
    ) -> None:
        self.seed = seed
        self.holdings = holdings
        self.start_ms = start_ms
        self.t_ms = start_ms  # start of the next second to generate
        self.phase = _day_phase(start_ms)
        ss = np.random.SeedSequence(seed)
        rng_p, self._rng_f, self._rng_c, self._rng_h = (
            np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(4)
        )

        cons = [c for c in holdings.constituents if c.symbol not in HEADLINE]
        self.symbols: list[str] = [*HEADLINE, *(c.symbol for c in cons)]
        nh, nc = len(HEADLINE), len(cons)
        n = nh + nc
        self.n_headline = nh
        self.weights = np.array([c.weight for c in cons], dtype=np.float64)

        # --- starting levels ------------------------------------------------------------------
        prev_rut = round(2440.0 + rng_p.uniform(-4.0, 4.0), 2)
        s0_rut = round(SUPPORT - 3.0 - rng_p.uniform(0.0, 1.0), 2)
        prev_spx = round(6700.0 * (1 + rng_p.uniform(-0.005, 0.005)), 2)
        s0_spx = prev_spx * (1 + rng_p.normal(0.0004, 0.001))
        prev_mags = round(65.0 * (1 + rng_p.uniform(-0.01, 0.01)), 2)
        s0_mags = prev_mags * (1 + rng_p.normal(0.0005, 0.002))
        self._prev_factor = np.log([prev_rut, prev_spx, prev_mags])
        self._x = np.log([s0_rut, s0_spx, s0_mags])  # log levels of the three factors
        self._te = np.zeros(2)  # IWM, SPY tracking error (log)
        self._mu = rng_p.normal(0.0, [0.004, 0.003, 0.005]) / SESSION_S  # day drift per second

        # --- constituents: beta * RUT + idiosyncratic ------------------------------------------
        w = self.weights
        rank = np.arange(nc) / max(nc - 1, 1)  # 0 = heaviest; small caps are more volatile
        beta = rng_p.uniform(0.8, 1.5, nc)
        if nc and w.sum() > 0:
            beta *= w.sum() / (w @ beta)  # weighted mean beta 1: contributions sum to the index
        self._beta = beta

        # --- daily history (feeds.sources.simhistory): members end at their previous closes, which
        # run from the holdings file's own prices on its as-of date ------------------------
        self.history = make_history(
            self._rng_h,
            start_ms,
            (prev_rut, prev_spx, prev_mags),
            symbols=[c.symbol for c in cons],
            weights=w,
            betas=beta,
            prices=np.array([c.price or _ref_price(c.symbol) for c in cons], dtype=np.float64),
            as_of=holdings.as_of,
        )
        prev = np.empty(n)
        prev[:5] = [
            prev_rut,
            prev_spx,
            prev_mags,
            round(prev_rut / IWM_RATIO, 2),
            round(prev_spx / SPY_RATIO, 2),
        ]
        members = self.history.member_closes
        prev[nh:] = members[-1] if len(members) else [_ref_price(c.symbol) for c in cons]
        self.prev_close = prev
        # object arrays of the symbols and previous closes: a tick's fields by fancy indexing
        self._names = np.array(self.symbols, dtype=object)
        self._prev_obj = np.array(prev.tolist(), dtype=object)
        self._sig = (0.018 + 0.02 * rank) * rng_p.uniform(0.8, 1.25, nc) / math.sqrt(SESSION_S)
        gap = rng_p.normal(0.0, 0.008, nc)
        drift = rng_p.normal(0.0, 0.01, nc)
        news = rng_p.random(nc) < 0.03  # a few names have news: moves of 3-9 % on the day
        drift[news] = rng_p.choice([-1.0, 1.0], news.sum()) * rng_p.uniform(0.03, 0.09, news.sum())
        if nc and w.sum() > 0:  # idiosyncratic parts cancel in the weighted sum, as they do
            gap -= (w @ gap) / w.sum()
            drift -= (w @ drift) / w.sum()
        self._e = gap  # idiosyncratic log return since the previous close
        self._drift = drift / SESSION_S

        # --- ticking -------------------------------------------------------------------------
        rate = np.empty(n)
        rate[:2] = 0.0  # indices: handled as one tick per second
        rate[2:5] = [_ETF_RATE[MAGS], _ETF_RATE[IWM], _ETF_RATE[SPY]]
        # trades grow less than in proportion to a name's size: the largest member (~1 % of the
        # index) about 3 a second, a mid-sized one (0.05 %) one every 3-4 s, the smallest one
        # every minute or so; with the whole index, about 440 a second in all at mid-day
        rate[nh:] = np.clip(2.8 * (w / 0.0106) ** 0.8, 0.02, 6.0) if nc else []
        self._rate = rate * tick_rate
        self._etf_or_index = np.zeros(n, dtype=bool)
        self._etf_or_index[:nh] = True
        half_spread = np.zeros(n)
        half_spread[2:5] = [0.0002, 0.00005, 0.00003]
        half_spread[nh:] = 0.0002 + 0.0008 * rank
        self._half_spread = half_spread
        size_mult = np.ones(n)
        size_mult[:5] = [150.0, 1200.0, 0.2, 1.3, 2.0]  # indices report aggregate volume
        self._size_mult = size_mult
        self._volume = np.zeros(n, dtype=np.int64)
        # the second after the open at which each name's opening print comes (if not before)
        self._open_at = np.zeros(n, dtype=np.int64)
        self._open_at[nh:] = rng_p.integers(0, _OPENING_S, nc)
        self._opened = np.zeros(n, dtype=bool)
        self._opened[:nh] = True
        if self.phase.open_ms < start_ms < self.phase.close_ms:
            # Joining mid-session: the day's volume so far, as if it had traded at the mean rate.
            elapsed = (start_ms - self.phase.open_ms) / 1000
            ticks = np.where(rate > 0, rate, 1.0) * elapsed * 0.9
            self._volume = (ticks * 170 * size_mult).astype(np.int64)

        # --- the opening minute: guarantee ^RUT crosses SUPPORT by more than the band ---------
        self._shocks = self._draw_chunk()
        vol = np.array([self._vol_mult(start_ms + k * 1000) for k in range(_RAMP_S)])
        noise = float(np.sum(vol * self._sig_factor()[0] * self._shocks[:_RAMP_S, 0]))
        target = SUPPORT * (1 + BAND) + 1.0  # 1 point clear of the band
        need = math.log(target / s0_rut) - noise - _RAMP_S * self._mu[0]
        typical = math.log((SUPPORT + rng_p.uniform(3.0, 5.0)) / s0_rut)
        self._lift = max(need, typical)  # total log move added by the ramp
        self._k = 0  # seconds generated

    # --- model pieces ---------------------------------------------------------------------------
    def _draw_chunk(self) -> np.ndarray:
        return self._rng_f.standard_normal((_CHUNK, 3))

    @staticmethod
    def _sig_factor() -> np.ndarray:
        return np.array([_DAY[RUT], _DAY[SPX], _DAY[MAGS]]) / math.sqrt(SESSION_S)

    def _vol_mult(self, t_ms: int) -> float:
        """Intraday activity: U-shaped in the session (busy open, busier close), thin outside."""
        p = self.phase
        if p.open_ms <= t_ms < p.close_ms:
            since_open = (t_ms - p.open_ms) / 1000
            to_close = (p.close_ms - t_ms) / 1000
            return 0.75 + 1.3 * math.exp(-since_open / 900) + 0.5 * math.exp(-to_close / 900)
        if p.pre_ms <= t_ms < p.post_end_ms:
            return 0.25
        return 0.0

    def session(self, t_ms: int) -> str:
        p = self.phase
        if p.open_ms <= t_ms < p.close_ms:
            return "open"
        if p.pre_ms <= t_ms < p.open_ms:
            return "pre"
        if p.close_ms <= t_ms < p.post_end_ms:
            return "post"
        return "closed"

    @property
    def finished(self) -> bool:
        """True once post-market trading is over: no more ticks today."""
        return self.t_ms >= self.phase.post_end_ms

    def levels(self) -> dict[str, float]:
        """Current latent (mid) prices of the headline symbols, for tests and diagnostics."""
        rut, spx, mags = np.exp(self._x).tolist()
        iwm, spy = (np.exp(self._x[:2] + self._te) / [IWM_RATIO, SPY_RATIO]).tolist()
        return {RUT: rut, SPX: spx, MAGS: mags, IWM: iwm, SPY: spy}

    def constituent_returns(self) -> np.ndarray:
        """Latent return since the previous close of each constituent (holdings order)."""
        r_rut = self._x[0] - self._prev_factor[0]
        return np.expm1(self._beta * r_rut + self._e)

    # --- history --------------------------------------------------------------------------------
    def history_events(self) -> list[Event]:
        """What a provider's history endpoints would give before the first tick: years of
        daily bars for ^RUT, ^GSPC and MAGS, and every member's close of the previous year's
        last session (the YTD anchor), from :attr:`history`."""
        events: list[Event] = list(self.history.daily_bars())
        if self.history.year_end is not None:
            anchors = self.history.session_closes(self.history.year_end)
            if anchors is not None:
                events.append(anchors)
        return events

    # --- one simulated second -------------------------------------------------------------------
    def step(self) -> list[Tick]:
        """Ticks in [t_ms, t_ms + 1 s), time-ordered; then advance the model by one second."""
        cols = self.step_columns()
        return [] if cols is None else cols.ticks(0, len(cols))

    def step_columns(self) -> TickColumns | None:
        """:meth:`step`'s ticks as columns (None: no tick this second), for a consumer that
        turns them into :class:`Tick` objects a slice at a time: at 50,000 ticks/s a whole
        second's objects at once would hold the event loop for a tenth of a second."""
        t = self.t_ms
        k = self._k
        act = self._vol_mult(t)
        is_open = self.phase.open_ms <= t < self.phase.close_ms
        cols = self._ticks(t, act, is_open) if act > 0 else None
        self._advance(k, act)
        self._k = k + 1
        self.t_ms = t + 1000
        if self._k % _CHUNK == 0:
            self._shocks = self._draw_chunk()
        return cols

    def _advance(self, k: int, act: float) -> None:
        z = self._shocks[k % _CHUNK]
        sig = self._sig_factor() * max(act, 0.25)  # latent prices drift on even overnight
        d_rut = sig[0] * z[0]
        d_spx = sig[1] * (_RHO_RUT_SPX * z[0] + math.sqrt(1 - _RHO_RUT_SPX**2) * z[1])
        z_spx = d_spx / sig[1]
        d_mags = sig[2] * (_RHO_SPX_MAGS * z_spx + math.sqrt(1 - _RHO_SPX_MAGS**2) * z[2])
        lift = 0.0
        if k < _RAMP_S:  # smoothstep ramp: the opening pop accelerates, then fades out
            a, b = k / _RAMP_S, (k + 1) / _RAMP_S
            lift = self._lift * ((3 * b * b - 2 * b**3) - (3 * a * a - 2 * a**3))
        self._x += np.array([d_rut + lift, d_spx, d_mags]) + self._mu
        rng = self._rng_c
        self._te += -self._te / 30 + rng.normal(0.0, 0.00001, 2)
        nc = len(self._e)
        if nc:
            self._e += self._drift + self._sig * max(act, 0.25) * rng.standard_normal(nc)

    def _latent_prices(self) -> np.ndarray:
        nh = self.n_headline
        p = np.empty(nh + len(self._e))
        p[:3] = np.exp(self._x)
        p[3:5] = np.exp(self._x[:2] + self._te) / [IWM_RATIO, SPY_RATIO]
        r_rut = self._x[0] - self._prev_factor[0]
        p[nh:] = self.prev_close[nh:] * np.exp(self._beta * r_rut + self._e)
        return p

    def _ticks(self, t: int, act: float, is_open: bool) -> TickColumns | None:
        rng = self._rng_c
        n = len(self.symbols)
        # Extended hours: ETFs trade thinly, single names barely.
        thin = np.where(self._etf_or_index, 0.15, 0.02)
        lam = self._rate * (act if is_open else thin)
        counts = rng.poisson(lam)
        counts[:2] = 1 if is_open else 0  # index values: once a second in the session only
        if is_open and not self._opened.all():
            # the opening cross: every name prints within _OPENING_S of the open (or of the
            # sim's start mid-session), however thinly it trades afterwards
            second = (t - max(self.phase.open_ms, self.start_ms)) // 1000
            due = ~self._opened & (self._open_at <= second)
            counts[due] = np.maximum(counts[due], 1)
            self._opened |= counts > 0
        total = int(counts.sum())
        if total == 0:
            return None
        sym = np.repeat(np.arange(n), counts)
        off = rng.integers(0, 1000, total)
        order = np.lexsort((off, sym))  # by symbol, then time: for the per-symbol volume cumsum
        off = off[order]
        lots = rng.geometric(0.45, total) * 100
        odd = rng.random(total) < 0.25
        lots[odd] = rng.integers(1, 100, int(odd.sum()))
        sizes = np.maximum(np.rint(lots * self._size_mult[sym]), 1).astype(np.int64)
        csum = np.cumsum(sizes)
        starts = np.cumsum(counts) - counts
        before = np.concatenate(([0], csum))[starts]
        day_vol = self._volume[sym] + csum - np.repeat(before, counts)
        self._volume += np.bincount(sym, weights=sizes, minlength=n).astype(np.int64)
        mid = self._latent_prices()[sym]
        bounce = self._half_spread[sym] * rng.uniform(-1.0, 1.0, total)
        price = np.round(mid * (1 + bounce), 2)
        tord = np.argsort(off, kind="stable")
        return TickColumns(
            self._names,
            self._prev_obj,
            sym[tord],
            price[tord],
            off[tord] + t,
            sizes[tord].astype(np.float64),
            day_vol[tord].astype(np.float64),
        )


class TickColumns:
    """One simulated second's ticks as time-ordered columns: symbol ids into the market's names
    and previous closes, price, time (epoch ms), size and day volume. ``ticks(k, j)`` builds
    the :class:`Tick` objects of rows ``k`` to ``j`` (column-wise: numpy to lists, one map,
    about half the cost of converting each field per tick)."""

    __slots__ = ("day_volume", "names", "prev", "price", "size", "sym", "ts")

    def __init__(
        self,
        names: np.ndarray,
        prev: np.ndarray,
        sym: np.ndarray,
        price: np.ndarray,
        ts: np.ndarray,
        size: np.ndarray,
        day_volume: np.ndarray,
    ) -> None:
        self.names, self.prev = names, prev
        self.sym, self.price, self.ts = sym, price, ts
        self.size, self.day_volume = size, day_volume

    def __len__(self) -> int:
        return len(self.ts)

    def ticks(self, k: int, j: int) -> list[Tick]:
        s = self.sym[k:j]
        return list(
            map(
                Tick,
                self.names[s].tolist(),
                self.price[k:j].tolist(),
                self.ts[k:j].tolist(),
                self.size[k:j].tolist(),
                self.day_volume[k:j].tolist(),
                self.prev[s].tolist(),
            )
        )


class SimFeed(Feed):
    """The ``sim`` feed: a :class:`Market` released at ``options.speed`` x real time."""

    def __init__(
        self,
        spec: str = "sim",
        options: FeedOptions | None = None,
        *,
        start_ms: int | None = None,
        wall_ms: int | None = None,
    ) -> None:
        """``start_ms`` (or ``options.config["start_ms"]``) pins the sim clock's start, for tests;
        ``wall_ms`` stands in for the wall clock when choosing the default start."""
        options = options or FeedOptions()
        super().__init__(spec, options)
        if start_ms is None and options.config.get("start_ms") is not None:
            start_ms = int(options.config["start_ms"])
        self._start_ms = start_ms
        self._wall_ms = wall_ms
        self.speed = max(float(options.speed), 0.0)
        self._market: Market | None = None
        self._clock_ms: int | None = start_ms  # speed 0: the time of the last released batch
        self._wall0: float | None = None
        self._closed = False
        #: wall seconds the sim's clock was held back because the machine could not apply its
        #: ticks in time (0 while it keeps up); :attr:`falling_behind` while it is happening
        self.behind_s = 0.0
        self.falling_behind = False
        self._note_at = (0.0, 0, 0.0)

    def _build(self) -> Market:
        # Loads holdings and the exchange calendar (~0.5 s of imports): done on first use, off
        # the event loop when iterating, so opening the feed never delays the first frame.
        if self._market is None:
            o = self.options
            holdings = o.holdings
            if holdings is None:
                holdings = load_holdings()
                if o.universe > len(holdings.constituents):
                    holdings = pad_universe(holdings, o.universe, o.seed)
            start = self._start_ms
            if start is None:
                wall = int(time.time() * 1000) if self._wall_ms is None else self._wall_ms
                start = self.default_start(wall)
            rate = float(o.config.get("tick_rate", 1.0))
            self._market = Market(holdings, o.seed, start, rate)
            if self._clock_ms is None:
                self._clock_ms = start
        return self._market

    @property
    def market(self) -> Market:
        return self._build()

    @property
    def holdings(self) -> Holdings:
        return self.market.holdings

    @staticmethod
    def default_start(wall_ms: int) -> int:
        """Now if a session is under way, else the open of the latest session."""
        oc = calendar.session_open_close(wall_ms)
        if oc is not None and oc[0] <= wall_ms < oc[1]:
            return wall_ms
        return calendar.latest_session_start(wall_ms)

    @property
    def label(self) -> str:
        return f"sim (seed {self.options.seed})"

    def now_ms(self) -> int:
        m = self._market
        if m is not None and self.speed > 0 and self._wall0 is not None:
            elapsed = time.monotonic() - self._wall0
            return m.start_ms + int(elapsed * 1000 * self.speed)
        if self._clock_ms is None:  # not started yet and no start pinned: the wall clock
            return int(time.time() * 1000)
        return self._clock_ms

    async def aclose(self) -> None:
        self._closed = True

    def _pace_note(self, m: Market, now: float, released: int) -> FeedStatus | None:
        """Every _BEHIND_NOTE_S: a status when the sim starts falling behind (the rate the
        machine held and the pace of the sim's clock then), or back to plain "live" when it has
        caught up again; None otherwise (one status per episode, not one per look)."""
        wall, count, behind = self._note_at
        if now - wall < _BEHIND_NOTE_S:
            return None
        self._note_at = (now, released, self.behind_s)
        slipped = self.behind_s - behind
        base = f"simulated market, seed {m.seed}"
        if slipped <= 0:
            if not self.falling_behind:
                return None
            self.falling_behind = False
            return FeedStatus(FeedState.LIVE, base, self.now_ms())
        if self.falling_behind:
            return None  # said once: the status history keeps one line per episode, and the
            # status bar's ticks per second is the rate held from then on
        self.falling_behind = True
        held = (released - count) / (now - wall)
        pace = max(0.0, 1.0 - slipped / (now - wall)) * self.speed
        return FeedStatus(
            FeedState.LIVE,
            f"{base} · falling behind: this machine applies {held:,.0f} ticks/s, fewer than "
            f"the sim makes; its clock runs at x{pace:.2f} (lower [feeds.sim] tick_rate)",
            self.now_ms(),
        )

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    def batches(self) -> AsyncIterator[list[Event]]:
        """What each wake-up releases, in one list: every tick due by then (at speed 0, one
        simulated second's ticks), the status and the history before them."""
        return self._groups()

    async def _events(self) -> AsyncIterator[Event]:
        async for group in self._groups():
            for ev in group:
                yield ev

    async def _groups(self) -> AsyncIterator[list[Event]]:
        m = self._market or await asyncio.to_thread(self._build)
        yield [FeedStatus(FeedState.LIVE, f"simulated market, seed {m.seed}", m.start_ms)]
        history = m.history_events()
        if history:
            yield history
        speed = self.speed
        self._wall0 = wall0 = time.monotonic()
        self._note_at = (wall0, 0, 0.0)  # (wall, ticks released, behind_s) at the last look
        released = 0  # ticks released so far (the rate the machine holds)
        start = m.start_ms
        while not self._closed:
            if m.finished:
                # After 20:00 nothing trades, but the clock keeps running until cancelled.
                if speed > 0:
                    await asyncio.sleep(1.0)
                else:  # no real time to wait for: step the clock in minutes, gently
                    m.t_ms += 60_000
                    self._clock_ms = m.t_ms
                    await asyncio.sleep(0.01)
                continue
            if speed == 0:
                cols = m.step_columns()
                self._clock_ms = m.t_ms - 1000
                n = 0 if cols is None else len(cols)
                for k in range(0, n, MAX_GROUP):  # a second's ticks in bounded groups
                    yield cols.ticks(k, min(n, k + MAX_GROUP))  # type: ignore[union-attr,misc]
                    await asyncio.sleep(0)  # the loop answers q, Ctrl+C and timeouts here
                self._clock_ms = m.t_ms
                await asyncio.sleep(0)  # let the consumer's loop breathe between batches
                continue
            # Release in time order: at each wake-up everything due by then goes out at once,
            # its Tick objects built then (not the whole second's at once). A wake-up overshoots
            # the next tick's due time by a quantum: one wake-up per ~10 ms instead of one per
            # tick (5,000 sleeps/s would cost a core).
            cols = m.step_columns()
            ms_per_s = 1000.0 * speed
            stamps = cols.ts if cols is not None else None
            k, n = 0, 0 if cols is None else len(cols)
            while k < n:
                now = time.monotonic()
                due_ms = start + (now - wall0) * ms_per_s
                j = int(np.searchsorted(stamps, due_ms, side="right"))  # type: ignore[arg-type]
                if j > k:
                    j = min(j, k + MAX_GROUP)  # bounded work per group
                    yield cols.ticks(k, j)  # type: ignore[union-attr,misc]
                    released += j - k
                    k = j
                    # behind by more than BEHIND_MAX_S: the clock slows to what is applied
                    lag_s = (due_ms - int(stamps[j - 1])) / ms_per_s  # type: ignore[index]
                    if lag_s > BEHIND_MAX_S:
                        wall0 += lag_s - BEHIND_MAX_S
                        self._wall0 = wall0
                        self.behind_s += lag_s - BEHIND_MAX_S
                    note = self._pace_note(m, now, released)
                    if note is not None:
                        yield [note]
                    # a real suspension: a feed that is always due would otherwise never give
                    # the loop a turn (timeouts, Ctrl+C, the screen's refresh)
                    await asyncio.sleep(0)
                    continue
                due = wall0 + (int(stamps[k]) - start) / ms_per_s  # type: ignore[index]
                await asyncio.sleep(due - now + _RELEASE_QUANTUM_S)
            if not n:
                # Quiet second (extended hours): wait for its end so the clock and the model
                # stay within a second of each other.
                due = wall0 + (m.t_ms - start) / 1000 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)


@register("sim")
def _open_sim(spec: str, arg: str, options: FeedOptions) -> Feed:
    return SimFeed(spec, options)
