"""The harness's promise: a NautilusTrader node is always stopped in bounded time, even one
stuck in the handshake (which, in earlier experiments, ignored SIGTERM)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conformance.nautilus.support import ChildFailed, NautilusProcess

STOP_WITHIN = 12.0


def test_a_node_stuck_in_the_handshake_stops_when_told(tmp_path):
    # A listener that never accepts: TCP connects (the backlog), the API handshake never
    # gets an answer, so their client keeps waiting for the server's version.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        nt = NautilusProcess.node(port, tmp_path, connect_timeout=60, lifetime=60)
        try:
            with pytest.raises(ChildFailed, match="no 'running' event"):
                nt.expect("running", timeout=1)
        finally:
            asked = time.monotonic()
            nt.close(timeout=STOP_WITHIN)
            took = time.monotonic() - asked
    assert nt.returncode == 0, f"killed, not stopped (code {nt.returncode})\n{nt.log_tail()}"
    assert took < STOP_WITHIN
    assert nt.of("stopped")


def test_a_node_that_outlives_its_lifetime_is_ended(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with (
            NautilusProcess.node(port, tmp_path, connect_timeout=60, lifetime=1) as nt,
            pytest.raises(ChildFailed, match="TimeoutError"),
        ):
            nt.expect("running", timeout=15)
    assert nt.returncode is not None
