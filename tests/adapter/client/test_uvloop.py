"""The client on uvloop, the event loop NautilusTrader installs outside pytest."""

from __future__ import annotations

import asyncio

import uvloop
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.model.identifiers import TraderId

from adapter.client import InteractiveBrokersClient
from fake_tws.server import ServerThread
from tests.adapter.client.conftest import FAST
from tests.adapter.client.support import WAIT


def test_the_client_connects_and_asks_on_uvloop():
    loop = uvloop.new_event_loop()

    async def session(port: int) -> tuple[list[str], int]:
        clock = LiveClock()
        client = InteractiveBrokersClient(
            asyncio.get_running_loop(),
            MessageBus(TraderId("TESTER-001"), clock),
            Cache(),
            clock,
            port=port,
            client_id=1,
            reconnect=FAST,
        )
        client.start()
        try:
            await client.wait_until_ready(WAIT)
            return client.accounts(), await client.get_server_time()
        finally:
            client.stop()
            await client.wait_until_stopped()

    with ServerThread() as server:
        try:
            accounts, server_time = loop.run_until_complete(session(server.port))
        finally:
            loop.close()
    assert accounts == {"DU123456"} and server_time > 0
