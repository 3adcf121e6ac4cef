"""ibapi 10.30.1's EClient against the server over real TCP."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from fake_tws.clock import VirtualClock
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

FARM_STATUS = [
    (-1, 2104, "Market data farm connection is OK:usfarm"),
    (-1, 2106, "HMDS data farm connection is OK:ushmds"),
    (-1, 2158, "Sec-def data farm connection is OK:secdefnj"),
]


def eventually(condition, timeout: float = 5.0) -> None:
    """Wait (bounded) for a condition that another thread will make true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def clients():
    """Opened IbapiClients, all closed (threads joined) at the end of the test."""
    opened: list[IbapiClient] = []

    def open_client(port: int, client_id: int) -> IbapiClient:
        client = IbapiClient()
        opened.append(client)
        return client.open(port, client_id)

    yield open_client
    for client in opened:
        client.close()


@pytest.mark.conformance(client="ibapi", item="connect")
def test_connect_bootstrap_current_time_disconnect(clients):
    with ServerThread() as gateway:
        client = clients(gateway.port, 1)
        client.wait_for_bootstrap()
        assert client.serverVersion() == 187
        assert client.calls[:5] == [
            ("managedAccounts", ("DU123456",)),
            ("nextValidId", (1,)),
            *[("error", args) for args in FARM_STATUS],
        ]
        client.reqCurrentTime()
        client.wait_for(lambda: client.named("currentTime"))
        [(server_time,)] = client.named("currentTime")
        assert abs(server_time - time.time()) < 60
        client.close()
        assert not client.isConnected()
        assert client.named("error") == FARM_STATUS  # nothing went wrong on the way
        # The server saw the disconnect and freed the client id.
        eventually(lambda: gateway.run_sync(lambda: gateway.server.gateway.client_ids) == set())


@pytest.mark.conformance(client="ibapi", item="connect")
def test_time_and_accounts_come_from_the_configuration():
    start = datetime(2026, 4, 5, 13, 30, tzinfo=UTC)
    clock = VirtualClock(start)
    with ServerThread(clock=clock, accounts=("DU1", "DU2"), first_order_id=500) as gateway:
        client = IbapiClient().open(gateway.port, 1)
        try:
            client.wait_for_bootstrap()
            assert client.named("managedAccounts") == [("DU1,DU2",)]
            assert client.named("nextValidId") == [(500,)]
            assert client.twsConnectionTime() == b"20260405 13:30:00 UTC"  # ibapi keeps bytes
            clock.advance(30)  # from this thread, while the server runs in its own
            client.reqCurrentTime()
            client.wait_for(lambda: client.named("currentTime"))
            assert client.named("currentTime") == [(int(start.timestamp()) + 30,)]
            client.reqIds(1)
            client.wait_for(lambda: len(client.named("nextValidId")) == 2)
            assert client.named("nextValidId")[1] == (501,)
        finally:
            client.close()


@pytest.mark.conformance(client="ibapi", item="connect")
def test_a_lower_server_version_is_negotiated():
    with ServerThread(max_version=176) as gateway:
        client = IbapiClient().open(gateway.port, 1)
        try:
            client.wait_for_bootstrap()
            assert client.serverVersion() == 176
        finally:
            client.close()


@pytest.mark.conformance(client="ibapi", item="connect")
def test_a_duplicate_client_id_is_refused_with_326(clients):
    with ServerThread() as gateway:
        first = clients(gateway.port, 7)
        first.wait_for_bootstrap()
        second = clients(gateway.port, 7)
        reply = second.wait_for_error(326)
        assert reply == (
            -1,
            326,
            "Unable to connect as the client id is already in use. Retry with a unique client id.",
        )
        assert second.reader_finished(), "the server should close the refused connection"
        assert second.named("managedAccounts") == []
        first.reqCurrentTime()
        first.wait_for(lambda: first.named("currentTime"))
