"""What IB's error codes mean, and the exceptions the client raises for them.

TWS sends one message type, ``error(reqId, code, text)``, for everything from "market
data farm is OK" to "order rejected". ``classify`` is the one place that decides what a
code means; ``adapter.client.error`` routes it accordingly. Codes not in the table fall
back on IB's own numbering: 2100-2199 are warnings, the rest errors.

Reference: https://ibkrcampus.com/campus/ibkr-api-page/tws-api-error-codes/
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class ErrorKind(Enum):
    INFO = "info"  # a notice: log it, nothing failed
    WARNING = "warning"  # worth a look, but the request or order it names goes on
    REQUEST_FAILED = "request failed"  # the request (or subscription) with this id is over
    ORDER = "order"  # about an order: rejected, cancelled, or a refused change (OrderEffect)
    CONNECTIVITY = "connectivity"  # the API connection or TWS's link to IB changed
    FARM_STATUS = "farm status"  # one of TWS's data farms connected or dropped


# Connectivity codes, named for the connection mixin.
CONNECTIVITY_LOST: Final = 1100
CONNECTIVITY_RESTORED_DATA_LOST: Final = 1101
CONNECTIVITY_RESTORED_DATA_KEPT: Final = 1102
SOCKET_PORT_RESET: Final = 1300
TWS_TO_SERVER_BROKEN: Final = 2110
CLIENT_ID_IN_USE: Final = 326
NOT_CONNECTED: Final = 504

# Farm status: code -> (farm kind, is the farm usable)
FARM_CODES: Final[dict[int, tuple[str, bool]]] = {
    2103: ("market data", False),  # "Market data farm connection is broken:usfarm"
    2104: ("market data", True),  # "Market data farm connection is OK:usfarm"
    2105: ("historical data", False),  # "HMDS data farm connection is broken:ushmds"
    2106: ("historical data", True),  # "HMDS data farm connection is OK:ushmds"
    2107: ("historical data", True),  # "HMDS ... is inactive but should be available upon demand"
    2108: ("market data", True),  # "Market data farm ... is inactive but ... available upon demand"
    2119: ("market data", False),  # "Market data farm is connecting:usfarm"
    2157: ("security definition", False),  # "Sec-def data farm connection is broken:secdefil"
    2158: ("security definition", True),  # "Sec-def data farm connection is OK:secdefnj"
}


class OrderEffect(Enum):
    """What an order error does to the order it names."""

    REJECTED = "rejected"  # the order is dead
    CANCELLED = "cancelled"  # 202: a cancel went through
    CANCEL_REJECTED = "cancel rejected"  # the order lives on
    MODIFY_REJECTED = "modify rejected"  # the order lives on, unchanged


ORDER_REJECTED: Final = OrderEffect.REJECTED
ORDER_CANCELLED: Final = OrderEffect.CANCELLED
ORDER_CANCEL_REJECTED: Final = OrderEffect.CANCEL_REJECTED
ORDER_MODIFY_REJECTED: Final = OrderEffect.MODIFY_REJECTED

ORDER_CODES: Final[dict[int, OrderEffect]] = {
    103: ORDER_REJECTED,  # Duplicate order id
    104: ORDER_MODIFY_REJECTED,  # Can't modify a filled order
    105: ORDER_MODIFY_REJECTED,  # Order being modified does not match original order
    106: ORDER_REJECTED,  # Can't transmit order id
    107: ORDER_REJECTED,  # Cannot transmit incomplete order
    109: ORDER_REJECTED,  # Price is out of the range defined by the Percentage setting
    110: ORDER_REJECTED,  # The price does not conform to the minimum price variation
    111: ORDER_REJECTED,  # The TIF and the order type are incompatible
    113: ORDER_REJECTED,  # The TIF should be DAY for MOC and LOC orders
    116: ORDER_REJECTED,  # Invalid exchange for this order
    135: ORDER_CANCEL_REJECTED,  # Can't find order with id
    161: ORDER_CANCEL_REJECTED,  # Cancel attempted when order is not in a cancellable state
    201: ORDER_REJECTED,  # Order rejected - reason: ...
    202: ORDER_CANCELLED,  # Order cancelled - reason: ...
    203: ORDER_REJECTED,  # The security is not available or allowed for this account
    382: ORDER_REJECTED,  # The size of the order exceeds the maximum
    383: ORDER_REJECTED,  # The size of the order is below the minimum
    387: ORDER_REJECTED,  # Unsupported order type for this exchange and security type
    388: ORDER_REJECTED,  # Order size x is smaller than the minimum required size
    434: ORDER_REJECTED,  # The order size cannot be zero
    10147: ORDER_CANCEL_REJECTED,  # OrderId that needs to be cancelled is not found
    10148: ORDER_CANCEL_REJECTED,  # OrderId that needs to be cancelled cannot be cancelled
    10149: ORDER_CANCEL_REJECTED,  # Invalid order id to cancel
    10289: ORDER_REJECTED,  # Order is not allowed: the order's price or size is invalid
    10293: ORDER_REJECTED,  # Exceeds the order quantity limit
}

_INFO: Final = frozenset({165})  # "Historical Market Data Service query message"
_WARNINGS: Final = frozenset(
    {
        399,  # Order message: a warning about an accepted order (e.g. held until open)
        404,  # Shares not available for short sale: the order is held, not rejected
        2109,  # Order event warning: outside RTH attribute ignored
        2137,  # Cross-side warning
        2176,  # Fractional shares warning
        10090,  # Part of requested market data is not subscribed: the rest flows
        10091,  # Part of requested market data requires an additional API subscription
        10167,  # Requested market data is not subscribed. Displaying delayed market data
    }
)
_REQUEST_FAILURES: Final = frozenset(
    {
        100,  # Max rate of messages per second has been exceeded
        101,  # Max number of tickers has been reached
        102,  # Duplicate ticker id
        162,  # Historical market data service error (incl. pacing violations)
        166,  # HMDS expired contract violation
        200,  # No security definition has been found for the request
        300,  # Can't find EId with ticker id
        309,  # Max number (3) of market depth requests has been reached
        310,  # Can't find the subscribed market depth with ticker id
        321,  # Error validating request
        322,  # Error processing request (e.g. duplicate id)
        354,  # Requested market data is not subscribed
        366,  # No historical data query found for ticker id
        503,  # The TWS is out of date: ibapi's refusal of a request the server cannot serve
        420,  # Invalid real-time query (incl. real-time bar pacing)
        430,  # Fundamentals data is not available for this security
        10089,  # Requested market data requires additional subscription for API
        10168,  # Requested market data is not subscribed. Delayed market data is not enabled
        10182,  # Failed to request live updates (disconnected)
        10186,  # Requested market data is not subscribed. Delayed market data is not enabled
        10187,  # Failed to request historical ticks
        10189,  # Failed to request tick-by-tick data
        10190,  # Max number of tick-by-tick requests has been reached
        10197,  # No market data during competing live session
        10225,  # Bust event occurred, current subscription is deactivated
    }
)
_CONNECTIVITY: Final = frozenset(
    {
        CONNECTIVITY_LOST,
        CONNECTIVITY_RESTORED_DATA_LOST,
        CONNECTIVITY_RESTORED_DATA_KEPT,
        SOCKET_PORT_RESET,
        TWS_TO_SERVER_BROKEN,
        CLIENT_ID_IN_USE,
        502,  # Couldn't connect to TWS
        NOT_CONNECTED,
        507,  # Bad message length
        509,  # Exception caught while reading socket
        520,  # Failed to create socket
    }
)

NO_PERMISSION_CODES: Final = frozenset({354, 10089, 10168, 10186, 10197})
PACING_CODES: Final = frozenset({100, 162, 420})


def classify(code: int) -> ErrorKind:
    """What an error code means, whatever request it names."""
    if code in FARM_CODES:
        return ErrorKind.FARM_STATUS
    if code in _CONNECTIVITY:
        return ErrorKind.CONNECTIVITY
    if code in _INFO:
        return ErrorKind.INFO
    if code in _WARNINGS or 2100 <= code < 2200:
        return ErrorKind.WARNING
    if code in ORDER_CODES:
        return ErrorKind.ORDER
    return ErrorKind.REQUEST_FAILED  # includes _REQUEST_FAILURES and unknown codes


def order_effect(code: int, pending_action: str | None) -> OrderEffect:
    """What an error about an order does to it. Codes the table does not know are read
    by what was last asked of the order: a refused cancel or modify leaves it alive."""
    if (effect := ORDER_CODES.get(code)) is not None:
        return effect
    if pending_action == "cancel":
        return ORDER_CANCEL_REJECTED
    if pending_action == "modify":
        return ORDER_MODIFY_REJECTED
    return ORDER_REJECTED


# -- exceptions ---------------------------------------------------------------------------


class IBError(Exception):
    """An error IB reported, with its code and text (``str(e)`` shows both)."""

    def __init__(self, code: int, message: str, req_id: int = -1, advanced: str = "") -> None:
        super().__init__(
            f"IB error {code}: {message}" + (f" (req {req_id})" if req_id >= 0 else "")
        )
        self.code = code
        self.message = message
        self.req_id = req_id
        self.advanced = advanced  # advancedOrderRejectJson, when IB sends one


class IBRequestError(IBError):
    """A request failed at IB; raised by the awaitable that made it."""


class IBNoSecurityDefinition(IBRequestError):
    """Error 200: nothing matches the contract asked for."""


class IBNoPermissions(IBRequestError):
    """The account lacks the market data subscription (354, 10089, 10168, 10186, 10197)."""


class IBPacingViolation(IBRequestError):
    """IB refused a request for pacing (162 "pacing violation", 420 pacing, 100)."""


def request_error(code: int, message: str, req_id: int = -1, advanced: str = "") -> IBRequestError:
    """The most specific exception for a request that failed with ``code``."""
    cls: type[IBRequestError] = IBRequestError
    if code == 200:
        cls = IBNoSecurityDefinition
    elif code in NO_PERMISSION_CODES:
        cls = IBNoPermissions
    elif code == 100 or (code in PACING_CODES and "pacing" in message.lower()):
        cls = IBPacingViolation
    return cls(code, message, req_id, advanced)


class IBConnectionError(ConnectionError):
    """The connection to TWS/Gateway failed, was lost, or is not there."""


class IBClientIdInUse(IBConnectionError):
    """Error 326: another session holds this client id."""

    code = CLIENT_ID_IN_USE


class IBRequestTimeout(TimeoutError):
    """A request got no complete answer in time; it was cancelled at IB where possible."""
