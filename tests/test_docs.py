"""Every example in the guide runs as written: the README and docs/*.md, checked against the code.

A fenced ``sh`` block's lines (and a ``$ r2k ...`` prompt line in any block) that run ``r2k`` are
parsed with the real command line (:func:`tui.cli.build_parser`, which parses without running),
their settings built as a run would build them (ranges, levels, spread thresholds), and their
``--feed`` looked up in the feed registry; every ``toml`` block must load as a config file; every
relative link must find its file, and its ``#anchor`` a heading there (GitHub's slugs); every
path of the tree a page names (``feeds/market/state.py``) and every ``python -m`` module must
exist. So a guide that names a flag, a subcommand, a feed, a setting or a module r2k no longer
has fails the suite.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from feeds.feed import feed_kind, feed_names
from feeds.settings.config import load_settings
from tui.cli import build_parser, settings_from_args
from tui.keys import check_keymap

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
COMMANDS = {"r2k", ".venv/bin/r2k"}
#: shell punctuation that ends a command: what follows is another command or a redirection
ENDS = {";", "&&", "||", "|", "&", ">", ">>", "<", "2>", "2>&1"}
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def blocks(path: Path) -> list[tuple[str, int, str]]:
    """(language, line of the first body line, body) of each fenced block in ``path``."""
    text = path.read_text(encoding="utf-8")
    return [(m[1], text.count("\n", 0, m.start()) + 2, m[2]) for m in FENCE.finditer(text)]


def words(line: str) -> list[str]:
    """The words of one shell command line, comments dropped, cut at the first ``;``, pipe or
    redirection."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = "#"
    out: list[str] = []
    for word in lex:
        if word in ENDS:
            break
        out.append(word)
    return out


def r2k_args(line: str) -> list[str] | None:
    """The arguments after ``r2k`` when ``line`` runs it (after ``VAR=value`` assignments or in
    ``make run ARGS="..."``), else None."""
    argv = words(line)
    while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
        argv = argv[1:]
    if argv[:2] == ["make", "run"]:
        given = [a for a in argv[2:] if a.startswith("ARGS=")]
        return shlex.split(given[0].removeprefix("ARGS=")) if given else []
    if argv and argv[0] in COMMANDS:
        return argv[1:]
    return None


def examples() -> list[tuple[Example, list[str]]]:
    found = []
    for path in PAGES:
        page = str(path.relative_to(ROOT))
        for lang, first, body in blocks(path):
            for n, raw in enumerate(body.splitlines()):
                line = raw.strip()
                prompt = line.startswith("$ ")
                if not (prompt or lang in SHELL):
                    continue
                args = r2k_args(line.removeprefix("$ "))
                if args is not None:
                    found.append((Example(page, first + n, line), args))
    return found


EXAMPLES = examples()


def test_the_guide_has_examples_to_check() -> None:
    # the extraction itself could rot: the README's and the pages' commands are all found
    pages = {ex.page for ex, _ in EXAMPLES}
    assert "README.md" in pages and "docs/alerts.md" in pages and "docs/desk.md" in pages
    assert len(EXAMPLES) >= 30
    subcommands = {args[0] for _, args in EXAMPLES if args and not args[0].startswith("-")}
    assert {"alerts", "snapshot", "record", "holdings", "relay", "config"} <= subcommands


@pytest.mark.parametrize(("example", "args"), EXAMPLES, ids=[str(e) for e, _ in EXAMPLES])
def test_every_r2k_command_in_the_guide_parses(example: Example, args: list[str]) -> None:
    try:
        ns = build_parser().parse_args(args)
    except SystemExit as stop:  # --help, --version: argparse prints and exits 0
        assert stop.code == 0, example
        return
    feed = getattr(ns, "feed", None)
    if feed is not None:
        assert feed_kind(feed) in feed_names(), f"{example}: no feed {feed!r}"
    if ns.command in (None, "alerts", "snapshot", "record", "relay") and not getattr(
        ns, "alerts_command", None
    ):
        # the settings a run builds first: every flag's range, each --level and --spread-level
        settings_from_args(ns, headless=ns.command is not None)


def test_the_parser_check_would_catch_a_wrong_example() -> None:
    from tui.cli import UsageError

    for wrong in (["snapshot", "--secs", "2"], ["status"], ["alerts", "log", "--feed", "yahoo"]):
        with pytest.raises(UsageError):
            build_parser().parse_args(wrong)
    assert r2k_args("R2K_X=1 r2k --feed nats://h:4222 > out.txt; echo $?") == [
        "--feed",
        "nats://h:4222",
    ]
    assert r2k_args('make run ARGS="--feed yahoo"') == ["--feed", "yahoo"]
    assert r2k_args(".venv/bin/python bench/screen.py") is None


TOML = [
    (Example(str(p.relative_to(ROOT)), first, body.splitlines()[0]), body)
    for p in PAGES
    for lang, first, body in blocks(p)
    if lang == "toml"
]


@pytest.mark.parametrize(("example", "body"), TOML, ids=[str(e) for e, _ in TOML])
def test_every_toml_block_loads_as_a_config_file(
    example: Example, body: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    settings = load_settings(str(path))
    check_keymap(settings.keys)  # a [keys] remap names real binding ids, as the monitor checks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m[1]) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_between_the_pages_finds_its_page_and_heading() -> None:
    broken = []
    for path in PAGES:
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # https://, mailto:
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{path.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


#: a path of the tree a page names, and a module ``python -m`` runs
PATH = re.compile(r"\b(?:feeds|tui|bench|tests)/[A-Za-z0-9_./-]*[A-Za-z0-9_/]")
MODULE = re.compile(r"python -m ([\w.]+)")


def test_every_path_and_module_the_pages_name_exists() -> None:
    # the tour in development.md is only worth reading if its paths are the tree's
    missing = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for name in sorted(set(PATH.findall(text))):
            if not (ROOT / name).exists():
                missing.append(f"{path.name}: {name}")
        for module in MODULE.findall(text):
            if importlib.util.find_spec(module) is None:
                missing.append(f"{path.name}: python -m {module}")
    assert not missing, "\n".join(missing)


def test_the_readme_is_the_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    first = blocks(ROOT / "README.md")[0][2]
    assert first.startswith("make run") and "make test" in first  # the set-up comes first
    linked = set(re.findall(r"\(docs/([\w-]+\.md)", readme))
    guides = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert guides <= linked, f"pages the README does not link: {sorted(guides - linked)}"
