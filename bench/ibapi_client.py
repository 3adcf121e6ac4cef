"""An ibapi EClient as a benchmark client: ibapi's own reader thread and decoder, a
wrapper that counts quote ticks and signals the few callbacks a benchmark waits for.

Decoded messages are dispatched by a small loop thread (what `EClient.run` does, minus
its 0.2 s queue polling, so closing is immediate).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

from ibapi import comm
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.wrapper import EWrapper

from .harness import TIMEOUT, shutdown_socket

# Price tick types after which ibapi's decoder calls tickSize itself with the size the
# tickPrice message carried (BID, ASK, LAST and their delayed twins): that call is not
# a message of its own and is not counted.
_PRICE_WITH_SIZE = frozenset({1, 2, 4, 66, 67, 68})


def stock(symbol: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def market_order(action: str, quantity: int) -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType = action, Decimal(quantity), "MKT"
    return o


class BenchClient(EWrapper, EClient):
    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.ticks = 0  # tickPrice and tickSize messages (not ibapi's implied tickSize)
        self.frames = 0  # every message decoded
        self.streams = 0  # tickReqParams received: market data requests that started
        self._implied_size = False
        self.next_order_id: int | None = None
        self.errors: list[tuple[int, int, str]] = []
        self.ready = threading.Event()  # nextValidId arrived
        self.answered = threading.Event()  # the awaited reply arrived
        self.awaited_order: int | None = None
        self._loop: threading.Thread | None = None

    # -- counted and awaited callbacks -------------------------------------------------

    def tickPrice(self, reqId, tickType, price, attrib) -> None:
        self.ticks += 1
        self._implied_size = tickType in _PRICE_WITH_SIZE

    def tickSize(self, reqId, tickType, size) -> None:
        if self._implied_size:
            self._implied_size = False
            return
        self.ticks += 1

    def tickString(self, reqId, tickType, value) -> None:
        pass

    def tickGeneric(self, reqId, tickType, value) -> None:
        pass

    def marketDataType(self, reqId, marketDataType) -> None:
        pass

    def tickReqParams(self, tickerId, minTick, bboExchange, snapshotPermissions) -> None:
        self.streams += 1

    def nextValidId(self, orderId: int) -> None:
        self.next_order_id = orderId
        self.ready.set()

    def managedAccounts(self, accountsList: str) -> None:
        pass

    def currentTime(self, time: int) -> None:
        self.answered.set()

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId,
                    lastFillPrice, clientId, whyHeld, mktCapPrice) -> None:  # fmt: skip
        if status == "Filled" and orderId == self.awaited_order:
            self.answered.set()

    def openOrder(self, orderId, contract, order, orderState) -> None:
        pass

    def execDetails(self, reqId, contract, execution) -> None:
        pass

    def commissionReport(self, commissionReport) -> None:
        pass

    def error(self, reqId, errorCode, errorString, advancedOrderRejectJson="") -> None:
        if errorCode not in (2104, 2106, 2107, 2108, 2119, 2158):
            self.errors.append((reqId, errorCode, errorString))

    # -- connecting ----------------------------------------------------------------------

    def open(self, port: int, client_id: int = 1) -> BenchClient:
        self.connect("127.0.0.1", port, client_id)
        if not self.isConnected():
            raise ConnectionError(f"ibapi could not connect to port {port}")
        self._loop = threading.Thread(target=self._dispatch, name="ibapi-dispatch")
        self._loop.start()
        if not self.ready.wait(TIMEOUT):
            raise TimeoutError(f"no nextValidId from port {port}; errors: {self.errors}")
        return self

    def _dispatch(self) -> None:
        queue, decoder = self.msg_queue, self.decoder
        while (msg := queue.get()) is not None:
            decoder.interpret(comm.read_fields(msg))
            self.frames += 1

    def close(self) -> None:
        """Disconnect and join the threads this client started."""
        reader = self.reader
        shutdown_socket(self.conn.socket if self.conn is not None else None)
        self.disconnect()
        if reader is not None:
            reader.join(TIMEOUT)
        if self._loop is not None:
            self.msg_queue.put(None)
            self._loop.join(TIMEOUT)

    def __enter__(self) -> BenchClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> int:
        self.sent.append(msg)
        return len(msg)

    def isConnected(self) -> bool:
        return True


def request_bytes(call: Callable[[EClient], None], version: int = 187) -> bytes:
    """The framed bytes ibapi's EClient sends for `call(client)` at `version`."""
    client = EClient(EWrapper())
    capture = _Capture()
    client.conn = capture
    client.serverVersion_ = version
    client.connState = EClient.CONNECTED
    client.clientId = 0
    call(client)
    return b"".join(capture.sent)
