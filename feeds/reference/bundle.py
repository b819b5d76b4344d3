"""Build the bundled holdings snapshot (``feeds/data/r2k_holdings.csv``) from an iShares file.

``python -m feeds.reference.bundle IWM_holdings.csv [OUT]`` writes every equity member the holdings
parser
keeps (:func:`feeds.reference.holdings.load_holdings`: listed equities, duplicates merged), spelt
as the
bundled US listing directory spells them (:mod:`feeds.reference.reconcile`: ``MOGA`` -> ``MOG-A``),
but
those no US listing has ever carried that publish no price either (a CVR, a delisted shell:
nothing can quote them, and each start would warn about them), with:

* ``weight_pct``: the member's ``Market Value`` as a percent of the fund's (the sum of every
  row's market value, cash and futures included, which is how iShares computes ``Weight (%)``),
  to 5 decimals: the published ``Weight (%)`` is rounded to 2 and reads ``0.00`` for about 200
  small members, whose contributions would then always be 0;
* ``price``: the file's ``Price`` on its as-of date (empty when it publishes none);
* ``name``: title-cased from the file's capitals (``CLASS A`` moved to the end), or the name the
  team wrote for the largest members in the previous snapshot.

The output is compact (about 120 KB for ~1,950 names) and loads in a few milliseconds.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from feeds.reference.holdings import (
    _NBSP_BLANK,
    BUNDLED,
    SNAPSHOT_COLUMNS,
    canonical_ticker,
    load_holdings,
)

# Words kept as written in capitals (acronyms), and suffixes with a conventional spelling.
_UPPER = {"REIT", "AI", "US", "USA", "II", "III", "IV", "LLC", "LP", "NV", "PLC", "SA", "AG"}
_UPPER |= {"ADR", "ETF", "BDC", "NA", "SE", "UK", "RV", "TV", "HR", "IT"}
_SPELT = {"INC": "Inc", "CORP": "Corp", "LTD": "Ltd", "CO": "Co", "OF": "of", "AND": "and"}
_CLASS = re.compile(r"\s+(CLASS [A-Z])\b(?!$)")
_VOWELS = set("AEIOUY")


def title_name(raw: str) -> str:
    """``"BLOOM ENERGY CLASS A CORP"`` -> ``"Bloom Energy Corp Class A"``: capitals title-cased,
    acronyms (no vowel, a digit, or a known one) kept, the share class moved to the end."""
    text = " ".join(raw.strip(_NBSP_BLANK).split())
    m = _CLASS.search(text)
    if m:
        text = f"{text[: m.start()]}{text[m.end() :]} {m.group(1)}"
    words = []
    for n, word in enumerate(text.split(" ")):
        if word in _SPELT:
            words.append(_SPELT[word] if n else _SPELT[word].capitalize())
        elif word in _UPPER or any(ch.isdigit() for ch in word) or not _VOWELS & set(word):
            words.append(word)
        else:
            words.append("-".join(p[:1] + p[1:].lower() for p in word.split("-")))
    return " ".join(words).replace("'S ", "'s ")


def market_values(path: Path) -> tuple[dict[str, float], float]:
    """Each equity ticker's summed ``Market Value`` (canonical spelling) and the fund's total."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    col: dict[str, int] = {}
    out: dict[str, float] = {}
    total = 0.0
    for row in reader:
        first = row[0].strip(_NBSP_BLANK) if row else ""
        if not col:
            if first == "Ticker":
                col = {c.strip(_NBSP_BLANK): i for i, c in enumerate(row)}
            continue
        if len(row) < len(col) or not first:
            break
        value = float(row[col["Market Value"]].replace(",", "") or 0)
        total += value
        if row[col["Asset Class"]].strip() == "Equity":
            sym = canonical_ticker(first)
            out[sym] = out.get(sym, 0.0) + value
    return out, total


def previous_names(path: Path = BUNDLED) -> dict[str, str]:
    """Names the team wrote in an earlier bundled snapshot, by symbol (none if it is missing)."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln[:1] != "#"]
    except FileNotFoundError:
        return {}
    rows = csv.DictReader(lines)
    return {r["symbol"]: r["name"] for r in rows if r.get("symbol") and r.get("name")}


def build(source: Path, names: Mapping[str, str] | None = None) -> str:
    """The bundled snapshot's text for the iShares file ``source``."""
    from feeds.reference.directory import bundled
    from feeds.reference.reconcile import Reconciler

    raw = load_holdings(source)
    values, total = market_values(source)
    spelt = Reconciler(raw, [bundled()]).result
    written = {r.symbol: r.ticker for r in spelt.respelt}
    names = names or {}
    out = io.StringIO()
    out.write(
        "# r2k bundled holdings snapshot: every equity member of the Russell 2000 (iShares IWM)\n"
        f"# as_of: {raw.as_of.isoformat()}\n"
        f"# source: derived from public iShares IWM holdings, {raw.as_of.isoformat()}\n"
        "# weight_pct: market value as a percent of the fund's; price: on the as-of date;\n"
        "# tickers spelt as the US listing directory spells them (MOGA -> MOG-A);\n"
        "# rebuild with: python -m feeds.reference.bundle IWM_holdings.csv\n"
    )
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(SNAPSHOT_COLUMNS)
    dead = set(spelt.unmatched)
    members = sorted(
        (c for c in spelt.holdings.constituents if c.price is not None or c.symbol not in dead),
        key=lambda c: -values.get(written.get(c.symbol, c.symbol), 0.0),
    )
    for c in members:
        value = values.get(written.get(c.symbol, c.symbol), 0.0)
        weight = f"{100 * value / total:.5f}" if total > 0 else f"{100 * c.weight:.5f}"
        price = "" if c.price is None else f"{c.price:g}"
        rows.writerow(
            [c.symbol, names.get(c.symbol) or title_name(c.name), c.sector, weight, price]
        )
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        sys.stderr.write("usage: python -m feeds.reference.bundle IWM_holdings.csv [OUT]\n")
        return 2
    out = Path(args[1]) if len(args) > 1 else BUNDLED
    text = build(Path(args[0]), previous_names(out if out.exists() else BUNDLED))
    out.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {out} ({text.count(chr(10)) - 7:,} members)\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
