from __future__ import annotations

import asyncio

import pytest_asyncio
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.model.identifiers import TraderId

from adapter.client import InteractiveBrokersClient, ReconnectPolicy
from tests.adapter.client.support import WAIT, FakeGateway

# Reconnects in milliseconds, so tests of connection loss stay fast.
FAST = ReconnectPolicy(first_delay=0.01, factor=2.0, max_delay=0.05, attempt_timeout=2.0)


@pytest_asyncio.fixture
async def gateway():
    """A scripted fake-tws (register handlers with ``gateway.on``, then ``start()``)."""
    fake = FakeGateway(asyncio.get_running_loop())
    yield fake
    fake.stop()


@pytest_asyncio.fixture
async def make_client():
    """Builds clients; every one is stopped (and its tasks ended) after the test."""
    clients: list[InteractiveBrokersClient] = []

    def make(port: int, client_id: int = 1, **kwargs) -> InteractiveBrokersClient:
        clock = LiveClock()
        client = InteractiveBrokersClient(
            asyncio.get_running_loop(),
            MessageBus(TraderId("TESTER-001"), clock),
            Cache(),
            clock,
            port=port,
            client_id=client_id,
            reconnect=kwargs.pop("reconnect", FAST),
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        if not client.is_stopped and not client.is_disposed:
            client.stop()
        await client.wait_until_stopped()


@pytest_asyncio.fixture
async def connect(gateway, make_client):
    """``await connect(**server_config)``: the gateway started and a client ready on it."""

    async def start(client_id: int = 1, client_kwargs: dict | None = None, **config):
        gateway.start(**config)
        client = make_client(gateway.port, client_id, **(client_kwargs or {}))
        client.start()
        await client.wait_until_ready(WAIT)
        return client

    return start
