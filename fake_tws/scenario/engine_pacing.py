"""IB's pacing limits, as a scenario's `world.pacing` asks for them.

- Messages: more than `max_messages_per_second` client messages in one second get error
  100 ("Max rate of messages per second has been exceeded:max=50 rec=51 (1)"); the
  messages over the limit are dropped unanswered, and with `disconnect_on_violation` the
  client is disconnected. The window is wall-clock time: the limit is about how fast a
  client writes to its socket, and a test's virtual clock standing still must not make
  a slow, well-behaved client look like a flood.
- Historical data (`historical: true`): IB's three rules for reqHistoricalData, on the
  server's clock: an identical request within 15 seconds, more than 6 requests for the
  same contract, exchange and tick type within 2 seconds, or more than 60 requests in 10
  minutes get error 162 ("Historical data request pacing violation") instead of data.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from fake_tws.protocol.requests.historical import ReqHistoricalData

from .ib_codes import default_text

MESSAGES_CODE = 100
HISTORICAL_CODE = 162
IDENTICAL_WINDOW = timedelta(seconds=15)
SAME_CONTRACT_WINDOW = timedelta(seconds=2)
SAME_CONTRACT_LIMIT = 6
TOTAL_WINDOW = timedelta(minutes=10)
TOTAL_LIMIT = 60


def messages_text(limit: int, received: int) -> str:
    return default_text(MESSAGES_CODE).format(max=limit, received=received)


class MessageRate:
    """A sliding one-second window of one client's messages."""

    def __init__(self, limit: int, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._now = now
        self._times: deque[float] = deque()
        self._reported = False  # error 100 already sent for the current burst

    def admit(self) -> tuple[bool, int]:
        """Count one message: (whether it is within the limit, messages in the window)."""
        now = self._now()
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False, len(self._times) + 1
        self._times.append(now)
        self._reported = False
        return True, len(self._times)

    def first_violation(self) -> bool:
        """True once per burst over the limit: when error 100 should be sent."""
        if self._reported:
            return False
        self._reported = True
        return True


def historical_key(request: ReqHistoricalData) -> tuple:
    c = request.contract
    contract = (c.conId, c.symbol.upper(), c.secType.upper(), c.exchange.upper(), c.currency)
    return contract, request.whatToShow.upper()


def identical_key(request: ReqHistoricalData) -> tuple:
    return (
        historical_key(request),
        request.endDateTime,
        request.durationStr,
        request.barSizeSetting,
        request.useRTH,
        request.keepUpToDate,
    )


class HistoricalPacing:
    """IB's historical-data pacing rules over the server clock's time."""

    def __init__(self) -> None:
        self._requests: deque[tuple[datetime, tuple, tuple]] = deque()

    def violation(self, request: ReqHistoricalData, now: datetime) -> str | None:
        """Why `request` breaks the pacing rules (None: it may go; it is counted)."""
        while self._requests and now - self._requests[0][0] >= TOTAL_WINDOW:
            self._requests.popleft()
        key, same = identical_key(request), historical_key(request)
        why = None
        if any(k == key and now - t < IDENTICAL_WINDOW for t, k, _ in self._requests):
            why = "identical request within 15 seconds"
        elif (
            sum(1 for t, _, s in self._requests if s == same and now - t < SAME_CONTRACT_WINDOW)
            >= SAME_CONTRACT_LIMIT
        ):
            why = "more than 6 requests for the same contract within 2 seconds"
        elif len(self._requests) >= TOTAL_LIMIT:
            why = "more than 60 requests within 10 minutes"
        if why is None:
            self._requests.append((now, key, same))
        return why
