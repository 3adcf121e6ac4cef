from __future__ import annotations

import pytest
import pytest_asyncio

from adapter.historical import HistoricInteractiveBrokersClient
from tests.adapter.historical.support import FAST, start_tws


@pytest.fixture
def tws():
    """The full fake-tws world; virtual clock at 2026-01-05 14:30 UTC (Monday, 09:30 ET)."""
    with start_tws() as server:
        yield server


@pytest_asyncio.fixture
async def historic():
    """``historic(server, **kwargs)``: a HistoricInteractiveBrokersClient for ``server``
    (quiet, reconnecting in milliseconds); every one is disconnected after the test."""
    made: list[HistoricInteractiveBrokersClient] = []

    def make(server, **kwargs) -> HistoricInteractiveBrokersClient:
        kwargs.setdefault("client_id", 5)
        kwargs.setdefault("log_level", "ERROR")
        kwargs.setdefault("reconnect", FAST)
        kwargs.setdefault("show_progress", False)
        client = HistoricInteractiveBrokersClient(port=server.port, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.disconnect()
