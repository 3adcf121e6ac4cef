"""The recording proxy as a proxy: transparent both ways, and robust when either side
misbehaves."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from fake_tws.clock import VirtualClock
from fake_tws.protocol.framing import FrameBuffer
from fake_tws.record import RecorderThread, UpstreamUnreachable
from fake_tws.scenario import load_scenario, validate_files
from fake_tws.server import ServerThread
from tests.ibapi_harness import ibapi_request_payloads
from tests.record.support import ACCOUNT, START, RecordingClient, eventually, stock
from tests.wire import REQ_CURRENT_TIME, greeting, request, start_api

TIMEOUT = 5.0


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def details_request(req_id: int) -> bytes:
    (payload,) = ibapi_request_payloads(187, lambda c: c.reqContractDetails(req_id, stock()))
    return struct.pack("!I", len(payload)) + payload


class Raw:
    """A client on a plain socket that keeps every byte it receives."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.received = bytearray()
        self._frames = FrameBuffer()
        self.ids: list[str] = []
        self._hello = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def until(self, *message_ids: str) -> None:
        """Read until each of these message ids has arrived."""
        deadline = time.monotonic() + TIMEOUT
        while not all(i in self.ids for i in message_ids):
            assert time.monotonic() < deadline, f"got {self.ids}"
            data = self.sock.recv(65536)
            assert data, f"closed early; got {self.ids}"
            self.received += data
            for payload in self._frames.feed(data):
                if not self._hello:
                    self._hello = True
                    self.ids.append("hello")
                else:
                    self.ids.append(payload.split(b"\0", 1)[0].decode())

    def close(self) -> None:
        self.sock.close()


def talk(port: int) -> bytes:
    """One scripted raw conversation; every byte the client received."""
    client = Raw(port)
    try:
        client.send(greeting(100, 187))
        client.until("hello")
        client.send(start_api(1) + details_request(3) + REQ_CURRENT_TIME)
        client.until("52", "49")  # contractDetailsEnd, currentTime
        return bytes(client.received)
    finally:
        client.close()


@pytest.fixture
def upstream():
    with ServerThread(accounts=(ACCOUNT,), clock=VirtualClock(START)) as server:
        yield server


def wait_released(server: ServerThread, client_id: int) -> None:
    gateway = server.server.gateway
    eventually(lambda: client_id not in server.run_sync(lambda: gateway.client_ids))


def test_a_client_sees_the_same_bytes_through_the_proxy_as_directly(upstream, tmp_path):
    direct = talk(upstream.port)
    wait_released(upstream, 1)
    with RecorderThread(("127.0.0.1", upstream.port), tmp_path / "t.yaml") as recorder:
        proxied = talk(recorder.port)
        eventually(lambda: recorder.recorder.written >= 1)
    assert proxied == direct
    assert direct.startswith(struct.pack("!I", 26) + b"187\x0020260415 15:00:00 UTC\x00")
    # ... and the upstream read the same requests from both connections.
    entries = upstream.server.gateway.journal.entries
    received = [e.message for e in entries if e.direction.value == "received"]
    names = [type(m).__name__ for m in received]
    assert names == ["StartApi", "ReqContractDetails", "ReqCurrentTime"] * 2
    assert received[:3] == received[3:]


def test_bytes_it_cannot_read_are_forwarded_all_the_same(upstream, tmp_path):
    with RecorderThread(("127.0.0.1", upstream.port), tmp_path / "t.yaml") as recorder:
        client = Raw(recorder.port)
        try:
            client.send(greeting(100, 187))
            client.until("hello")
            client.send(start_api(1) + request(9999, 1))  # an id no TWS knows
            client.until("4", "15", "9")
            eventually(lambda: b"Unknown message id" in client.received)
        finally:
            client.close()
        eventually(lambda: recorder.recorder.written >= 1)
    text = (tmp_path / "t.yaml").read_text()
    assert "a request (message id 9999) could not be decoded" in text


def test_an_unreachable_upstream_is_refused_at_start(tmp_path):
    port = free_port()
    recorder = RecorderThread(("127.0.0.1", port), tmp_path / "t.yaml")
    with pytest.raises(UpstreamUnreachable, match=rf"cannot reach 127.0.0.1:{port}"):
        recorder.start()
    assert not (tmp_path / "t.yaml").exists()


def test_an_upstream_that_goes_away_closes_its_clients(tmp_path, caplog):
    caplog.set_level("INFO", logger="fake_tws.record")
    upstream = ServerThread(accounts=(ACCOUNT,)).start()
    recorder = RecorderThread(("127.0.0.1", upstream.port), tmp_path / "t.yaml").start()
    try:
        upstream.stop()
        client = socket.create_connection(("127.0.0.1", recorder.port), timeout=TIMEOUT)
        assert client.recv(100) == b""  # closed at once
        client.close()
        eventually(lambda: any("cannot reach upstream" in r.getMessage() for r in caplog.records))
    finally:
        recorder.stop()


def test_a_client_leaving_mid_recording_still_leaves_a_valid_file(upstream, tmp_path):
    out = tmp_path / "t.yaml"
    with RecorderThread(("127.0.0.1", upstream.port), out) as recorder:
        client = RecordingClient().open(recorder.port, 1)
        client.wait_for_bootstrap()
        client.reqContractDetails(3, stock())
        client.wait_for(lambda: client.named("contractDetailsEnd"))
        # Half of the next request, then the socket goes (no goodbye).
        client.conn.socket.sendall(details_request(4)[:10])
        client.close()
        eventually(lambda: recorder.recorder.written >= 1)
        assert validate_files([str(out)]) == []
        assert [r.id for r in load_scenario(out).rules] == ["r001-reqContractDetails"]
        # The proxy goes on: a second client, and the file grows.
        talk(recorder.port)
        eventually(lambda: recorder.recorder.written >= 2)
    assert validate_files([str(out)]) == []
    assert len(load_scenario(out).rules) == 3  # first client's 1, second client's 2


def test_stopping_the_recorder_mid_conversation_writes_the_file(upstream, tmp_path):
    out = tmp_path / "t.yaml"
    recorder = RecorderThread(("127.0.0.1", upstream.port), out).start()
    client = RecordingClient().open(recorder.port, 1)
    try:
        client.wait_for_bootstrap()
        client.reqCurrentTime()
        client.wait_for(lambda: client.named("currentTime"))
        recorder.stop()  # the client is still connected
        assert client.reader_finished()  # the proxy closed it
    finally:
        client.close()
    assert validate_files([str(out)]) == []
    assert [r.id for r in load_scenario(out).rules] == ["r001-reqCurrentTime"]
