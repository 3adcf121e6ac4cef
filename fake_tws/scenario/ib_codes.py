"""IB error/notice codes that scenario actions produce, with the texts IB sends.

Actions name a code; when a scenario gives no text, the engine sends the one IB uses,
so clients that parse the text (some do, e.g. farm names after the colon) see the
real shape.
"""

from __future__ import annotations

from typing import Literal

FarmKind = Literal["market_data", "hmds", "secdef"]
FarmState = Literal["ok", "broken", "inactive"]

# (kind, state) -> (code, text template). Sec-def farms have no "inactive" notice.
FARM_STATUS: dict[tuple[str, str], tuple[int, str]] = {
    ("market_data", "ok"): (2104, "Market data farm connection is OK:{farm}"),
    ("market_data", "broken"): (2103, "Market data farm connection is broken:{farm}"),
    ("market_data", "inactive"): (
        2108,
        "Market data farm connection is inactive but should be available upon demand.{farm}",
    ),
    ("hmds", "ok"): (2106, "HMDS data farm connection is OK:{farm}"),
    ("hmds", "broken"): (2105, "HMDS data farm connection is broken:{farm}"),
    ("hmds", "inactive"): (
        2107,
        "HMDS data farm connection is inactive but should be available upon demand.{farm}",
    ),
    ("secdef", "ok"): (2158, "Sec-def data farm connection is OK:{farm}"),
    ("secdef", "broken"): (2157, "Sec-def data farm connection is broken:{farm}"),
}

DEFAULT_TEXTS: dict[int, str] = {
    100: "Max rate of messages per second has been exceeded:max={max} rec={received} (1)",
    103: "Duplicate order id",
    161: "Cancel attempted when order is not in a cancellable state.",
    162: "Historical Market Data Service error message:Historical data request pacing violation",
    200: "No security definition has been found for the request",
    201: "Order rejected - reason:",
    202: "Order Canceled - reason:",
    321: "Error validating request.",
    322: "Error processing request.",
    326: "Unable to connect as the client id is already in use. Retry with a unique client id.",
    354: "Requested market data is not subscribed.",
    366: "No historical data query found for ticker id:",
    504: "Not connected",
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2110: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
    10089: "Requested market data requires additional subscription for API. See link in "
    "'Market Data Connections' dialog for more details.",
    10090: "Part of requested market data is not subscribed. Subscription-independent ticks "
    "are still active.Delayed market data is available.",
    10147: "OrderId {orderId} that needs to be cancelled is not found.",
    10167: "Requested market data is not subscribed. Displaying delayed market data.",
    10197: "No market data during competing live session",
}
DEFAULT_TEXTS.update({code: text for code, text in FARM_STATUS.values()})


def default_text(code: int) -> str:
    """IB's text for a code (templates keep their {placeholders}), or a generic one."""
    return DEFAULT_TEXTS.get(code, f"Error {code}")


def farm_kind(farm: str) -> FarmKind:
    """Which kind of farm a name denotes, the way IB names them (usfarm, ushmds, secdefnj)."""
    name = farm.lower()
    if "hmds" in name:
        return "hmds"
    if name.startswith("secdef"):
        return "secdef"
    return "market_data"


def farm_status(kind: str, state: str, farm: str) -> tuple[int, str]:
    """The (code, text) IB sends for a farm of `kind` entering `state`."""
    code, template = FARM_STATUS[(kind, state)]
    return code, template.format(farm=farm)
