"""Session logic without sockets: handshake, bootstrap, the connection handlers, errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ibapi.order_cancel import OrderCancel

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.protocol.framing import frame
from fake_tws.protocol.requests.connection import ReqCurrentTime, ReqIds, StartApi
from fake_tws.protocol.requests.market_data import CancelMktData
from fake_tws.protocol.requests.orders import CancelOrder
from fake_tws.protocol.responses.connection import CurrentTime
from fake_tws.session import (
    CONNECTION_HANDLERS,
    Gateway,
    Handlers,
    OrderIds,
    Session,
    connection_time,
    request_id_of,
)
from tests.ibapi_harness import ibapi_request_payloads
from tests.wire import (
    REQ_CURRENT_TIME,
    REQ_MANAGED_ACCTS,
    REQ_POSITIONS,
    bootstrap,
    greeting,
    messages,
    req_ids,
    req_market_data_type,
    request,
    set_server_log_level,
    start_api,
)

START = datetime(2026, 4, 5, 13, 30, tzinfo=UTC)


class RecordingLink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.close_reason: str | None = None

    def send(self, data: bytes) -> None:
        assert self.close_reason is None, "sent after close"
        self.data += data

    def close(self, reason: str) -> None:
        self.close_reason = reason

    def take(self) -> list[list[str]]:
        """Messages sent since the last take."""
        out = messages(bytes(self.data))
        self.data.clear()
        return out


def make_gateway(handlers: Handlers | None = CONNECTION_HANDLERS, **config) -> Gateway:
    config.setdefault("clock", VirtualClock(START))
    return Gateway(ServerConfig(**config), handlers)


def open_session(gateway: Gateway, client_id: int = 1, peer: str = "10.0.0.1:5555"):
    """A session past the handshake and bootstrap, with its link emptied."""
    link = RecordingLink()
    session = Session(gateway, link, peer)
    session.receive_data(greeting() + start_api(client_id))
    link.take()
    return session, link


def ibapi_bytes(call) -> bytes:
    return b"".join(frame(p) for p in ibapi_request_payloads(187, call))


# -- handshake and bootstrap -------------------------------------------------------


def test_handshake_answers_version_and_connection_time_from_the_clock():
    link = RecordingLink()
    Session(make_gateway(), link).receive_data(greeting(100, 187))
    assert link.take() == [["187", "20260405 13:30:00 UTC"]]


def test_connection_time_is_shown_in_the_configured_zone():
    link = RecordingLink()
    Session(make_gateway(timezone="America/New_York"), link).receive_data(greeting(157, 178))
    assert link.take() == [["178", "20260405 09:30:00 EDT"]]


def test_connection_time_format():
    winter = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert connection_time(winter, "UTC") == "20260102 03:04:05 UTC"
    assert connection_time(winter, "Europe/Paris") == "20260102 04:04:05 CET"


def test_start_api_bootstraps_like_a_live_gateway():
    link = RecordingLink()
    session = Session(make_gateway(accounts=("DU1", "DU2"), first_order_id=1001), link)
    session.receive_data(greeting())
    link.take()
    session.receive_data(start_api(7))
    assert link.take() == bootstrap("DU1,DU2", 1001)
    assert session.client_id == 7
    assert session.started


def test_bootstrap_follows_the_hello_when_both_arrive_in_one_read():
    link = RecordingLink()
    Session(make_gateway(), link).receive_data(greeting() + start_api(1))
    assert link.take() == [["187", "20260405 13:30:00 UTC"], *bootstrap()]


def test_a_second_start_api_is_ignored():
    session, link = open_session(make_gateway())
    session.receive_data(start_api(1))
    assert link.take() == []
    assert link.close_reason is None


def test_no_common_version_sends_the_servers_version_and_closes():
    link = RecordingLink()
    session = Session(make_gateway(min_version=179), link)
    session.receive_data(greeting(157, 178) + start_api(1))
    assert link.take() == [["187", "20260405 13:30:00 UTC"]]
    assert "no common version" in link.close_reason
    assert session.closed


def test_a_broken_stream_closes_without_an_answer_and_logs_the_peer(caplog):
    link = RecordingLink()
    with caplog.at_level(logging.WARNING, "fake_tws.session"):
        Session(make_gateway(), link, "10.0.0.1:5555").receive_data(b"GET / HTTP/1.1\r\n\r\n")
    assert link.take() == []
    assert "protocol error" in link.close_reason
    assert "client ? 10.0.0.1:5555: protocol error" in caplog.text


def test_an_oversized_frame_closes():
    session, link = open_session(make_gateway(max_frame=1024))
    session.receive_data(b"\x00\x10\x00\x00")
    assert "exceeds the 1024-byte limit" in link.close_reason


# -- the connection handlers -------------------------------------------------------


def test_current_time_comes_from_the_clock():
    gateway = make_gateway()
    session, link = open_session(gateway)
    session.receive_data(REQ_CURRENT_TIME)
    gateway.clock.advance(90)
    session.receive_data(REQ_CURRENT_TIME)
    epoch = int(START.timestamp())
    assert link.take() == [["49", "1", str(epoch)], ["49", "1", str(epoch + 90)]]


def test_req_ids_moves_past_the_announced_id_as_a_live_gateway_does():
    gateway = make_gateway(first_order_id=1)
    session, link = open_session(gateway)
    session.receive_data(req_ids(1) + req_ids(5))
    assert link.take() == [["9", "1", "2"], ["9", "1", "3"]]
    # Order ids are the gateway's, not the connection's.
    other_link = RecordingLink()
    Session(gateway, other_link).receive_data(greeting() + start_api(2))
    assert other_link.take()[2] == ["9", "1", "3"]


def test_order_ids_never_go_back_below_an_id_in_use():
    ids = OrderIds(10)
    ids.observe(41)
    assert ids.next == 42
    ids.observe(5)
    assert ids.next == 42
    assert ids.reserve() == 43


def test_managed_accounts_on_request():
    session, link = open_session(make_gateway(accounts=("DU1", "DU2")))
    session.receive_data(REQ_MANAGED_ACCTS)
    assert link.take() == [["15", "1", "DU1,DU2"]]


def test_set_server_log_level_is_recorded_without_a_reply():
    session, link = open_session(make_gateway())
    session.receive_data(set_server_log_level(5))
    assert link.take() == []
    assert session.server_log_level == 5


def test_market_data_type_is_recorded_per_session_without_a_reply():
    gateway = make_gateway()
    first, first_link = open_session(gateway, client_id=1)
    second, second_link = open_session(gateway, client_id=2)
    first.receive_data(req_market_data_type(3))
    assert (first.market_data_type, second.market_data_type) == (3, 1)
    assert first_link.take() == second_link.take() == []


# -- what the session says when it cannot serve a request --------------------------


def test_a_request_without_a_handler_gets_321_naming_it():
    session, link = open_session(make_gateway())
    session.receive_data(REQ_POSITIONS)
    assert link.take() == [
        [
            "4",
            "2",
            "-1",
            "321",
            "Error validating request.-'reqPositions' : cause - "
            "reqPositions is not supported by fake-tws yet",
            "",
        ]
    ]
    assert link.close_reason is None


def test_321_carries_the_requests_own_id():
    session, link = open_session(make_gateway())
    session.receive_data(ibapi_bytes(lambda c: c.cancelMktData(42)))
    session.receive_data(ibapi_bytes(lambda c: c.cancelOrder(17, OrderCancel())))
    market_data, order = link.take()
    assert market_data[2:4] == ["42", "321"]
    assert order[2:4] == ["17", "321"]
    assert "'cancelOrder'" in order[4]


def test_request_id_of_reads_req_id_order_id_or_nothing():
    assert request_id_of(CancelMktData(reqId=42)) == 42
    assert request_id_of(CancelOrder(orderId=17)) == 17
    assert request_id_of(ReqCurrentTime()) == -1
    assert request_id_of(ReqIds(numIds=3)) == -1


def test_a_bad_field_gets_320_naming_it_and_the_connection_stays_up():
    session, link = open_session(make_gateway())
    session.receive_data(request(8, 1, "lots") + REQ_CURRENT_TIME)
    bad, time = link.take()
    assert bad[:4] == ["4", "2", "-1", "320"]
    assert bad[4].startswith("Error reading request.-'8' : cause - reqIds: field #2 'numIds'")
    assert "'lots'" in bad[4]
    assert time[0] == "49"
    assert link.close_reason is None


def test_an_unknown_message_id_gets_505_and_closes(caplog):
    session, link = open_session(make_gateway(), client_id=9, peer="10.0.0.2:6000")
    with caplog.at_level(logging.WARNING, "fake_tws.session"):
        session.receive_data(request(9999, 1) + REQ_CURRENT_TIME)
    assert link.take() == [["4", "2", "-1", "505", "Fatal Error: Unknown message id.", ""]]
    assert link.close_reason == "unknown message id 9999"
    assert "client 9 10.0.0.2:6000: unknown message id 9999" in caplog.text
    session.receive_data(REQ_CURRENT_TIME)  # closed: ignored
    assert link.take() == []


# -- client ids --------------------------------------------------------------------


def test_a_client_id_in_use_is_refused_with_326_and_the_first_is_untouched(caplog):
    gateway = make_gateway()
    first, first_link = open_session(gateway, client_id=5)
    second_link = RecordingLink()
    second = Session(gateway, second_link, "10.0.0.3:7000")
    with caplog.at_level(logging.WARNING, "fake_tws.session"):
        second.receive_data(greeting() + start_api(5))
    assert second_link.take()[1:] == [
        [
            "4",
            "2",
            "-1",
            "326",
            "Unable to connect as the client id is already in use. Retry with a unique client id.",
            "",
        ]
    ]
    assert second_link.close_reason == "client id 5 in use"
    assert "client 5 10.0.0.3:7000: client id is already in use" in caplog.text
    assert gateway.client_ids == {5}
    first.receive_data(REQ_CURRENT_TIME)
    assert first_link.take()[0][0] == "49"


def test_a_client_id_is_free_again_once_its_session_ends():
    gateway = make_gateway()
    first, _ = open_session(gateway, client_id=5)
    first.connection_lost()
    assert gateway.client_ids == frozenset()
    _, link = open_session(gateway, client_id=5)
    assert link.close_reason is None


# -- the handler table -------------------------------------------------------------


def test_a_registered_handler_answers_its_request_type():
    custom = Handlers()

    @custom.on(ReqCurrentTime)
    def fixed_time(session, request):
        session.send(CurrentTime(time=123))

    session, link = open_session(make_gateway(CONNECTION_HANDLERS | custom))
    session.receive_data(REQ_CURRENT_TIME + REQ_MANAGED_ACCTS)
    assert link.take() == [["49", "1", "123"], ["15", "1", "DU123456"]]


def test_handler_tables_merge_with_the_right_hand_side_winning():
    def left(session, request): ...

    def right(session, request): ...

    a = Handlers({ReqCurrentTime: left, ReqIds: left})
    b = Handlers({ReqCurrentTime: right})
    merged = a | b
    assert merged.get(ReqCurrentTime) is right
    assert merged.get(ReqIds) is left
    assert StartApi not in merged
    assert a.get(ReqCurrentTime) is left  # merging builds a new table


def test_the_journal_records_requests_responses_and_connection_events():
    from fake_tws.journal import Direction

    gateway = make_gateway()
    session, _ = open_session(gateway)
    session.receive_data(REQ_CURRENT_TIME)
    journal = gateway.journal
    journal.assert_received("startApi", clientId=1)
    journal.assert_sent("managedAccounts", accountsList="DU123456")
    journal.assert_received("reqCurrentTime", client_id=1)
    journal.assert_sent("currentTime", client_id=1)
    session.connection_lost()
    notes = [e.message.text for e in journal.entries if e.direction is Direction.EVENT]
    assert notes == ["connected at v187", "disconnected"]
