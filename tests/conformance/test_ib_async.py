"""ib_async 2.1.0 (asyncio) against the server over real TCP."""

from __future__ import annotations

import asyncio
import time

import pytest
from ib_async import IB, StartupFetchNONE

from fake_tws.server import ServerThread

TIMEOUT = 5.0
# IB.connectAsync always syncs positions after the API is up and gives the answer this
# long (a timeout is logged, not raised). Until a positions handler is registered the
# server answers reqPositions with error 321 only, so this bounds the test's duration.
SYNC_WAIT = 0.5


@pytest.fixture
def gateway():
    with ServerThread() as server:
        yield server


@pytest.mark.conformance(client="ib_async", item="connect")
@pytest.mark.asyncio
async def test_connect_accounts_order_id_current_time_disconnect(gateway):
    ib = IB()
    await ib.connectAsync(
        "127.0.0.1",
        gateway.port,
        clientId=1,
        timeout=SYNC_WAIT,
        readonly=True,
        fetchFields=StartupFetchNONE,
    )
    try:
        assert ib.isConnected()
        assert ib.client.serverVersion() == 178  # the top of ib_async's v157..178
        assert ib.managedAccounts() == ["DU123456"]
        assert ib.client.getReqId() >= 1  # seeded from nextValidId
        server_time = await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        assert abs(server_time.timestamp() - time.time()) < 60
    finally:
        ib.disconnect()
    assert not ib.isConnected()


@pytest.mark.conformance(client="ib_async", item="connect")
@pytest.mark.asyncio
async def test_a_duplicate_client_id_is_refused_with_326(gateway):
    first = IB()
    await first.client.connectAsync("127.0.0.1", gateway.port, 4, TIMEOUT)  # API only, no sync
    second = IB()
    refused = asyncio.get_running_loop().create_future()
    second.errorEvent += lambda reqId, code, text, contract: (
        code == 326 and not refused.done() and refused.set_result((reqId, text))
    )
    closed = asyncio.Event()
    second.client.apiError += lambda message: closed.set()
    connecting = asyncio.create_task(
        second.connectAsync("127.0.0.1", gateway.port, clientId=4, timeout=TIMEOUT)
    )
    try:
        req_id, text = await asyncio.wait_for(refused, TIMEOUT)
        assert req_id == -1
        assert text.startswith("Unable to connect as the client id is already in use")
        await asyncio.wait_for(closed.wait(), TIMEOUT)  # the server hung up
        assert not second.isConnected()
        assert await asyncio.wait_for(first.reqCurrentTimeAsync(), TIMEOUT)
    finally:
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        second.disconnect()
        first.disconnect()
