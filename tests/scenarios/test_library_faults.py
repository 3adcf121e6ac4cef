"""scenarios/faults/*: each shipped fault scenario against real clients over TCP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from ib_async import IB, StartupFetchNONE

from tests.scenarios.support import Client, Run, eventually, order, served, stock

TIMEOUT = 5.0
AAPL_CON_ID = 265598
ACCOUNT = "DU1234567"


def streams_of(run: Run, client_id: int) -> int:
    """How many background tasks (subscriptions) the client's session runs."""

    def count() -> int:
        session = run.server.server.gateway.session_for(client_id)
        return -1 if session is None else len(session._streams)

    return run.server.run_sync(count)


def round_trip(client: Client) -> None:
    """A reqCurrentTime answered: everything the server sent before it has arrived."""
    before = len(client.named("currentTime"))
    client.reqCurrentTime()
    client.wait_for(lambda: len(client.named("currentTime")) > before)


def pnl_for(client: Client, req_id: int) -> list[tuple]:
    return [a for a in client.named("pnlSingle") if a[0] == req_id]


def test_connectivity_lost_then_maintained():
    with served("faults/connectivity_lost_maintained") as run:
        client = run.ibapi(1)
        client.reqPnLSingle(1, ACCOUNT, "", AAPL_CON_ID)
        client.wait_for(lambda: pnl_for(client, 1))
        streams = streams_of(run, 1)
        run.advance(60)
        client.wait_for(lambda: 1100 in client.codes())
        assert client.errors() == [
            (-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
        ]
        client.reqPnLSingle(2, ACCOUNT, "", AAPL_CON_ID)  # no data while the link is down
        round_trip(client)
        assert pnl_for(client, 2) == []
        run.advance(30)
        client.wait_for(lambda: 1102 in client.codes())
        assert client.errors()[-1][2] == (
            "Connectivity between IB and Trader Workstation has been restored - data maintained."
        )
        assert streams_of(run, 1) >= streams  # the subscriptions live on


def test_connectivity_lost_then_data_lost():
    with served("faults/connectivity_lost_data_lost") as run:
        client = run.ibapi(1)
        client.reqPnLSingle(1, ACCOUNT, "", AAPL_CON_ID)
        client.wait_for(lambda: pnl_for(client, 1))
        assert streams_of(run, 1) > 0
        run.advance(60)
        client.wait_for(lambda: 1100 in client.codes())
        run.advance(30)
        client.wait_for(lambda: 1101 in client.codes())
        eventually(lambda: streams_of(run, 1) == 0)  # IB dropped the subscriptions
        before = len(pnl_for(client, 1))
        client.reqPnLSingle(1, ACCOUNT, "", AAPL_CON_ID)  # the client resubscribes
        client.wait_for(lambda: len(pnl_for(client, 1)) > before)


def test_connectivity_cycles_ibapi():
    with served("faults/connectivity_cycles") as run:
        client = run.ibapi(1)
        for seconds, wanted in ((60, 1), (10, 2), (110, 3), (45, 4), (255, 5), (5, 6)):
            run.advance(seconds)
            client.wait_for(lambda n=wanted: len(client.errors()) >= n)
        assert client.codes() == [1100, 1102, 1100, 1101, 1100, 1102]


@pytest.mark.asyncio
async def test_connectivity_cycles_ib_async():
    with served("faults/connectivity_cycles") as run:
        ib = IB()
        codes: list[int] = []
        ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            run.advance(60)
            await asyncio.wait_for(_until(lambda: 1100 in codes), TIMEOUT)
            run.advance(10)
            await asyncio.wait_for(_until(lambda: 1102 in codes), TIMEOUT)
            assert ib.isConnected()
            run.advance(110)
            run.advance(45)
            await asyncio.wait_for(_until(lambda: 1101 in codes), TIMEOUT)
            assert [c for c in codes if c in (1100, 1101, 1102)] == [1100, 1102, 1100, 1101]
        finally:
            ib.disconnect()


def test_nightly_restart_drops_refuses_and_comes_back():
    with served("faults/nightly_restart") as run:
        client = run.ibapi(1)
        client.placeOrder(5, stock("AAPL"), order("BUY", 1, "LMT", lmtPrice=1.0, tif="GTC"))
        client.wait_status(5, "PreSubmitted")  # after the close: it waits for the open
        run.clock.set(datetime(2026, 1, 6, 4, 44, tzinfo=UTC))
        round_trip(client)
        run.advance(60)  # 23:45 New York
        client.wait_closed()
        eventually(run.refused)
        run.advance(299)
        assert run.refused()
        run.advance(1)
        eventually(lambda: not run.refused())
        again = run.ibapi(1)
        assert again.named("nextValidId") == [(6,)]  # ids survive the restart
        again.reqOpenOrders()
        again.wait_count("openOrderEnd", 1)
        [(order_id, *_)] = again.named("openOrder")
        assert order_id == 5


@pytest.mark.asyncio
async def test_nightly_restart_ib_async_sees_the_disconnect():
    with served("faults/nightly_restart") as run:
        ib = IB()
        gone = asyncio.Event()
        ib.disconnectedEvent += gone.set
        await ib.connectAsync("127.0.0.1", run.port, clientId=2, fetchFields=StartupFetchNONE)
        try:
            run.clock.set(datetime(2026, 1, 6, 4, 45, tzinfo=UTC))
            await asyncio.wait_for(gone.wait(), TIMEOUT)
            with pytest.raises(ConnectionRefusedError):
                await IB().connectAsync("127.0.0.1", run.port, clientId=3, timeout=TIMEOUT)
        finally:
            ib.disconnect()


def test_farm_flapping():
    with served("faults/farm_flapping") as run:
        client = run.ibapi(1)
        steps = ((10, 2103), (2, 2104), (8, 2105), (5, 2106), (5, 2157), (1, 2158), (41, 2108))
        for seconds, code in steps:
            run.advance(seconds)
            client.wait_for(lambda code=code: client.codes()[-1:] == [code])
        texts = [text for _, _, text in client.errors()]
        assert texts == [
            "Market data farm connection is broken:usfarm",
            "Market data farm connection is OK:usfarm",
            "HMDS data farm connection is broken:ushmds",
            "HMDS data farm connection is OK:ushmds",
            "Sec-def data farm connection is broken:secdefil",
            "Sec-def data farm connection is OK:secdefil",
            "Market data farm connection is inactive but should be available upon demand.usfarm",
        ]
        # a client connecting now hears each farm's current state at its bootstrap
        late = run.ibapi(2)
        assert [code for _, code, _ in late.errors(bootstrap=True)] == [2108, 2106, 2158]


def test_farm_flapping_told_at_bootstrap_while_broken():
    with served("faults/farm_flapping") as run:
        run.advance(21)
        eventually(lambda: run.engine.states["hmds-farm"].fired == 1)
        client = run.ibapi(1)
        assert [code for _, code, _ in client.errors(bootstrap=True)] == [2104, 2105, 2158]


def test_stale_session_holds_the_client_id():
    with served("faults/stale_session_client_id") as run:
        stale = run.ibapi(1)
        run.advance(1)
        run.wait_note("scenario disconnect: silence")
        stale.reqCurrentTime()
        run.wait_note("scenario: rule go-silent fires")
        assert not stale.reader_finished(timeout=0.1), "the socket stays open"
        assert stale.named("currentTime") == []
        refused = run.ibapi(1, bootstrap=False)
        refused.wait_for_error(326)
        assert refused.reader_finished()
        stale.close()  # the client gives up on the dead connection
        eventually(
            lambda: run.server.run_sync(lambda: run.server.server.gateway.client_ids) == set()
        )
        fresh = run.ibapi(1)
        round_trip(fresh)


@pytest.mark.asyncio
async def test_stale_session_ib_async_times_out_on_a_silent_connection():
    with served("faults/stale_session_client_id") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            run.advance(1)
            await asyncio.wait_for(_until_note(run, "scenario disconnect: silence"), TIMEOUT)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 0.2)
            assert ib.isConnected()  # nothing tells the client: it must notice on its own
        finally:
            ib.disconnect()


def test_reset_mid_request():
    with served("faults/reset_mid_request") as run:
        client = run.ibapi(1)
        client.reqContractDetails(7, stock("MSFT"))
        client.wait_count("contractDetailsEnd", 1)
        client.reqContractDetails(8, stock("AAPL"))
        client.wait_closed()
        assert [a[0] for a in client.named("contractDetails")] == [7]
        notes = [e.message.text for e in run.journal.entries if e.name == "note"]
        assert "scenario disconnect: reset" in notes


@pytest.mark.asyncio
async def test_reset_mid_request_ib_async():
    with served("faults/reset_mid_request") as run:
        ib = IB()
        gone = asyncio.Event()
        ib.disconnectedEvent += gone.set
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            from ib_async import Stock

            asking = asyncio.ensure_future(ib.reqContractDetailsAsync(Stock("AAPL", "SMART")))
            await asyncio.wait_for(gone.wait(), TIMEOUT)
            assert not ib.isConnected()
            asking.cancel()
        finally:
            ib.disconnect()


def test_truncated_frame():
    with served("faults/truncated_frame") as run:
        client = run.ibapi(1)
        client.reqCurrentTime()
        client.wait_closed()
        assert client.named("currentTime") == []
        notes = [e.message.text for e in run.journal.entries if e.name == "note"]
        assert "scenario disconnect: truncate" in notes


def test_message_rate():
    with served("faults/message_rate") as run:
        client = run.ibapi(1)
        for _ in range(15):
            client.reqCurrentTime()
        client.wait_for(lambda: 100 in client.codes())
        [(req_id, code, text)] = client.errors()
        assert (req_id, code) == (-1, 100)
        assert text.startswith("Max rate of messages per second has been exceeded:max=10 rec=")
        assert len(client.named("currentTime")) <= 10
        assert client.isConnected()


def test_message_rate_disconnect():
    with served("faults/message_rate_disconnect") as run:
        client = run.ibapi(1)
        # one over the limit: more, sent after the server hung up, would make its socket
        # close with unread data, which TCP turns into a reset that can eat the error
        for _ in range(11):
            client.reqCurrentTime()
        client.wait_closed()
        client.wait_for(lambda: 100 in client.codes())


async def _until(condition, step: float = 0.005) -> None:
    while not condition():
        await asyncio.sleep(step)


async def _until_note(run: Run, text: str) -> None:
    await _until(
        lambda: any(e.name == "note" and e.message.text == text for e in run.journal.entries)
    )
