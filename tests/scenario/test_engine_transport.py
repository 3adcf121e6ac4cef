"""Scenario faults down to the socket: RST, truncated frames, half-open connections,
server restarts; and servers started from a scenario."""

from __future__ import annotations

import errno

import pytest
import trio
import trio.testing

from fake_tws.clock import VirtualClock
from fake_tws.scenario import parse_scenario
from fake_tws.server import Server, ServerThread
from tests.server.raw_client import RawClient
from tests.wire import REQ_CURRENT_TIME, greeting, req_ids, start_api


def scenario(text: str):
    return parse_scenario(text, "transport.yaml")


async def start(nursery: trio.Nursery, text: str) -> Server:
    return await nursery.start(Server(scenario=scenario(text)).serve)


async def settle() -> None:
    await trio.testing.wait_all_tasks_blocked()


def clock_of(server: Server) -> VirtualClock:
    clock = server.gateway.clock
    assert isinstance(clock, VirtualClock)
    return clock


DROP_ON_TIME = """
rules:
  - id: drop
    when: {request: reqCurrentTime}
    do: [{disconnect: {mode: %s}}]
"""


@pytest.mark.trio
async def test_reset_closes_with_rst(nursery):
    server = await start(nursery, DROP_ON_TIME % "reset")
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(REQ_CURRENT_TIME)
    with pytest.raises(trio.BrokenResourceError) as caught:
        await client.message()
    assert caught.value.__cause__.errno == errno.ECONNRESET
    await settle()
    assert server.gateway.client_ids == frozenset()


@pytest.mark.trio
async def test_truncate_sends_half_a_frame_then_closes(nursery):
    server = await start(nursery, DROP_ON_TIME % "truncate")
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(REQ_CURRENT_TIME)
    with pytest.raises(EOFError):
        await client.message()
    assert client._frames.pending > 0  # the start of a frame that never ends


@pytest.mark.trio
async def test_close_sends_fin(nursery):
    server = await start(nursery, DROP_ON_TIME % "close")
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(REQ_CURRENT_TIME)
    assert await client.until_closed() == []


@pytest.mark.trio
async def test_silence_keeps_the_socket_open_and_the_client_id_taken(nursery):
    server = await start(nursery, DROP_ON_TIME % "silence")
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(REQ_CURRENT_TIME)
    await settle()
    await client.send(REQ_CURRENT_TIME)  # still accepted by the socket, never answered
    await settle()
    with trio.move_on_after(0.05) as waited:
        await client.stream.receive_some(1000)
    assert waited.cancelled_caught, "a silenced connection sends nothing, not even EOF"
    assert server.gateway.client_ids == frozenset({1})
    again = await RawClient.connect(server.port)
    await again.send(greeting())
    await again.message()
    await again.send(start_api(1))
    refusal = await again.message()
    assert refusal[:4] == ["4", "2", "-1", "326"]
    await client.aclose()  # the client gives up on the hung connection: the id is freed
    await settle()
    assert server.gateway.client_ids == frozenset()


RESTART = """
world:
  next_order_id: 40
rules:
  - id: nightly
    when: {at: "+1m"}
    do: [{server_restart: {down: 5m}}, {farm_status: {farm: usfarm, state: ok}}]
"""


@pytest.mark.trio
async def test_server_restart_drops_refuses_then_comes_back_with_state(nursery):
    server = await start(nursery, RESTART)
    clock = clock_of(server)
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(req_ids())
    assert (await client.message())[:3] == ["9", "1", "41"]
    clock.advance(60)
    assert await client.until_closed() == []
    await settle()
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", server.port)
    clock.advance(299)
    await settle()
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", server.port)
    clock.advance(1)
    await settle()
    back = await RawClient.connect(server.port)
    _hello, _accounts, next_id, *_farms = await back.log_on(1)
    assert next_id[:3] == ["9", "1", "41"]  # the order ids survived
    notes = [e.message.text for e in server.gateway.journal.entries if e.name == "note"]
    assert "server: listening again" in notes


@pytest.mark.trio
async def test_server_restart_without_state_resets_the_world(nursery):
    server = await start(
        nursery,
        """
        world: {next_order_id: 40}
        rules:
          - id: wipe
            when: {at: "+1s"}
            do: [{server_restart: {down: 1s, keep_state: false}}]
        """,
    )
    clock = clock_of(server)
    client = await RawClient.connect(server.port)
    await client.log_on(1)
    await client.send(req_ids())
    assert (await client.message())[:3] == ["9", "1", "41"]
    clock.advance(1)
    await client.until_closed()
    clock.advance(1)
    await settle()
    back = await RawClient.connect(server.port)
    _hello, _accounts, next_id, *_ = await back.log_on(1)
    assert next_id[:3] == ["9", "1", "40"]


def test_a_server_thread_runs_a_scenario_and_its_world():
    text = """
    world:
      accounts: [{id: DU555, cash: 5000}]
      next_order_id: 9
      farms: [eufarm, euhmds, secdefil]
      server_version: {min: 150, max: 176}
    rules:
      - id: hi
        when: {event: connected}
        do: [{error: {code: 2110}}]
    """
    with ServerThread(scenario=scenario(text)) as thread:
        assert thread.engine is not None
        gateway = thread.server.gateway
        assert gateway.config.accounts == ("DU555",)
        assert gateway.config.max_version == 176

        async def talk() -> list[list[str]]:
            client = await RawClient.connect(thread.port)
            messages = await client.log_on(1)
            messages.append(await client.message())
            await client.aclose()
            return messages

        hello, accounts, next_id, *farms, notice = trio.run(talk)
        assert hello[0] == "176"
        assert accounts[2] == "DU555"
        assert next_id[2] == "9"
        assert [f[4] for f in farms] == [
            "Market data farm connection is OK:eufarm",
            "HMDS data farm connection is OK:euhmds",
            "Sec-def data farm connection is OK:secdefil",
        ]
        assert notice[3] == "2110"
