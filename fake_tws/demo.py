"""`python -m fake_tws.demo`: an ibapi client talks to an in-process fake gateway.

This is the one fake_tws module that imports ibapi (it is a client, not the library);
nothing in fake_tws imports this module.
"""

from __future__ import annotations

import socket
import sys
import threading
from datetime import UTC, datetime

from ibapi.client import EClient
from ibapi.wrapper import EWrapper

from .server import ServerThread

TIMEOUT = 5.0
FARM_CODES = (2104, 2106, 2158)


class DemoClient(EWrapper, EClient):
    """Prints what the gateway says and flags the moments the demo waits for."""

    def __init__(self, out) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.out = out
        self.bootstrapped = threading.Event()
        self.got_time = threading.Event()
        self._farms_seen: set[int] = set()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def managedAccounts(self, accountsList: str) -> None:
        self.say(f"  managedAccounts  {accountsList}")

    def nextValidId(self, orderId: int) -> None:
        self.say(f"  nextValidId      {orderId}")

    def error(self, reqId, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self.say(f"  error            reqId={reqId} code={errorCode} {errorString}")
        if errorCode in FARM_CODES:
            self._farms_seen.add(errorCode)
            if self._farms_seen == set(FARM_CODES):
                self.bootstrapped.set()

    def currentTime(self, time: int) -> None:
        stamp = datetime.fromtimestamp(time, UTC)
        self.say(f"  currentTime      {time} ({stamp:%Y-%m-%d %H:%M:%S} UTC)")
        self.got_time.set()

    def close(self) -> None:
        # ibapi's reader thread sits in a 1-second recv; shutting the socket down first
        # wakes it at once, so the demo ends without waiting.
        reader, sock = self.reader, self.conn.socket if self.conn else None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self.disconnect()
        if reader is not None:
            reader.join(TIMEOUT)


def run(out=sys.stdout) -> int:
    with ServerThread() as gateway:
        out.write(f"fake-tws listening on 127.0.0.1:{gateway.port}\n")
        client = DemoClient(out)
        client.connect("127.0.0.1", gateway.port, clientId=1)
        if not client.isConnected():
            out.write("could not connect\n")
            return 1
        conn_time = client.twsConnectionTime()  # ibapi keeps it as bytes
        if isinstance(conn_time, bytes):
            conn_time = conn_time.decode()
        client.say(
            f"connected: server version {client.serverVersion()}, connection time {conn_time}"
        )
        loop = threading.Thread(target=client.run, name="ibapi-message-loop")
        loop.start()
        try:
            client.say("bootstrap:")
            if not client.bootstrapped.wait(TIMEOUT):
                client.say("bootstrap did not complete")
                return 1
            client.say("reqCurrentTime:")
            client.reqCurrentTime()
            if not client.got_time.wait(TIMEOUT):
                client.say("no currentTime answer")
                return 1
        finally:
            client.close()
            loop.join(TIMEOUT)
        client.say("disconnected")
    return 0


def main() -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
