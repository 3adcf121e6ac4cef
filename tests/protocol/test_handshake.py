"""The greeting: version ranges real clients send, connect options, negotiation."""

import pytest

from fake_tws.protocol.errors import HandshakeError, NoCommonVersion
from fake_tws.protocol.handshake import ClientGreeting, negotiate, parse_greeting, server_hello

IBAPI = ClientGreeting(100, 187)  # ibapi 10.30.1
IB_ASYNC = ClientGreeting(157, 178)  # ib_async 2.1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"v100..187", IBAPI),
        (b"v157..178", IB_ASYNC),
        (b"v100..187 +PACEAPI", ClientGreeting(100, 187, "+PACEAPI")),
        (b"v100..187 +PACEAPI +OTHER", ClientGreeting(100, 187, "+PACEAPI +OTHER")),
        (b"v176", ClientGreeting(176, 176)),
        (b"v100..187\x00", IBAPI),  # a NUL-terminated greeting reads the same
    ],
)
def test_greetings_parse(text, expected):
    assert parse_greeting(text) == expected


@pytest.mark.parametrize(
    "text", [b"", b"100..187", b"v", b"vX..187", b"v100..", b"hello", b"v187..100"]
)
def test_malformed_greetings_are_handshake_errors(text):
    with pytest.raises(HandshakeError):
        parse_greeting(text)


@pytest.mark.parametrize(
    ("client", "server", "version"),
    [
        (IBAPI, (100, 187), 187),
        (IB_ASYNC, (100, 187), 178),
        (IBAPI, (100, 176), 176),
        (IB_ASYNC, (178, 187), 178),  # a single shared version is enough
        (ClientGreeting(150, 200), (100, 187), 187),  # a newer client meets us at ours
    ],
)
def test_negotiation_picks_the_highest_common_version(client, server, version):
    assert negotiate(client, *server) == version


@pytest.mark.parametrize(
    ("client", "server"),
    [
        (IB_ASYNC, (179, 187)),  # client too old for the server
        (IB_ASYNC, (100, 156)),  # client too new for the server
        (ClientGreeting(190, 200), (100, 187)),
    ],
)
def test_no_overlap_is_no_common_version(client, server):
    with pytest.raises(NoCommonVersion) as info:
        negotiate(client, *server)
    assert (info.value.client_min, info.value.client_max) == (
        client.min_version,
        client.max_version,
    )
    assert (info.value.server_min, info.value.server_max) == server


def test_server_hello_is_version_then_connection_time():
    assert server_hello(187, "20260405 09:30:00 EST") == b"187\x0020260405 09:30:00 EST\x00"
