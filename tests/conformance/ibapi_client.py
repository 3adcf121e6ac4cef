"""An ibapi EClient for conformance tests: records callbacks and lets a test wait for them.

It runs ibapi's own EReader thread; decoded messages are dispatched by a small loop thread
(what `EClient.run` does, minus its 0.2 s polling, so closing is immediate).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

from ibapi import comm
from ibapi.client import EClient
from ibapi.wrapper import EWrapper

TIMEOUT = 5.0


class IbapiClient(EWrapper, EClient):
    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = threading.Condition()
        self._loop: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._queue = None

    # -- recorded callbacks ----------------------------------------------------------

    def _record(self, name: str, *args: Any) -> None:
        with self._changed:
            self.calls.append((name, args))
            self._changed.notify_all()

    def managedAccounts(self, accountsList: str) -> None:
        self._record("managedAccounts", accountsList)

    def nextValidId(self, orderId: int) -> None:
        self._record("nextValidId", orderId)

    def currentTime(self, time: int) -> None:
        self._record("currentTime", time)

    def error(self, reqId, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self._record("error", reqId, errorCode, errorString)

    # -- waiting ---------------------------------------------------------------------

    def named(self, name: str) -> list[tuple[Any, ...]]:
        with self._changed:
            return [args for n, args in self.calls if n == name]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        with self._changed:
            if not self._changed.wait_for(predicate, timeout):
                raise AssertionError(f"timed out after {timeout}s; calls so far: {self.calls}")

    def wait_for_error(self, code: int) -> tuple[Any, ...]:
        self.wait_for(lambda: any(args[1] == code for n, args in self.calls if n == "error"))
        return next(args for args in self.named("error") if args[1] == code)

    def wait_for_bootstrap(self) -> None:
        """managedAccounts, nextValidId and the last farm-status notice have arrived."""
        self.wait_for_error(2158)

    # -- connecting ------------------------------------------------------------------

    def open(self, port: int, client_id: int) -> IbapiClient:
        self.connect("127.0.0.1", port, client_id)
        assert self.isConnected(), f"ibapi could not connect: {self.calls}"
        self._reader, self._queue = self.reader, self.msg_queue
        self._loop = threading.Thread(
            target=self._dispatch, args=(self._queue, self.decoder), name="ibapi-dispatch"
        )
        self._loop.start()
        return self

    @staticmethod
    def _dispatch(queue, decoder) -> None:
        while (msg := queue.get()) is not None:
            decoder.interpret(comm.read_fields(msg))

    def reader_finished(self, timeout: float = TIMEOUT) -> bool:
        """Whether ibapi's reader thread ended (the server closed the socket)."""
        assert self._reader is not None
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def close(self) -> None:
        """Disconnect and join every thread this client started."""
        sock = self.conn.socket if self.conn is not None else None
        if sock is not None:
            # Wakes the reader out of its 1-second recv so it ends now.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.disconnect()
        if self._reader is not None:
            self._reader.join(TIMEOUT)
            assert not self._reader.is_alive()
        if self._loop is not None:
            self._queue.put(None)
            self._loop.join(TIMEOUT)
            assert not self._loop.is_alive()
