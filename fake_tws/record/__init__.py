"""Recording a real TWS / IB Gateway conversation as a scenario, and replaying it.

    fake-tws record --upstream 127.0.0.1:4002 --listen 7490 --out session.yaml
    fake-tws replay session.yaml --port 7497

`proxy` is the pass-through proxy (bytes forwarded unchanged), `capture` reads a copy of
both directions with our codec, `writer` turns the conversation into a scenario file
(`sanitize` replaces account, perm and exec ids and order refs; `layouts` says where
fields sit in a response, since fake-tws has no response decoders), `replay` reports a
replay's progress; the scenario engine does the replaying.
"""

from .capture import ClientFrame, Closed, ConnectionCapture, ServerFrame
from .proxy import Recorder, RecorderThread, UpstreamUnreachable, parse_upstream
from .writer import Summary, WriterOptions, render

__all__ = [
    "ClientFrame",
    "Closed",
    "ConnectionCapture",
    "Recorder",
    "RecorderThread",
    "ServerFrame",
    "Summary",
    "UpstreamUnreachable",
    "WriterOptions",
    "parse_upstream",
    "render",
]
