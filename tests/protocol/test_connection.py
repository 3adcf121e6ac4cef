"""The sans-IO ServerConnection: states, events, and what breaks the stream vs. one message."""

import pytest

from fake_tws.protocol.connection import (
    BadRequest,
    Greeting,
    RequestReceived,
    ServerConnection,
    State,
    VersionMismatch,
)
from fake_tws.protocol.errors import (
    BadField,
    FrameTooLarge,
    HandshakeError,
    MalformedFrame,
    ProtocolError,
    UnknownMessageId,
)
from fake_tws.protocol.framing import frame
from fake_tws.protocol.requests.connection import ReqCurrentTime, ReqIds, StartApi
from fake_tws.protocol.responses.connection import CurrentTime
from tests.wire import REQ_CURRENT_TIME, greeting, messages, req_ids, request, start_api


def ready(conn: ServerConnection | None = None, lo: int = 100, hi: int = 187):
    conn = conn or ServerConnection()
    [event] = conn.receive_data(greeting(lo, hi))
    assert isinstance(event, Greeting)
    conn.accept("20260405 09:30:00 UTC")
    return conn


def test_handshake_then_requests():
    conn = ServerConnection()
    assert conn.state is State.AWAIT_PREFIX
    [event] = conn.receive_data(greeting(100, 187))
    assert event == Greeting(event.greeting, 187)
    assert conn.state is State.AWAIT_ACCEPT
    assert messages(conn.accept("20260405 09:30:00 UTC")) == [["187", "20260405 09:30:00 UTC"]]
    assert conn.state is State.READY
    assert conn.receive_data(start_api(7, "caps")) == [
        RequestReceived(StartApi(clientId=7, optionalCapabilities="caps"))
    ]


@pytest.mark.parametrize(("lo", "hi", "version"), [(100, 187, 187), (157, 178, 178)])
def test_real_clients_ranges_negotiate(lo, hi, version):
    assert ready(lo=lo, hi=hi).version == version


def test_connect_options_reach_the_greeting_event():
    [event] = ServerConnection().receive_data(greeting(100, 187, "+PACEAPI"))
    assert event.greeting.connect_options == "+PACEAPI"


def test_a_whole_conversation_fed_byte_by_byte_gives_the_same_events():
    conn = ServerConnection()
    data = greeting() + start_api(1) + REQ_CURRENT_TIME
    events = []
    for i in range(len(data)):
        events += conn.receive_data(data[i : i + 1])
        if conn.state is State.AWAIT_ACCEPT:
            conn.accept("t")
    assert [type(e) for e in events] == [Greeting, RequestReceived, RequestReceived]
    assert events[2] == RequestReceived(ReqCurrentTime())


def test_greeting_and_requests_in_one_read_come_out_in_order():
    events = ServerConnection().receive_data(greeting() + start_api(1) + req_ids(3))
    assert [type(e) for e in events] == [Greeting, RequestReceived, RequestReceived]
    assert events[2].request == ReqIds(numIds=3)


def test_a_partial_prefix_waits():
    conn = ServerConnection()
    assert conn.receive_data(b"AP") == []
    assert conn.state is State.AWAIT_PREFIX


def test_a_bad_prefix_breaks_the_connection():
    conn = ServerConnection()
    with pytest.raises(HandshakeError, match="API"):
        conn.receive_data(b"GET / HTTP/1.1\r\n")
    assert conn.state is State.CLOSED
    with pytest.raises(ProtocolError, match="closed"):
        conn.receive_data(b"more")


def test_a_bad_greeting_breaks_the_connection():
    conn = ServerConnection()
    with pytest.raises(HandshakeError, match="version range"):
        conn.receive_data(b"API\x00" + frame(b"hello"))
    assert conn.state is State.CLOSED


def test_no_common_version_is_an_event_then_the_connection_is_closed():
    conn = ServerConnection(min_version=179, max_version=187)
    [event] = conn.receive_data(greeting(157, 178) + start_api(1))
    assert isinstance(event, VersionMismatch)
    assert "no common version" in event.error
    assert conn.state is State.CLOSED
    # TWS answers a client it cannot speak to with its own (highest) version.
    assert messages(conn.mismatch_reply("t")) == [["187", "t"]]


def test_an_oversized_frame_breaks_the_connection():
    conn = ready(ServerConnection(max_frame=64))
    with pytest.raises(FrameTooLarge):
        conn.receive_data(b"\x00\x00\x01\x00")
    assert conn.state is State.CLOSED


def test_a_bad_field_is_a_bad_request_and_the_stream_stays_in_sync():
    conn = ready()
    events = conn.receive_data(request(8, 1, "many") + REQ_CURRENT_TIME)
    bad, good = events
    assert isinstance(bad, BadRequest)
    assert isinstance(bad.error, BadField)
    assert bad.error.field == "numIds"
    assert bad.message_id == "8"
    assert good == RequestReceived(ReqCurrentTime())
    assert conn.state is State.READY


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"9999\x00", UnknownMessageId),
        (b"abc\x00", MalformedFrame),
        (b"49\x001", MalformedFrame),  # no NUL terminator
        (b"49\x001\x00extra\x00", ProtocolError),  # trailing fields
    ],
)
def test_undecodable_frames_are_bad_requests(payload, error):
    [event] = ready().receive_data(frame(payload))
    assert isinstance(event, BadRequest)
    assert isinstance(event.error, error)
    assert event.payload == payload


def test_sending_needs_an_accepted_connection():
    conn = ServerConnection()
    with pytest.raises(ProtocolError, match="await-prefix"):
        conn.send(CurrentTime(time=1))
    conn.receive_data(greeting())
    with pytest.raises(ProtocolError, match="await-accept"):
        conn.send(CurrentTime(time=1))
    conn.accept("t")
    with pytest.raises(ProtocolError, match="cannot accept"):
        conn.accept("t")
    assert messages(conn.send(CurrentTime(time=1775931128))) == [["49", "1", "1775931128"]]


def test_close_stops_everything():
    conn = ready()
    conn.close()
    with pytest.raises(ProtocolError):
        conn.receive_data(REQ_CURRENT_TIME)
    with pytest.raises(ProtocolError):
        conn.send(CurrentTime(time=1))
