"""``r2k holdings show [PATH] [--json]``: what a holdings file holds, spelt as the feed spells it;
``r2k holdings fetch [--out PATH] [--url URL]``: download the current one (issue 11).

Prints the as-of date, the number of equity members, the weight they sum to, the top 10 by
weight, and which tickers were respelt by reconciliation and which remain unmatched. No
network and no credentials: the spelling comes from what is on disk for the configured feed
(a replay file's symbols, a provider's cached symbol list, else the bundled US listing).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from feeds.reference.reconcile import Reconciliation
from feeds.settings.config import Settings
from feeds.text import dumps
from tui import fmt

TOP = 10


def holdings_dict(rec: Reconciliation, top: int = TOP) -> dict[str, Any]:
    """The report as plain data; weights are fractions of the index (0.0106 = 1.06 %)."""
    h = rec.holdings
    ranked = sorted(h.constituents, key=lambda c: -c.weight)
    return {
        "source": h.source,
        "as_of": h.as_of.isoformat(),
        "members": len(h.constituents),
        "weight_sum": round(h.total_weight, 10),
        "top": [
            {"symbol": c.symbol, "name": c.name, "sector": c.sector, "weight": c.weight}
            for c in ranked[:top]
        ],
        "checked_against": list(rec.checked),
        "respelt": [{"ticker": r.ticker, "symbol": r.symbol, "by": r.by} for r in rec.respelt],
        "ambiguous": [{"ticker": t, "candidates": list(c)} for t, c in rec.ambiguous.items()],
        "unmatched": list(rec.unmatched),
    }


def holdings_text(rec: Reconciliation, top: int = TOP) -> str:
    """The report as aligned plain text (no colour, no markup: safe in any pipe)."""
    d = holdings_dict(rec, top)
    out = [
        f"holdings: {fmt.clean(d['source'], 120)}",
        f"as of {d['as_of']}: {d['members']:,} equity members, weights sum to "
        f"{d['weight_sum'] * 100:.2f}%",
        f"spelt as listed by: {'; '.join(d['checked_against']) or '-'}",
        "",
        f"TOP {len(d['top'])} BY WEIGHT",
    ]
    rows = [
        [str(n), c["symbol"], fmt.clean(c["name"], 34), fmt.clean(c["sector"], 22),
         f"{c['weight'] * 100:.2f}%"]
        for n, c in enumerate(d["top"], 1)
    ]  # fmt: skip
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(_HEAD)]
    for cells in [_HEAD, *rows]:
        parts = [
            c.rjust(w) if i in (0, 4) else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        out.append("  ".join(parts).rstrip())
    out.append("")
    out.append(f"RESPELT AS THE FEED LISTS THEM ({len(d['respelt'])})")
    out += [f"  {r['ticker']} → {r['symbol']}  (by {r['by']})" for r in d["respelt"]] or ["  none"]
    if d["ambiguous"]:
        out.append(f"AMBIGUOUS, KEPT AS WRITTEN ({len(d['ambiguous'])})")
        out += [f"  {a['ticker']}: {' or '.join(a['candidates'])}" for a in d["ambiguous"]]
    out.append(f"LISTED NOWHERE, KEPT AS WRITTEN ({len(d['unmatched'])})")
    out.append("  " + (", ".join(d["unmatched"]) or "none"))
    return "\n".join(out) + "\n"


_HEAD = ["#", "SYMBOL", "NAME", "SECTOR", "WEIGHT"]


def run_holdings_show(settings: Settings, *, as_json: bool, out: IO[str] | None = None) -> int:
    """Print the report for ``settings.holdings`` (or the bundled file). Raises R2KError."""
    import sys

    from feeds.settings.setup import reconcile_holdings

    rec = reconcile_holdings(settings).result
    stream = out or sys.stdout
    if as_json:
        stream.write(dumps(holdings_dict(rec)) + "\n")
    else:
        stream.write(holdings_text(rec))
    stream.flush()
    return 0


def run_holdings_fetch(
    *, out: Path | None = None, url: str | None = None, stderr: IO[str] | None = None
) -> int:
    """Download, check and keep the current holdings file with a progress bar on stderr; one
    line on stdout says what was kept. Raises R2KError (one line) when nothing could be."""
    import sys

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from feeds.alerting.alerts import StatusLineSink
    from feeds.reference.holdings_fetch import ISHARES_IWM_URL, fetch

    console = Console(file=stderr or sys.stderr, highlight=False)
    bar = Progress(
        TextColumn("IWM holdings"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=False,
    )
    with bar:
        task = bar.add_task("download", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path, holdings = fetch(url or ISHARES_IWM_URL, out, progress=progress)
        done = bar.tasks[0].completed
        bar.update(task, completed=done, total=done)  # a download without a length ends at 100 %
    for warning in holdings.warnings:
        StatusLineSink().warning(warning)
    sys.stdout.write(
        f"fetched holdings as of {holdings.as_of}: {len(holdings):,} equity members, weights "
        f"sum to {holdings.total_weight * 100:.2f}%; kept at {fmt.clean(str(path), 500)}\n"
    )
    sys.stdout.flush()
    return 0
