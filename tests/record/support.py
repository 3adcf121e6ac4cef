"""What the recording tests share: an ibapi client that records every callback, the
scripted conversation, and a normaliser that makes two conversations comparable whatever
ids each side used (request ids, order ids, client ids, and the sanitised account ids,
perm ids, exec ids and order refs)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ibapi.contract import Contract as IbContract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order as IbOrder
from ibapi.wrapper import EWrapper

from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York: open
ACCOUNT = "DU7654321"  # the upstream's real-looking account id
TIMEOUT = 5.0


class RecordingClient(IbapiClient):
    """IbapiClient recording every EWrapper callback as (name, args)."""


def _recorder(name: str) -> Callable[..., None]:
    def record(self: RecordingClient, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name, _fn in inspect.getmembers(EWrapper, inspect.isfunction):
    if not _name.startswith("_") and _name not in ("logAnswer", "error"):
        setattr(RecordingClient, _name, _recorder(_name))


def stock(symbol: str = "AAPL") -> IbContract:
    c = IbContract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def market_order(action: str, quantity: int, ref: str) -> IbOrder:
    o = IbOrder()
    o.action, o.totalQuantity, o.orderType, o.orderRef = action, Decimal(quantity), "MKT", ref
    return o


def converse(
    port: int,
    *,
    client_id: int = 1,
    details_id: int = 7,
    executions_id: int = 9,
    order_offset: int = 0,
    ref: str = "strategy-7:1",
) -> list[tuple[str, tuple[Any, ...]]]:
    """The scripted conversation: connect, contract details, a market order until filled
    (with its commission report), reqExecutions, disconnect. Returns every callback."""
    client = RecordingClient()
    client.open(port, client_id)
    try:
        client.wait_for_bootstrap()
        client.reqContractDetails(details_id, stock())
        client.wait_for(lambda: client.named("contractDetailsEnd"))
        [(next_id,)] = client.named("nextValidId")
        order_id = next_id + order_offset
        client.placeOrder(order_id, stock(), market_order("BUY", 100, ref))
        client.wait_for(
            lambda: (
                any(a[:2] == (order_id, "Filled") for a in client.named("orderStatus"))
                and bool(client.named("commissionReport"))
            )
        )
        client.reqExecutions(executions_id, ExecutionFilter())
        client.wait_for(lambda: client.named("execDetailsEnd"))
    finally:
        client.close()
    return list(client.calls)


# -- comparing conversations ---------------------------------------------------------------------

# Values that identify rather than describe: compared by first appearance, not by value.
ID_KINDS = {
    "reqId": "req",
    "orderId": "order",
    "clientId": "client",
    "permId": "perm",
    "execId": "exec",
    "orderRef": "ref",
    "account": "account",
    "acctNumber": "account",
    "accountName": "account",
    "accountsList": "account",
}
UNSET = (None, "", 0, -1)


def normalise(calls: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, list[Any]]]:
    tokens: dict[str, dict[Any, str]] = {}

    def token(kind: str, value: Any) -> Any:
        if value in UNSET:
            return value
        seen = tokens.setdefault(kind, {})
        return seen.setdefault(value, f"{kind}#{len(seen) + 1}")

    def walk(name: str, value: Any) -> Any:
        if type(value).__module__.startswith("ibapi.") and hasattr(value, "__dict__"):
            return {k: walk(k, v) for k, v in sorted(vars(value).items())}
        if isinstance(value, list | tuple):
            return [walk(name, v) for v in value]
        kind = ID_KINDS.get(name)
        return token(kind, value) if kind else value

    out = []
    for name, args in calls:
        if name == "nextValidId":  # what the server announces, not an order's id
            out.append((name, list(args)))
            continue
        params = list(inspect.signature(getattr(EWrapper, name)).parameters)[1:]
        out.append((name, [walk(p, a) for p, a in zip(params, args, strict=False)]))
    return out


def eventually(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)
