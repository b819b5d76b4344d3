"""The ``r2k`` command: the terminal app, or a headless subcommand (alerts, alerts log, snapshot,
record, holdings show, relay, serve, config path|init|check).

Every user-facing error is one line, ``r2k: error: <problem>; <fix>``, exit status 2, with no
traceback; Ctrl+C exits quietly with status 130. Headless commands never import Textual.

Exit statuses: 0 done; 1 an unexpected error (a bug: one line, or the monitor's traceback);
2 bad input (arguments, config, files, keys missing); 3 the feed failed during a headless run
(``r2k: feed error: <reason>``, see :mod:`tui.headless`); 4 the run worked but some output was
not written or delivered (a full disk, failed webhook posts); 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from feeds.errors import R2KError

EXIT_INTERRUPTED = 130
DEBUG_ENV = "R2K_DEBUG"


class UsageError(R2KError):
    """A command-line mistake argparse caught."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the error over several lines; r2k's rule is one line.
        raise UsageError(f"{message}; see '{self.prog} --help'")


def feed_list() -> str:
    """Every feed the registry knows, as ``--feed`` takes it (so --help never misses one)."""
    from feeds.feed import spec_forms

    return spec_forms()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("r2k")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, looking the version up only when asked: importlib.metadata (and the email
    parser under it) costs the plain ``r2k`` ~15 ms before its first frame."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        sys.stdout.write(f"r2k {_version()}\n")  # stdout, as argparse's own version action
        parser.exit()


def _common(parser: argparse.ArgumentParser, *, command: str | None = None) -> None:
    """Options a command takes. SUPPRESS: a value given before the subcommand survives.

    Only the monitor (no ``command``) takes the display options (--refresh, --mouse); ``record``
    and ``holdings`` take no levels or anchor (they write ticks or read a holdings file).
    """
    s = argparse.SUPPRESS
    g = parser.add_argument_group("feed")
    g.add_argument("--feed", metavar="SPEC", default=s, help=f"default sim; one of {feed_list()}")
    g.add_argument(
        "--speed",
        type=float,
        metavar="X",
        default=s,
        help="sim/replay pace: 1 = real time, 0 = as fast as possible",
    )
    g.add_argument("--seed", type=int, metavar="N", default=s, help="sim random seed")
    g.add_argument(
        "--universe",
        type=int,
        metavar="N",
        default=s,
        help="sim: pad the constituents with synthetic names up to N",
    )
    g.add_argument(
        "--holdings",
        metavar="PATH",
        default=s,
        help="holdings CSV (iShares download or r2k snapshot format)",
    )
    g.add_argument(
        "--config",
        metavar="PATH",
        default=s,
        help="config file (default $R2K_CONFIG or ~/.config/r2k/config.toml)",
    )
    if command in ("record", "holdings", "serve"):
        return
    g.add_argument(
        "--anchor",
        choices=("prev", "open", "first", "ytd"),
        default=s,
        help="what returns are measured from",
    )
    g.add_argument(
        "--level",
        action="append",
        metavar="PRICE[:CONFIRM][:LABEL]",
        default=s,
        help="an extra ^RUT level to alert on, e.g. 2642:5m:breakout (repeatable)",
    )
    g.add_argument(
        "--confirm",
        choices=("tick", "1m", "5m"),
        default=s,
        help="confirm level crossings on the price (tick) or a 1m/5m bar's close, for levels "
        "that name none",
    )
    g.add_argument(
        "--spread-level",
        action="append",
        metavar="BP[:CONFIRM][:LABEL]",
        default=s,
        help="alert when the RUT-SPX spread crosses BP basis points (repeatable)",
    )
    g.add_argument(
        "--record",
        metavar="PATH",
        default=s,
        help="also record every tick to PATH (.parquet or .csv, replayable)",
    )
    if command is not None:
        return
    d = parser.add_argument_group("display")
    d.add_argument("--refresh", type=float, metavar="HZ", default=s, help="screen refresh rate")
    d.add_argument(
        "--mouse",
        action="store_true",
        default=s,
        help="turn mouse reporting on (off by default: click-drag copies text)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="r2k",
        description="Live monitor of the Russell 2000 vs S&P 500 rotation.",
        epilog="Run without a command to open the terminal app.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show program's version number and exit"
    )
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    alerts = sub.add_parser(
        "alerts",
        help="run headless; print level alerts as JSON lines on stdout",
        description="Print one JSON object per level alert on stdout; feed status lines go to "
        "stderr. Stops at the end of a replay, after --duration, or on Ctrl+C. A replay plays "
        "as fast as possible unless --speed is given.",
    )
    _common(alerts, command="alerts")
    _duration(alerts, "stop after S seconds")
    _alerts_log_parser(alerts)
    snap = sub.add_parser(
        "snapshot",
        help="run the feed briefly and print the board once",
        description="Run the feed (a replay to its end; a live feed until every index member has "
        "a price, at most 60 s, or for --duration) and "
        "print indices, spreads, breadth and the constituents ranked by contribution. Only "
        "constituents with a price are listed; one not in the holdings has no weight (null).",
    )
    _common(snap, command="snapshot")
    _duration(
        snap,
        "seconds to run a live feed (default: until every member has a price, at most 60; a "
        "replay runs to its end)",
    )
    snap.add_argument("--json", action="store_true", help="print one JSON object instead")
    snap.add_argument("--top", type=int, metavar="N", help="constituents to list (text: 20)")
    hold = sub.add_parser(
        "holdings",
        help="fetch the current holdings file, or inspect one",
        description="Holdings files: 'r2k holdings fetch' downloads the current iShares IWM file; "
        "'r2k holdings show [PATH]' inspects one.",
    )
    hold_sub = hold.add_subparsers(dest="holdings_command", metavar="ACTION", required=True)
    show = hold_sub.add_parser(
        "show",
        help="as-of date, members, weight, top 10, and tickers respelt or unmatched",
        description="Print a holdings file's as-of date, the number of equity members, the "
        "weight they sum to and the top 10 by weight, with the tickers respelt to the feed's "
        "symbols (JWA -> JW-A) and those listed nowhere. No network: the spelling comes from "
        "the feed's cached symbol list, a replay file's symbols or the bundled US listing.",
    )
    _common(show, command="holdings")
    show.add_argument("path", nargs="?", metavar="PATH", help="holdings CSV (default: --holdings "
                      "or the bundled snapshot)")  # fmt: skip
    show.add_argument("--json", action="store_true", help="print one JSON object instead")
    # r2k holdings fetch
    fetch = hold_sub.add_parser(
        "fetch",
        help="download the current iShares IWM holdings file and keep it by its as-of date",
        description="Download the iShares IWM holdings CSV (a progress bar on stderr), check it "
        "with the holdings parser (a download cut short is refused), and keep it in the user "
        "data directory as IWM_holdings_<as-of>.csv (or at --out). The monitor and the headless "
        "commands then use the latest one fetched unless --holdings says otherwise.",
    )
    _common(fetch, command="holdings")
    fetch.add_argument("--out", metavar="PATH", help="keep the file here instead")
    fetch.add_argument("--url", metavar="URL", help="download from here (default: iShares IWM)")
    rec = sub.add_parser(
        "record",
        help="record a feed's ticks to a Parquet or CSV file that replay:PATH plays back",
        description="Write every tick to --out: Parquet when it ends in .parquet (or has no "
        "extension), CSV when it ends in .csv (appended to, never truncated). The feed's daily "
        "history goes to OUT.daily.csv. Stops at the end of a replay, after --duration, or on "
        "Ctrl+C (the file is closed cleanly).",
    )
    _common(rec, command="record")
    rec.add_argument(
        "--out", metavar="PATH", required=True, help="recording file (.parquet, default, or .csv)"
    )
    _duration(rec, "stop after S seconds")
    _relay_parser(sub)
    _serve_parser(sub)
    _config_parser(sub)
    return parser


def _serve_parser(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="the desk server: the monitor for every trader over SSH and in a browser",
        description="Serve the monitor to a desk's traders over SSH (public keys in "
        "DIR/NAME.keys) and in a browser (HTTP Basic against DIR/NAME.web), each with their own "
        "levels, alerts and acknowledgements in <state>/desk/NAME/, all on one upstream: an "
        "embedded relay of --feed, or an existing relay at --nats. Runs until SIGTERM or Ctrl+C. "
        "'r2k serve passwd NAME' sets a web password; 'r2k serve status' says who is connected.",
    )
    _common(serve, command="serve")
    serve.add_argument("--users", metavar="DIR", help="the traders: NAME.keys and NAME.web files")
    serve.add_argument("--ssh", metavar="HOST:PORT", help="listen for SSH here (e.g. :2222)")
    serve.add_argument(
        "--web", metavar="HOST:PORT", help="serve the browser desk here (loopback unless TLS)"
    )
    serve.add_argument(
        "--nats", metavar="URL", help="use the relay at this NATS server instead of --feed"
    )
    serve.add_argument(
        "--host-key",
        metavar="PATH",
        help="the SSH host key (ed25519; made on the first start; default in the state dir)",
    )
    serve.add_argument(
        "--max-sessions", type=int, metavar="N", default=50, help="sessions at once (default 50)"
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        metavar="SECONDS",
        help="end a session after this long without a key (default: never)",
    )
    serve.add_argument("--tls-cert", metavar="PATH", help="serve the web over HTTPS with this")
    serve.add_argument("--tls-key", metavar="PATH", help="the private key of --tls-cert")
    actions = serve.add_subparsers(dest="serve_command", metavar="ACTION")
    pw = actions.add_parser(
        "passwd",
        help="set a trader's web password (argon2id hash in DIR/NAME.web)",
        description="Set NAME's web password, asked twice on a terminal or read as one line of "
        "standard input (echo ... | r2k serve passwd NAME --users DIR). Only a salted argon2id "
        "hash is kept, in DIR/NAME.web (mode 0600).",
    )
    pw.add_argument("name", metavar="NAME")
    pw.add_argument("--users", metavar="DIR", dest="passwd_users", required=True)
    st = actions.add_parser(
        "status",
        help="who is connected to the running serve",
        description="Print the running serve's addresses, upstream and sessions (name, via, "
        "address, since, what).",
    )
    st.add_argument("--json", action="store_true", help="print the status as JSON")


def run_serve_command(ns: argparse.Namespace) -> int:
    from tui.serve import main as serve

    if ns.serve_command == "passwd":
        return serve.run_passwd(Path(ns.passwd_users), ns.name)
    if ns.serve_command == "status":
        return serve.run_status(ns.json)
    if not ns.users:
        raise UsageError("r2k serve needs --users DIR (the traders' NAME.keys files)")
    args = vars(ns)
    feed = args.get("feed")
    if feed and ns.nats:
        raise UsageError(
            "give --feed (serve runs the relay) or --nats (an existing relay), not both"
        )
    settings = settings_from_args(ns, headless=False)
    if not ns.nats and settings.feed_name in ("nats", "tls"):
        raise UsageError(f"for an existing relay use --nats {settings.feed}, not --feed")
    feed_args: list[str] = []
    for opt in ("feed", "speed", "seed", "universe", "holdings", "config"):
        if args.get(opt) is not None:
            feed_args += [f"--{opt}", str(args[opt])]
    monitor_args = ["--holdings", str(args["holdings"])] if args.get("holdings") else []
    opts = serve.ServeOptions(
        users=Path(ns.users),
        ssh=ns.ssh,
        web=ns.web,
        nats=ns.nats,
        feed_args=feed_args,
        monitor_args=monitor_args,
        host_key=Path(ns.host_key) if ns.host_key else None,
        max_sessions=ns.max_sessions,
        idle_timeout=ns.idle_timeout,
        tls_cert=ns.tls_cert,
        tls_key=ns.tls_key,
    )
    return serve.run_serve(opts, settings)


# r2k alerts log, r2k config
def _alerts_log_parser(alerts: argparse.ArgumentParser) -> None:
    from tui.alertlog import FEED_CHOICES

    sub = alerts.add_subparsers(dest="alerts_command", metavar="ACTION")
    log = sub.add_parser(
        "log",
        help="print the durable alert log",
        description="Print the alerts kept in the durable log, oldest first, with their "
        "acknowledgement and bust (default: live feeds' alerts, today, New York time).",
    )
    log.add_argument(
        "--since",
        metavar="DATE",
        help="from this date (2025-11-05), time with offset, today, yesterday or Nd",
    )
    log.add_argument(
        "--feed",
        dest="log_feed",
        choices=FEED_CHOICES,
        default="live",
        help="whose alerts: live feeds (default), the sim's, replays' or all",
    )
    log.add_argument("--json", action="store_true", help="one JSON object per alert")
    log.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")


def _config_parser(sub: Any) -> None:
    cfg = sub.add_parser(
        "config",
        help="the config file: path, init, check",
        description="'r2k config path' prints where the config file is; 'r2k config init' "
        "writes a commented default there; 'r2k config check [PATH]' validates it and prints "
        "the effective settings.",
    )
    actions = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    path = actions.add_parser("path", help="print where the config file is")
    path.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")
    init = actions.add_parser(
        "init",
        help="write a commented default config (every setting, its default, what it does)",
        description="Write a commented default config file with every setting at its default; "
        "never replaces an existing one without --force.",
    )
    init.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    check = actions.add_parser(
        "check",
        help="validate the config and print the effective settings",
        description="Validate the config file (PATH, or the one r2k would read) and print the "
        "effective settings: defaults < config file < environment < command line.",
    )
    _common(check)
    check.add_argument("path", nargs="?", metavar="PATH", help="the config file to check")


def _option_strings() -> set[str]:
    """Every option the command line takes (the default config names them beside settings)."""
    out: set[str] = set()
    for action in build_parser()._actions:
        out.update(a for a in action.option_strings if a.startswith("--"))
    return out


def run_config(ns: argparse.Namespace) -> int:
    from tui import configcmd

    explicit = getattr(ns, "config", None)
    if ns.config_command == "path":
        return configcmd.run_path(explicit)
    if ns.config_command == "init":
        return configcmd.run_init(explicit, force=ns.force, flags=_option_strings())
    overrides, extra = _overrides(ns)
    return configcmd.run_check(ns.path, explicit, overrides=overrides, extra=extra)


def _relay_parser(sub: Any) -> None:
    relay = sub.add_parser(
        "relay",
        help="share one feed with a desk: publish it to NATS for r2k --feed nats://...",
        description="Run the feed once and publish every event to a NATS server, where any "
        "number of terminals read it with --feed nats://HOST:PORT[/PREFIX]. Status lines go to "
        "stderr as JSON. Runs until Ctrl+C (or --duration).",
    )
    _common(relay, command="relay")  # no display options: the relay has no screen
    relay.add_argument(
        "--nats",
        metavar="URL",
        help="NATS server (default $R2K_NATS_URL, [nats] url, or nats://127.0.0.1:4222); "
        "tls://... for TLS",
    )
    relay.add_argument(
        "--prefix", metavar="P", help="subject prefix, so relays can share a server (default r2k)"
    )
    relay.add_argument(
        "--embedded",
        action="store_true",
        help="start a local nats-server on loopback (at --nats's port) for this machine's panes",
    )
    _duration(relay, "stop after S seconds")


def _duration(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help=f"{text}; wall seconds, or feed seconds at --speed 0",
    )


def _overrides(ns: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings the command line gives (None: not given), and the extra levels and spread
    thresholds (``--level``, ``--spread-level``) for :func:`feeds.settings.config.load_settings`."""
    from feeds.settings.config import parse_level, parse_spread_flag

    args = vars(ns)
    path = args.get("path") if args.get("command") == "holdings" else None  # show's PATH
    overrides = {
        "feed": args.get("feed"),
        "speed": args.get("speed"),
        "seed": args.get("seed"),
        "universe": args.get("universe"),
        "holdings": path or args.get("holdings"),
        "anchor": args.get("anchor"),
        "refresh_hz": args.get("refresh"),
        "mouse": args.get("mouse"),
        "record": args.get("record"),
        "confirm": args.get("confirm"),
    }
    if args.get("command") == "record":
        overrides["record"] = args["out"]
    extra = {
        "extra_levels": tuple(parse_level(t) for t in args.get("level", [])),
        "extra_spreads": tuple(parse_spread_flag(t) for t in args.get("spread_level", [])),
    }
    return overrides, extra


def settings_from_args(ns: argparse.Namespace, *, headless: bool) -> Any:
    from tui.validate import load_valid

    args = vars(ns)
    overrides, extra = _overrides(ns)
    # the same check `r2k config check` runs: every problem listed, each naming its source
    settings = load_valid(
        args.get("config"),
        overrides=overrides,
        extra=extra,
        check_holdings=args.get("command") != "holdings",  # `holdings show` names its file
    )
    if headless and settings.feed_name == "replay" and overrides["speed"] is None:
        # Nobody watches a headless replay: play it as fast as possible unless told otherwise.
        from dataclasses import replace

        settings = replace(settings, speed=0.0)
    return settings


def _check_duration(ns: argparse.Namespace) -> float | None:
    d = getattr(ns, "duration", None)
    if d is not None and not (d > 0 and math.isfinite(d)):
        raise UsageError(
            f"--duration must be a positive number of seconds, not {d:g}; leave it out to run "
            "until the feed ends or Ctrl+C (snapshot: 5 s)"
        )
    return d


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def run(argv: Sequence[str] | None) -> int:
    # The monitor runs no cyclic garbage collection until its first frame is out
    # (R2KApp._start freezes what start-up built, then turns it back on): the imports and the
    # first layout allocate a few hundred thousand objects, and the ~200 collections they set
    # off took ~12 % of the CPU before the first paint, each also walking all imported so far.
    # The other commands collect as usual.
    gc.disable()
    ns = build_parser().parse_args(argv)
    command = ns.command
    if command is not None:
        gc.enable()
    # the config commands work on a broken config; the log needs no feed
    if command == "config":
        return run_config(ns)
    if command == "serve":
        return run_serve_command(ns)
    if command == "alerts" and getattr(ns, "alerts_command", None) == "log":
        import time

        from feeds.settings.config import load_settings
        from tui.alertlog import run_log

        settings = load_settings(getattr(ns, "config", None))
        now = int(time.time() * 1000)
        return run_log(settings, since=ns.since, which=ns.log_feed, as_json=ns.json, now_ms=now)
    # a relayed replay is watched on the terminals: it keeps its real-time pace
    settings = settings_from_args(ns, headless=command not in (None, "relay"))
    duration = _check_duration(ns)
    if command == "alerts":
        from tui.headless import run_alerts

        return run_alerts(settings, duration)
    if command == "snapshot":
        from tui.headless import run_snapshot

        if ns.top is not None and ns.top < 0:
            raise UsageError(f"--top must be 0 or more, not {ns.top}")
        return run_snapshot(settings, duration, as_json=ns.json, top=ns.top)
    if command == "holdings":
        if ns.holdings_command == "fetch":
            from tui.holdings import run_holdings_fetch

            out = Path(ns.out).expanduser() if ns.out else None
            return run_holdings_fetch(out=out, url=ns.url)
        from tui.holdings import run_holdings_show

        return run_holdings_show(settings, as_json=ns.json)
    if command == "record":
        from feeds.feed import parse_spec
        from feeds.storage.recorder import recording_path
        from tui.headless import run_record

        out = recording_path(ns.out)  # .parquet when no extension; others refused
        name, arg = parse_spec(settings.feed)
        if name == "replay" and arg and _same_file(Path(arg).expanduser(), out):
            raise UsageError(f"--out {ns.out} is the file being replayed; record to another file")
        return run_record(settings, duration, out)
    if command == "relay":
        from tui.headless import feed_exit_status
        from tui.relay import run_relay

        relay = run_relay(settings, duration, nats=ns.nats, prefix=ns.prefix, embedded=ns.embedded)
        return feed_exit_status(relay)  # 3 and the reason when its upstream failed
    return run_app(settings)


def run_app(settings: Any) -> int:
    from feeds.alerting.alerts import AlertJournal
    from feeds.errors import ConfigError
    from feeds.settings.setup import build_pipeline

    try:
        from tui import keys
        from tui.app import R2KApp
    except ModuleNotFoundError as e:
        if e.name not in ("tui.app", "textual"):
            raise
        raise R2KError(
            f"the terminal app is not available ({e.name} missing); "
            "use 'r2k snapshot' or 'r2k alerts', or reinstall r2k"
        ) from None
    try:
        keys.check_keymap(settings.keys)
    except ValueError as e:
        where = f"config file '{settings.config_path}'" if settings.config_path else "config"
        raise ConfigError(f"{where}: {e}") from None
    pipeline = build_pipeline(settings)
    app = R2KApp(pipeline, settings=settings)
    try:
        app.run(mouse=settings.mouse)
    finally:
        for sink in pipeline.desk.sinks:
            if isinstance(sink, AlertJournal):
                sink.close()
        # what the screen showed as toasts, said once more where it outlives the screen
        for problem in pipeline.problems():
            sys.stderr.write(f"r2k: warning: {_one_line(problem)}\n")
    # an app that ended on an exception (Textual sets 1 and prints it) or
    # left because the terminal went away is not a success
    code = app.return_code or 0
    if code and app._exception is not None:
        exc = app._exception
        sys.stderr.write(
            f"r2k: error: the monitor stopped on an unexpected {type(exc).__name__}: "
            f"{_one_line(str(exc))}\n"
        )
    return code


def _one_line(text: str) -> str:
    from feeds.secrets import redact
    from feeds.text import clean

    return clean(redact(text), 2000)  # keys masked before the cut


# numpy's OpenBLAS starts a thread per core and their buffers as it loads (~45 ms of the ~90 ms
# numpy import on 2 cores, more threads and memory on a bigger server running a desk's monitors),
# for matrix products far larger than r2k's: its vector dots and 3x3 factors run on one thread
# either way. A value the user set is kept.
BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS"


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (``r2k = "tui.cli:main"``)."""
    os.environ.setdefault(BLAS_THREADS_ENV, "1")  # before numpy is first imported
    from tui.stdio import StdoutNotWritten, guard_stdout, silence_stdout

    before = guard_stdout()  # a full device on stdout is the user's (exit 4), never "a bug"
    try:
        with warnings.catch_warnings():
            if not os.environ.get(DEBUG_ENV):
                # a library's warning (numpy's RuntimeWarning with its source line) is no
                # message for a trader: r2k says what is wrong in its own one line
                warnings.simplefilter("ignore")
            code = run(argv)
        sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's exit
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except StdoutNotWritten as e:
        silence_stdout()
        sys.stderr.write(f"r2k: error: {_one_line(str(e))}\n")
        return e.exit_code
    except R2KError as e:
        for problem in getattr(e, "problems", None) or [str(e)]:  # every one, a line each
            sys.stderr.write(f"r2k: error: {_one_line(problem)}\n")
        return e.exit_code
    except BrokenPipeError:
        # The reader went away (`r2k alerts | head -1`): stop quietly; silence the final flush.
        silence_stdout()
        return 0
    except Exception as e:
        if os.environ.get(DEBUG_ENV):
            raise
        sys.stderr.write(
            f"r2k: error: unexpected {type(e).__name__}: {_one_line(str(e))} "
            f"(re-run with {DEBUG_ENV}=1 for the traceback)\n"
        )
        return 1
    finally:
        sys.stdout = before
        gc.enable()  # run() held collections back for the monitor's start-up


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
