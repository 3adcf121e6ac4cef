"""The trio main loops behind `fake-tws record` and `fake-tws replay` (cli.py parses the
options and maps failures to exit statuses)."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable
from typing import Any

import trio

from fake_tws import __version__

from .proxy import Recorder

log = logging.getLogger("fake_tws.record")


async def record_until_signal(
    recorder: Recorder, announce: Callable[[str], None] = print, *, signals: bool = True
) -> None:
    """Run `recorder` until Ctrl-C / SIGTERM (or its first connection ends, with once)."""
    with _signal_receiver(signals) as received:
        async with trio.open_nursery() as nursery:

            async def serve(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
                try:
                    await recorder.serve(task_status=task_status)
                finally:
                    nursery.cancel_scope.cancel()

            await nursery.start(serve)
            host, port = recorder.upstream
            announce(
                f"fake-tws {__version__} recording on {recorder.host}:{recorder.port} "
                f"-> {host}:{port}, writing {recorder.out}; Ctrl-C stops"
                + (" (or the first client leaving)" if recorder.once else "")
            )
            ready = {
                "fake_tws": "recording",
                "host": recorder.host,
                "port": recorder.port,
                "upstream": f"{host}:{port}",
                "out": str(recorder.out),
                "pid": os.getpid(),
            }
            announce(json.dumps(ready))
            if received is not None:
                async for signum in received:
                    log.info("%s received, writing %s", signal.Signals(signum).name, recorder.out)
                    recorder.stop()
                    break


async def replay_until_signal(
    config: Any,
    scenario: Any,
    *,
    once: bool = False,
    announce: Callable[[str], None] = print,
    signals: bool = True,
    started: Callable[[Any], None] | None = None,
) -> None:
    """Serve `scenario` (a recording) until Ctrl-C / SIGTERM, or the first client leaving
    (once); progress on the "fake_tws.replay" log."""
    from fake_tws.server import Server

    from .replay import ReplayProgress

    with _signal_receiver(signals) as received:
        async with trio.open_nursery() as nursery:
            server = Server(config, scenario=scenario)
            assert server.engine is not None
            progress = ReplayProgress(server.engine).attach(server.gateway)
            if once:

                def stop_after_first(what: str, session: Any) -> None:
                    if what == "disconnected":
                        server.stop()
                        nursery.cancel_scope.cancel()

                server.gateway.session_listeners.append(stop_after_first)
            await nursery.start(server.serve)
            files = ", ".join(str(f) for f in scenario.files)
            announce(
                f"fake-tws {__version__} replaying {files} ({progress.total} rules) on "
                f"{config.host}:{server.port} (accounts {','.join(config.accounts)}, "
                f"versions {config.min_version}..{config.max_version}); Ctrl-C stops"
            )
            ready = {
                "fake_tws": "ready",
                "host": config.host,
                "port": server.port,
                "rules": progress.total,
                "pid": os.getpid(),
            }
            announce(json.dumps(ready))
            if started is not None:
                started(server)
            if received is not None:
                async for signum in received:
                    log.info("%s received, stopping", signal.Signals(signum).name)
                    break
                server.stop()
                nursery.cancel_scope.cancel()


class _NoSignals:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _signal_receiver(enabled: bool) -> Any:
    if enabled:
        return trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
    return _NoSignals()
