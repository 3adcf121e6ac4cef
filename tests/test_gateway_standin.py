"""FakeTwsGateway: fake-tws started like the dockerized IB Gateway, reached by real ibapi.

The last tests hold the stand-in to the adapter's DockerizedIBGateway (only tests may
import both packages): same public interface, same statuses, and the stand-in's logs
read as logged in by the adapter's own log watcher.
"""

from __future__ import annotations

import inspect
import logging
import socket
from decimal import Decimal

import pytest
from ibapi.contract import Contract as IbContract
from ibapi.order import Order as IbOrder

import adapter.gateway as adapter_gateway
from adapter.config import DockerizedIBGatewayConfig
from adapter.gateway import DockerizedIBGateway
from fake_tws.gateway_standin import ContainerStatus, FakeTwsGateway
from tests.conformance.ibapi_client import IbapiClient

READ_ONLY = "The API interface is currently in Read-Only mode."


class OrderClient(IbapiClient):
    def openOrder(self, orderId, contract, order, orderState) -> None:
        self._record("openOrder", orderId, orderState.status)


def stock() -> IbContract:
    contract = IbContract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = (
        "AAPL",
        "STK",
        "SMART",
        "USD",
    )
    return contract


def market_order(quantity: int = 10) -> IbOrder:
    order = IbOrder()
    order.action, order.totalQuantity, order.orderType = "BUY", Decimal(quantity), "MKT"
    return order


@pytest.fixture
def clients():
    opened: list[OrderClient] = []

    def connect(gateway: FakeTwsGateway, client_id: int = 1) -> OrderClient:
        client = OrderClient().open(gateway.port, client_id)
        opened.append(client)
        client.wait_for_bootstrap()
        return client

    yield connect
    for client in opened:
        client.close()


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


# -- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "port"), [("paper", 4002), ("live", 4001)])
def test_the_trading_mode_sets_the_gateway_port(mode, port):
    gateway = FakeTwsGateway(trading_mode=mode)
    assert (gateway.host, gateway.port) == ("127.0.0.1", port)
    assert gateway.container_name == f"fake-tws-gateway-{mode}"


def test_it_takes_the_dockerized_gateway_config_and_keywords_override_it():
    config = DockerizedIBGatewayConfig(
        username="u", password="p", trading_mode="live", read_only_api=False, timeout=30
    )
    gateway = FakeTwsGateway(config)
    assert (gateway.trading_mode, gateway.read_only_api, gateway.timeout) == ("live", False, 30)
    assert gateway.port == 4001
    assert FakeTwsGateway(config, trading_mode="paper", port=0).port == 0
    defaults = FakeTwsGateway()
    assert (defaults.trading_mode, defaults.read_only_api, defaults.timeout) == (
        "paper",
        True,
        300,
    )


def test_an_unknown_trading_mode_is_refused():
    with pytest.raises(ValueError, match="trading_mode must be one of"):
        FakeTwsGateway(trading_mode="both")


def test_accounts_are_known_before_and_after_start():
    gateway = FakeTwsGateway(port=0, accounts=("DU111", "DU222"))
    assert gateway.accounts == ("DU111", "DU222")
    with gateway:
        assert gateway.accounts == ("DU111", "DU222")
    assert FakeTwsGateway().accounts == ("DU123456",)


# -- running -----------------------------------------------------------------------------


def test_ibapi_connects_once_started_and_not_after_stop(clients):
    gateway = FakeTwsGateway(port=0, accounts=("DU777",))
    assert gateway.container_status == ContainerStatus.NO_CONTAINER
    assert gateway.container is None and gateway.logs() == ""
    gateway.start()
    try:
        assert gateway.port != 0
        assert gateway.container_status == ContainerStatus.READY
        assert gateway.is_logged_in(gateway.container)
        client = clients(gateway)
        assert client.named("managedAccounts") == [("DU777",)]
        assert client.named("nextValidId")
        port = gateway.port
    finally:
        gateway.stop()
    assert client.reader_finished()  # the server closed the connection
    assert refuses_connections(port)
    assert gateway.container is None and gateway.server is None
    assert gateway.container_status == ContainerStatus.NO_CONTAINER


def test_start_is_idempotent_and_it_restarts_after_stop(clients):
    gateway = FakeTwsGateway(port=0)
    with gateway:
        server = gateway.server
        gateway.safe_start()
        assert gateway.server is server
    gateway.start()
    try:
        assert gateway.server is not server
        clients(gateway)
    finally:
        gateway.stop()
    gateway.stop()  # stopped already: a no-op


def test_read_only_api_refuses_orders_like_ib_gateway(clients):
    with FakeTwsGateway(port=0) as gateway:
        client = clients(gateway)
        client.placeOrder(1, stock(), market_order())
        assert client.wait_for_error(321) == (
            1,
            321,
            f"Error validating request.-'bN' : cause - {READ_ONLY}",
        )
        client.reqGlobalCancel()
        client.wait_for(lambda: len([e for e in client.named("error") if e[1] == 321]) == 2)
        assert client.named("openOrder") == []


def test_orders_go_through_when_the_api_is_not_read_only(clients):
    with FakeTwsGateway(port=0, read_only_api=False) as gateway:
        client = clients(gateway)
        client.placeOrder(1, stock(), market_order())
        client.wait_for(lambda: bool(client.named("openOrder")))
        assert not [e for e in client.named("error") if e[1] == 321]


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        gateway = FakeTwsGateway(port=port)
        with pytest.raises(RuntimeError, match=f"could not listen on 127.0.0.1:{port}"):
            gateway.start(wait=5)
    assert gateway.server is None and gateway.container is None


def test_logs_tell_the_story_and_stopping_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="fake_tws.gateway_standin"):
        gateway = FakeTwsGateway(port=0)
        gateway.start()
        container = gateway.container
        lines = gateway.logs().splitlines()
        assert "fake-tws standing in for IB Gateway" in lines[0]
        assert gateway.logs(tail=1).splitlines() == lines[-1:]
        assert f"ready on 127.0.0.1:{gateway.port}" in caplog.text
        gateway.stop()
    assert container.status == "exited"
    assert not FakeTwsGateway.is_logged_in(container)
    assert "fake-tws: stopped" in container.logs().decode()
    assert "stopped" in caplog.messages[-1]


def test_repr_says_where_and_whether_it_runs():
    gateway = FakeTwsGateway(trading_mode="live")
    assert repr(gateway) == (
        "FakeTwsGateway(trading_mode='live', host='127.0.0.1', port=4001, "
        "read_only_api=True, running=False)"
    )


def test_context_exit_logs_a_failing_stop_instead_of_raising(caplog):
    gateway = FakeTwsGateway(port=0)

    def broken_stop():
        raise TimeoutError("fake-tws did not stop within 10s")

    with caplog.at_level(logging.ERROR, logger="fake_tws.gateway_standin"), gateway:
        real_stop, gateway.stop = gateway.stop, broken_stop
    assert "Error stopping fake-tws-gateway-paper" in caplog.text
    real_stop()


# -- the same interface as the adapter's gateway ----------------------------------------

# Docker-only parts of DockerizedIBGateway, and what only the stand-in has.
DOCKER_ONLY_CLASS = {"PORTS_EXTERNAL", "VNC_PORT_INTERNAL", "POLL_INTERVAL"}
DOCKER_ONLY_INSTANCE = {"username", "password", "container_image", "vnc_port"}
STANDIN_ONLY = {"server", "accounts"}


def public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def test_both_gateways_have_the_same_public_interface():
    docker_names = public(dir(DockerizedIBGateway)) - DOCKER_ONLY_CLASS
    standin_names = public(dir(FakeTwsGateway)) - STANDIN_ONLY
    assert docker_names == standin_names
    for name in sorted(docker_names | {"__enter__", "__exit__"}):
        ours = inspect.getattr_static(DockerizedIBGateway, name)
        theirs = inspect.getattr_static(FakeTwsGateway, name)
        assert type(ours) is type(theirs), name
        if isinstance(ours, staticmethod):
            ours, theirs = ours.__func__, theirs.__func__
        if inspect.isfunction(ours):
            params = inspect.signature(ours).parameters.values()
            standin_params = inspect.signature(theirs).parameters.values()
            assert [(p.name, p.kind, p.default) for p in params] == [
                (p.name, p.kind, p.default) for p in standin_params
            ], name
    assert FakeTwsGateway.PORTS_INTERNAL == DockerizedIBGateway.PORTS_INTERNAL


def test_both_gateways_have_the_same_instance_attributes(monkeypatch):
    config = DockerizedIBGatewayConfig(username="u", password="p", trading_mode="live")
    docker_gateway = DockerizedIBGateway(config, docker_client=object())
    standin = FakeTwsGateway(config)
    assert public(vars(docker_gateway)) - DOCKER_ONLY_INSTANCE == public(vars(standin))
    for name in ("host", "port", "trading_mode", "read_only_api", "timeout"):
        assert getattr(standin, name) == getattr(docker_gateway, name), name


def test_the_statuses_are_the_adapters():
    assert {m.name: m.value for m in ContainerStatus} == {
        m.name: m.value for m in adapter_gateway.ContainerStatus
    }
    assert ContainerStatus.READY == adapter_gateway.ContainerStatus.READY


def test_the_adapters_log_watcher_sees_the_standin_logged_in():
    with FakeTwsGateway(port=0) as gateway:
        assert DockerizedIBGateway.is_logged_in(gateway.container)
