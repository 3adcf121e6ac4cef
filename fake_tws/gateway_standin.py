"""fake-tws in IB Gateway's place: the interface of the adapter's ``DockerizedIBGateway``
without Docker, credentials or an IB account.

``FakeTwsGateway`` takes the same config (or keywords), listens where the trading mode
says (127.0.0.1:4002 paper, 4001 live; ``port=0`` for a free port) and has the same
``start`` / ``safe_start`` / ``stop`` / ``is_logged_in`` / ``container_status`` /
``container`` / ``logs`` as the dockerized gateway. To develop against it, swap the
gateway and point the clients at its port::

    from fake_tws.gateway_standin import FakeTwsGateway

    gateway = FakeTwsGateway(trading_mode="paper", read_only_api=False)
    # or FakeTwsGateway(dockerized_gateway_config), the config DockerizedIBGateway takes
    gateway.start()
    data = InteractiveBrokersDataClientConfig(ibg_host=gateway.host, ibg_port=gateway.port)
    exec_ = InteractiveBrokersExecClientConfig(
        ibg_host=gateway.host, ibg_port=gateway.port, account_id=gateway.accounts[0]
    )
    ...  # build and run the TradingNode
    gateway.stop()

Leave ``dockerized_gateway`` out of the client configs: with it the factories start the
real container. ``with FakeTwsGateway(...) as gateway:`` starts and stops it too.

Like IB Gateway, the API is read-only unless ``read_only_api=False`` (the config's default
is True): orders, cancels and exercises are refused with IB's error 321 "The API
interface is currently in Read-Only mode" (the server's own read-only mode,
``ServerConfig.read_only``), so a strategy that trades here also needs the setting with
the real gateway. Keywords other than the gateway's own (``accounts``, ``clock``,
``world``, ...) configure the fake-tws server (see ``fake_tws.config.ServerConfig``);
``server`` is the running ``ServerThread``, for tests that reach into the world.

The stand-in's container is a small in-process object with a container's ``name``,
``status``, ``logs()``, ``reload()``, ``stop()`` and ``remove()``. Its log lines carry the
two lines a real gateway container prints when ready (the port forwarder's "Forking :::"
and IBC's "Login has completed"), so anything that watches a gateway's logs, the adapter's
``DockerizedIBGateway.is_logged_in`` included, sees this one ready as well.

fake_tws does not import the adapter, so ``ContainerStatus`` is repeated here with the same
members and values (an IntEnum: members of the two compare equal).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import IntEnum
from typing import Any, ClassVar

from .config import ServerConfig
from .handlers import ALL_HANDLERS
from .server import ServerThread
from .session import Handlers

__all__ = ["ContainerStatus", "FakeTwsContainer", "FakeTwsGateway"]

log = logging.getLogger(__name__)


class ContainerStatus(IntEnum):
    NO_CONTAINER = 1
    CONTAINER_CREATED = 2
    CONTAINER_STARTING = 3
    CONTAINER_STOPPED = 4
    NOT_LOGGED_IN = 5
    READY = 6
    UNKNOWN = 7


class FakeTwsContainer:
    """What stands for the gateway's container: a name, a status and log lines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.status = "running"
        self._lines: list[str] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, status={self.status!r})"

    def log_line(self, text: str) -> None:
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S:%f")[:-3]
        self._lines.append(f"{stamp} {text}")

    def logs(self, tail: int | str = "all", **_: Any) -> bytes:
        """Like docker's ``Container.logs()``: bytes, every line or the last ``tail``."""
        lines = self._lines if tail == "all" else self._lines[-int(tail) :] if tail else []
        return "".join(f"{line}\n" for line in lines).encode()

    def reload(self) -> None:
        """Nothing to refresh: the status is always current."""

    def stop(self, **_: Any) -> None:
        if self.status == "running":
            self.log_line("fake-tws: stopped")
        self.status = "exited"

    def remove(self, **_: Any) -> None:
        self.stop()


class FakeTwsGateway:
    """fake-tws started and stopped like ``DockerizedIBGateway`` (see the module docstring).

    Parameters
    ----------
    config : optional
        A ``DockerizedIBGatewayConfig`` (or any object with ``trading_mode``,
        ``read_only_api`` and ``timeout``); credentials and image are ignored.
    trading_mode, read_only_api, timeout : optional
        Override the config; defaults "paper", True, 300.
    host : str, default "127.0.0.1"
    port : int, optional
        Default: the trading mode's gateway port (4002 paper, 4001 live); 0: a free port.
    handlers : optional
        The request handlers of the server (default: all of fake-tws's).
    **server_options
        Fields of ``fake_tws.config.ServerConfig`` (``accounts``, ``clock``, ``world`` ...).
    """

    CONTAINER_NAME: ClassVar[str] = "fake-tws-gateway"
    PORTS_INTERNAL: ClassVar[dict[str, int]] = {"paper": 4002, "live": 4001}

    def __init__(
        self,
        config: Any = None,
        *,
        trading_mode: str | None = None,
        read_only_api: bool | None = None,
        timeout: int | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        handlers: Handlers | None = None,
        **server_options: Any,
    ) -> None:
        def pick(given: Any, field: str, default: Any) -> Any:
            if given is not None:
                return given
            return getattr(config, field, default) if config is not None else default

        self.log = log
        self.trading_mode: str = pick(trading_mode, "trading_mode", "paper")
        if self.trading_mode not in self.PORTS_INTERNAL:
            raise ValueError(
                f"trading_mode must be one of {sorted(self.PORTS_INTERNAL)}, "
                f"not {self.trading_mode!r}"
            )
        self.read_only_api: bool = pick(read_only_api, "read_only_api", True)
        self.timeout: int = pick(timeout, "timeout", 300)
        self.host = host
        self.port: int = self.PORTS_INTERNAL[self.trading_mode] if port is None else port
        self._requested_port = self.port
        self._handlers = ALL_HANDLERS if handlers is None else handlers
        self._server_options = server_options
        self._server: ServerThread | None = None
        self._container: FakeTwsContainer | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(trading_mode={self.trading_mode!r}, host={self.host!r}, "
            f"port={self.port}, read_only_api={self.read_only_api}, "
            f"running={self._server is not None})"
        )

    # -- as DockerizedIBGateway ------------------------------------------------------

    @property
    def container_name(self) -> str:
        return f"{self.CONTAINER_NAME}-{self.trading_mode}"

    @property
    def container(self) -> FakeTwsContainer | None:
        return self._container

    @property
    def container_status(self) -> ContainerStatus:
        container = self._container
        if container is None:
            return ContainerStatus.NO_CONTAINER
        if self.is_logged_in(container):
            return ContainerStatus.READY
        return ContainerStatus.CONTAINER_STOPPED

    @staticmethod
    def is_logged_in(container: Any) -> bool:
        """Whether ``container`` runs and its logs say it logged in."""
        if container is None or container.status != "running":
            return False
        return b"Login has completed" in container.logs()

    def logs(self, tail: int | None = None) -> str:
        if self._container is None:
            return ""
        return self._container.logs(tail="all" if tail is None else tail).decode()

    def start(self, wait: int | None = None) -> None:
        """Start fake-tws (a no-op when it runs); ``wait`` bounds the start in seconds."""
        if self._server is not None:
            self.log.info(f"{self.container_name} is running on {self.host}:{self.port}")
            return
        options = {**self._server_options, "read_only": self.read_only_api}
        server = ServerThread(
            host=self.host, port=self._requested_port, handlers=self._handlers, **options
        )
        try:
            server.start(timeout=wait or self.timeout)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(
                f"fake-tws could not listen on {self.host}:{self._requested_port} ({e}). Is "
                "something (a gateway?) listening there already? port=0 picks a free port"
            ) from e
        self._server = server
        self.port = server.port
        container = FakeTwsContainer(self.container_name)
        read_only = "yes" if self.read_only_api else "no"
        container.log_line(
            f".> fake-tws standing in for IB Gateway: trading mode {self.trading_mode}, "
            f"read-only API {read_only}, accounts {','.join(server.config.accounts)}"
        )
        container.log_line(
            f"Forking :::{self.port} onto {self.host}:{self.port} > trading mode "
            f"{self.trading_mode} (fake-tws listens there itself)"
        )
        container.log_line("IBC: Login has completed (fake-tws needs no login)")
        self._container = container
        self.log.info(
            f"fake-tws ready on {self.host}:{self.port} in place of IB Gateway "
            f"({self.trading_mode}, read-only API {read_only})"
        )

    def safe_start(self, wait: int | None = None) -> None:
        """The same as ``start``: no Docker, so nothing more to translate."""
        self.start(wait=wait)

    def stop(self) -> None:
        """Stop fake-tws and close every client connection (a no-op when stopped)."""
        server, container = self._server, self._container
        if server is None:
            return
        self._server = self._container = None
        try:
            server.stop()
        finally:
            if container is not None:
                container.stop()
        self.log.info(f"fake-tws on {self.host}:{self.port} stopped")

    def __enter__(self) -> FakeTwsGateway:
        self.start()
        return self

    def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        try:
            self.stop()
        except Exception as e:
            self.log.error(f"Error stopping {self.container_name}: {e!r}")

    # -- stand-in only ---------------------------------------------------------------

    @property
    def server(self) -> ServerThread | None:
        """The running fake-tws server thread (None when stopped)."""
        return self._server

    @property
    def accounts(self) -> tuple[str, ...]:
        """The account ids fake-tws manages (for ``account_id`` of the exec client)."""
        if self._server is not None:
            return self._server.config.accounts
        accounts = self._server_options.get("accounts")
        return tuple(ServerConfig().accounts if accounts is None else accounts)
