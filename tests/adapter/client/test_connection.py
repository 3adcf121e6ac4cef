"""Connecting, reconnecting, connectivity notices and stopping, over TCP to fake-tws."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adapter.client import (
    IBClientIdInUse,
    IBConnectionError,
    InteractiveBrokersClient,
    ReconnectPolicy,
)
from adapter.common import IBContract
from fake_tws.protocol.requests.connection import ReqCurrentTime, ReqMarketDataType, StartApi
from fake_tws.protocol.requests.market_data import CancelMktData, ReqMktData
from fake_tws.protocol.responses.connection import CurrentTime
from tests.adapter.client.support import WAIT, Events

AAPL = IBContract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD")


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def until(condition, timeout: float = WAIT) -> None:
    """Bounded wait for client-side state that the event loop will change."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), timeout)


def never_answer(session, request) -> None:
    pass


@pytest.mark.asyncio
async def test_connect_handshakes_and_bootstraps(connect, gateway):
    gateway.record(StartApi)
    gateway.on(ReqCurrentTime)(lambda s, r: s.send(CurrentTime(time=1_700_000_000)))
    client = await connect(client_id=7, accounts=("DU1", "DU2"), first_order_id=42)

    [start_api] = await gateway.requests_of(StartApi)
    assert start_api.clientId == 7
    assert client.is_running and client.is_ib_connected
    assert client.accounts() == {"DU1", "DU2"}
    assert client.next_order_id() == 42
    assert client._eclient.serverVersion() == 187
    assert {name: s.ok for name, s in client.farm_status.items()} == {
        "usfarm": True,
        "ushmds": True,
        "secdefnj": True,
    }
    assert await client.get_server_time() == 1_700_000_000


@pytest.mark.asyncio
async def test_a_lower_server_version_is_accepted(connect):
    client = await connect(max_version=176)
    assert client._eclient.serverVersion() == 176


@pytest.mark.asyncio
async def test_requests_before_connecting_fail_at_once(make_client):
    client = make_client(free_port())
    with pytest.raises(IBConnectionError, match="Not connected"):
        await client.get_contract_details(AAPL)


@pytest.mark.asyncio
async def test_refused_connections_are_retried_until_ready_times_out(make_client):
    client = make_client(free_port())
    client.start()
    with pytest.raises(TimeoutError, match="Not connected"):
        await client.wait_until_ready(0.3)
    assert client._connection_attempts >= 2  # kept trying, with backoff
    assert isinstance(client._last_error, OSError)


@pytest.mark.asyncio
async def test_max_attempts_ends_the_client_and_wait_until_ready_says_why(make_client):
    client = make_client(free_port(), reconnect=ReconnectPolicy(first_delay=0.01, max_attempts=2))
    client.start()
    with pytest.raises(IBConnectionError, match="gave up"):
        await client.wait_until_ready(WAIT)
    assert client._connection_attempts == 2


@pytest.mark.asyncio
async def test_a_server_that_never_answers_the_handshake_times_out_and_stop_is_immediate(
    make_client,
):
    accepted: list[asyncio.StreamWriter] = []
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read()  # returns b"" once the client hangs up
        closed.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = ReconnectPolicy(first_delay=0.01, attempt_timeout=0.2)
    try:
        client = make_client(port, reconnect=policy)
        client.start()
        with pytest.raises(TimeoutError):
            await client.wait_until_ready(0.5)
        assert isinstance(client._last_error, TimeoutError)  # per attempt, not forever
        client.stop()  # while an attempt hangs in the handshake
        await asyncio.wait_for(client.wait_until_stopped(), 1.0)
        assert client._supervisor.done()
        await asyncio.wait_for(closed.wait(), WAIT)  # the socket was closed, not leaked
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.asyncio
async def test_client_id_in_use_fails_the_connect_with_326(connect, gateway, make_client):
    await connect(client_id=5)
    second = make_client(gateway.port, 5, reconnect=ReconnectPolicy(max_attempts=1))
    second.start()
    with pytest.raises(IBConnectionError, match="gave up") as raised:
        await second.wait_until_ready(WAIT)
    assert "in use" in str(raised.value)
    assert isinstance(second._last_error, IBClientIdInUse)


@pytest.mark.asyncio
async def test_client_id_in_use_is_retried_until_the_id_is_free(connect, gateway, make_client):
    first = await connect(client_id=5)
    second = make_client(gateway.port, 5)
    second.start()
    await until(lambda: isinstance(second._last_error, IBClientIdInUse))
    first.stop()
    await second.wait_until_ready(WAIT)
    assert second.accounts() == {"DU123456"}


@pytest.mark.asyncio
async def test_a_dropped_connection_fails_requests_then_reconnects_and_resubscribes(
    connect,
    gateway,
):
    gateway.on(ReqCurrentTime)(never_answer)
    gateway.record(ReqMktData, ReqMarketDataType, StartApi)
    client = await connect()
    await client.set_market_data_type(3)
    ticks = Events()
    subscription = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=ticks)
    [first] = await gateway.requests_of(ReqMktData)
    pending = asyncio.ensure_future(client.get_server_time(timeout=WAIT))
    await gateway.requests_of(ReqCurrentTime)

    gateway.drop_clients()

    with pytest.raises(IBConnectionError, match="lost"):
        await pending
    await gateway.requests_of(StartApi, 2)  # a second connection
    await client.wait_until_ready(WAIT)
    requests = await gateway.requests_of(ReqMktData, 2)
    assert requests[1].reqId == first.reqId == subscription.req_id
    assert [r.marketDataType for r in await gateway.requests_of(ReqMarketDataType, 2)] == [3, 3]
    assert client.is_running  # degraded while away, running again
    assert client._last_disconnection_ns is not None


@pytest.mark.asyncio
async def test_connectivity_lost_then_restored_with_data_lost_resubscribes(connect, gateway):
    gateway.record(ReqMktData)
    client = await connect()
    await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=Events())
    await gateway.requests_of(ReqMktData)

    gateway.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
    await until(lambda: not client.is_ib_connected)
    assert client.is_degraded
    with pytest.raises(TimeoutError):
        await client.wait_until_ready(0.05)

    gateway.error(-1, 1101, "Connectivity between IB and TWS has been restored- data lost.")
    await client.wait_until_ready(WAIT)
    assert client.is_running and client.is_ib_connected
    requests = await gateway.requests_of(ReqMktData, 2)
    assert requests[0].reqId == requests[1].reqId


@pytest.mark.asyncio
async def test_connectivity_restored_with_data_kept_does_not_resubscribe(connect, gateway):
    gateway.record(ReqMktData)
    gateway.on(ReqCurrentTime)(lambda s, r: s.send(CurrentTime(time=1)))
    client = await connect()
    await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=Events())
    await gateway.requests_of(ReqMktData)

    gateway.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
    await until(lambda: client.is_degraded)
    gateway.error(-1, 1102, "Connectivity between IB and TWS has been restored- data maintained.")
    await client.wait_until_ready(WAIT)
    await client.get_server_time()  # everything sent before it has been handled
    assert len(await gateway.requests_of(ReqMktData)) == 1
    assert client.is_running


@pytest.mark.asyncio
async def test_farm_flapping_updates_farm_status_and_fails_nothing(connect, gateway):
    gateway.on(ReqCurrentTime)(never_answer)
    gateway.record(ReqMktData, CancelMktData)
    client = await connect()
    ticks = Events()
    subscription = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=ticks)
    pending = asyncio.ensure_future(client.get_server_time(timeout=WAIT))
    await gateway.requests_of(ReqCurrentTime)

    for _ in range(3):
        gateway.error(-1, 2103, "Market data farm connection is broken:usfarm")
        gateway.error(-1, 2104, "Market data farm connection is OK:usfarm")
    gateway.error(-1, 2157, "Sec-def data farm connection is broken:secdefil")
    gateway.error(
        -1, 2107, "HMDS data farm connection is inactive but should be available upon demand.ushmds"
    )
    gateway.push(CurrentTime(time=99))

    assert await pending == 99
    assert client.farm_status["usfarm"].ok and client.farm_status["usfarm"].code == 2104
    assert not client.farm_status["secdefil"].ok
    assert client.farm_status["ushmds"].ok
    assert client.is_running and client.is_ib_connected
    assert client._subscriptions.get(subscription.req_id) is subscription
    assert len(await gateway.requests_of(ReqMktData)) == 1


@pytest.mark.asyncio
async def test_stop_fails_requests_in_flight_and_frees_the_client_id(
    connect,
    gateway,
    make_client,
):
    gateway.on(ReqCurrentTime)(never_answer)
    client = await connect(client_id=3)
    pending = asyncio.ensure_future(client.get_server_time(timeout=WAIT))
    await gateway.requests_of(ReqCurrentTime)

    client.stop()

    with pytest.raises(IBConnectionError, match="stopped"):
        await pending
    await asyncio.wait_for(client.wait_until_stopped(), 1.0)
    assert client.is_stopped and not client.is_ib_connected

    # The server lets go of client id 3 (retries cover the moment it takes to notice).
    again = make_client(gateway.port, 3)
    again.start()
    await again.wait_until_ready(WAIT)


@pytest.mark.asyncio
async def test_the_constructor_matches_nautilus_traders(make_client):
    client = make_client(free_port(), client_id=12, fetch_all_open_orders=True)
    assert isinstance(client, InteractiveBrokersClient)
    assert str(client.id) == "INTERACTIVE_BROKERS-012"
    assert client._cache is not None and client.registered_nautilus_clients == set()
    assert client._fetch_all_open_orders is True


@pytest.mark.asyncio
async def test_stop_reset_start_connects_afresh_without_old_subscriptions(connect, gateway):
    gateway.record(ReqMktData, StartApi)
    client = await connect()
    await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=Events())
    await gateway.requests_of(ReqMktData)

    client.stop()
    await client.wait_until_stopped()
    client.reset()
    client.start()
    await client.wait_until_ready(WAIT)

    await gateway.requests_of(StartApi, 2)
    await client.get_server_time()
    assert len(await gateway.requests_of(ReqMktData)) == 1  # reset forgot it
    assert client.is_running and not client._subscriptions


@pytest.mark.asyncio
async def test_wait_until_ready_after_stop_says_so(make_client):
    client = make_client(free_port())
    client.start()
    client.stop()
    with pytest.raises(IBConnectionError, match="stopped"):
        await client.wait_until_ready(WAIT)
