"""The one path of incoming messages: tracing, funnelling, and surviving bad input."""

from __future__ import annotations

import asyncio

import pytest
from ibapi import comm

from adapter.client import TickPrice as TickPriceEvent
from adapter.common import IBContract
from fake_tws.protocol.requests.connection import ReqCurrentTime
from fake_tws.protocol.requests.market_data import ReqMktData
from fake_tws.protocol.responses.connection import CurrentTime
from fake_tws.protocol.responses.market_data import TickPrice, TickSize
from tests.adapter.client.support import Events

AAPL = IBContract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD")


def answer_time(session, request) -> None:
    session.send(CurrentTime(time=1234))


@pytest.mark.asyncio
async def test_trace_is_switched_at_run_time(connect, gateway):
    gateway.on(ReqCurrentTime)(answer_time)
    client = await connect()
    lines: list[str] = []

    await client.get_server_time()
    assert not client.is_message_trace_enabled

    client.set_message_trace(True, sink=lines.append)
    assert await client.get_server_time() == 1234
    assert lines == [
        "-> reqCurrentTime {}",
        "<- CURRENT_TIME ['49', '1', '1234']",
        "   currentTime(1234,)",
    ]

    client.set_message_trace(False)
    await client.get_server_time()
    assert len(lines) == 3


@pytest.mark.asyncio
async def test_every_message_passes_process_message(gateway, make_client):
    gateway.on(ReqCurrentTime)(answer_time)
    gateway.start()
    client = make_client(gateway.port)
    seen: list[bytes] = []
    original = client._process_message

    def spy(frame: bytes) -> None:
        seen.append(frame)
        original(frame)

    client._process_message = spy  # before connecting: the socket reader calls it
    client.start()
    await client.wait_until_ready(5)
    await client.get_server_time()

    names = [comm.read_fields(frame)[0] for frame in seen]
    # handshake reply, managedAccounts (15), nextValidId (9), 3 farm notices (4), time (49)
    assert len(seen) == 7
    assert names[1:] == [b"15", b"9", b"4", b"4", b"4", b"49"]


@pytest.mark.asyncio
async def test_a_failing_handler_or_a_malformed_message_does_not_stop_the_stream(
    connect,
    gateway,
):
    gateway.record(ReqMktData)
    client = await connect()
    received = Events()

    def handler(event) -> None:
        received(event)
        if len(received.items) == 1:
            raise RuntimeError("a bug in the data client")

    subscription = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=handler)
    await gateway.requests_of(ReqMktData)
    gateway.push(TickPrice(reqId=subscription.req_id, tickType=1, price=10.0))
    gateway.thread.run_sync(
        lambda: [s.link.send(comm.make_msg("1\0")) for s in gateway.thread.server.sessions],
    )  # a tick price with its fields missing
    gateway.push(TickPrice(reqId=subscription.req_id, tickType=2, price=10.5))

    events = await received.wait(2)
    assert [e.price for e in events if isinstance(e, TickPriceEvent)] == [10.0, 10.5]
    assert client.is_ib_connected


@pytest.mark.asyncio
async def test_messages_for_ids_nobody_waits_on_are_dropped(connect, gateway):
    gateway.on(ReqCurrentTime)(answer_time)
    client = await connect()
    gateway.push(TickSize(reqId=999, tickType=0, size=5))  # no such subscription
    gateway.error(999, 200, "No security definition has been found for the request")
    assert await client.get_server_time() == 1234  # later messages still flow
    assert client.is_ib_connected and not client._requests


@pytest.mark.asyncio
async def test_requests_are_sent_through_the_throttle(connect, gateway):
    gateway.on(ReqCurrentTime)(answer_time)
    client = await connect()
    sent: list[bytes] = []
    throttle = client._throttle
    write = throttle._write
    throttle._write = lambda data: (sent.append(data), write(data))
    await asyncio.wait_for(client.get_server_time(), 5)
    assert [comm.read_fields(m[4:])[0] for m in sent] == [b"49"]  # REQ_CURRENT_TIME


@pytest.mark.asyncio
async def test_trace_can_be_switched_on_from_the_environment(monkeypatch, make_client):
    monkeypatch.setenv("IB_TRACE_MESSAGES", "1")
    assert make_client(1).is_message_trace_enabled
    monkeypatch.delenv("IB_TRACE_MESSAGES")
    assert not make_client(1).is_message_trace_enabled
