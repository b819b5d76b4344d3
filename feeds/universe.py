"""The index universe and its board (split out of the pipeline, issue 17): the index members
and any other name the feed sends, their names, sectors and weights, each member's weight moved
from the holdings' date to the anchor, the prices on the holdings' date, the ranked and filtered
board with breadth and coverage, the members' YTD weights, and tickers respelt as the feed
spells them.

It reads prices from a :class:`~feeds.market.state.MarketState` (the pipeline's, handed over
again by :meth:`IndexUniverse.reset` when the market starts over), so it is tested with a state,
holdings and a few ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from feeds.frame import Board, Sectors, View
from feeds.market import analytics, sectors
from feeds.market.scoreboard import HOLDINGS_STALE_DAYS, HoldingsInfo
from feeds.market.state import MarketState
from feeds.symbols import HEADLINE, RUT

if TYPE_CHECKING:
    from feeds.reference.holdings import Holdings


@dataclass(slots=True)
class Columns:
    """Per-constituent columns cached between frames (rebuilt when a symbol is added)."""

    size: int  # len(state.symbols) when built
    ids: np.ndarray
    symbols: list[str]
    names: list[str]
    sectors: list[str]
    w_asof: np.ndarray
    member: np.ndarray  # bool: in the holdings (all True without holdings)
    p_file: np.ndarray  # each holding's price on the holdings' date (the file's Price), or NaN
    haystack: list[str]  # "symbol\nname" lower-cased, for the filter
    # the index members' symbols and names, aligned with ids[member] (the scoreboard)
    member_symbols: list[str] = field(default_factory=list)
    member_names: list[str] = field(default_factory=list)
    # the distinct sectors and each name's code into them (feeds.market.sectors.sector_codes)
    sector_names: list[str] = field(default_factory=list)
    sector_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


#: a board filter that names a sector: "sector:health"
SECTOR_PREFIX = "sector:"

#: The members' own growth stands for the index's (I_anchor / I_asof) only when the members with
#: both prices hold at least this fraction of the index weight.
MEMBER_COVERAGE = 0.8


class IndexUniverse:
    """The constituents of one index run: ``holdings`` (None: every non-headline symbol the
    feed sends, unweighted) on ``state``, whose ids it registers in weight order."""

    def __init__(self, state: MarketState, holdings: Holdings | None) -> None:
        self.state = state
        self.holdings = holdings
        # constituents: holdings first (in weight order), then any other symbol the feed sends
        self._weights: dict[str, float] = {}
        if holdings is not None:
            for c in holdings.constituents:
                state.id_of(c.symbol)
                self._weights[c.symbol] = c.weight
        self._columns: Columns | None = None
        self._asof_cache: tuple[tuple[int, int], np.ndarray] | None = None
        self._ytd_cache: tuple[tuple[object, ...], np.ndarray] | None = None
        self._closes_cache: tuple[tuple[object, ...], np.ndarray] | None = None
        #: the board last ranked, with the query it answered (View.board=False reuses it)
        self._last_board: tuple[tuple[object, ...], Board, analytics.Breadth] | None = None

    def reset(self, state: MarketState) -> None:
        """The market started over on ``state`` (same symbol ids): what was derived from the old
        state's columns and closes is dropped."""
        self.state = state
        self._columns = None
        self._asof_cache = None

    def respell(self, spelt: dict[str, str]) -> None:
        """Holdings symbols renamed (``old -> new``): name, sector and weight follow. A symbol
        that has ticked, or a new spelling already seen, is left as it is."""
        from feeds.reference.reconcile import respell

        done = {old: new for old, new in spelt.items() if self.state.rename(old, new)}
        if not done or self.holdings is None:
            return
        self.holdings = respell(self.holdings, done)
        for old, new in done.items():
            if old in self._weights:
                self._weights[new] = self._weights.pop(old)
        # names, sectors, weights and as-of prices are looked up by symbol
        self._columns = None
        self._asof_cache = None

    def columns(self) -> Columns:
        """The constituent columns that change only when a new symbol appears."""
        st = self.state
        u = self._columns
        if u is not None and u.size == len(st.symbols):
            return u
        ids = [i for i, s in enumerate(st.symbols) if s not in HEADLINE]
        symbols = [st.symbols[i] for i in ids]
        names = [self._name(s) for s in symbols]
        by_symbol = self.holdings.by_symbol if self.holdings is not None else None
        held = [by_symbol.get(s) if by_symbol is not None else None for s in symbols]
        u = Columns(
            size=len(st.symbols),
            ids=np.array(ids, dtype=np.intp),
            symbols=symbols,
            names=names,
            sectors=[self._sector(s) for s in symbols],
            w_asof=np.array([self._weights.get(s, np.nan) for s in symbols], dtype=np.float64),
            member=np.array([by_symbol is None or c is not None for c in held], dtype=bool),
            p_file=np.array(
                [c.price if c is not None and c.price else np.nan for c in held], dtype=np.float64
            ),
            haystack=[f"{s}\n{n}".lower() for s, n in zip(symbols, names, strict=True)],
        )
        u.member_symbols = [s for s, m in zip(symbols, u.member, strict=True) if m]
        u.member_names = [n for n, m in zip(names, u.member, strict=True) if m]
        u.sector_names, u.sector_codes = sectors.sector_codes(u.sectors)
        self._columns = u
        return u

    def ranked(self, view: View, anchor: str) -> tuple[Board, analytics.Breadth]:
        """:meth:`board` for a frame: ranked again when ``view.board`` asks or the query
        (sort, filter, cursor, ``anchor``) changed, else the board last ranked (the app's
        redraws between re-ranks)."""
        query = (view.sort, view.descending, view.filter, view.cursor, anchor)
        last = self._last_board
        if view.board or last is None or last[0] != query:
            board, breadth = self.board(view, anchor)
            self._last_board = (query, board, breadth)
        else:
            _, board, breadth = last
        return board, breadth

    def board(self, view: View, anchor: str) -> tuple[Board, analytics.Breadth]:
        """The constituents ranked and filtered as ``view`` asks, returns measured from
        ``anchor`` (a :meth:`MarketState.anchor_column` mode), and the breadth of the index
        members (the filter does not narrow it)."""
        sort, descending, text = view.sort, view.descending, view.filter
        st = self.state
        u = self.columns()
        last_all, anchor_all = st.arrays(anchor)
        rets_all = analytics.returns(last_all[u.ids], anchor_all[u.ids])
        # breadth, coverage and the contribution sum count index members only
        breadth = analytics.breadth(rets_all[u.member])
        weights_all, converted = self.anchor_weights(u, anchor_all[u.ids], anchor)
        priced = u.member & ~np.isnan(last_all[u.ids])
        coverage = float(np.nansum(weights_all[priced])) if self.holdings is not None else None
        sector = None
        if text.lower().startswith(SECTOR_PREFIX):
            # one sector's members: "sector:health" (a word start will do)
            k = sectors.match_sector(u.sector_names, text[len(SECTOR_PREFIX) :])
            sector = u.sector_names[k] if k is not None else None
            keep: list[int] | slice = (
                [] if k is None else np.flatnonzero(u.sector_codes == k).tolist()
            )
        elif text:
            needle = text.lower()
            keep = [k for k, h in enumerate(u.haystack) if needle in h]
        else:
            keep = slice(None)
        contrib_all = analytics.contributions_bp(weights_all, rets_all)
        order_all = analytics.rank(
            sort,
            contribution=contrib_all,
            rets=rets_all,
            weights=weights_all,
            symbols=u.symbols,
            descending=descending,
            member=u.member,
        )
        ranks = subtotal = None
        if isinstance(keep, slice):
            order = order_all
        else:
            # the filter's rows in the whole board's order, each keeping its index-wide rank
            kept = np.array(keep, dtype=np.intp)
            where = np.full(len(u.symbols), -1, dtype=np.intp)
            where[kept] = np.arange(len(kept))
            order = where[order_all][where[order_all] >= 0]
            rank_all = np.empty(len(u.symbols), dtype=np.intp)
            rank_all[order_all] = np.arange(len(order_all))
            ranks = rank_all[kept]
            mask = np.zeros(len(u.symbols), dtype=bool)
            mask[kept] = True
            index_bp = sectors.index_move_bp(weights_all, rets_all, u.member)
            subtotal = sectors.subtotal(weights_all, rets_all, u.member, mask, index_bp)
        idx = u.ids[keep]
        symbols = u.symbols[keep] if isinstance(keep, slice) else [u.symbols[k] for k in keep]
        rets = rets_all[keep]
        weights = weights_all[keep]
        member = u.member[keep]
        contrib = contrib_all[keep]

        def pick(column: list[str]) -> list[str]:
            return column[keep] if isinstance(keep, slice) else [column[k] for k in keep]

        high, low = st.daily.session_range()
        board = Board(
            symbols=symbols,
            names=pick(u.names),
            sectors=pick(u.sectors),
            last=last_all[idx],
            ret=rets,
            weight=weights,
            contribution=contrib,
            high=np.array(high, dtype=np.float64)[idx],
            low=np.array(low, dtype=np.float64)[idx],
            count=np.array(st.count, dtype=np.int64)[idx],
            ts=np.array(st.ts, dtype=np.int64)[idx],
            order=order,
            sort=sort,
            descending=descending,
            filter=text,
            universe=len(u.symbols),
            cursor=view.cursor,
            member=member,
            names_priced=int(np.count_nonzero(priced)),
            members=int(np.count_nonzero(u.member)),
            coverage=coverage,
            weights_as_of=None if converted or self.holdings is None else self._asof(),
            ranks=ranks,
            subtotal=subtotal,
            sector=sector,
        )
        board.cursor_rank = board.rank_of(view.cursor)
        return board, breadth

    def _asof(self) -> str:
        assert self.holdings is not None
        return self.holdings.as_of.isoformat()

    def anchor_weights(
        self, u: Columns, anchors: np.ndarray, mode: str, *, index_at: float | None = None
    ) -> tuple[np.ndarray, bool]:
        """Each universe name's weight at the anchor ``mode``, and whether
        any was moved there.

        ``w_anchor = w_asof * (P_anchor / P_asof) / (I_anchor / I_asof)``: in a cap-weighted index
        a member's weight moves with its price against the index's (shares unchanged between
        rebalances; see :func:`feeds.market.analytics.anchor_weights`). ``P_asof`` is the holdings
        file's own price (iShares ``Price``), else the name's close on that date, else its price in
        the session of that date. ``I_anchor / I_asof`` comes from the index's close on that date,
        else its price in that date's session, else from the members (``Σ w_asof * P_anchor /
        P_asof`` over the members with both prices, when they hold at least MEMBER_COVERAGE of
        the index weight: a cap-weighted index grows as its weighted members do). With no source
        the weights stay as of the holdings' date (the second value is then False). A name
        lacking a price keeps its as-of weight. ``index_at``: the index's price at the anchor
        when it is no anchor ``mode`` (a close 5 sessions ago).
        """
        if self.holdings is None:
            return u.w_asof, False
        asof = self._asof()
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = anchors / self._prices_asof(u, asof)
        growth[~np.isfinite(growth) | (growth <= 0)] = np.nan
        index_growth = self._index_growth(asof, mode, index_at)
        known = u.member & ~np.isnan(growth) & ~np.isnan(u.w_asof)
        if index_growth is None:
            covered = float(u.w_asof[known].sum())
            if covered >= MEMBER_COVERAGE:
                index_growth = float((u.w_asof[known] * growth[known]).sum()) / covered
        if index_growth is None or not known.any():
            return u.w_asof, False
        return analytics.anchor_weights(u.w_asof, growth, index_growth), True

    def _prices_asof(self, u: Columns, asof: str) -> np.ndarray:
        """``P_asof`` per universe name (NaN where unknown): the file's, a close, the session's."""
        st = self.state
        key = (u.size, st.daily.rev)
        if self._asof_cache is None or self._asof_cache[0] != key:
            closes = np.array(
                [st.daily.close_on(s, asof) or np.nan for s in u.symbols], dtype=np.float64
            )
            self._asof_cache = (key, np.where(np.isnan(u.p_file), closes, u.p_file))
        prices = self._asof_cache[1]
        if st.session_date is not None and st.session_date.isoformat() == asof:
            prices = np.where(np.isnan(prices), st.daily.session_prices()[u.ids], prices)
        return prices

    def _index_growth(self, asof: str, mode: str, index_at: float | None = None) -> float | None:
        """``I_anchor / I_asof`` (the anchor ``mode``) from the index itself: its close on
        ``asof``, or its price in the session of that date. None when neither is known."""
        st = self.state
        anchor = index_at if index_at is not None else st.anchor(RUT, mode)
        at = st.daily.close_on(RUT, asof)
        if at is None and st.session_date is not None and st.session_date.isoformat() == asof:
            at = known(float(st.daily.session_prices()[st.ids[RUT]]))
        if anchor is None or not at:
            return None
        return anchor / at

    def _name(self, symbol: str) -> str:
        c = self.holdings.by_symbol.get(symbol) if self.holdings is not None else None
        return c.name if c else symbol

    def _sector(self, symbol: str) -> str:
        c = self.holdings.by_symbol.get(symbol) if self.holdings is not None else None
        return c.sector if c else ""

    def ytd_weights(self, u: Columns) -> np.ndarray | None:
        """The members' weights at the YTD anchor (the scoreboard's movers), moved there
        as the board's are (:meth:`anchor_weights`); None without holdings. They change only
        with the daily history or the session, so they are kept until one does."""
        if self.holdings is None:
            return None
        st = self.state
        key = (u.size, st.daily.rev, st.session_date)
        if self._ytd_cache is None or self._ytd_cache[0] != key:
            ytd = np.array(st.anchor_column("ytd"), dtype=np.float64)[u.ids]
            self._ytd_cache = (key, self.anchor_weights(u, ytd, "ytd")[0][u.member])
        return self._ytd_cache[1]

    def sectors(self, base_5d: str | None) -> Sectors:
        """Where the move comes from (:mod:`feeds.market.sectors`): every sector since the
        previous close and year to date, and the members' movers over 1 day (since the
        previous close), 5 days (since the close of ``base_5d``, the scoreboard's 5-day base
        session; none when the members' closes of that day are unknown) and year to date, each
        return with the member's weight at the period's start (moved there as the board's)."""
        st = self.state
        u = self.columns()
        m = u.member
        codes = u.sector_codes[m]
        syms, names = u.member_symbols, u.member_names
        last = np.array(st.last, dtype=np.float64)[u.ids]
        tables = []
        movers = []
        for period in ("1d", "ytd"):
            mode = "prev" if period == "1d" else "ytd"
            base = np.array(st.anchor_column(mode), dtype=np.float64)[u.ids]
            rets = analytics.returns(last, base)[m]
            weights = self.anchor_weights(u, base, mode)[0][m]
            tables.append(sectors.sector_table(u.sector_names, codes, syms, names, weights, rets))
            movers.append(sectors.top_movers(period, syms, names, weights, rets))
        base5 = self._closes_on(u, base_5d)
        if base5 is not None:
            index_at = st.daily.close_on(RUT, base_5d) if base_5d else None
            w5 = self.anchor_weights(u, base5, "prev", index_at=index_at)[0][m]
            r5 = analytics.returns(last, base5)[m]
            movers.insert(1, sectors.top_movers("5d", syms, names, w5, r5))
        else:
            movers.insert(1, sectors.Movers("5d"))
        return Sectors(tables[0], tables[1], tuple(movers))

    def _closes_on(self, u: Columns, date: str | None) -> np.ndarray | None:
        """Each name's close of session ``date`` (NaN where unknown), kept until the daily
        history changes; None when no member has one."""
        if date is None:
            return None
        st = self.state
        key = (u.size, st.daily.rev, date)
        if self._closes_cache is None or self._closes_cache[0] != key:
            closes = np.array(
                [st.daily.close_on(s, date) or np.nan for s in u.symbols], dtype=np.float64
            )
            self._closes_cache = (key, closes)
        closes = self._closes_cache[1]
        return closes if np.isfinite(closes[u.member]).any() else None

    def holdings_info(self, now_ms: int) -> HoldingsInfo | None:
        """Which holdings are in use, their as-of date and age before the data's session (the
        feed's clock ``now_ms`` before any tick), flagged stale past HOLDINGS_STALE_DAYS."""
        h = self.holdings
        if h is None:
            return None
        from feeds.market.calendar import et_date

        day = self.state.session_date or et_date(now_ms)
        age = (day - h.as_of).days
        label = h.source or "holdings"
        return HoldingsInfo(
            h.origin or "given", label, h.as_of.isoformat(), age, age > HOLDINGS_STALE_DAYS
        )


def known(x: float | None) -> float | None:
    """None for an unknown (None or NaN, as a symbol's high before it trades in a session)."""
    return None if x is None or x != x else x
