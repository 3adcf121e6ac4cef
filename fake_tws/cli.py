"""The `fake-tws` command. Each subcommand is one `add_*` function and one `run_*` function."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from . import __version__
from .config import ServerConfig
from .protocol import versions as V

log = logging.getLogger("fake_tws.cli")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# serve runs for as long as it is left running: its journal is capped (ServerConfig's
# default keeps every message, as tests want).
SERVE_JOURNAL_LIMIT = 100_000
# Exit statuses scripts can rely on.
OK, FAILED, USAGE = 0, 1, 2

EPILOG = """\
exit status:
  0  success (validate: every file is valid; serve: stopped by Ctrl-C or SIGTERM)
  1  failure: validate found problems, printed one per line as
     FILE:LINE:COL: FIELD.PATH: MESSAGE; serve could not start (a port is in use,
     a scenario does not load)
  2  usage error: unknown command or option, or option values that cannot work

Run `fake-tws COMMAND --help` for a command's options.
"""


def _accounts(text: str) -> tuple[str, ...]:
    accounts = tuple(a.strip() for a in text.split(",") if a.strip())
    if not accounts:
        raise argparse.ArgumentTypeError("give at least one account, e.g. DU123456")
    return accounts


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535 (0: any free one), got {port}")
    return port


def _size(text: str) -> int:
    """A size in bytes: 65536, 64K, 16M."""
    unit = {"K": 1024, "M": 1024 * 1024}.get(text[-1:].upper())
    try:
        return int(text[:-1]) * unit if unit else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size in bytes: {text!r} (e.g. 65536, 64K, 16M)"
        ) from None


def _common_options() -> argparse.ArgumentParser:
    """Options every subcommand takes (after its name: `fake-tws serve --log-level DEBUG`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level", choices=LOG_LEVELS, default="INFO", type=str.upper, help="(default INFO)"
    )
    return common


def _command(commands: argparse._SubParsersAction, name: str, **kwargs: Any) -> Any:
    return commands.add_parser(
        name,
        parents=[_common_options()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


# -- serve -----------------------------------------------------------------------------------


def add_serve(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "serve",
        help="run a fake gateway until Ctrl-C",
        description="Run a fake TWS / IB Gateway until Ctrl-C (or SIGTERM).",
        epilog="""\
Once listening, serve prints a banner line, then one JSON line for scripts:
  {"fake_tws": "ready", "host": ..., "port": ..., "control_port": ..., "control_url": ..., "pid": ...}
Connections and requests are logged at INFO on stderr (responses at DEBUG).

With --scenario, the scenario's world sets the accounts, server versions, clock and
start time, next order id and seed (options given here win over it), and its rules
run when this fake-tws has the scenario engine (a warning says when it does not).

With --control-port, an HTTP JSON API on 127.0.0.1 steers the running server
(routes: GET / lists them): GET /status, GET /journal?since=SEQ, POST /clock/advance
{"seconds": n}, POST /clock/set {"time": iso}, POST /faults/error {"code": n},
POST /faults/farm {"farm": "usfarm", "state": "broken"}, POST /faults/disconnect
{"clientId": n}. Send bodies with Content-Type: application/json (curl --json).
fake_tws.control.ControlClient is its Python client.

Safety: serve listens on 127.0.0.1 unless --host says otherwise; any other address
logs a warning, as fake-tws has no login. --trusted-ip limits who may connect (as TWS's
"Trusted IPs"; others are closed at once and logged), --read-only refuses orders (as
TWS's "Read-Only API"), --max-frame caps a request's size. A client that stops
reading is disconnected once 8 MiB are queued for it, and the journal keeps the last
--journal-limit messages, so memory stays bounded. The control API always listens on
127.0.0.1 only. No password or token is asked for, and none is logged.""",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default %(default)s: this machine only; 0.0.0.0 "
        "exposes the fake gateway to the network and logs a warning)",
    )
    p.add_argument(
        "--port", type=_port, default=7497, help="port, 0 for any free one (default %(default)s)"
    )
    p.add_argument(
        "--accounts",
        type=_accounts,
        default=None,
        help=f"comma-separated managed accounts (default {','.join(ServerConfig.accounts)})",
    )
    p.add_argument(
        "--min-version", type=int, default=None, metavar="N", help=f"(default {V.MIN_SUPPORTED})"
    )
    p.add_argument(
        "--max-version", type=int, default=None, metavar="N", help=f"(default {V.MAX_SUPPORTED})"
    )
    p.add_argument("--first-order-id", type=int, default=None, metavar="ID", help="(default 1)")
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE",
        help="a scenario file or library name; repeat to compose several (later ones win)",
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="N", help="the simulated world's random seed"
    )
    p.add_argument(
        "--clock",
        choices=("virtual", "real"),
        default=None,
        help="real: wall time (the default); virtual: time moves only through the "
        "control API (the default with --start, or when a scenario says so)",
    )
    p.add_argument(
        "--start",
        default=None,
        metavar="ISO_TIME",
        help="the virtual clock's start, e.g. 2026-01-05T14:30:00Z",
    )
    p.add_argument(
        "--control-port",
        type=_port,
        default=None,
        metavar="PORT",
        help="serve the control API on 127.0.0.1:PORT (0: any free port)",
    )
    p.add_argument(
        "--trusted-ip",
        action="append",
        default=None,
        metavar="ADDRESS",
        help="accept API connections only from this address or network (e.g. 10.0.0.7, "
        "192.168.1.0/24) and localhost; repeat for more. Others are closed at once and "
        "logged (default: any address that can reach --host)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="refuse placeOrder, cancelOrder, reqGlobalCancel and exerciseOptions with "
        "error 321, as TWS does when its API is read-only",
    )
    p.add_argument(
        "--max-frame",
        type=_size,
        default=None,
        metavar="BYTES",
        help="close a connection that announces a request larger than this (e.g. 64K; "
        f"default {ServerConfig.max_frame // (1024 * 1024)}M, as IB's client)",
    )
    p.add_argument(
        "--journal-limit",
        type=int,
        default=SERVE_JOURNAL_LIMIT,
        metavar="N",
        help="messages the journal (GET /journal) keeps; past it the oldest are forgotten, "
        "so memory stays bounded however long serve runs (default %(default)s; 0: all)",
    )
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from .control.settings import build_config, load_scenarios
    from .scenario import ScenarioError

    scenario = None
    if args.scenario:
        try:
            scenario = load_scenarios(args.scenario)
        except ScenarioError as exc:
            for issue in exc.issues:
                print(issue, file=sys.stderr)
            print(f"fake-tws serve: cannot load {', '.join(args.scenario)}", file=sys.stderr)
            return FAILED
    clock = args.clock or ("virtual" if args.start else None)
    flags = {
        "host": args.host,
        "port": args.port,
        "accounts": args.accounts,
        "min_version": args.min_version,
        "max_version": args.max_version,
        "first_order_id": args.first_order_id,
        "clock": clock,
        "start": args.start,
        "seed": args.seed,
        "trusted_ips": tuple(args.trusted_ip) if args.trusted_ip else None,
        "read_only": args.read_only,
        "max_frame": args.max_frame,
        "journal_limit": args.journal_limit or None,
    }
    try:
        config = build_config(flags, scenario=scenario, default_clock="real")
    except ValueError as exc:
        print(f"fake-tws serve: {exc}", file=sys.stderr)
        return USAGE
    seed = args.seed if args.seed is not None else (scenario.world.seed if scenario else None)
    if scenario is not None:
        _log_scenario(scenario)
    return _run_server(config, args.control_port, scenario, seed)


def _log_scenario(scenario: Any) -> None:
    files = ", ".join(str(f) for f in scenario.files)
    log.info(
        "scenario %s (%s): its world is applied and its %d rule(s) run",
        scenario.name,
        files,
        len(scenario.rules),
    )


def _run_server(config: ServerConfig, control_port: int | None, scenario: Any, seed: Any) -> int:
    from .control.server import ControlPortError

    status = OK
    try:
        trio.run(_serve_until_signal, config, control_port, scenario, seed)
    except* ControlPortError as group:
        print(f"fake-tws serve: {group.exceptions[0]} (control API)", file=sys.stderr)
        status = FAILED
    except* OSError as group:  # e.g. the port is taken (raised inside the nursery)
        print(
            f"fake-tws serve: cannot listen on {config.host}:{config.port}: {group.exceptions[0]}",
            file=sys.stderr,
        )
        status = FAILED
    return status


async def _serve_until_signal(
    config: ServerConfig, control_port: int | None, scenario: Any, seed: int | None
) -> None:
    from .control.actions import clock_kind, iso_time
    from .control.server import ControlServer
    from .server import Server

    # Open the receiver before listening so a Ctrl-C at any moment stops us cleanly.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            server = Server(config, scenario=scenario)
            server.gateway.journal.listen(_log_entry)
            await nursery.start(server.serve)
            control = None
            if control_port is not None:
                control = ControlServer(server, port=control_port, scenario=scenario, seed=seed)
                await nursery.start(control.serve)
            clock = server.gateway.clock
            print(
                f"fake-tws {__version__} listening on {config.host}:{server.port} "
                f"(accounts {','.join(config.accounts)}, "
                f"versions {config.min_version}..{config.max_version}, "
                f"{clock_kind(clock)} clock at {iso_time(clock.now())}"
                + (f", control API {control.url}" if control else "")
                + (", read-only API" if config.read_only else "")
                + "); Ctrl-C stops",
                flush=True,
            )
            ready = {
                "fake_tws": "ready",
                "host": config.host,
                "port": server.port,
                "control_port": control.port if control else None,
                "control_url": control.url if control else None,
                "pid": os.getpid(),
            }
            print(json.dumps(ready), flush=True)
            async for signum in signals:
                log.info("%s received, stopping", signal.Signals(signum).name)
                server.stop()
                if control is not None:
                    control.stop()
                break


_requests_log = logging.getLogger("fake_tws.requests")


def _log_entry(entry: Any) -> None:
    """Requests at INFO, responses and connection notes at DEBUG (the session logs
    connections at INFO itself)."""
    from .journal import Direction, format_message

    level = logging.INFO if entry.direction is Direction.RECEIVED else logging.DEBUG
    if _requests_log.isEnabledFor(level):
        arrow = {"received": "→", "sent": "←", "event": "·"}[entry.direction.value]
        _requests_log.log(
            level, "client %s %s %s", entry.client_id, arrow, format_message(entry.message)
        )


# -- validate, schema, list-scenarios -------------------------------------------------------


def add_validate(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "validate",
        help="check scenario files; problems are printed one per line",
        description="Check scenario files (and what they include). Each problem is printed "
        "on stdout as FILE:LINE:COL: FIELD.PATH: MESSAGE; a summary goes to stderr. "
        "Exit 0 if all are valid, 1 if not.",
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="scenario files, directories (every .yaml/.yml inside) or library names",
    )
    p.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from .scenario import validate_files

    files: list[str] = []
    for name in args.files:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                str(f) for f in path.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()
            )
            if not found:
                print(f"fake-tws validate: no .yaml or .yml files in {name}", file=sys.stderr)
                return USAGE
            files += found
        else:
            files.append(name)
    issues = validate_files(files)
    for issue in issues:
        print(issue)
    if issues:
        print(f"{len(issues)} problem(s) in {len(files)} file(s)", file=sys.stderr)
        return FAILED
    print(f"{len(files)} scenario file(s) valid", file=sys.stderr)
    return OK


def add_schema(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "schema",
        help="print the scenario files' JSON Schema",
        description="Print the JSON Schema of scenario files (for editors: point the YAML "
        "language server at it).",
    )
    p.set_defaults(run=run_schema)


def run_schema(args: argparse.Namespace) -> int:
    from .scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return OK


def add_list_scenarios(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "list-scenarios",
        help="list the scenario library's names",
        description="List the names of library scenarios (usable in --scenario and "
        "@pytest.mark.scenario), from $FAKE_TWS_SCENARIO_PATH and the shipped library.",
    )
    p.add_argument("--paths", action="store_true", help="print each name's file too")
    p.set_defaults(run=run_list_scenarios)


def run_list_scenarios(args: argparse.Namespace) -> int:
    from .scenario import find_scenario, list_scenarios
    from .scenario.library import ENV_VAR, search_path

    if not search_path():
        print(f"no scenario library directory exists (set ${ENV_VAR})", file=sys.stderr)
        return OK
    names = list_scenarios()
    for name in names:
        print(f"{name}\t{find_scenario(name)}" if args.paths else name)
    if not names:
        searched = ", ".join(str(d) for d in search_path())
        print(f"no scenarios in the library ({searched})", file=sys.stderr)
    return OK


# -- record, replay ----------------------------------------------------------------------------


def add_record(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "record",
        help="record a real TWS / Gateway conversation as a scenario",
        description="Run a pass-through proxy between TWS API clients and a real TWS / IB "
        "Gateway: point the client at --listen, the proxy forwards every byte unchanged to "
        "--upstream and writes the conversation to --out as a scenario file, which "
        "`fake-tws replay` serves back.",
        epilog="""\
The file is (re)written each time a client disconnects and when the proxy stops. Account
ids, perm ids, exec ids and order refs are replaced by placeholders (DU0000001...); each
request becomes a rule answering it with the recorded messages. Progress is logged on
stderr; once listening, one JSON line for scripts goes to stdout:
  {"fake_tws": "recording", "host": ..., "port": ..., "upstream": ..., "out": ..., "pid": ...}

exit status: 0 stopped by Ctrl-C / SIGTERM (or --once); 1 the upstream cannot be reached
or the port is taken; 2 usage error.""",
    )
    p.add_argument(
        "--upstream", required=True, metavar="HOST:PORT", help="the real TWS / IB Gateway"
    )
    p.add_argument(
        "--listen", required=True, type=_port, metavar="PORT", help="port clients connect to"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="scenario file to write")
    p.add_argument("--name", default=None, help="the scenario's name (default: FILE's stem)")
    p.add_argument(
        "--min-delay",
        default="10ms",
        metavar="DURATION",
        help="gaps between messages shorter than this are replayed at once (default %(default)s)",
    )
    p.add_argument("--once", action="store_true", help="stop after the first client leaves")
    p.set_defaults(run=run_record)


def run_record(args: argparse.Namespace) -> int:
    from .record import Recorder, UpstreamUnreachable, WriterOptions, parse_upstream
    from .record.commands import record_until_signal
    from .scenario.durations import Duration

    try:
        upstream = parse_upstream(args.upstream)
        min_delay = Duration.parse(args.min_delay).total_seconds()
    except ValueError as exc:
        print(f"fake-tws record: {exc}", file=sys.stderr)
        return USAGE
    options = WriterOptions(
        name=args.name or args.out.stem, upstream=args.upstream, min_delay=min_delay
    )
    recorder = Recorder(
        upstream, args.out, host=args.host, port=args.listen, options=options, once=args.once
    )
    status = OK
    try:
        trio.run(record_until_signal, recorder, lambda line: print(line, flush=True))
    except* UpstreamUnreachable as group:
        print(
            f"fake-tws record: upstream {group.exceptions[0]} "
            "(is TWS / IB Gateway running, with API connections enabled on that port?)",
            file=sys.stderr,
        )
        status = FAILED
    except* OSError as group:
        print(
            f"fake-tws record: cannot listen on {args.host}:{args.listen}: {group.exceptions[0]}",
            file=sys.stderr,
        )
        status = FAILED
    return status


def add_replay(commands: argparse._SubParsersAction) -> None:
    p = _command(
        commands,
        "replay",
        help="serve a recorded scenario, showing which recorded rules fire",
        description="Serve a scenario written by `fake-tws record` (the same as "
        "`fake-tws serve --scenario FILE`, with the recording's world), logging each "
        "recorded rule as it fires (n of total) and requests the recording has no answer for.",
        epilog="""\
Once listening, one JSON line for scripts goes to stdout:
  {"fake_tws": "ready", "host": ..., "port": ..., "rules": ..., "pid": ...}

exit status: 0 stopped by Ctrl-C / SIGTERM (or --once); 1 the file does not load or the
port is taken; 2 usage error.""",
    )
    p.add_argument("file", metavar="FILE", help="the recorded scenario file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument(
        "--port", type=_port, default=7497, help="port, 0 for any free one (default %(default)s)"
    )
    p.add_argument("--once", action="store_true", help="stop after the first client leaves")
    p.set_defaults(run=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from .control.settings import build_config, load_scenarios
    from .scenario import ScenarioError

    try:
        scenario = load_scenarios([args.file])
    except ScenarioError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"fake-tws replay: cannot load {args.file}", file=sys.stderr)
        return FAILED
    try:
        config = build_config(
            {"host": args.host, "port": args.port}, scenario=scenario, default_clock="real"
        )
    except ValueError as exc:
        print(f"fake-tws replay: {exc}", file=sys.stderr)
        return USAGE
    from .record.commands import replay_until_signal

    status = OK
    try:
        trio.run(
            lambda: replay_until_signal(
                config, scenario, once=args.once, announce=lambda line: print(line, flush=True)
            )
        )
    except* OSError as group:
        print(
            f"fake-tws replay: cannot listen on {args.host}:{args.port}: {group.exceptions[0]}",
            file=sys.stderr,
        )
        status = FAILED
    return status


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_serve,
    add_validate,
    add_schema,
    add_list_scenarios,
    add_record,
    add_replay,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fake-tws",
        description="A scriptable fake Interactive Brokers TWS / IB Gateway.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
