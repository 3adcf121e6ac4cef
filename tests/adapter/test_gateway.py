"""DockerizedIBGateway against an in-memory Docker engine: no daemon, no sleeping.

`FakeDocker` implements the part of docker's client API the gateway uses
(`containers.run/get/list`, `Container.status/attrs/logs/reload/stop/remove`) and raises
docker's own exception classes. Each container plays a script: log lines that appear a
given number of seconds after it started, and optionally an exit. `FakeTime` is the
gateway's clock and sleep, so a 300-second wait takes no time.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import nautilus_trader.adapters.interactive_brokers.gateway as theirs
import pytest
import requests

import adapter.gateway as ours
from adapter.config import DockerizedIBGatewayConfig
from adapter.gateway import (
    ContainerExists,
    ContainerStatus,
    DockerizedIBGateway,
    GatewayLoginFailure,
)

PASSWORD = "hunter2-Secret!"
USERNAME = "trader77"

FORWARDING = "Forking :::4002 onto 0.0.0.0:4004 > trading mode paper"
LOGIN_ATTEMPT = "2026-04-15 09:00:01:000 IBC: Login attempt: 1"
LOGGED_IN = "2026-04-15 09:00:03:000 IBC: Login has completed"
WRONG_CREDENTIALS = "2026-04-15 09:00:03:000 IBC: Unrecognized Username or Password"
SECOND_FACTOR = "2026-04-15 09:00:02:000 IBC: Second Factor Authentication initiated"


# -- the fakes ---------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Script:
    """What a container does: (seconds after start, log line) pairs, and maybe an exit."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    exit_after: float | None = None
    exit_code: int = 1


def login_script(after: float = 3, forwarding: bool = True) -> Script:
    lines = [(0, FORWARDING)] if forwarding else []
    return Script([*lines, (1, LOGIN_ATTEMPT), (after, LOGGED_IN)])


def api_error(cls: type, status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    response.reason = {404: "Not Found", 409: "Conflict", 500: "Server Error"}[status]
    response.url = "http+docker://localhost/v1.45/containers/create"
    return cls(explanation, response=response, explanation=explanation)


class Box:
    """The engine's record of one container, shared by every Container object for it."""

    def __init__(self, engine: FakeDocker, name: str, image: str, env: dict, script: Script):
        self.engine, self.name, self.image, self.env, self.script = (
            engine,
            name,
            image,
            env,
            script,
        )
        self.id = f"{len(engine.boxes) + 1:064x}"
        self.started = engine.time.now
        self.state = "running"
        self.exit_code = 0
        self.removed = False

    def settle(self) -> None:
        """Apply the script's exit once its time has come."""
        script = self.script
        elapsed = self.engine.time.now - self.started
        exit_after = script.exit_after
        if self.state == "running" and exit_after is not None and elapsed >= exit_after:
            self.state, self.exit_code = "exited", script.exit_code

    def attrs(self, status: str | None = None) -> dict:
        self.settle()
        return {
            "Id": self.id,
            "Name": f"/{self.name}",
            "State": {"Status": status or self.state, "ExitCode": self.exit_code},
            "Config": {
                "Image": self.image,
                "Env": [f"{k}={v}" for k, v in self.env.items()] + ["PATH=/usr/bin"],
            },
        }


class FakeContainer:
    """docker.models.containers.Container: `status` is as of the last fetch or reload."""

    def __init__(self, box: Box, status: str | None = None) -> None:
        self._box = box
        self.attrs = box.attrs(status)

    @property
    def name(self) -> str:
        return self._box.name

    @property
    def id(self) -> str:
        return self._box.id

    @property
    def status(self) -> str:
        return self.attrs["State"]["Status"]

    def _check(self) -> None:
        if self._box.removed:
            raise api_error(docker.errors.NotFound, 404, f"No such container: {self.id}")

    def reload(self) -> None:
        self._check()
        self.attrs = self._box.attrs()

    def logs(self, tail: int | str = "all", **_: Any) -> bytes:
        self._check()
        box = self._box
        box.engine.log_reads += 1
        elapsed = box.engine.time.now - box.started
        lines = [line for at, line in box.script.lines if at <= elapsed]
        if tail != "all":
            lines = lines[-int(tail) :]
        return "".join(f"{line}\n" for line in lines).encode()

    def stop(self, **_: Any) -> None:
        self._check()
        self._box.engine.calls.append(("stop", self.name))
        if self._box.state == "running":
            self._box.state, self._box.exit_code = "exited", 0

    def remove(self, **_: Any) -> None:
        self._check()
        self._box.engine.calls.append(("remove", self.name))
        if self._box.state == "running":
            raise api_error(docker.errors.APIError, 409, "cannot remove a running container")
        self._box.removed = True
        del self._box.engine.boxes[self.name]


class FakeContainers:
    def __init__(self, engine: FakeDocker) -> None:
        self._engine = engine

    def run(self, image: str, name: str, environment: dict, **kwargs: Any) -> FakeContainer:
        engine = self._engine
        engine.runs.append({"image": image, "name": name, "environment": environment, **kwargs})
        if engine.run_errors:
            raise engine.run_errors.pop(0)
        if name in engine.boxes:
            raise api_error(docker.errors.APIError, 409, f'Conflict. "/{name}" is in use')
        box = Box(engine, name, image, environment, engine.scripts.pop(0))
        engine.boxes[name] = box
        # docker-py returns the container as created, before start: status "created".
        return FakeContainer(box, status="created")

    def get(self, name: str) -> FakeContainer:
        box = self._engine.boxes.get(name)
        if box is None:
            raise api_error(docker.errors.NotFound, 404, f"No such container: {name}")
        return FakeContainer(box)

    def list(self, all: bool = False, **_: Any) -> list[FakeContainer]:
        found = [FakeContainer(b) for b in self._engine.boxes.values()]
        return found if all else [c for c in found if c.status == "running"]


class FakeDocker:
    """A docker.DockerClient with only `containers`, over an in-memory engine."""

    def __init__(self, time: FakeTime, *scripts: Script) -> None:
        self.time = time
        self.containers = FakeContainers(self)
        self.scripts = list(scripts)  # for the containers run, in order
        self.boxes: dict[str, Box] = {}
        self.runs: list[dict] = []
        self.run_errors: list[Exception] = []
        self.calls: list[tuple[str, str]] = []
        self.log_reads = 0

    def add(
        self,
        script: Script,
        name: str = "nautilus-ib-gateway-paper",
        *,
        state: str = "running",
        image: str = "ghcr.io/gnzsnz/ib-gateway:stable",
        **env: str,
    ) -> Box:
        """A container that exists already (started by someone else)."""
        environment = {
            "TWS_USERID": USERNAME,
            "TWS_PASSWORD": PASSWORD,
            "TRADING_MODE": "paper",
            "READ_ONLY_API": "yes",
            **env,
        }
        box = Box(self, name, image, environment, script)
        box.state = state
        self.boxes[name] = box
        return box


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture(autouse=True)
def no_credentials_in_env(monkeypatch):
    for name in ("TWS_USERNAME", "TWS_PASSWORD", "VNC_SERVER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def config(**overrides: Any) -> DockerizedIBGatewayConfig:
    return DockerizedIBGatewayConfig(**{"username": USERNAME, "password": PASSWORD, **overrides})


def make(engine: FakeDocker, clock: FakeTime, **overrides: Any) -> DockerizedIBGateway:
    return DockerizedIBGateway(
        config(**overrides), docker_client=engine, sleep=clock.sleep, clock=clock.monotonic
    )


# -- credentials and settings ------------------------------------------------------------


def test_credentials_come_from_the_config(clock):
    gateway = make(FakeDocker(clock), clock)
    assert gateway.username == USERNAME
    assert gateway.password.get_value() == PASSWORD


def test_credentials_fall_back_to_the_environment(clock, monkeypatch):
    monkeypatch.setenv("TWS_USERNAME", "env-user")
    monkeypatch.setenv("TWS_PASSWORD", "env-pass")
    gateway = make(FakeDocker(clock), clock, username=None, password=None)
    assert (gateway.username, gateway.password.get_value()) == ("env-user", "env-pass")


@pytest.mark.parametrize(
    ("overrides", "named", "not_named"),
    [
        ({"username": None}, ["TWS_USERNAME"], ["TWS_PASSWORD"]),
        ({"password": None}, ["TWS_PASSWORD"], ["TWS_USERNAME"]),
        ({"username": None, "password": None}, ["TWS_USERNAME", "TWS_PASSWORD"], []),
        ({"username": "", "password": ""}, ["TWS_USERNAME", "TWS_PASSWORD"], []),
    ],
)
def test_missing_credentials_are_named_in_one_error(clock, overrides, named, not_named):
    with pytest.raises(ValueError, match="credentials missing") as error:
        make(FakeDocker(clock), clock, **overrides)
    assert all(n in str(error.value) for n in named)
    assert not any(n in str(error.value) for n in not_named)


@pytest.mark.parametrize(
    ("mode", "port", "published"), [("paper", 4002, 4004), ("live", 4001, 4003)]
)
def test_trading_mode_sets_name_and_ports(clock, mode, port, published):
    engine = FakeDocker(clock, login_script())
    gateway = make(engine, clock, trading_mode=mode)
    assert (gateway.host, gateway.port) == ("127.0.0.1", port)
    assert gateway.container_name == f"nautilus-ib-gateway-{mode}"
    gateway.start()
    assert engine.runs[0]["ports"] == {f"{published}/tcp": ("127.0.0.1", port)}
    assert engine.runs[0]["environment"]["TRADING_MODE"] == mode


def test_an_unknown_trading_mode_is_refused(clock):
    with pytest.raises(ValueError, match="trading_mode must be one of"):
        make(FakeDocker(clock), clock, trading_mode="both")


def test_the_docker_engine_comes_from_the_environment_by_default(clock, monkeypatch):
    engine = FakeDocker(clock)
    monkeypatch.setattr(docker, "from_env", lambda: engine)
    assert DockerizedIBGateway(config())._docker is engine


def test_an_unreachable_docker_engine_is_a_clear_error(monkeypatch):
    def unreachable():
        raise docker.errors.DockerException("Error while fetching server API version")

    monkeypatch.setattr(docker, "from_env", unreachable)
    with pytest.raises(RuntimeError, match="Cannot reach the Docker engine"):
        DockerizedIBGateway(config())


# -- starting ----------------------------------------------------------------------------


def test_start_runs_the_container_and_returns_once_logged_in(clock):
    engine = FakeDocker(clock, login_script(after=3))
    gateway = make(engine, clock, read_only_api=False)
    gateway.start()
    [run] = engine.runs
    assert run == {
        "image": "ghcr.io/gnzsnz/ib-gateway:stable",
        "name": "nautilus-ib-gateway-paper",
        "environment": {
            "TWS_USERID": USERNAME,
            "TWS_PASSWORD": PASSWORD,
            "TRADING_MODE": "paper",
            "READ_ONLY_API": "no",
        },
        "detach": True,
        "ports": {"4004/tcp": ("127.0.0.1", 4002)},
        "platform": "amd64",
        "restart_policy": {"Name": "unless-stopped"},
    }
    assert clock.sleeps == [1.0, 1.0, 1.0]  # polled at 0, 1, 2 and 3 seconds
    assert gateway.container_status == ContainerStatus.READY


def test_read_only_api_is_passed_as_yes(clock):
    engine = FakeDocker(clock, login_script())
    make(engine, clock).start()
    assert engine.runs[0]["environment"]["READ_ONLY_API"] == "yes"


def test_the_forwarder_starting_is_not_a_login(clock):
    """Theirs takes "Forking :::" as ready; current images print it before IB Gateway runs."""
    engine = FakeDocker(clock, Script([(0, FORWARDING), (1, LOGIN_ATTEMPT)]))
    gateway = make(engine, clock)
    with pytest.raises(GatewayLoginFailure, match="did not log in within 10s"):
        gateway.start(wait=10)
    container = engine.containers.get("nautilus-ib-gateway-paper")
    assert theirs.DockerizedIBGateway.is_logged_in(container)  # theirs: ready
    assert not DockerizedIBGateway.is_logged_in(container)


def test_a_login_needs_the_forwarded_port_too(clock):
    engine = FakeDocker(clock, login_script(after=1, forwarding=False))
    engine.scripts[0].lines.append((5, FORWARDING))
    make(engine, clock).start()
    assert clock.now == 5


def test_wrong_credentials_fail_at_once_and_stop_the_container(clock):
    engine = FakeDocker(
        clock, Script([(0, FORWARDING), (1, LOGIN_ATTEMPT), (2, WRONG_CREDENTIALS)])
    )
    gateway = make(engine, clock)
    with pytest.raises(GatewayLoginFailure, match="Unrecognized Username or Password"):
        gateway.start()
    assert clock.now == 2  # not the 300-second timeout
    assert engine.calls == [("stop", "nautilus-ib-gateway-paper")]  # stopped, kept for logs
    assert gateway.container_status == ContainerStatus.CONTAINER_STOPPED


@pytest.mark.parametrize(
    "line",
    [
        "IBC: Login failed",
        "IBC: Too many failed login attempts. Please wait 53 seconds before attempting to re-login again.",
    ],
)
def test_other_login_failures_fail_at_once(clock, line):
    engine = FakeDocker(clock, Script([(0, FORWARDING), (1, LOGIN_ATTEMPT), (1, line)]))
    with pytest.raises(GatewayLoginFailure, match=line.split(":", 1)[1].strip()[:20]):
        make(engine, clock).start()
    assert clock.now == 1


def test_a_container_exiting_before_login_fails_with_its_code_and_logs(clock):
    script = Script([(0, FORWARDING), (1, "run.sh: fatal: no display")], exit_after=2, exit_code=3)
    engine = FakeDocker(clock, script)
    with pytest.raises(GatewayLoginFailure, match=r"exited \(code 3\)") as error:
        make(engine, clock).start()
    assert "run.sh: fatal: no display" in str(error.value)
    assert clock.now == 2


def test_a_login_timeout_is_a_runtime_error_with_the_log_tail(clock):
    engine = FakeDocker(clock, Script([(0, FORWARDING), (1, LOGIN_ATTEMPT)]))
    with pytest.raises(RuntimeError, match="within 5s") as error:
        make(engine, clock, timeout=5).start()
    assert isinstance(error.value, GatewayLoginFailure)
    assert "Login attempt: 1" in str(error.value)
    assert clock.now == 5 and sum(clock.sleeps) == 5


def test_wait_overrides_the_configured_timeout(clock):
    engine = FakeDocker(clock, Script([(0, FORWARDING)]))
    with pytest.raises(GatewayLoginFailure):
        make(engine, clock, timeout=300).start(wait=2)
    assert clock.now == 2


def test_second_factor_approval_is_announced_once(clock, caplog):
    script = Script([(0, FORWARDING), (1, LOGIN_ATTEMPT), (2, SECOND_FACTOR), (6, LOGGED_IN)])
    engine = FakeDocker(clock, script)
    with caplog.at_level(logging.INFO, logger="adapter.gateway"):
        make(engine, clock).start()
    assert caplog.text.count("second-factor approval") == 1
    assert clock.now == 6


# -- an existing container ---------------------------------------------------------------


def test_a_logged_in_container_is_reused(clock):
    engine = FakeDocker(clock)
    engine.add(login_script(after=0))
    gateway = make(engine, clock)
    gateway.start()
    assert engine.runs == [] and clock.sleeps == []
    assert gateway.container_status == ContainerStatus.READY


def test_a_container_still_logging_in_is_waited_for(clock):
    """Theirs returns at once from start() when the container is starting."""
    engine = FakeDocker(clock)
    engine.add(login_script(after=4))
    make(engine, clock).start()
    assert engine.runs == [] and clock.now == 4


@pytest.mark.parametrize("state", ["exited", "created", "paused"])
def test_a_broken_container_is_replaced(clock, state):
    engine = FakeDocker(clock, login_script())
    engine.add(Script(), state=state)
    gateway = make(engine, clock)
    gateway.start()
    assert engine.calls == [("stop", gateway.container_name), ("remove", gateway.container_name)]
    assert len(engine.runs) == 1 and gateway.container_status == ContainerStatus.READY


def test_a_container_whose_login_failed_is_replaced(clock):
    engine = FakeDocker(clock, login_script())
    engine.add(Script([(0, FORWARDING), (0, WRONG_CREDENTIALS)]))
    gateway = make(engine, clock)
    assert gateway.container_status == ContainerStatus.NOT_LOGGED_IN
    gateway.start()
    assert len(engine.runs) == 1


@pytest.mark.parametrize(
    ("existing", "difference"),
    [
        ({"READ_ONLY_API": "no"}, "read-only setting"),
        ({"TWS_USERID": "someone-else"}, "user"),
        ({"image": "ghcr.io/gnzsnz/ib-gateway:10.30"}, "image (ghcr.io/gnzsnz/ib-gateway:10.30)"),
    ],
)
def test_a_ready_container_set_up_differently_is_replaced(clock, caplog, existing, difference):
    engine = FakeDocker(clock, login_script())
    engine.add(login_script(after=0), **existing)
    with caplog.at_level(logging.WARNING, logger="adapter.gateway"):
        make(engine, clock).start()
    assert len(engine.runs) == 1
    assert f"different {difference}" in caplog.text


# -- status, stop, logs ------------------------------------------------------------------


def test_status_is_read_fresh_not_from_creation_time(clock):
    """docker-py's run() returns the container as created; theirs never reloads it."""
    engine = FakeDocker(clock, Script([*login_script(after=1).lines], exit_after=10))
    gateway = make(engine, clock)
    gateway.start()
    assert gateway.container_status == ContainerStatus.READY
    clock.now = 10
    assert gateway.container_status == ContainerStatus.CONTAINER_STOPPED


def test_statuses_of_the_container(clock):
    engine = FakeDocker(clock)
    gateway = make(engine, clock)
    assert gateway.container_status == ContainerStatus.NO_CONTAINER
    box = engine.add(login_script(after=3))
    assert gateway.container_status == ContainerStatus.CONTAINER_STARTING
    box.state = "restarting"
    assert gateway.container_status == ContainerStatus.CONTAINER_STARTING
    box.state = "created"
    assert gateway.container_status == ContainerStatus.CONTAINER_CREATED
    box.state = "removing"
    assert gateway.container_status == ContainerStatus.UNKNOWN


def test_stop_stops_and_removes_then_there_is_no_container(clock):
    engine = FakeDocker(clock, login_script())
    gateway = make(engine, clock)
    gateway.start()
    gateway.stop()
    assert engine.calls == [("stop", gateway.container_name), ("remove", gateway.container_name)]
    assert gateway.container is None
    assert gateway.container_status == ContainerStatus.NO_CONTAINER
    gateway.stop()  # nothing left: a no-op
    assert len(engine.calls) == 2


def test_a_container_removed_behind_our_back_counts_as_none(clock):
    engine = FakeDocker(clock, login_script(), login_script())
    gateway = make(engine, clock)
    gateway.start()
    engine.containers.get(gateway.container_name).stop()
    engine.containers.get(gateway.container_name).remove()
    assert gateway.container_status == ContainerStatus.NO_CONTAINER
    gateway.stop()
    gateway.start()  # theirs' cached container object breaks this start
    assert len(engine.runs) == 2


def test_a_container_removed_while_waiting_fails_the_wait(clock):
    engine = FakeDocker(clock, Script([(0, FORWARDING)]))
    gateway = make(engine, clock)
    original_sleep = clock.sleep

    def sleep_then_remove(seconds):
        original_sleep(seconds)
        box = engine.boxes[gateway.container_name]
        box.state, box.removed = "exited", True

    gateway._sleep = sleep_then_remove
    with pytest.raises(GatewayLoginFailure, match="was removed while waiting"):
        gateway.start()


def test_is_logged_in_of_no_container_or_a_removed_one(clock):
    engine = FakeDocker(clock)
    engine.add(login_script(after=0))
    container = engine.containers.get("nautilus-ib-gateway-paper")
    assert DockerizedIBGateway.is_logged_in(container)
    container.stop()
    container.remove()
    assert not DockerizedIBGateway.is_logged_in(container)
    assert not DockerizedIBGateway.is_logged_in(None)


def test_logs_and_their_tail(clock):
    engine = FakeDocker(clock, login_script(after=2))
    gateway = make(engine, clock)
    assert gateway.logs() == ""
    gateway.start()
    assert gateway.logs().splitlines() == [FORWARDING, LOGIN_ATTEMPT, LOGGED_IN]
    assert gateway.logs(tail=1).splitlines() == [LOGGED_IN]


def test_context_manager_binds_the_gateway_and_stops_it(clock):
    engine = FakeDocker(clock, login_script())
    with make(engine, clock) as gateway:
        assert isinstance(gateway, DockerizedIBGateway)
        assert gateway.container_status == ContainerStatus.READY
    assert gateway.container is None


def test_context_exit_logs_a_failing_stop_instead_of_raising(clock, caplog):
    engine = FakeDocker(clock, login_script())
    gateway = make(engine, clock)

    def broken_stop():
        raise docker.errors.APIError("engine gone")

    with caplog.at_level(logging.ERROR, logger="adapter.gateway"), gateway:
        gateway.stop = broken_stop
    assert "Error stopping container `nautilus-ib-gateway-paper`" in caplog.text


def test_a_logger_can_be_passed_in(clock):
    class Recorder:
        def __init__(self):
            self.lines = []

        def __getattr__(self, level):
            return lambda message: self.lines.append((level, message))

    recorder = Recorder()
    engine = FakeDocker(clock, login_script())
    DockerizedIBGateway(
        config(), docker_client=engine, sleep=clock.sleep, clock=clock.monotonic, logger=recorder
    ).start()
    assert ("info", "Gateway `nautilus-ib-gateway-paper` ready on 127.0.0.1:4002") in recorder.lines


# -- safe_start ------------------------------------------------------------------------


def test_start_lets_docker_errors_through_and_safe_start_explains_a_missing_image(clock):
    engine = FakeDocker(clock)
    missing = api_error(docker.errors.ImageNotFound, 404, "manifest unknown")
    engine.run_errors = [missing, missing]
    gateway = make(engine, clock, container_image="ghcr.io/nobody/nothing:1")
    with pytest.raises(docker.errors.ImageNotFound):
        gateway.start()
    with pytest.raises(RuntimeError, match=r"ghcr\.io/nobody/nothing:1` was not found") as error:
        gateway.safe_start()
    assert "manifest unknown" in str(error.value)
    assert not isinstance(error.value, ContainerExists)  # theirs: "Container already exists"


def test_safe_start_explains_other_docker_errors(clock):
    engine = FakeDocker(clock)
    engine.run_errors = [api_error(docker.errors.APIError, 500, "port is already allocated")]
    with pytest.raises(RuntimeError, match=r"could not start .*port is already allocated"):
        make(engine, clock).safe_start()


def test_safe_start_adopts_a_container_another_process_just_created(clock):
    engine = FakeDocker(clock)
    conflict = api_error(docker.errors.APIError, 409, "Conflict: name in use")

    def racing_run(**kwargs):
        engine.add(login_script(after=2))  # the other process wins the race
        raise conflict

    engine.containers.run = racing_run
    gateway = make(engine, clock)
    gateway.safe_start()
    assert gateway.container_status == ContainerStatus.READY
    assert clock.now == 2


def test_safe_start_raises_container_exists_when_the_conflict_persists(clock):
    engine = FakeDocker(clock)
    conflict = api_error(docker.errors.APIError, 409, "Conflict: name in use")
    engine.run_errors = [conflict, conflict]
    with pytest.raises(ContainerExists, match="exists and could not be reused"):
        make(engine, clock).safe_start()
    assert len(engine.runs) == 2


def test_safe_start_lets_login_failures_through(clock):
    engine = FakeDocker(clock, Script([(0, FORWARDING), (0, WRONG_CREDENTIALS)]))
    with pytest.raises(GatewayLoginFailure):
        make(engine, clock).safe_start()


# -- VNC ---------------------------------------------------------------------------------


def test_vnc_port_is_published_with_the_vnc_password_from_the_environment(clock, monkeypatch):
    monkeypatch.setenv("VNC_SERVER_PASSWORD", "vnc-pass-123")
    engine = FakeDocker(clock, login_script())
    make(engine, clock, vnc_port=5901).start()
    run = engine.runs[0]
    assert run["ports"]["5900/tcp"] == ("127.0.0.1", 5901)
    assert run["environment"]["VNC_SERVER_PASSWORD"] == "vnc-pass-123"


def test_vnc_port_without_a_vnc_password_warns(clock, caplog):
    engine = FakeDocker(clock, login_script())
    with caplog.at_level(logging.WARNING, logger="adapter.gateway"):
        make(engine, clock, vnc_port=5901).start()
    assert "VNC_SERVER_PASSWORD is not set" in caplog.text
    assert "VNC_SERVER_PASSWORD" not in engine.runs[0]["environment"]


# -- secrets -----------------------------------------------------------------------------


def test_the_password_is_never_logged_shown_or_raised(clock, caplog, monkeypatch):
    monkeypatch.setenv("VNC_SERVER_PASSWORD", "vnc-secret-999")
    secrets = (PASSWORD, "vnc-secret-999")
    # A container that prints the secrets (as some images print their settings).
    leaky = Script(
        [(0, FORWARDING), (0, f"TWS_PASSWORD={PASSWORD} VNC=vnc-secret-999"), (1, LOGIN_ATTEMPT)]
    )
    failing = Script([*leaky.lines, (2, WRONG_CREDENTIALS)])
    exiting = Script(leaky.lines, exit_after=1)
    engine = FakeDocker(clock, leaky, failing, exiting)
    engine.run_errors = [api_error(docker.errors.APIError, 500, f"bad env TWS_PASSWORD={PASSWORD}")]
    shown: list[str] = []
    gateway = make(engine, clock, vnc_port=5901)
    with caplog.at_level(logging.DEBUG, logger="adapter.gateway"):
        with pytest.raises(RuntimeError) as error:  # the Docker error
            gateway.safe_start()
        shown.append(str(error.value))
        for failure in ("did not log in", "login failed", "exited"):
            with pytest.raises(GatewayLoginFailure, match=failure) as error:
                gateway.start(wait=3)
            shown.append(str(error.value))
            shown.append(gateway.logs())
            gateway.stop()
    cfg = config(vnc_port=5901)
    shown += [caplog.text, repr(gateway), str(gateway), repr(cfg), str(cfg)]
    shown += [repr(gateway.password), str(gateway.password), f"{gateway.password}"]
    assert "TWS_PASSWORD=********" in shown[2]  # the leaked line is shown, blanked
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert gateway.password.get_value() == PASSWORD


def test_theirs_secure_string_shows_part_of_the_password():
    """Why ours does not reuse NautilusTrader's SecureString."""
    from nautilus_trader.common.secure import SecureString

    assert str(SecureString(PASSWORD)) == f"{PASSWORD[:4]}...{PASSWORD[-4:]}"
    assert str(ours._Secret(PASSWORD)) == "********"


# -- the surface -------------------------------------------------------------------------


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_our_gateway_has_their_public_names_constants_and_signatures():
    theirs_cls, ours_cls = theirs.DockerizedIBGateway, DockerizedIBGateway
    assert public_names(theirs_cls) <= public_names(ours_cls)
    assert public_names(ours_cls) - public_names(theirs_cls) == {"POLL_INTERVAL", "logs"}
    for name in ("CONTAINER_NAME", "PORTS_INTERNAL", "PORTS_EXTERNAL", "VNC_PORT_INTERNAL"):
        assert getattr(ours_cls, name) == getattr(theirs_cls, name)
    for name in ("start", "safe_start", "stop", "is_logged_in", "__enter__", "__exit__"):
        ours_params = list(inspect.signature(getattr(ours_cls, name)).parameters)
        theirs_params = list(inspect.signature(getattr(theirs_cls, name)).parameters)
        assert ours_params == theirs_params, name
    assert isinstance(inspect.getattr_static(ours_cls, "is_logged_in"), staticmethod)
    for name in ("container", "container_name", "container_status"):
        assert isinstance(inspect.getattr_static(ours_cls, name), property)
    first = inspect.signature(ours_cls.__init__).parameters
    assert [p.name for p in first.values() if p.kind is p.POSITIONAL_OR_KEYWORD] == [
        "self",
        "config",
    ]


def test_our_instance_attributes_are_theirs(clock, monkeypatch):
    gateway = make(FakeDocker(clock), clock)
    monkeypatch.setattr(docker, "from_env", lambda: FakeDocker(clock))
    their_gateway = theirs.DockerizedIBGateway(config())
    public = {n for n in vars(gateway) if not n.startswith("_")}
    assert public == {n for n in vars(their_gateway) if not n.startswith("_")}
    for name in public - {"log", "password"}:
        assert getattr(gateway, name) == getattr(their_gateway, name), name


def test_statuses_and_exceptions_are_theirs():
    assert {m.name: m.value for m in ContainerStatus} == {
        m.name: m.value for m in theirs.ContainerStatus
    }
    for name in ("ContainerExists", "NoContainer", "UnknownContainerStatus", "GatewayLoginFailure"):
        assert issubclass(getattr(ours, name), RuntimeError)
        assert hasattr(theirs, name)
