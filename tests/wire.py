"""Hand-built client bytes and a parser for server bytes, for tests below the real clients.

Request layouts here are the simple ones (id, version, fields) as ibapi sends them; tests
that need a complex request take ibapi's own bytes from `tests.ibapi_harness`.
"""

from __future__ import annotations

from fake_tws.protocol.framing import FrameBuffer, frame

PREFIX = b"API\0"


def greeting(lo: int = 100, hi: int = 187, options: str = "") -> bytes:
    """What a client sends first: `API\\0` and its framed version range."""
    text = f"v{lo}..{hi}" + (f" {options}" if options else "")
    return PREFIX + frame(text.encode())


def request(*fields: object) -> bytes:
    """One framed request from its fields (message id first)."""
    return frame("".join(f"{f}\0" for f in fields).encode())


def start_api(client_id: int, capabilities: str = "") -> bytes:
    return request(71, 2, client_id, capabilities)


REQ_CURRENT_TIME = request(49, 1)
REQ_MANAGED_ACCTS = request(17, 1)
REQ_POSITIONS = request(61, 1)


def req_ids(num_ids: int = 1) -> bytes:
    return request(8, 1, num_ids)


def set_server_log_level(level: int) -> bytes:
    return request(14, 1, level)


def req_market_data_type(data_type: int) -> bytes:
    return request(59, 1, data_type)


def messages(data: bytes) -> list[list[str]]:
    """Split server bytes into messages, each a list of its text fields."""
    buffer = FrameBuffer()
    payloads = buffer.feed(data)
    assert buffer.pending == 0, f"{buffer.pending} bytes of an incomplete frame"
    return [payload.decode().split("\0")[:-1] for payload in payloads]


def bootstrap(accounts: str = "DU123456", order_id: int = 1) -> list[list[str]]:
    """The messages a live Gateway sends after startApi, in its order."""
    return [
        ["15", "1", accounts],
        ["9", "1", str(order_id)],
        ["4", "2", "-1", "2104", "Market data farm connection is OK:usfarm", ""],
        ["4", "2", "-1", "2106", "HMDS data farm connection is OK:ushmds", ""],
        ["4", "2", "-1", "2158", "Sec-def data farm connection is OK:secdefnj", ""],
    ]
