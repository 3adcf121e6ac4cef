"""Requests in flight and live subscriptions, by IB request id.

A ``Request`` is a question with one answer (contract details, historical bars): the
caller awaits its future. A ``Subscription`` is a stream (ticks, bars, account
summary): IB pushes messages under its id until it is cancelled, and after a reconnect
the client sends it again under the same id.

Both are also found by ``key``: what was asked, e.g. ``("positions",)``. IB answers a few
requests without an id (positions, open orders, completed orders); those are found by
key alone, and two callers asking the same thing share one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Send = Callable[[int], Awaitable[None] | None]  # (re)sends the IB request under a req id


@dataclass(eq=False)
class Request:
    req_id: int
    key: Hashable
    future: asyncio.Future
    cancel: Callable[[int], None] | None = None  # tells IB to stop, when abandoned
    results: list[Any] = field(default_factory=list)
    waiters: int = 0  # callers awaiting it; abandoned when the last one gives up

    def __repr__(self) -> str:
        return f"Request({self.req_id}, {self.key!r})"


@dataclass(eq=False)
class Subscription:
    req_id: int
    key: Hashable
    subscribe: Send  # sends the IB request; called again after a reconnect
    cancel: Callable[[int], None]  # sends the IB cancel
    handler: Callable[[Any], None]  # receives every event of the stream
    on_error: Callable[[Exception], None] | None = None  # told when IB ends the stream

    def __repr__(self) -> str:
        return f"Subscription({self.req_id}, {self.key!r})"


T = TypeVar("T", Request, Subscription)


class Registry(Generic[T]):
    """Items by request id and by key."""

    def __init__(self) -> None:
        self._by_id: dict[int, T] = {}
        self._by_key: dict[Hashable, T] = {}

    def add(self, item: T) -> T:
        if item.req_id in self._by_id:
            raise KeyError(f"request id {item.req_id} is in use by {self._by_id[item.req_id]}")
        if item.key in self._by_key:
            raise KeyError(f"{item.key!r} is already registered: {self._by_key[item.key]}")
        self._by_id[item.req_id] = item
        self._by_key[item.key] = item
        return item

    def get(self, req_id: int) -> T | None:
        return self._by_id.get(req_id)

    def by_key(self, key: Hashable) -> T | None:
        return self._by_key.get(key)

    def remove(self, item: T) -> None:
        if self._by_id.get(item.req_id) is item:
            del self._by_id[item.req_id]
        if self._by_key.get(item.key) is item:
            del self._by_key[item.key]

    def __contains__(self, req_id: object) -> bool:
        return req_id in self._by_id

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)


class Requests(Registry[Request]):
    def finish(self, req_id: int, value: Any = None) -> None:
        """Answer the request: ``value``, or the results collected so far."""
        if (request := self.get(req_id)) is None:
            return
        self.remove(request)
        if not request.future.done():
            request.future.set_result(request.results if value is None else value)

    def fail(self, req_id: int, error: BaseException) -> None:
        if (request := self.get(req_id)) is None:
            return
        self.remove(request)
        if not request.future.done():
            request.future.set_exception(error)

    def fail_all(self, error: BaseException) -> None:
        for request in self:
            self.fail(request.req_id, error)


class Subscriptions(Registry[Subscription]):
    pass
