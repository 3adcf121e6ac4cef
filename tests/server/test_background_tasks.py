"""Session tasks (streams owned by one connection) and gateway services (server-wide)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import trio

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.protocol.requests.connection import ReqCurrentTime, ReqIds
from fake_tws.protocol.responses.connection import CurrentTime
from fake_tws.session import CONNECTION_HANDLERS, Gateway, Handlers, Session
from tests.server.raw_client import RawClient, running
from tests.wire import REQ_CURRENT_TIME, request

START = datetime(2026, 4, 5, 13, 30, tzinfo=UTC)


def ticking_handlers() -> tuple[Handlers, dict]:
    """reqCurrentTime starts a stream: currentTime once per virtual second;
    reqIds cancels it. Enough to observe spawn, cancel and connection-scoped lifetime."""
    state: dict = {"handles": {}, "ended": trio.Event()}
    handlers = Handlers()

    @handlers.on(ReqCurrentTime)
    def start_stream(session: Session, request: ReqCurrentTime) -> None:
        async def stream() -> None:
            try:
                while True:
                    await session.clock.sleep(1)
                    session.send(CurrentTime(time=int(session.clock.time())))
            finally:
                state["ended"].set()

        state["handles"][session] = session.spawn("ticker", stream)

    @handlers.on(ReqIds)
    def stop_stream(session: Session, request: ReqIds) -> None:
        state["handles"].pop(session).cancel()

    return CONNECTION_HANDLERS | handlers, state


@pytest.mark.trio
async def test_a_spawned_stream_follows_the_clock_and_stops_when_cancelled():
    clock = VirtualClock(START)
    handlers, state = ticking_handlers()
    async with running(ServerConfig(clock=clock), handlers) as server:
        client = await RawClient.connect(server.port)
        await client.log_on(1)
        await client.send(REQ_CURRENT_TIME)
        await trio.testing.wait_all_tasks_blocked()
        for second in (1, 2, 3):
            clock.advance(1)
            assert await client.message() == ["49", "1", str(int(START.timestamp()) + second)]
        await client.send(request(8, 1, 1))  # reqIds: cancel the stream
        await state["ended"].wait()
        clock.advance(5)
        await trio.testing.wait_all_tasks_blocked()
        await client.send(request(49, 1))  # a new stream, to prove nothing else was queued
        await trio.testing.wait_all_tasks_blocked()
        clock.advance(1)
        assert await client.message() == ["49", "1", str(int(START.timestamp()) + 9)]


@pytest.mark.trio
async def test_a_sessions_streams_end_with_its_connection():
    clock = VirtualClock(START)
    handlers, state = ticking_handlers()
    async with running(ServerConfig(clock=clock), handlers) as server:
        client = await RawClient.connect(server.port)
        await client.log_on(1)
        await client.send(REQ_CURRENT_TIME)
        await trio.testing.wait_all_tasks_blocked()
        await client.aclose()
        with trio.fail_after(5):
            await state["ended"].wait()
        await trio.testing.wait_all_tasks_blocked()
        assert not server.sessions


def test_spawn_without_a_transport_says_why():
    session = Session(Gateway(ServerConfig()), link=None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="no task runner"):
        session.spawn("x", lambda: None)  # type: ignore[arg-type,return-value]


@pytest.mark.trio
async def test_services_run_with_the_server_and_stop_with_it():
    seen: list[str] = []
    handlers = Handlers()

    @handlers.service
    async def heartbeat(gateway: Gateway) -> None:
        try:
            seen.append(f"started for {gateway.config.accounts[0]}")
            await trio.sleep_forever()
        finally:
            seen.append("stopped")

    merged = CONNECTION_HANDLERS | handlers
    assert merged.services == (heartbeat,)
    async with running(ServerConfig(accounts=("DU9",)), merged):
        await trio.testing.wait_all_tasks_blocked()
        assert seen == ["started for DU9"]
    assert seen == ["started for DU9", "stopped"]
