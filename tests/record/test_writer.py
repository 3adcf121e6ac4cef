"""The writer on conversations built by hand (sans-IO: bytes fed to ConnectionCapture), so
each case says exactly what was on the wire and when."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from fake_tws.ibtypes import Contract, Execution, Order, OrderState
from fake_tws.protocol.codec import encode_response
from fake_tws.protocol.framing import frame
from fake_tws.protocol.handshake import server_hello
from fake_tws.protocol.messages import Response
from fake_tws.protocol.responses import connection as rs
from fake_tws.protocol.responses import orders as ro
from fake_tws.record import ConnectionCapture, WriterOptions, render
from fake_tws.record.capture import ClientFrame
from fake_tws.record.writer import _float, _scalar
from fake_tws.scenario import load_scenario, validate_files
from tests.ibapi_harness import ibapi_request_payloads
from tests.record.support import stock
from tests.wire import REQ_CURRENT_TIME, greeting, request, start_api

VERSION = 187
FARMS = [(2104, "Market data farm connection is OK:usfarm")]
FARMS += [(2106, "HMDS data farm connection is OK:ushmds")]
FARMS += [(2158, "Sec-def data farm connection is OK:secdefnj")]


class Wire:
    """One connection as the proxy would see it."""

    def __init__(self, index: int = 1, client_id: int = 1, version: int = VERSION) -> None:
        self.capture = ConnectionCapture(index=index, peer="127.0.0.1:5000")
        self.version = version
        self.client_id = client_id
        self.capture.client_data(greeting(100, 187), 0.0)
        self.capture.server_data(frame(server_hello(version, "20260415 11:00:00 EST")), 0.001)

    def client(self, t: float, data: bytes) -> ClientFrame:
        (frame_,) = self.capture.client_data(data, t)
        return frame_

    def server(self, t: float, *messages: Response) -> None:
        for message in messages:
            self.capture.server_data(encode_response(message, self.version), t)

    def log_on(self, t: float = 0.002, accounts: str = "DU7654321", next_id: int = 1) -> None:
        self.client(t, start_api(self.client_id))
        self.server(
            t + 0.001,
            rs.ManagedAccounts(accountsList=accounts),
            rs.NextValidId(orderId=next_id),
            *(rs.Error(reqId=-1, errorCode=c, errorString=s) for c, s in FARMS),
        )


def ibapi_bytes(call) -> bytes:
    return b"".join(frame(p) for p in ibapi_request_payloads(VERSION, call))


def details_request(req_id: int, con_id: int = 0) -> bytes:
    contract = stock()
    contract.conId = con_id
    return ibapi_bytes(lambda c: c.reqContractDetails(req_id, contract))


def written(tmp_path: Path, *wires: Wire, name: str = "case") -> tuple[str, object]:
    text, _ = render([w.capture for w in wires], WriterOptions(name=name, upstream="tws:1"))
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    assert validate_files([str(path)]) == [], text
    return text, load_scenario(path)


def rule(scenario, rule_id: str):
    return scenario.rule(rule_id)


# -- the world -------------------------------------------------------------------------------


def test_the_bootstrap_becomes_the_world(tmp_path):
    wire = Wire()
    wire.log_on(accounts="DU7654321,DU7654322", next_id=42)
    text, scenario = written(tmp_path, wire)
    world = scenario.world
    assert world.managed == ("DU0000001", "DU0000002")
    assert world.next_order_id == 42
    assert world.farms == ("usfarm", "ushmds", "secdefnj")
    assert world.pacing.max_messages_per_second == 0
    assert scenario.rules == ()
    assert "DU7654321" not in text


def test_a_bootstrap_in_another_order_or_with_other_notices_is_kept(tmp_path):
    """A live Gateway interleaves: accounts, 2104, 2106, next id, 2158; a notice that is
    not an OK farm (2107 inactive) comes after the bootstrap from a `connected` rule."""
    wire = Wire()
    wire.client(0.002, start_api(1))
    wire.server(
        0.003,
        rs.ManagedAccounts(accountsList="DU7654321"),
        rs.Error(reqId=-1, errorCode=2104, errorString=FARMS[0][1]),
        rs.NextValidId(orderId=7),
        rs.Error(reqId=-1, errorCode=2107, errorString="HMDS data farm connection is inactive"),
    )
    text, scenario = written(tmp_path, wire)
    assert scenario.world.farms == ("usfarm",)
    assert "# On the wire the bootstrap came as: managedAccounts, error 2104, nextValidId" in text
    connected = rule(scenario, "c1-connected")
    assert connected.when.event == "connected"
    assert connected.do[0].send == (
        {
            "error": {
                "reqId": -1,
                "errorCode": 2107,
                "errorString": "HMDS data farm connection is inactive",
            }
        },
    )


# -- requests and their answers ---------------------------------------------------------------


def test_answers_follow_the_request_id_and_keep_their_timing(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, details_request(3))
    wire.server(1.2, rs.Error(reqId=3, errorCode=200, errorString="No security definition"))
    _, scenario = written(tmp_path, wire)
    details = rule(scenario, "r001-reqContractDetails")
    assert [s.kind for s in details.do] == ["respond", "delay", "respond"]
    assert details.do[0].respond == ()  # the world's own reply is replaced
    assert details.do[1].delay.total_seconds() == pytest.approx(0.2)
    assert details.do[2].respond == (
        {"error": {"reqId": "$reqId", "errorCode": 200, "errorString": "No security definition"}},
    )


def test_gaps_under_min_delay_are_run_together_without_drifting(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, REQ_CURRENT_TIME)
    for i in range(1, 6):  # five answers 6 ms apart: one delay per 10 ms lost at most
        wire.server(1.0 + 0.006 * i, rs.CurrentTime(time=i))
    _, scenario = written(tmp_path, wire)
    steps = rule(scenario, "r001-reqCurrentTime").do
    delays = [s.delay.total_seconds() for s in steps if s.kind == "delay"]
    assert delays == pytest.approx([0.012, 0.012])
    assert sum(len(s.respond) for s in steps if s.kind == "respond") == 5


def test_the_same_request_twice_gets_nth(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, details_request(1))
    wire.client(1.1, details_request(2, con_id=265598))  # matches the first rule's where too
    wire.client(1.2, details_request(3))
    _, scenario = written(tmp_path, wire)
    first, by_id, second = scenario.rules
    assert first.nth is None and by_id.nth is None
    assert "contract.conId" not in first.when.where
    assert by_id.when.where["contract.conId"] == 265598
    assert second.nth == 3  # the engine counts every request the where matches


def test_an_unsolicited_message_follows_the_rule_that_finished_before_it(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, REQ_CURRENT_TIME)
    wire.server(1.001, rs.CurrentTime(time=1))
    broken = rs.Error(
        reqId=-1, errorCode=2103, errorString="Market data farm connection is broken:usfarm"
    )
    wire.server(1.501, broken)
    wire.server(1.502, rs.Error(reqId=-1, errorCode=1100, errorString="Connectivity lost"))
    text, scenario = written(tmp_path, wire)
    [notice] = [r for r in scenario.rules if r.when.after]
    assert notice.when.after == "r001-reqCurrentTime"
    assert notice.when.delay.total_seconds() == pytest.approx(0.5)
    assert [next(iter(m)) for s in notice.do for m in s.send or ()] == ["error", "error"]
    assert "unsolicited" in text


def test_messages_before_any_request_come_from_the_connected_rule(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.server(0.5, rs.Error(reqId=-1, errorCode=2103, errorString="broken:usfarm"))
    _, scenario = written(tmp_path, wire)
    connected = rule(scenario, "c1-connected")
    assert [s.kind for s in connected.do] == ["delay", "send"]


def test_the_server_hanging_up_is_replayed(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, REQ_CURRENT_TIME)
    wire.server(1.001, rs.CurrentTime(time=1))
    wire.capture.closed("server", 2.0)
    _, scenario = written(tmp_path, wire)
    [hangup] = [r for r in scenario.rules if r.when.after]
    assert hangup.do[-1].kind == "disconnect" and hangup.do[-1].disconnect.mode == "close"


def test_a_client_hanging_up_leaves_nothing_to_replay(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.capture.client_data(details_request(1)[:9], 1.0)  # half a frame, then gone
    wire.capture.closed("client", 1.0)
    _, scenario = written(tmp_path, wire)
    assert scenario.rules == ()


# -- orders: ids, refs, sanitising ---------------------------------------------------------------


def order_messages(order_id: int, perm_id: int, ref: str, exec_id: str, client_id: int = 1):
    contract = Contract(
        conId=265598, symbol="AAPL", secType="STK", exchange="SMART", currency="USD"
    )
    order = Order(
        orderId=order_id,
        clientId=client_id,
        permId=perm_id,
        action="BUY",
        totalQuantity=Decimal(100),
        orderType="MKT",
        account="DU7654321",
        orderRef=ref,
    )
    execution = Execution(
        execId=exec_id,
        orderId=order_id,
        clientId=client_id,
        permId=perm_id,
        acctNumber="DU7654321",
        shares=Decimal(100),
        price=150.25,
        orderRef=ref,
        side="BOT",
    )
    return [
        ro.OpenOrder(contract=contract, order=order, orderState=OrderState(status="Filled")),
        ro.OrderStatus(
            orderId=order_id,
            status="Filled",
            filled=Decimal(100),
            remaining=Decimal(0),
            permId=perm_id,
            clientId=client_id,
        ),
        ro.ExecDetails(reqId=-1, contract=contract, execution=execution),
    ]


def place(order_id: int, ref: str) -> bytes:
    from tests.record.support import market_order

    return ibapi_bytes(lambda c: c.placeOrder(order_id, stock(), market_order("BUY", 100, ref)))


def test_ids_and_refs_follow_the_replay_client(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, place(1, "my-ref"))
    wire.server(1.001, *order_messages(1, 1523457891, "my-ref", "0000e0d5.6553b1b6.01.01"))
    text, scenario = written(tmp_path, wire)
    placed = rule(scenario, "r001-placeOrder")
    assert placed.when.where["orderId"] == "$order1"
    assert placed.when.where["order.orderRef"] == "$ref1"
    open_order = next(s.raw for s in placed.do if s.kind == "raw" and s.raw[0] == 5)
    assert open_order[1] == "$orderId" and "$ref1" in open_order and "$clientId" in open_order
    status = next(
        s.respond[0]["orderStatus"] for s in placed.do if s.kind == "respond" and s.respond
    )
    assert status["permId"] == 1000000001 and status["orderId"] == "$orderId"
    for secret in ("DU7654321", "1523457891", "0000e0d5.6553b1b6", "my-ref"):
        assert secret not in text
    assert "00000001.00000000.01.01" in text  # the exec id's placeholder keeps IB's shape


def test_a_request_id_equal_to_an_order_id_is_not_confused(tmp_path):
    from ibapi.execution import ExecutionFilter

    wire = Wire()
    wire.log_on()
    wire.client(1.0, place(1, "r"))
    messages = order_messages(1, 1523457891, "r", "0000e0d5.6553b1b6.01.01")
    wire.server(1.001, *messages)
    wire.client(2.0, ibapi_bytes(lambda c: c.reqExecutions(1, ExecutionFilter())))
    again = ro.ExecDetails(reqId=1, contract=messages[2].contract, execution=messages[2].execution)
    wire.server(2.001, again, ro.ExecDetailsEnd(reqId=1))
    _, scenario = written(tmp_path, wire)
    executions = rule(scenario, "r002-reqExecutions")
    raw = next(s.raw for s in executions.do if s.kind == "raw")
    assert raw[:3] == (11, "$reqId", "$order1")  # reqId 1 is the request, order 1 the order


def test_orders_placed_elsewhere_are_unsolicited_and_sanitised(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, REQ_CURRENT_TIME)
    wire.server(1.001, rs.CurrentTime(time=1))
    wire.server(2.0, *order_messages(77, 1523457891, "tws-ref", "0000e0d5.1.01.01", client_id=0))
    wire.server(2.1, rs.Error(reqId=77, errorCode=399, errorString="Order DU7654321 held"))
    text, scenario = written(tmp_path, wire)
    [elsewhere] = [r for r in scenario.rules if r.when.after]
    assert len(elsewhere.do) == 5  # openOrder, orderStatus, execDetails, delay, error
    assert "ref0001" in text and "tws-ref" not in text
    assert "Order DU0000001 held" in text  # an account inside a text, too


def test_a_second_identical_order_cannot_capture_and_says_so(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, place(1, "a"))
    wire.client(2.0, place(2, "b"))
    text, scenario = written(tmp_path, wire)
    first, second = scenario.rules
    assert "orderId" in first.when.where and second.nth == 2
    assert "orderId" not in second.when.where
    assert "# Note: r002-placeOrder: its order id and ref are written as recorded" in text


def test_a_literal_dollar_text_is_flagged(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, REQ_CURRENT_TIME)
    wire.server(1.001, rs.Error(reqId=-1, errorCode=399, errorString="$5 fee"))
    text, _ = written(tmp_path, wire)
    assert "a replay takes it for a binding and skips the message" in text


# -- several connections, versions, what cannot be read --------------------------------------------


def test_several_connections_name_their_clients(tmp_path):
    one, two, again = Wire(1, client_id=1), Wire(2, client_id=2), Wire(3, client_id=1)
    for wire in (one, two, again):
        wire.log_on()
        wire.client(1.0, REQ_CURRENT_TIME)
        wire.server(1.001, rs.CurrentTime(time=wire.capture.index))
    _, scenario = written(tmp_path, one, two, again)
    clients = [(r.when.client, r.nth) for r in scenario.rules]
    assert clients == [(1, None), (2, None), (1, 2)]


def test_a_version_fake_tws_does_not_speak_is_skipped(tmp_path):
    new, ok = Wire(1, version=200), Wire(2)
    for wire in (new, ok):
        wire.log_on()
    text, scenario = written(tmp_path, new, ok)
    assert "connection 1 skipped: server version 200 is outside" in text
    assert scenario.world.server_version.max == VERSION


def test_an_undecodable_request_is_noted(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, request(9999, 1))
    text, scenario = written(tmp_path, wire)
    assert "a request (message id 9999) could not be decoded" in text
    assert scenario.rules == ()


def test_secret_requests_and_answers_are_not_written(tmp_path):
    wire = Wire()
    wire.log_on()
    wire.client(1.0, request(65, 1, "my-api", "1.0"))  # verifyRequest
    wire.server(1.001, rs.VerifyMessageAPI(apiData="SECRET-CHALLENGE"))
    text, scenario = written(tmp_path, wire)
    assert "my-api" not in text and "SECRET" not in text
    assert rule(scenario, "r001-verifyRequest").when.where == {}


# -- YAML text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yes",
        "null",
        "1.5",
        "0x10",
        "a: b",
        "#x",
        "$reqId",
        "q\"uote's",
        "tab\there",
        "é\u2028",
        "\x7f\x85",
        "- dash",
        "[1]",
        "DU0000001",
        "1,2",
    ],
)
def test_scalars_read_back_as_written(text):
    assert yaml.safe_load(f"[{_scalar(text)}]") == [text]


@pytest.mark.parametrize("value", [1e300, 1.7976931348623157e308, 0.1, -2.5e-7, 150.25])
def test_floats_read_back_as_written(value):
    assert yaml.safe_load(_float(value)) == value
