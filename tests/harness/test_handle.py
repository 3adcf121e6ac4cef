"""FakeTws, the handle the fixtures give a test: settings, faults, clock, order checks."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import trio

from fake_tws.clock import RealClock, VirtualClock
from fake_tws.control.actions import ClockNotVirtual, UnknownClient
from fake_tws.control.handle import FakeTws, LeftBehind
from fake_tws.control.settings import DEFAULT_START
from fake_tws.ibtypes import Contract, Order
from fake_tws.journal import received, sent
from fake_tws.protocol.requests.connection import ReqCurrentTime
from fake_tws.protocol.requests.orders import PlaceOrder
from fake_tws.protocol.responses.orders import OrderStatus
from fake_tws.scenario import parse_scenario
from tests.harness.helpers import RawClient
from tests.wire import REQ_CURRENT_TIME, greeting, start_api


@pytest.fixture
def tws():
    with FakeTws.start() as handle:
        yield handle


def status(order_id: int, state: str) -> OrderStatus:
    return OrderStatus(orderId=order_id, status=state, filled=Decimal(0), remaining=Decimal(1))


def limit_order(order_id: int) -> PlaceOrder:
    return PlaceOrder(
        orderId=order_id,
        contract=Contract(symbol="AAPL", secType="STK"),
        order=Order(action="BUY", orderType="LMT", totalQuantity=Decimal(100), lmtPrice=150.0),
    )


def test_defaults_are_a_virtual_clock_at_the_default_start(tws):
    assert isinstance(tws.clock, VirtualClock)
    assert tws.now() == DEFAULT_START
    assert (tws.host, tws.address) == ("127.0.0.1", ("127.0.0.1", tws.port))
    assert tws.config.accounts == ("DU123456",)
    assert tws.gateway is tws.server.gateway and tws.journal is tws.gateway.journal
    assert tws.world is getattr(tws.gateway, "world", None)
    assert tws.scenario is None
    assert "running" in repr(tws)


def test_options_and_a_real_clock():
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with FakeTws.start(accounts="DU1, DU2", max_version=170, start=start) as tws:
        assert tws.config.accounts == ("DU1", "DU2")
        assert tws.config.max_version == 170
        assert tws.now() == start
    with FakeTws.start(clock="real") as tws:
        assert isinstance(tws.clock, RealClock)
        with pytest.raises(ClockNotVirtual, match="real clock"):
            tws.advance(1)


def test_bad_options_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"unknown option.*acounts"):
        FakeTws.start(acounts=("DU1",))
    with pytest.raises(ValueError, match="empty version range"):
        FakeTws.start(min_version=180, max_version=150)
    with pytest.raises(ValueError, match="no time zone"):
        FakeTws.start(start="2026-01-05T14:30:00")


def test_advance_and_set_time_move_the_clock_clients_see(tws):
    with RawClient(tws.port, client_id=1) as client:
        assert tws.advance(90) == datetime(2026, 1, 5, 14, 31, 30, tzinfo=UTC)
        client.send(REQ_CURRENT_TIME)
        assert client.until(lambda m: m[0] == "49")[2] == str(int(tws.now().timestamp()))
    assert tws.set_time("2026-01-06T14:30:00Z") == datetime(2026, 1, 6, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot set the clock back"):
        tws.set_time("2026-01-01T00:00:00+00:00")
    notes = [e.message.text for e in tws.journal.entries if e.name == "note"]
    assert "clock advanced 90s to 2026-01-05T14:31:30Z" in notes


def test_send_error_reaches_one_client_or_all(tws):
    with RawClient(tws.port, 1) as one, RawClient(tws.port, 2) as two:
        assert tws.client_ids == {1, 2}
        assert tws.send_error(1100, client_id=2) == [2]
        assert two.error(1100)[2:5] == [
            "-1",
            "1100",
            "Connectivity between IB and Trader Workstation has been lost.",
        ]
        assert tws.send_error(10197, "custom text", req_id=7) == [1, 2]
        assert one.error(10197)[2:5] == ["7", "10197", "custom text"]
        assert two.error(10197)[2:5] == ["7", "10197", "custom text"]
    tws.journal.assert_sent("error", errorCode=1100, times=1, client_id=2)
    assert "fault: error 1100 (from the test)" in tws.transcript()


def test_farm_status_and_disconnect(tws):
    with RawClient(tws.port, 3) as client:
        assert tws.farm_status("usfarm", "broken") == [3]
        assert client.error(2103)[4] == "Market data farm connection is broken:usfarm"
        tws.farm_status("ushmds", "ok", client_id=3)
        assert client.error(2106)[4] == "HMDS data farm connection is OK:ushmds"
        with pytest.raises(ValueError, match='no "inactive" notice'):
            tws.farm_status("secdefnj", "inactive")
        tws.disconnect(3)
        assert client.closed()
    tws.wait_for(received("startApi"))  # already there: returns at once
    entry = tws.journal.wait_for(sent("error", errorCode=2106))
    assert entry.client_id == 3


def test_an_unknown_client_is_named_with_those_connected(tws):
    with RawClient(tws.port, 5):
        with pytest.raises(
            UnknownClient, match=r"no client with id 9 is connected \(connected: 5\)"
        ):
            tws.disconnect(9)
        with pytest.raises(LookupError):
            tws.send_error(1100, client_id=9)
        assert tws.clients()[0]["clientId"] == 5
        assert tws.status()["clients"][0]["version"] == 187


def test_close_stops_everything_and_is_idempotent():
    tws = FakeTws.start()
    client = RawClient(tws.port, 1)
    tws.close()
    tws.close()
    assert client.closed()
    client.close()
    assert "closed" in repr(tws)
    assert not any(t.name == "fake-tws-server" and t.is_alive() for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="stopped"):
        tws.send_error(1100)


class TestAllOrdersTerminal:
    def test_passes_when_every_order_ended(self, tws):
        for order_id, final in [(1, "Filled"), (2, "Cancelled"), (3, "ApiCancelled")]:
            tws.journal.record_sent(1, status(order_id, "Submitted"))
            tws.journal.record_sent(1, status(order_id, final))
        tws.journal.record_sent(2, status(1, "Inactive"))  # client 2's own order 1
        assert tws.assert_all_orders_terminal() == {
            (1, 1): "Filled",
            (1, 2): "Cancelled",
            (1, 3): "ApiCancelled",
            (2, 1): "Inactive",
        }

    def test_no_orders_pass(self, tws):
        assert tws.assert_all_orders_terminal() == {}

    def test_an_order_still_working_fails_with_the_transcript(self, tws):
        tws.journal.record_sent(1, status(1, "Filled"))
        tws.journal.record_sent(1, status(2, "Submitted"))
        tws.journal.record_sent(1, status(3, "Inactive"))
        tws.journal.record_sent(1, status(3, "PreSubmitted"))  # the last status counts
        with pytest.raises(AssertionError) as failure:
            tws.assert_all_orders_terminal()
        text = str(failure.value)
        assert text.startswith("2 of 3 order(s) did not reach a terminal status")
        assert "order 2 (client 1): last status Submitted (#2)" in text
        assert "order 3 (client 1): last status PreSubmitted (#4)" in text
        assert "transcript (4 messages):" in text
        assert "orderStatus orderId=2 status=Submitted" in text
        # One client's orders only:
        tws.journal.record_sent(4, status(1, "Filled"))
        assert tws.assert_all_orders_terminal(client_id=4) == {(4, 1): "Filled"}

    def test_a_placed_order_without_any_status_fails(self, tws):
        tws.journal.record_received(1, limit_order(7))
        with pytest.raises(
            AssertionError, match=r"order 7 \(client 1\): placed \(#1\), no orderStatus"
        ):
            tws.assert_all_orders_terminal()
        tws.journal.record_sent(1, status(7, "Filled"))
        tws.assert_all_orders_terminal()


@pytest.mark.trio
async def test_calls_from_a_trio_test_and_wait_for_async(tws):
    stream = await trio.open_tcp_stream(tws.host, tws.port)
    async with stream:
        await stream.send_all(greeting() + start_api(8))
        entry = await tws.wait_for_async(received("startApi", clientId=8))
        assert entry.client_id == 8
        await tws.wait_for_async(sent("error", errorCode=2158))
        assert tws.send_error(1300, "socket port changed") == [8]  # from trio's own thread
        tws.journal.record_received(8, ReqCurrentTime())
        with pytest.raises(AssertionError, match=r"waited 0\.05s for received placeOrder"):
            await tws.wait_for_async(received("placeOrder"), timeout=0.05)


@pytest.mark.asyncio
async def test_wait_for_async_in_asyncio(tws):
    async def later() -> None:
        await asyncio.sleep(0.01)
        tws.journal.record_received(1, ReqCurrentTime())

    task = asyncio.create_task(later())
    entry = await tws.wait_for_async(received("reqCurrentTime"), timeout=2)
    await task
    assert entry.client_id == 1


def test_a_leftover_fails_the_teardown(monkeypatch):
    from fake_tws.control import handle as module

    tws = FakeTws.start()
    monkeypatch.setattr(module, "_accepts_connections", lambda host, port: True)
    with pytest.raises(LeftBehind, match=f"on port {tws.port} stopped, but port .* still accepts"):
        tws.close()


RULE = """\
name: frozen time
rules:
  - id: time-is-one
    when: {request: reqCurrentTime}
    do:
      - respond: [{currentTime: {time: 1}}]
"""


def test_a_scenario_is_kept_and_its_rules_run():
    scenario = parse_scenario(RULE)
    with FakeTws.start(scenario=scenario) as tws:
        assert tws.scenario is scenario
        assert tws.engine is not None
        with RawClient(tws.port, 1) as client:
            client.send(REQ_CURRENT_TIME)
            assert client.until(lambda m: m[0] == "49")[2] == "1"
