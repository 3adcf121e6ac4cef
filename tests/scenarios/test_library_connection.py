"""scenarios/connection/*: each shipped connection scenario against real clients."""

from __future__ import annotations

import pytest
from ib_async import IB, StartupFetchNONE

from tests.scenarios.support import served

TIMEOUT = 5.0


def test_client_id_in_use():
    with served("connection/client_id_in_use") as run:
        first = run.ibapi(1)
        second = run.ibapi(1, bootstrap=False)
        assert second.wait_for_error(326)[0] == -1
        assert second.reader_finished()
        assert second.named("managedAccounts") == []
        first.reqCurrentTime()
        first.wait_for(lambda: first.named("currentTime"))
        assert first.errors() == []


@pytest.mark.asyncio
async def test_client_id_in_use_ib_async():
    with served("connection/client_id_in_use") as run:
        first = IB()
        await first.connectAsync("127.0.0.1", run.port, clientId=7, fetchFields=StartupFetchNONE)
        second = IB()
        codes: list[int] = []
        second.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        try:
            with pytest.raises((ConnectionError, TimeoutError)):
                await second.connectAsync(
                    "127.0.0.1", run.port, clientId=7, timeout=1, fetchFields=StartupFetchNONE
                )
            assert 326 in codes
            assert first.isConnected()
        finally:
            second.disconnect()
            first.disconnect()


def test_old_gateway():
    with served("connection/old_gateway") as run:
        client = run.ibapi(1)
        assert client.serverVersion() == 163


@pytest.mark.asyncio
async def test_old_gateway_ib_async():
    with served("connection/old_gateway") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            assert ib.client.serverVersion() == 163
        finally:
            ib.disconnect()


def test_advisor_accounts():
    with served("connection/advisor_accounts") as run:
        client = run.ibapi(1)
        assert client.named("managedAccounts") == [("DU1000001,DU1000002,DU1000003",)]
        client.reqPositions()
        client.wait_for(lambda: client.named("positionEnd"))
        held = {(a[0], a[1].symbol): (a[2], a[3]) for a in client.named("position")}
        assert held == {
            ("DU1000001", "AAPL"): (200, 180.25),
            ("DU1000002", "MSFT"): (50, 390.0),
        }


@pytest.mark.asyncio
async def test_advisor_accounts_ib_async():
    with served("connection/advisor_accounts") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, timeout=TIMEOUT)
        try:
            assert ib.managedAccounts() == ["DU1000001", "DU1000002", "DU1000003"]
            positions = {(p.account, p.contract.symbol): p.position for p in ib.positions()}
            assert positions == {("DU1000001", "AAPL"): 200, ("DU1000002", "MSFT"): 50}
        finally:
            ib.disconnect()


def test_welcome_notices():
    with served("connection/welcome_notices") as run:
        client = run.ibapi(1)
        client.reqCurrentTime()
        client.wait_for(lambda: client.named("currentTime"))
        codes = [name if name != "error" else args[1] for name, args in client.calls]
        assert codes[-3:] == [2107, 2110, "currentTime"]
