"""Text-protocol codec: payload bytes <-> typed messages at a negotiated server version.

Server versions up to 187 use NUL-separated text fields throughout. (Versions 201+ move
some families to protobuf; such a codec would sit beside this one behind the same two
functions, and nothing above the protocol layer would change.)
"""

from __future__ import annotations

from . import versions as V
from .errors import MalformedFrame, ProtocolError, UnknownMessageId
from .fields import FieldReader, FieldWriter
from .framing import frame, split_fields
from .messages import Request, Response
from .table import REQUEST_TYPES, RESPONSE_IDS


class VersionTooLow(ProtocolError):
    def __init__(self, message: str, needed: int, version: int) -> None:
        super().__init__(f"{message} needs server version {needed}, connection has {version}")
        self.needed = needed


def request_id_of(fields: list[bytes]) -> str:
    return fields[0].decode(errors="replace") if fields else ""


def decode_request(payload: bytes, version: int) -> Request:
    """Decode one client message. Raises a ProtocolError subclass that says what was wrong."""
    fields: list[str] | list[bytes]
    try:
        # One decode for the whole payload; split_fields checks the framing first.
        fields = payload[:-1].decode().split("\0") if payload[-1:] == b"\0" else []
    except UnicodeDecodeError:
        fields = []  # per-field bytes: the reader names the field that is not UTF-8
    if not fields:
        fields = split_fields(payload)
    raw_id = fields[0]
    try:
        msg_id = int(raw_id)
    except ValueError:
        raise MalformedFrame(f"message id {raw_id!r} is not a number") from None
    cls = REQUEST_TYPES.get(msg_id)
    if cls is None:
        raise UnknownMessageId(raw_id if isinstance(raw_id, str) else raw_id.decode("latin-1"))
    reader = FieldReader(fields, cls.api_name)
    message = cls.decode(reader, version)
    reader.finish()
    return message


def _ascii7(text: str) -> str:
    # From ENCODE_MSG_ASCII7 on, clients decode text with `unicode-escape`.
    return text.encode("ascii", "backslashreplace").decode("ascii")


def response_fields(message: Response, version: int) -> list[str]:
    """The text fields of a response, message id first."""
    if version < message.min_version:
        raise VersionTooLow(message.api_name, message.min_version, version)
    w = FieldWriter()
    w.int(RESPONSE_IDS[type(message)])
    message.encode(w, version)
    fields = w.fields()
    if version >= V.ENCODE_MSG_ASCII7 and not "".join(fields).isascii():
        fields = [f if f.isascii() else _ascii7(f) for f in fields]
    return fields


def encode_response(message: Response, version: int) -> bytes:
    """A complete frame (length prefix included) for one response."""
    if version < message.min_version:
        raise VersionTooLow(message.api_name, message.min_version, version)
    w = FieldWriter()
    w.int(RESPONSE_IDS[type(message)])
    message.encode(w, version)
    text = "\0".join(w.fields()) + "\0"
    if version >= V.ENCODE_MSG_ASCII7 and not text.isascii():
        text = _ascii7(text)  # NUL separators are ASCII, so escaping the whole is the same
    return frame(text.encode())
