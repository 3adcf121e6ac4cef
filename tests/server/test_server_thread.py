"""ServerThread: the trio server in a background thread, for sync and asyncio callers."""

from __future__ import annotations

import socket
import threading

import pytest

from fake_tws.server import ServerThread
from tests.wire import greeting, messages


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fake-tws-server"]


def handshake(port: int) -> list[list[str]]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(greeting())
        data = b""
        while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
            data += sock.recv(4096)
    return messages(data)


def test_start_returns_with_the_port_bound_and_stop_leaves_nothing_behind():
    gateway = ServerThread().start()
    try:
        assert handshake(gateway.port)[0][0] == "187"
        assert len(server_threads()) == 1
    finally:
        gateway.stop()
    assert server_threads() == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", gateway.port), timeout=1)


def test_context_manager_and_overrides():
    with ServerThread(max_version=170) as gateway:
        assert gateway.config.max_version == 170
        assert handshake(gateway.port)[0][0] == "170"
    assert server_threads() == []


def test_stop_closes_open_client_connections():
    with ServerThread() as gateway:
        sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
        sock.sendall(greeting())
        assert sock.recv(4096)  # the hello
    with sock:
        assert sock.recv(4096) == b""  # closed by stop()


def test_run_sync_reads_server_state_in_the_server_thread():
    with ServerThread() as gateway:
        assert gateway.run_sync(lambda: threading.current_thread().name) == "fake-tws-server"
        assert gateway.run_sync(lambda: gateway.server.gateway.client_ids) == frozenset()


def test_a_failed_start_raises_and_leaves_no_thread():
    with ServerThread() as first:
        taken = ServerThread(port=first.port)
        with pytest.raises(RuntimeError, match="failed to start"):
            taken.start()
    assert server_threads() == []


def test_misuse_is_reported():
    gateway = ServerThread()
    with pytest.raises(RuntimeError, match="not started"):
        gateway.port  # noqa: B018
    gateway.stop()  # stopping a never-started server is a no-op
    with gateway, pytest.raises(RuntimeError, match="only once"):
        gateway.start()
