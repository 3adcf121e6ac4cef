"""IB Gateway in a Docker container, started and watched for a trading node.

Names, constants and behaviour match ``nautilus_trader.adapters.interactive_brokers.gateway``
(NautilusTrader 1.221.0): one container per trading mode, named
``nautilus-ib-gateway-<mode>`` (so either adapter finds a container the other started),
the image of ``DockerizedIBGatewayConfig.container_image`` (gnzsnz's IB Gateway + IBC),
the API published on 127.0.0.1:4002 (paper) or 4001 (live), credentials from the config
or the ``TWS_USERNAME`` / ``TWS_PASSWORD`` environment variables::

    gateway = DockerizedIBGateway(DockerizedIBGatewayConfig(trading_mode="paper"))
    gateway.safe_start(wait=120)  # returns once IB Gateway has logged in
    ...                           # clients connect to gateway.host, gateway.port
    gateway.stop()                # stops and removes the container

For development without Docker or an IB account, ``fake_tws.gateway_standin.FakeTwsGateway``
has the same interface and runs fake-tws instead.

Where ours departs from theirs, on purpose (each tested in tests/adapter/test_gateway.py):

- Ready means logged in. Theirs waits for the image's "Forking :::" line, printed when its
  socat port forwarder starts, which says nothing about the login (current gnzsnz images
  start the forwarder before IBC, older ones 30 s after start), so theirs can return from
  ``start()`` while the API still refuses connections or the login is failing. Ours waits
  for IBC's "Login has completed" (and the forwarder).
- A failed login ends the wait at once. IBC's "Unrecognized Username or Password", "Login
  failed" or "Too many failed login attempts" raises ``GatewayLoginFailure`` quoting the
  line, and the container is stopped (kept, for ``docker logs``) so it does not retry its
  way into an account lockout. A container that exits before login fails at once with its
  exit code and last log lines. Theirs sleeps out the whole timeout (300 s by default)
  and then says only "not ready".
- Status is read fresh. Theirs caches the container object and never reloads it, so
  ``container_status`` reports the state at creation ("created" reads UNKNOWN) and a
  container removed behind its back breaks the next ``start()``. Ours reloads, and a
  vanished container counts as none.
- An existing container is reused only if it runs the configured image, user, trading mode
  and read-only setting; otherwise it is replaced, with a warning saying what differs.
  Theirs reuses whatever has the name (e.g. a read-only gateway when orders are wanted).
  An existing container still logging in is waited for; theirs returns at once.
- ``safe_start`` says what went wrong: an image that cannot be pulled, a name conflict
  (``ContainerExists``, raised only after adopting a container another process created
  meanwhile did not work), or Docker's own explanation. Theirs reports every Docker API
  error, a missing image included, as "Container already exists".
- The password never appears in logs, exception messages, ``repr`` or ``str``:
  ``gateway.password`` prints as ``********`` (theirs is a ``SecureString``, whose ``str``
  shows its first and last four characters) and container log text we pass on (error
  messages, ``logs()``) has it blanked.
- Missing credentials are named together in one error; empty strings count as missing.
- Restart policy "unless-stopped" (theirs "always"): a container stopped after a failed
  login stays stopped when the Docker engine restarts.
- ``vnc_port``: the image starts its VNC server only when given ``VNC_SERVER_PASSWORD``;
  ours passes that variable from the environment and warns when it is unset. Theirs
  publishes the port of a VNC server that never starts.
- ``with DockerizedIBGateway(config) as gateway:`` binds the gateway (theirs binds None).
- Logs go to the standard ``logging`` module (logger ``adapter.gateway``) or a logger
  passed in. Theirs uses NautilusTrader's logger, silent until a kernel has initialised
  logging, so a standalone script starting a gateway sees nothing.
- Keyword-only extras: ``docker_client``, ``sleep``, ``clock``, ``logger``; and ``logs()``.

All four exception classes derive from ``RuntimeError``, which theirs raises for a timeout
and from ``safe_start``, so ``except RuntimeError`` written for theirs still works.
``NoContainer`` and ``UnknownContainerStatus`` exist for imports only (theirs never raises
them either).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Any, ClassVar

from adapter.config import DockerizedIBGatewayConfig

__all__ = [
    "ContainerExists",
    "ContainerStatus",
    "DockerizedIBGateway",
    "GatewayLoginFailure",
    "NoContainer",
    "UnknownContainerStatus",
]

MASK = "********"

# What the gnzsnz image and IBC print to the container's output (IBC prefixes its lines
# with a timestamp and "IBC: "). The last login line in the logs decides the state.
FORWARDING_MARKER = "Forking :::"  # socat forwards the published port to the API port
LOGGED_IN_MARKER = "IBC: Login has completed"
SECOND_FACTOR_MARKER = "Second Factor Authentication initiated"
LOGIN_FAILURE_MARKERS = (
    "Unrecognized Username or Password",
    "IBC: Login failed",
    "Too many failed login attempts",
)
STOPPED_STATES = ("exited", "dead", "stopped")
LOG_TAIL_LINES = 20


class ContainerStatus(IntEnum):
    NO_CONTAINER = 1
    CONTAINER_CREATED = 2
    CONTAINER_STARTING = 3
    CONTAINER_STOPPED = 4
    NOT_LOGGED_IN = 5
    READY = 6
    UNKNOWN = 7


class ContainerExists(RuntimeError):
    """A container of this name exists that could not be reused or replaced."""


class NoContainer(RuntimeError):
    """No container of this name (kept for imports; docker itself raises ``NotFound``)."""


class UnknownContainerStatus(RuntimeError):
    """The container is in a state the gateway cannot act on (kept for imports)."""


class GatewayLoginFailure(RuntimeError):
    """IB Gateway did not log in: refused credentials, container exit, or timeout."""


class _Secret:
    """A string that never shows itself: ``get_value()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({MASK})"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)


class _Login(Enum):
    PENDING = "pending"
    SECOND_FACTOR = "waiting for second-factor approval"
    LOGGED_IN = "logged in"
    FAILED = "failed"


def _read_login(text: str) -> tuple[_Login, str | None, bool]:
    """The login state the logs end in, the line that set it, and whether the API
    port is forwarded."""
    state, line, forwarded = _Login.PENDING, None, False
    for entry in text.splitlines():
        if FORWARDING_MARKER in entry:
            forwarded = True
        if LOGGED_IN_MARKER in entry:
            state, line = _Login.LOGGED_IN, entry
        elif any(marker in entry for marker in LOGIN_FAILURE_MARKERS):
            state, line = _Login.FAILED, entry
        elif SECOND_FACTOR_MARKER in entry:
            state, line = _Login.SECOND_FACTOR, entry
    return state, line, forwarded


def _as_text(logs: bytes | str) -> str:
    return logs.decode("utf-8", errors="replace") if isinstance(logs, bytes) else logs


def _docker_module() -> Any:
    try:
        import docker
    except ImportError as e:  # pragma: no cover - docker is installed wherever we test
        raise RuntimeError(
            "The `docker` package is required for DockerizedIBGateway: pip install docker"
        ) from e
    return docker


def _credential(value: str | None, env_var: str) -> str | None:
    return value or os.getenv(env_var) or None


class DockerizedIBGateway:
    """Start, watch and stop an IB Gateway container (see the module docstring).

    Parameters
    ----------
    config : DockerizedIBGatewayConfig
    docker_client : optional
        A ``docker.DockerClient`` (or anything with its ``containers`` API); default
        ``docker.from_env()``.
    sleep, clock : optional
        How to wait between polls of the container logs and how to read the time
        (default ``time.sleep`` and ``time.monotonic``).
    logger : optional
        Where to log (anything with ``debug/info/warning/error(str)``, e.g. a
        NautilusTrader ``Logger``); default ``logging.getLogger("adapter.gateway")``.
    """

    CONTAINER_NAME: ClassVar[str] = "nautilus-ib-gateway"
    # IB Gateway's API port inside the container, and the host port clients connect to.
    PORTS_INTERNAL: ClassVar[dict[str, int]] = {"paper": 4002, "live": 4001}
    # The container port the image's socat forwards the API to: published on PORTS_INTERNAL.
    PORTS_EXTERNAL: ClassVar[dict[str, int]] = {"paper": 4004, "live": 4003}
    VNC_PORT_INTERNAL: ClassVar[int] = 5900
    POLL_INTERVAL: ClassVar[float] = 1.0  # seconds between looks at the container logs

    def __init__(
        self,
        config: DockerizedIBGatewayConfig,
        *,
        docker_client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self.log = logger if logger is not None else logging.getLogger(__name__)
        username = _credential(config.username, "TWS_USERNAME")
        password = _credential(config.password, "TWS_PASSWORD")
        missing = [
            f"`{field}` (config) or {env_var} (environment)"
            for field, env_var, value in (
                ("username", "TWS_USERNAME", username),
                ("password", "TWS_PASSWORD", password),
            )
            if value is None
        ]
        if missing:
            message = f"IB Gateway credentials missing: set {' and '.join(missing)}"
            self.log.error(message)
            raise ValueError(message)
        assert username is not None and password is not None
        self.username: str = username
        self.password = _Secret(password)

        if config.trading_mode not in self.PORTS_INTERNAL:
            raise ValueError(
                f"trading_mode must be one of {sorted(self.PORTS_INTERNAL)}, "
                f"not {config.trading_mode!r}"
            )
        self.trading_mode = config.trading_mode
        self.read_only_api = config.read_only_api
        self.host = "127.0.0.1"
        self.port = self.PORTS_INTERNAL[config.trading_mode]
        self.timeout = config.timeout
        self.container_image = config.container_image
        self.vnc_port = config.vnc_port

        self._sleep = sleep
        self._clock = clock
        docker = _docker_module()
        self._errors = docker.errors
        if docker_client is None:
            try:
                docker_client = docker.from_env()
            except docker.errors.DockerException as e:
                raise RuntimeError(
                    f"Cannot reach the Docker engine to run IB Gateway (is Docker running, "
                    f"and DOCKER_HOST right?): {e}"
                ) from e
        self._docker = docker_client
        self._container: Any = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(container_name={self.container_name!r}, "
            f"trading_mode={self.trading_mode!r}, host={self.host!r}, port={self.port}, "
            f"read_only_api={self.read_only_api})"
        )

    # -- the container ----------------------------------------------------------------

    @property
    def container_name(self) -> str:
        """``nautilus-ib-gateway-paper`` or ``nautilus-ib-gateway-live``."""
        return f"{self.CONTAINER_NAME}-{self.trading_mode}"

    @property
    def container(self) -> Any:
        """The container of this name as Docker sees it now, or None."""
        if self._container is not None:
            try:
                self._container.reload()
            except self._errors.NotFound:
                self._container = None
            else:
                return self._container
        try:
            self._container = self._docker.containers.get(self.container_name)
        except self._errors.NotFound:
            self._container = None
        return self._container

    @property
    def container_status(self) -> ContainerStatus:
        return self._status_of(self.container)

    @staticmethod
    def is_logged_in(container: Any) -> bool:
        """Whether the container's logs show IB Gateway logged in, its API forwarded."""
        if container is None:
            return False
        try:
            logs = container.logs()
        except _docker_module().errors.NotFound:
            return False
        state, _, forwarded = _read_login(_as_text(logs))
        return state is _Login.LOGGED_IN and forwarded

    def logs(self, tail: int | None = None) -> str:
        """The container's output (its last ``tail`` lines), password blanked; "" if none."""
        container = self.container
        if container is None:
            return ""
        try:
            return self._logs_text(container, tail)
        except self._errors.NotFound:
            return ""

    # -- starting and stopping -------------------------------------------------------

    def start(self, wait: int | None = None) -> None:
        """Make sure the gateway runs and is logged in.

        Reuses a matching container that is logged in or logging in, replaces any other,
        and waits up to ``wait`` seconds (default ``timeout``) for the login. Raises
        ``GatewayLoginFailure`` when the login fails or times out; Docker's own errors
        pass through (``safe_start`` explains them).
        """
        wait = wait or self.timeout
        self.log.info(f"Ensuring gateway `{self.container_name}` is running")
        container = self.container
        if container is not None:
            status = self._status_of(container)
            difference = self._difference(container)
            if difference:
                self.log.warning(
                    f"Container `{self.container_name}` runs with a different {difference}: "
                    "replacing it"
                )
            elif status == ContainerStatus.READY:
                self.log.info(f"Gateway `{self.container_name}` is ready, using it")
                return
            elif status == ContainerStatus.CONTAINER_STARTING:
                self.log.info(f"Gateway `{self.container_name}` is starting, waiting for it")
                self._wait_for_login(container, wait)
                return
            else:
                self.log.info(f"Container `{self.container_name}` is {status.name}: replacing it")
            self._remove(container)
        self.log.debug(f"Starting container `{self.container_name}` from {self.container_image}")
        self._container = self._run()
        self.log.info(f"Container `{self.container_name}` started, waiting for login")
        self._wait_for_login(self._container, wait)

    def safe_start(self, wait: int | None = None) -> None:
        """``start``, with Docker's errors turned into a ``RuntimeError`` that says what
        went wrong. A name conflict (another process created the container since we
        looked) is retried once, which adopts or replaces that container."""
        errors = self._errors
        for attempt in (1, 2):
            try:
                self.start(wait=wait)
                return
            except errors.ImageNotFound as e:
                raise RuntimeError(
                    f"Docker image `{self.container_image}` was not found and could not be "
                    f"pulled: {self._scrub(str(e.explanation or e))}"
                ) from e
            except errors.APIError as e:
                if e.status_code != 409:
                    raise RuntimeError(
                        f"Docker could not start `{self.container_name}`: "
                        f"{self._scrub(str(e.explanation or e))}"
                    ) from e
                if attempt == 2:
                    raise ContainerExists(
                        f"Container `{self.container_name}` exists and could not be reused or "
                        f"replaced: {self._scrub(str(e.explanation or e))}"
                    ) from e
                self.log.warning(
                    f"Container `{self.container_name}` appeared while starting it "
                    "(another process?): looking again"
                )
                self._container = None
            except errors.DockerException as e:
                raise RuntimeError(
                    f"Docker failed while starting `{self.container_name}`: {self._scrub(str(e))}"
                ) from e

    def stop(self) -> None:
        """Stop and remove the container, if there is one."""
        container = self.container
        if container is None:
            return
        self._remove(container)
        self._container = None
        self.log.info(f"Container `{self.container_name}` stopped and removed")

    def __enter__(self) -> DockerizedIBGateway:
        self.start()
        return self

    def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        try:
            self.stop()
        except Exception as e:
            self.log.error(f"Error stopping container `{self.container_name}`: {e!r}")

    # -- internals -------------------------------------------------------------------

    def _run(self) -> Any:
        ports: dict[str, tuple[str, int]] = {
            f"{self.PORTS_EXTERNAL[self.trading_mode]}/tcp": (self.host, self.port)
        }
        environment = {
            "TWS_USERID": self.username,
            "TWS_PASSWORD": self.password.get_value(),
            "TRADING_MODE": self.trading_mode,
            "READ_ONLY_API": self._read_only_flag,
        }
        if self.vnc_port is not None:
            ports[f"{self.VNC_PORT_INTERNAL}/tcp"] = (self.host, self.vnc_port)
            vnc_password = os.getenv("VNC_SERVER_PASSWORD")
            if vnc_password:
                environment["VNC_SERVER_PASSWORD"] = vnc_password
            else:
                self.log.warning(
                    f"vnc_port={self.vnc_port} but VNC_SERVER_PASSWORD is not set: the "
                    "gateway image starts no VNC server without it"
                )
        return self._docker.containers.run(
            image=self.container_image,
            name=self.container_name,
            detach=True,
            ports=ports,
            platform="amd64",
            restart_policy={"Name": "unless-stopped"},
            environment=environment,
        )

    @property
    def _read_only_flag(self) -> str:
        return "yes" if self.read_only_api else "no"

    def _status_of(self, container: Any) -> ContainerStatus:
        if container is None:
            return ContainerStatus.NO_CONTAINER
        status = container.status
        if status == "running":
            try:
                state, _, forwarded = _read_login(self._logs_text(container))
            except self._errors.NotFound:
                return ContainerStatus.NO_CONTAINER
            if state is _Login.LOGGED_IN and forwarded:
                return ContainerStatus.READY
            if state is _Login.FAILED:
                return ContainerStatus.NOT_LOGGED_IN
            return ContainerStatus.CONTAINER_STARTING
        if status == "restarting":
            return ContainerStatus.CONTAINER_STARTING
        if status == "created":
            return ContainerStatus.CONTAINER_CREATED
        if status in STOPPED_STATES:
            return ContainerStatus.CONTAINER_STOPPED
        return ContainerStatus.UNKNOWN

    def _difference(self, container: Any) -> str:
        """What of image, user, trading mode and read-only setting the container runs
        differently from the config ("" when nothing differs or Docker does not say)."""
        config = (getattr(container, "attrs", None) or {}).get("Config") or {}
        env = dict(item.split("=", 1) for item in config.get("Env") or () if "=" in item)
        wanted = {
            "TWS_USERID": ("user", self.username),
            "TRADING_MODE": ("trading mode", self.trading_mode),
            "READ_ONLY_API": ("read-only setting", self._read_only_flag),
        }
        differences = [
            label for key, (label, value) in wanted.items() if key in env and env[key] != value
        ]
        image = config.get("Image")
        if image is not None and image != self.container_image:
            differences.insert(0, f"image ({image})")
        return ", ".join(differences)

    def _wait_for_login(self, container: Any, wait: float) -> None:
        deadline = self._clock() + wait
        announced: _Login | None = None
        while True:
            try:
                container.reload()
                text = self._logs_text(container)
            except self._errors.NotFound as e:
                raise GatewayLoginFailure(
                    f"Container `{self.container_name}` was removed while waiting for login"
                ) from e
            if container.status in STOPPED_STATES:
                code = ((getattr(container, "attrs", None) or {}).get("State") or {}).get(
                    "ExitCode"
                )
                raise GatewayLoginFailure(
                    f"Container `{self.container_name}` exited (code {code}) before IB Gateway "
                    f"logged in. Last log lines:\n{self._tail(text)}"
                )
            state, line, forwarded = _read_login(text)
            if state is _Login.LOGGED_IN and forwarded:
                self.log.info(
                    f"Gateway `{self.container_name}` ready on {self.host}:{self.port}"
                    + (f", VNC on port {self.vnc_port}" if self.vnc_port is not None else "")
                )
                return
            if state is _Login.FAILED:
                self._stop_quietly(container)
                raise GatewayLoginFailure(
                    f"IB Gateway login failed: {(line or '').strip()}. Container "
                    f"`{self.container_name}` is stopped so it does not retry into an account "
                    f"lockout (see `docker logs {self.container_name}`); check the "
                    "credentials, then start again"
                )
            if state is _Login.SECOND_FACTOR and announced is not state:
                self.log.warning(
                    f"Gateway `{self.container_name}` waits for second-factor approval: "
                    "confirm the login (e.g. in IBKR Mobile)"
                )
            announced = state
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise GatewayLoginFailure(
                    f"IB Gateway in `{self.container_name}` did not log in within {wait}s "
                    f"({state.value}). Last log lines:\n{self._tail(text)}"
                )
            self.log.debug(f"Waiting for IB Gateway to log in ({remaining:.0f}s left)")
            self._sleep(min(self.POLL_INTERVAL, remaining))

    def _logs_text(self, container: Any, tail: int | None = None) -> str:
        logs = container.logs() if tail is None else container.logs(tail=tail)
        return self._scrub(_as_text(logs))

    def _tail(self, text: str) -> str:
        return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])

    def _scrub(self, text: str) -> str:
        """``text`` with the secrets we hold blanked out."""
        for secret in (self.password.get_value(), os.getenv("VNC_SERVER_PASSWORD")):
            if secret:
                text = text.replace(secret, MASK)
        return text

    def _remove(self, container: Any) -> None:
        self._stop_quietly(container)
        with contextlib.suppress(self._errors.NotFound):
            container.remove()

    def _stop_quietly(self, container: Any) -> None:
        with contextlib.suppress(self._errors.NotFound):
            container.stop()
