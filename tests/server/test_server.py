"""The trio transport: many clients, per-client failures, stalled readers, shutdown."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import trio
import trio.testing

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.protocol.requests.connection import ReqCurrentTime
from fake_tws.server import CLOSE_GRACE, SEND_CHUNK, Outbox, Server
from fake_tws.session import CONNECTION_HANDLERS, Handlers
from tests.server.raw_client import RawClient, running
from tests.wire import REQ_CURRENT_TIME, bootstrap, greeting, request, start_api

START = datetime(2026, 4, 5, 13, 30, tzinfo=UTC)
EPOCH = str(int(START.timestamp()))


def virtual(**config) -> ServerConfig:
    return ServerConfig(clock=VirtualClock(START), **config)


@pytest.mark.trio
async def test_many_clients_at_once():
    async with running(virtual()) as server:
        clients = [await RawClient.connect(server.port) for _ in range(5)]
        for client_id, client in enumerate(clients):
            assert (await client.log_on(client_id))[1:] == bootstrap()
        for client in clients:  # all requests in flight before any answer is read
            await client.send(REQ_CURRENT_TIME)
        for client in clients:
            assert await client.message() == ["49", "1", EPOCH]
        assert server.gateway.client_ids == set(range(5))


@pytest.mark.trio
async def test_a_duplicate_client_id_is_refused_and_the_first_is_untouched():
    async with running(virtual()) as server:
        first = await RawClient.connect(server.port)
        await first.log_on(3)
        second = await RawClient.connect(server.port)
        await second.send(greeting() + start_api(3))
        hello, refusal = await second.until_closed()
        assert hello[0] == "187"
        assert refusal[3] == "326"
        await first.send(REQ_CURRENT_TIME)
        assert await first.message() == ["49", "1", EPOCH]


@pytest.mark.trio
async def test_an_unknown_message_id_closes_only_that_client():
    async with running(virtual()) as server:
        bad = await RawClient.connect(server.port)
        good = await RawClient.connect(server.port)
        await bad.log_on(1)
        await good.log_on(2)
        await bad.send(request(9999, 1))
        assert [m[3] for m in await bad.until_closed()] == ["505"]
        await good.send(REQ_CURRENT_TIME)
        assert await good.message() == ["49", "1", EPOCH]


@pytest.mark.trio
async def test_a_bad_request_is_answered_with_320_and_the_connection_stays_up():
    async with running(virtual()) as server:
        client = await RawClient.connect(server.port)
        await client.log_on(1)
        await client.send(request(8, 1, "lots") + REQ_CURRENT_TIME)
        error, time = await client.messages(2)
        assert error[3] == "320"
        assert time == ["49", "1", EPOCH]


@pytest.mark.trio
async def test_no_common_version_gets_the_servers_version_then_a_close():
    async with running(virtual(min_version=179)) as server:
        client = await RawClient.connect(server.port)
        await client.send(greeting(157, 178))  # ib_async's range
        assert await client.until_closed() == [["187", "20260405 13:30:00 UTC"]]


@pytest.mark.trio
async def test_a_broken_handshake_is_closed_without_an_answer(caplog):
    async with running(virtual()) as server:
        client = await RawClient.connect(server.port)
        with caplog.at_level(logging.INFO, "fake_tws"):
            await client.send(b"GET / HTTP/1.1\r\n\r\n")
            assert await client.until_closed() == []
    assert "protocol error" in caplog.text


@pytest.mark.trio
async def test_stop_closes_every_session_and_the_listener():
    async with trio.open_nursery() as nursery:
        server: Server = await nursery.start(Server(virtual()).serve)
        clients = [await RawClient.connect(server.port) for _ in range(3)]
        for client_id, client in enumerate(clients):
            await client.log_on(client_id)
        server.stop()
    # The nursery exiting means serve() returned and every client task ended.
    assert server.sessions == set()
    assert server.gateway.client_ids == frozenset()
    for client in clients:
        assert await client.until_closed() == []
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", server.port)


@pytest.mark.trio
async def test_stop_before_serve_starts_returns_at_once():
    server = Server(virtual())
    server.stop()
    with trio.fail_after(1):
        await server.serve()


@pytest.mark.trio
async def test_a_client_that_does_not_read_is_disconnected(caplog):
    # A lockstep stream buffers nothing: every byte the server sends waits for the
    # client to read it, so the server's outbox is all that can grow.
    server = Server(virtual(outbox_limit=2000))
    client_end, server_end = trio.testing.lockstep_stream_pair()
    with caplog.at_level(logging.INFO, "fake_tws"), trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.serve_stream, server_end, "stalled")
            await client_end.send_all(greeting() + start_api(1) + REQ_CURRENT_TIME * 300)
    assert "client is not reading: more than 2000 bytes queued" in caplog.text
    assert server.gateway.client_ids == frozenset()
    assert await client_end.receive_some() == b""


@pytest.mark.trio
async def test_a_closing_client_that_stopped_reading_is_cut_after_a_grace(autojump_clock, caplog):
    server = Server(virtual())
    client_end, server_end = trio.testing.lockstep_stream_pair()
    # fail_after counts trio's mock time: without the grace the test fails, not hangs.
    with caplog.at_level(logging.INFO, "fake_tws"), trio.fail_after(CLOSE_GRACE * 10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.serve_stream, server_end, "stuck")
            # Never reads: the hello can never be delivered, so the 505's close waits.
            await client_end.send_all(greeting() + start_api(1) + request(9999, 1))
    assert "closed: unknown message id 9999" in caplog.text
    assert trio.current_time() >= CLOSE_GRACE


@pytest.mark.trio
async def test_a_failing_handler_closes_only_its_client(caplog):
    broken = Handlers()

    @broken.on(ReqCurrentTime)
    def explode(session, request):
        raise RuntimeError("handler bug")

    async with running(virtual(), CONNECTION_HANDLERS | broken) as server:
        victim = await RawClient.connect(server.port)
        other = await RawClient.connect(server.port)
        await victim.log_on(1)
        await other.log_on(2)
        with caplog.at_level(logging.ERROR, "fake_tws"):
            await victim.send(REQ_CURRENT_TIME)
            assert await victim.until_closed() == []
        assert "client 1 127.0.0.1" in caplog.text
        assert "handler bug" in caplog.text
        await other.send(request(17, 1))
        assert await other.message() == ["15", "1", "DU123456"]


@pytest.mark.trio
async def test_a_client_id_is_released_when_its_client_disconnects():
    server = Server(virtual())
    client_end, server_end = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, server_end, "memory")
        client = RawClient(client_end)
        await client.log_on(8)
        assert server.gateway.client_ids == {8}
        await client.aclose()
    assert server.gateway.client_ids == frozenset()
    assert server.sessions == set()


@pytest.mark.trio
async def test_the_outbox_coalesces_small_sends_into_bounded_chunks():
    outbox = Outbox(limit=1 << 20, cancel_scope=trio.CancelScope())
    for _ in range(100):
        outbox.send(b"x" * 1000)
    outbox.send(b"y" * (SEND_CHUNK + 1))  # one oversized message still goes whole
    outbox.close("done")
    chunks = []
    while chunk := await outbox.next_chunk():
        chunks.append(chunk)
    assert [len(c) for c in chunks] == [65000, 35000, SEND_CHUNK + 1]
    assert outbox.queued == 0
