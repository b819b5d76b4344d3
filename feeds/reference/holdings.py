"""Index constituents with weights: the bundled snapshot or an iShares holdings CSV.

Two file formats are accepted, told apart by their header line:

* the bundled snapshot (``feeds/data/r2k_holdings.csv``, every member of the index, built by
  :mod:`feeds.reference.bundle`): ``#`` comment lines carrying ``as_of`` and ``source``, then
  ``symbol,name,sector,weight_pct`` and optionally ``price`` (on the as-of date);
* an iShares fund holdings download (the "Detailed Holdings and Analytics" CSV as published on
  ishares.com): BOM, a preamble with ``Fund Holdings as of,"Nov 05, 2025"``, U+00A0 separator
  lines, the ``Ticker,...`` header, quoted numbers with thousands commas, ``-`` as null and a
  multi-line quoted footer.

Every problem becomes an :class:`InputFileError` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from feeds.errors import InputFileError, path_reason
from feeds.text import figure

BUNDLED = Path(__file__).parent.parent / "data" / "r2k_holdings.csv"
#: The most constituents r2k tracks (sim padding, holdings files): about 5x the Russell 2000's
#: ~2,000 members, room for a broader index, and a bound on memory (issue 8: 10^8 grew to 5.9 GB).
MAX_UNIVERSE = 10_000
MAX_FILE_BYTES = 20 * 1024 * 1024  # an iShares IWM download is ~0.4 MB for ~2,000 names
#: No index's weights add up to more than this (rounding in a file adds a little over 100 %).
MAX_TOTAL_WEIGHT = 1.005
#: Holdings covering less of the index's weight than this are partial (said in a warning and
#: the board title): contributions and breadth then describe only those names.
FULL_COVERAGE = 0.95
SNAPSHOT_HEADER = ["symbol", "name", "sector", "weight_pct"]
#: the bundled snapshot's columns: the header above plus each member's price on the as-of date
SNAPSHOT_COLUMNS = [*SNAPSHOT_HEADER, "price"]

# Exchange values of rows that cannot be quoted: cash, escrows, CVRs, private placements.
_UNLISTED = {"", "-", "NO MARKET (E.G. UNLISTED)", "NON-NMS QUOTATION SERVICE (NNQS)"}
_REQUIRED = ("Ticker", "Name", "Sector", "Asset Class", "Weight (%)", "Exchange")
_SPACE_OR_DOT_CLASS = re.compile(r"^([A-Z0-9]+)[ .]([A-Z])$")
_TICKER = re.compile(r"^[A-Z0-9]+(-[A-Z])?$")
_NBSP_BLANK = " \t\xa0\r\n"


@dataclass(slots=True, frozen=True)
class Constituent:
    symbol: str  # canonical Yahoo style: class shares with a dash (MOG-A)
    name: str
    sector: str
    weight: float  # fraction of the index (0.0061 = 0.61 %)
    price: float | None = None  # price on the holdings' date (iShares "Price"), None if absent


@dataclass
class Holdings:
    as_of: dt.date
    constituents: list[Constituent]
    source: str = ""
    # one-line notices from loading (duplicates merged, partial coverage): shown, not fatal
    warnings: list[str] = field(default_factory=list)
    # where they came from: "given" (--holdings), "fetched" (r2k holdings fetch) or
    # "bundled" (feeds/data); "" when built in code
    origin: str = ""
    # False for an iShares file whose rows run to the end of the file without the legal
    # footer every download ends with: the download was cut short (r2k holdings fetch refuses it)
    complete: bool = True
    # No slots: cached_property needs an instance __dict__.

    @cached_property
    def by_symbol(self) -> dict[str, Constituent]:
        """Symbol -> constituent. Cached: treat ``constituents`` as immutable after creation."""
        return {c.symbol: c for c in self.constituents}

    @property
    def symbols(self) -> list[str]:
        return [c.symbol for c in self.constituents]

    @property
    def total_weight(self) -> float:
        return sum(c.weight for c in self.constituents)

    def __len__(self) -> int:
        return len(self.constituents)

    @property
    def partial(self) -> bool:
        """True when the names cover less than :data:`FULL_COVERAGE` of the index's weight."""
        return self.total_weight < FULL_COVERAGE

    def coverage_text(self) -> str:
        """``"5 names, 2.9% of the index"``: how much of the index the holdings describe."""
        return f"{len(self):,} names, {self.total_weight * 100:.1f}% of the index"


def canonical_ticker(raw: str) -> str:
    """A ticker as written -> canonical where the writing says how: ``MOG A``/``MOG.A`` ->
    ``MOG-A``. An undotted ``MOGA`` stays: only the feed's directory can tell it from a plain
    ticker like ``RUSHA`` (:mod:`feeds.reference.reconcile`)."""
    t = raw.strip(_NBSP_BLANK).upper()
    if t.isalnum() and t.isascii():
        return t  # the common case, without a regex: 2,000 names at start-up
    return _SPACE_OR_DOT_CLASS.sub(r"\1-\2", t)


def load_holdings(path: str | Path | None = None) -> Holdings:
    """Load holdings; ``None`` loads the bundled snapshot. Raises InputFileError (one line)."""
    p = BUNDLED if path is None else Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputFileError(
                f"holdings file {p} is {size / 2**20:,.0f} MB, more than the {MAX_UNIVERSE:,} "
                f"names r2k tracks need ({MAX_FILE_BYTES // 2**20} MB); check it is a holdings file"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(
            f"holdings file {p} not found; check the path (or omit it to use the bundled snapshot)"
        ) from None
    except OSError as e:
        raise InputFileError(
            f"holdings file {p} cannot be read ({path_reason(p, e)}); check it"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputFileError(
            f"{p}:{line}: not UTF-8 text; save the holdings file as UTF-8 CSV"
        ) from None
    first = _first_content_line(text)
    if first is not None and _split(first) in (SNAPSHOT_HEADER, SNAPSHOT_COLUMNS):
        holdings = _parse_snapshot(p, text)
    else:
        holdings = _parse_ishares(p, text)
    holdings.origin = "given" if path is not None else "bundled"
    return _checked(p, holdings, given=path is not None)


# --- checks common to both formats (issue 8 §4) ------------------------------------------------


def _checked(p: Path, holdings: Holdings, *, given: bool) -> Holdings:
    """Duplicates merged (weights summed, the first name kept) with one warning; a universe
    too big or weights summing over 100.5 % refused; partial coverage noted for a given file."""
    merged: dict[str, Constituent] = {}
    repeated: dict[str, int] = {}
    for c in holdings.constituents:
        first = merged.get(c.symbol)
        if first is None:
            merged[c.symbol] = c
        else:  # real iShares downloads list some tickers twice
            merged[c.symbol] = replace(first, weight=round(first.weight + c.weight, 12))
            repeated[c.symbol] = repeated.get(c.symbol, 1) + 1
    out = list(merged.values())
    if repeated:
        out.sort(key=lambda c: -c.weight)  # stable; a merged weight may move a name up
    if len(out) > MAX_UNIVERSE:
        raise InputFileError(
            f"holdings file {p} lists {len(out):,} names; r2k tracks at most {MAX_UNIVERSE:,} "
            "(the Russell 2000 has about 2,000); check it is the index's holdings file"
        )
    total = sum(c.weight for c in out)
    if total > MAX_TOTAL_WEIGHT:
        raise InputFileError(
            f"holdings file {p}: weights sum to {figure(total * 100)}%, over "
            f"{MAX_TOTAL_WEIGHT * 100:.1f}% (no index does); check the weight column is in "
            "percent and the file holds one fund"
        )
    if repeated:
        names = ", ".join(f"{s} ({n}x)" for s, n in list(repeated.items())[:10])
        more = f" and {len(repeated) - 10} more" if len(repeated) > 10 else ""
        holdings.warnings.append(
            f"holdings file {p}: {len(repeated)} symbol(s) listed more than once, merged "
            f"(weights summed, first name kept): {names}{more}"
        )
    holdings.constituents = out
    if given and holdings.partial:
        holdings.warnings.append(
            f"holdings file {p}: {holdings.coverage_text()}; contributions and breadth cover "
            "only these names"
        )
    return holdings


def _first_content_line(text: str) -> str | None:
    for line in text.splitlines():
        s = line.strip(_NBSP_BLANK)
        if s and not s.startswith("#"):
            return s
    return None


def _split(line: str) -> list[str]:
    return [c.strip(_NBSP_BLANK) for c in next(csv.reader([line]), [])]


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the physical line number each starts on (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _number(p: Path, line: int, column: str, cell: str) -> float:
    s = cell.strip(_NBSP_BLANK).replace(",", "")
    if s in ("", "-"):  # iShares' null marker
        return 0.0
    try:
        return float(s)
    except ValueError:
        raise InputFileError(
            f"{p}:{line}: {column} {cell!r} is not a number; fix or delete that row"
        ) from None


def _pct(p: Path, line: int, column: str, cell: str) -> float:
    try:
        x = float(cell)  # the common case ("0.45101"); "1,234.5" and "-" go the long way
    except ValueError:
        x = _number(p, line, column, cell)
    if not (math.isfinite(x) and x >= 0):
        raise InputFileError(
            f"{p}:{line}: {column} {cell.strip(_NBSP_BLANK)!r} must be a percentage of 0 or "
            "more; fix or delete that row"
        )
    # Rounded so 0.90 % reads back as 0.009, not 0.009000000000000001.
    return round(x / 100, 12)


def _parse_snapshot(p: Path, text: str) -> Holdings:
    meta: dict[str, str] = {}
    out: list[Constituent] = []
    header: list[str] = []
    for line_no, row in _rows(text):
        cells = [c.strip(_NBSP_BLANK) for c in row]
        if not any(cells):
            continue
        if cells[0].startswith("#"):
            key, _, value = ",".join(row).lstrip("#").partition(":")
            meta[key.strip().lower()] = value.strip()
            continue
        if not header:
            header = cells  # _first_content_line already matched it
            continue
        if len(cells) != len(header):
            raise InputFileError(
                f"{p}:{line_no}: expected {len(header)} fields ({','.join(header)}), "
                f"got {len(cells)}; fix that row"
            )
        sym, name, sector, w = cells[:4]
        price = None
        if len(cells) > 4 and cells[4]:
            price = _number(p, line_no, "price", cells[4])
            if not (math.isfinite(price) and price > 0):
                raise InputFileError(
                    f"{p}:{line_no}: price {cells[4]!r} must be a number above 0 (or empty); "
                    "fix that row"
                )
        out.append(
            Constituent(
                canonical_ticker(sym), name, sector, _pct(p, line_no, "weight_pct", w), price
            )
        )
    if not out:
        raise InputFileError(
            f"{p}: no rows after the header line; add symbol,name,sector,weight_pct rows"
        )
    as_of_text = meta.get("as_of", "")
    try:
        as_of = dt.date.fromisoformat(as_of_text)
    except ValueError:
        raise InputFileError(
            f"{p}: missing or bad '# as_of: YYYY-MM-DD' comment line ({as_of_text!r}); add it"
        ) from None
    return Holdings(as_of, out, meta.get("source", str(p)))


def _parse_ishares(p: Path, text: str) -> Holdings:
    as_of: dt.date | None = None
    as_of_line = 0
    header: list[str] | None = None
    header_line = 0
    out: list[Constituent] = []
    col: dict[str, int] = {}
    line_no = 0
    ended = False  # the data rows ended before the file did (the footer follows)
    for line_no, row in _rows(text):
        first = row[0].strip(_NBSP_BLANK) if row else ""
        if header is None:
            if first.lower() == "fund holdings as of" and len(row) > 1:
                as_of_line = line_no
                as_of = _ishares_date(row[1])
            elif first == "Ticker":
                header = [c.strip(_NBSP_BLANK) for c in row]
                header_line = line_no
                col = {name: i for i, name in enumerate(header)}
                missing = [c for c in _REQUIRED if c not in col]
                if "Quantity" not in col and "Shares" not in col:
                    missing.append("Quantity (or Shares)")
                if missing:
                    raise InputFileError(
                        f"{p}:{line_no}: holdings header lacks column(s) {', '.join(missing)}; "
                        "download the fund's holdings CSV again from ishares.com"
                    )
            continue
        # The footer (legal text in one quoted multi-line cell) follows a U+00A0 line: the data
        # ends at the first row that is short or starts blank.
        if len(row) < len(header) or not first:
            ended = True
            break
        if row[col["Asset Class"]].strip() != "Equity":
            continue  # cash, money market, collateral, futures
        if row[col["Exchange"]].strip(_NBSP_BLANK).upper() in _UNLISTED:
            continue  # unlisted CVRs, escrows, private placements
        sym = canonical_ticker(first)
        if sym in ("", "-") or not _TICKER.match(sym):
            continue
        weight = _pct(p, line_no, "Weight (%)", row[col["Weight (%)"]])
        price = _number(p, line_no, "Price", row[col["Price"]]) if "Price" in col else 0.0
        out.append(
            Constituent(
                sym,
                row[col["Name"]].strip(_NBSP_BLANK),
                row[col["Sector"]].strip(_NBSP_BLANK),
                weight,
                price if price > 0 else None,  # "-": no price published
            )
        )
    if header is None:
        raise InputFileError(
            f"{p}: no 'Ticker,...' header line in {line_no} lines; expected an iShares holdings "
            f"CSV or a '{','.join(SNAPSHOT_HEADER)}' file"
        )
    if as_of is None:
        where = f"line {as_of_line}" if as_of_line else f"before line {header_line}"
        raise InputFileError(
            f"{p}: no usable 'Fund Holdings as of' date ({where}); download a dated holdings file"
        )
    if not out:
        raise InputFileError(
            f"{p}:{header_line}: no listed equity rows after the header; check the file"
        )
    out.sort(key=lambda c: -c.weight)  # stable: the file's order among equal weights
    return Holdings(as_of, out, f"iShares holdings {p.name}", complete=ended)


def _ishares_date(cell: str) -> dt.date | None:
    s = cell.strip(_NBSP_BLANK)
    for fmt in ("%b %d, %Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None  # "-": a date with no holdings published


_SECTORS = (
    "Industrials",
    "Health Care",
    "Financials",
    "Information Technology",
    "Consumer Discretionary",
    "Real Estate",
    "Energy",
    "Materials",
    "Utilities",
    "Consumer Staples",
    "Communication",
)
#: The real Russell 2000 has about this many members; padding to it makes weights sum to ~1.
FULL_UNIVERSE = 2000


def pad_universe(holdings: Holdings, n: int, seed: int = 0) -> Holdings:
    """Add synthetic names (``SYN0001``...) until there are ``n`` constituents.

    Their weights are a decaying tail below the smallest real weight, sized so a full universe
    (2,000 names) sums to 1: the missing names share what the real ones leave. Deterministic
    for ``seed``; a holdings with ``n`` or more names comes back unchanged.
    """
    have = len(holdings.constituents)
    if n <= have:
        return holdings
    rng = random.Random(seed)
    extra = n - have
    # the smallest real weight above 0 (defunct names weigh 0 and would zero the whole tail)
    w_top = 0.999 * min((c.weight for c in holdings.constituents if c.weight > 0), default=0.001)
    # Share of the remainder these names stand for: all of it at 2,000, pro rata below.
    budget = max(1.0 - holdings.total_weight, 0.0) * extra / max(FULL_UNIVERSE - have, extra)
    # Power-law decay from just under the smallest real weight (so padding ranks last, as market
    # caps decay); the decay length is solved so the tail adds up to the budget.
    jitter = [rng.uniform(0.9, 1.1) for _ in range(extra)]

    def tail(length: float) -> list[float]:
        return [w_top * min(1.0, (1 + i / length) ** -1.6 * j) for i, j in enumerate(jitter)]

    lo, hi = 1e-3, 1e7
    for _ in range(60):  # bisection on a monotone sum: cheap even for 2,000 names
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if sum(tail(mid)) < budget else (lo, mid)
    weights = sorted(tail(lo), reverse=True)
    syn = [
        Constituent(f"SYN{i + 1:04d}", f"Synthetic Co {i + 1}", _SECTORS[i % len(_SECTORS)], w)
        for i, w in enumerate(weights)
    ]
    return Holdings(
        holdings.as_of,
        [*holdings.constituents, *syn],
        f"{holdings.source} + {extra} synthetic names (seed {seed})",
        holdings.warnings,
        holdings.origin,
    )
