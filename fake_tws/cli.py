"""The `fake-tws` command. Each subcommand is one `add_*` function and one `run_*` function."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence

import trio

from . import __version__
from .config import ServerConfig
from .protocol import versions as V
from .server import Server

log = logging.getLogger("fake_tws.cli")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _accounts(text: str) -> tuple[str, ...]:
    accounts = tuple(a.strip() for a in text.split(",") if a.strip())
    if not accounts:
        raise argparse.ArgumentTypeError("give at least one account, e.g. DU123456")
    return accounts


def _common_options() -> argparse.ArgumentParser:
    """Options every subcommand takes (after its name: `fake-tws serve --log-level DEBUG`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level", choices=LOG_LEVELS, default="INFO", type=str.upper, help="(default INFO)"
    )
    return common


def add_serve(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve", parents=[_common_options()], help="run a fake gateway until Ctrl-C"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument(
        "--port", type=int, default=7497, help="port, 0 for any free one (default %(default)s)"
    )
    p.add_argument(
        "--accounts",
        type=_accounts,
        default=ServerConfig.accounts,
        help="comma-separated managed accounts (default DU123456)",
    )
    p.add_argument("--min-version", type=int, default=V.MIN_SUPPORTED)
    p.add_argument("--max-version", type=int, default=V.MAX_SUPPORTED)
    p.add_argument("--first-order-id", type=int, default=1)
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            accounts=args.accounts,
            min_version=args.min_version,
            max_version=args.max_version,
            first_order_id=args.first_order_id,
        )
    except ValueError as exc:
        print(f"fake-tws serve: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(_serve_until_signal, config)
    except* OSError as group:  # e.g. the port is taken (raised inside the nursery)
        print(
            f"fake-tws serve: cannot listen on {config.host}:{config.port}: {group.exceptions[0]}",
            file=sys.stderr,
        )
        status = 1
    else:
        status = 0
    return status


async def _serve_until_signal(config: ServerConfig) -> None:
    # Open the receiver before listening so a Ctrl-C at any moment stops us cleanly.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            server: Server = await nursery.start(Server(config).serve)
            print(
                f"fake-tws {__version__} listening on {config.host}:{server.port} "
                f"(accounts {','.join(config.accounts)}, "
                f"versions {config.min_version}..{config.max_version}); Ctrl-C stops",
                flush=True,
            )
            async for signum in signals:
                log.info("%s received, stopping", signal.Signals(signum).name)
                server.stop()
                break


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (add_serve,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fake-tws", description="A scriptable fake Interactive Brokers TWS / IB Gateway."
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
