"""The control API: ControlServer in the server's trio run, ControlClient from a thread."""

from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import trio

from fake_tws.clock import RealClock, VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.control import ControlClient, ControlError, ControlUnavailable
from fake_tws.control.server import CONTROL_ROUTES, Body, ControlServer, Routes
from fake_tws.server import Server
from tests.server.raw_client import RawClient
from tests.wire import REQ_CURRENT_TIME

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@asynccontextmanager
async def controlled(clock=None, routes=CONTROL_ROUTES):
    """A server and its control API; yields (server, control server, client)."""
    config = ServerConfig(clock=clock or VirtualClock(START))
    async with trio.open_nursery() as nursery:
        server = await nursery.start(Server(config).serve)
        control = await nursery.start(ControlServer(server, routes=routes, seed=7).serve)
        yield server, control, ControlClient(port=control.port)
        control.stop()
        server.stop()


async def call(fn, *args, **kwargs):
    """A blocking ControlClient call, from a worker thread (the server runs in this one)."""
    return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


async def refused(fn, *args, **kwargs) -> ControlError:
    with pytest.raises(ControlError) as failure:
        await call(fn, *args, **kwargs)
    return failure.value


@pytest.mark.trio
async def test_status_names_ports_clients_versions_and_time():
    async with controlled() as (server, control, client):
        raw = await RawClient.connect(server.port)
        await raw.log_on(4)
        status = await call(client.status)
        assert status["port"] == server.port and status["control_port"] == control.port
        assert status["server_versions"] == {"min": 100, "max": 187}
        assert status["clock"] == {"kind": "virtual", "time": "2026-01-05T14:30:00Z"}
        assert status["clients"] == [
            {"clientId": 4, "peer": status["clients"][0]["peer"], "version": 187, "started": True}
        ]
        assert status["seed"] == 7 and status["scenario"] is None
        assert status["journal"]["entries"] == status["journal"]["last_seq"] > 0
        await raw.aclose()


@pytest.mark.trio
async def test_clock_routes_move_virtual_time():
    async with controlled() as (server, _, client):
        assert await call(client.advance, 90) == datetime(2026, 1, 5, 14, 31, 30, tzinfo=UTC)
        later = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
        assert await call(client.set_time, later) == later
        assert server.gateway.clock.now() == later
        back = await refused(client.set_time, "2026-01-01T00:00:00Z")
        assert back.status == 409 and "cannot set the clock back" in back.message
        naive = await refused(client.set_time, "2026-02-01T00:00:00")
        assert naive.status == 400 and "timezone" in naive.message.lower()
        negative = await refused(client.advance, -1)
        assert negative.status == 400 and "time only moves on" in negative.message


@pytest.mark.trio
async def test_the_real_clock_cannot_be_moved():
    async with controlled(clock=RealClock()) as (_, _, client):
        failure = await refused(client.advance, 5)
        assert failure.status == 409
        assert "real clock" in failure.message and "--clock virtual" in failure.message


@pytest.mark.trio
async def test_faults_reach_the_connected_client():
    async with controlled() as (server, _, client):
        raw = await RawClient.connect(server.port)
        await raw.log_on(1)
        assert await call(client.send_error, 1100, client_id=1) == [1]
        assert (await raw.message())[2:5] == [
            "-1",
            "1100",
            "Connectivity between IB and Trader Workstation has been lost.",
        ]
        assert await call(client.send_error, 162, "pacing", req_id=5) == [1]
        assert (await raw.message())[2:5] == ["5", "162", "pacing"]
        assert await call(client.farm_status, "ushmds", "broken") == [1]
        assert (await raw.message())[3:5] == ["2105", "HMDS data farm connection is broken:ushmds"]
        missing = await refused(client.send_error, 1100, client_id=2)
        assert missing.status == 404
        assert missing.message == "no client with id 2 is connected (connected: 1)"
        bad_state = await refused(client.farm_status, "usfarm", "sleepy")
        assert bad_state.status == 400
        await call(client.disconnect, 1)
        assert await raw.until_closed() == []
        assert (await call(client.status))["clients"] == []


@pytest.mark.trio
async def test_journal_since_limit_and_wait():
    async with controlled() as (server, _, client):
        assert await call(client.journal) == {"entries": [], "next": 0}
        raw = await RawClient.connect(server.port)
        await raw.log_on(2)
        first = await call(client.journal, limit=2)
        assert [e["name"] for e in first["entries"]] == ["startApi", "note"]
        assert first["entries"][0] == {
            "seq": 1,
            "clientId": 2,
            "direction": "received",
            "name": "startApi",
            "time": "2026-01-05T14:30:00Z",
            "wallTime": first["entries"][0]["wallTime"],
            "text": "startApi clientId=2",
            "message": {"clientId": 2, "optionalCapabilities": ""},
        }
        rest = await call(client.journal, since=first["next"])
        assert rest["entries"][0]["seq"] == 3 and rest["next"] == rest["entries"][-1]["seq"]
        # A waiting read returns once something new is recorded (or at once if it was).
        async with trio.open_nursery() as nursery:
            waiting = []

            async def wait() -> None:
                waiting.append(await call(client.journal, since=rest["next"], wait=5))

            nursery.start_soon(wait)
            await raw.send(REQ_CURRENT_TIME)
        assert waiting[0]["entries"][0]["name"] == "reqCurrentTime"
        nothing = await call(client.journal, since=10_000, wait=0.05)
        assert nothing == {"entries": [], "next": 10_000}
        entry = await call(client.wait_for, "currentTime", direction="sent", client_id=2)
        assert entry["message"]["time"] == int(START.timestamp())
        with pytest.raises(AssertionError, match=r"waited 0\.2s for placeOrder"):
            await call(client.wait_for, "placeOrder", timeout=0.2)
        await raw.aclose()


@pytest.mark.trio
async def test_http_mistakes_get_json_errors_with_the_right_status():
    async with controlled() as (_, control, client):
        not_found = await refused(client.request, "GET", "/nope")
        assert not_found.status == 404 and "routes: GET /" in not_found.message
        wrong_method = await refused(client.request, "GET", "/clock/advance")
        assert wrong_method.status == 405 and wrong_method.message.endswith("use POST")
        unknown_field = await refused(client.request, "POST", "/clock/advance", {"secs": 1})
        assert unknown_field.status == 400 and "unknown field `secs`" in unknown_field.message
        missing = await refused(client.request, "POST", "/faults/disconnect", {})
        assert "missing required field `clientId`" in missing.message
        bad_query = await refused(client.journal, since=-1)
        assert bad_query.status == 400 and "since" in bad_query.message
        for raw_request, status, text in [
            (b"POST /clock/advance HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 415, "Content-Type"),
            (b"GARBAGE\r\n\r\n", 400, "not an HTTP/1.x request line"),
            (
                b"POST /clock/advance HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                501,
                "chunked",
            ),
            (b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "larger than"),
            (
                b"POST /clock/advance HTTP/1.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5\r\n\r\n{oops",
                400,
                "bad body",
            ),
        ]:
            stream = await trio.open_tcp_stream("127.0.0.1", control.port)
            await stream.send_all(raw_request)
            answer = b""
            with trio.fail_after(5):
                while chunk := await stream.receive_some(65536):
                    answer += chunk
            await stream.aclose()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(f"HTTP/1.1 {status} ".encode()), (raw_request, answer)
            assert b"Content-Type: application/json" in head
            assert text in body.decode(), (raw_request, body)


class Echo(Body):
    word: str


@pytest.mark.trio
async def test_new_routes_join_with_or():
    extra = Routes()

    @extra.post("/world/echo", body=Echo)
    def echo(ctx, request):
        """Say a word back."""
        return {"word": request.body.word, "world": ctx.world is not None}

    async with controlled(routes=CONTROL_ROUTES | extra) as (_, _, client):
        assert await call(client.request, "POST", "/world/echo", {"word": "hi"}) == {
            "word": "hi",
            "world": True,
        }
        routes = (await call(client.request, "GET", "/"))["routes"]
        assert {"method": "POST", "path": "/world/echo", "summary": "Say a word back."} in routes
        assert len(routes) == len(list(CONTROL_ROUTES)) + 1


def test_an_unreachable_api_is_reported_clearly():
    with pytest.raises(ControlUnavailable, match="cannot reach the fake-tws control API"):
        ControlClient(port=1, timeout=2).status()
    with pytest.raises(ValueError, match="url or its port"):
        ControlClient()
