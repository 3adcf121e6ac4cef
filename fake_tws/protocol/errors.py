"""Typed protocol errors. Each one says what was wrong and where."""


class ProtocolError(Exception):
    """Base class: the peer sent something that is not valid TWS API traffic.

    When `ServerConnection.receive_data` raises it, `events` holds what the same bytes
    held before the break (requests that arrived whole before an oversized frame): the
    connection takes no more data but can still send, so a server answers them, then
    closes."""

    events: tuple = ()


class FrameTooLarge(ProtocolError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit


class MalformedFrame(ProtocolError):
    """The frame's payload is not a sequence of NUL-terminated text fields."""


class HandshakeError(ProtocolError):
    """The connection did not start with a valid `API\\0` + version-range greeting."""


class NoCommonVersion(HandshakeError):
    def __init__(self, client_min: int, client_max: int, server_min: int, server_max: int):
        super().__init__(
            f"client supports v{client_min}..{client_max} but this server supports "
            f"v{server_min}..{server_max}: no common version"
        )
        self.client_min, self.client_max = client_min, client_max
        self.server_min, self.server_max = server_min, server_max


class UnknownMessageId(ProtocolError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"unknown message id {message_id!r}")
        self.message_id = message_id


class BadField(ProtocolError):
    """A field is missing or cannot be parsed as the type the layout requires."""

    def __init__(self, message: str, field: str, index: int, problem: str) -> None:
        super().__init__(f"{message}: field #{index} {field!r}: {problem}")
        self.message = message
        self.field = field
        self.index = index
        self.problem = problem


class TrailingFields(ProtocolError):
    def __init__(self, message: str, extra: int) -> None:
        super().__init__(f"{message}: {extra} unexpected trailing field(s)")
        self.message = message
        self.extra = extra
