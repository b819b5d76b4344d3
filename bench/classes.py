"""The size of each class: lines and methods, largest first (issue 17's shape targets).

Run: ``.venv/bin/python bench/classes.py [--top 15] [paths ...]`` (default: feeds tui)

Prints one row per class: its lines (``class`` to its last statement, docstrings and comments
included), its methods (functions defined in its body: properties and static methods count), and
the file. A row over the targets (~400 lines or ~30 methods) is marked ``OVER``.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

MAX_LINES = 400
MAX_METHODS = 30


def classes(paths: list[Path]) -> list[tuple[int, int, str, str]]:
    """(lines, methods, class name, file) for every class under ``paths``, nested ones too."""
    rows = []
    for root in paths:
        for path in sorted(root.rglob("*.py") if root.is_dir() else [root]):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    methods = sum(
                        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in node.body
                    )
                    rows.append((lines, methods, node.name, str(path)))
    return sorted(rows, reverse=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[Path("feeds"), Path("tui")])
    ap.add_argument("--top", type=int, default=15, help="rows to print (default 15)")
    args = ap.parse_args()
    rows = classes(args.paths)
    print(f"{'lines':>6} {'methods':>7}  class")
    for lines, methods, name, path in rows[: args.top]:
        over = "  OVER" if lines > MAX_LINES or methods > MAX_METHODS else ""
        print(f"{lines:>6} {methods:>7}  {name} ({path}){over}")


if __name__ == "__main__":
    main()
