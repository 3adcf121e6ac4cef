"""The ibapi ``EWrapper`` of the client: every callback goes to ``client._on_<name>``.

ibapi's decoder calls the wrapper once per decoded message (``contractDetails(reqId,
details)``, ``error(reqId, code, text)`` ...). This wrapper forwards each call to the
client method of the same name with an ``_on_`` prefix (``_on_contractDetails``), which
the mixins define; a callback no mixin handles is logged at debug level and dropped.
To find who handles a message, grep for ``_on_<ibapi callback name>``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ibapi.wrapper import EWrapper


class ClientWrapper(EWrapper):
    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client

    def _forward(self, name: str, args: tuple[Any, ...]) -> None:
        self._client._on_callback(name, args)


def _forwarder(name: str) -> Callable[..., None]:
    def forward(self: ClientWrapper, *args: Any) -> None:
        self._forward(name, args)

    forward.__name__ = name
    forward.__qualname__ = f"ClientWrapper.{name}"
    return forward


CALLBACKS: frozenset[str] = frozenset(
    name
    for name, _ in inspect.getmembers(EWrapper, inspect.isfunction)
    if not name.startswith("_") and name != "logAnswer"
)

for _name in CALLBACKS:
    setattr(ClientWrapper, _name, _forwarder(_name))
