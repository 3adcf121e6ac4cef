"""The conformance checklist: what every client library must be able to do against fake-tws.

A conformance test names the client it drives and the item it proves:

    @pytest.mark.conformance(client="ib_async", item="quotes")
    async def test_ib_async_tickers_move_with_the_clock(...): ...

A test may carry several markers (one test resolving five contract types counts for five
items). `python -m tests.conformance.table` runs every marked test and prints which
client passes which item; a known bug of a client is an `xfail(strict=True)` whose
reason is shown as the cell's note.
"""

from __future__ import annotations

CLIENTS: dict[str, str] = {
    "ibapi": "ibapi 10.30.1",
    "ib_async": "ib_async 2.1.0",
    "nautilus": "NautilusTrader 1.221.0 IB adapter",
}

# In the order the table lists them.
ITEMS: dict[str, str] = {
    "connect": "Connect (handshake, managed accounts, next order id)",
    "contracts.stk": "Contract details: STK (SPY, AAPL)",
    "contracts.bond": "Contract details: BOND by ISIN",
    "contracts.opt": "Contract details: OPT",
    "contracts.fut": "Contract details: FUT and CONTFUT (ES)",
    "contracts.cash": "Contract details: CASH (EUR.GBP)",
    "contracts.crypto": "Contract details: CRYPTO (ETH on PAXOS)",
    "contracts.cfd": "Contract details: CFD (IBUS30)",
    "quotes": "Streaming quotes",
    "historical_bars": "Historical bars",
    "historical_ticks": "Historical ticks",
    "revised_bars": "Bars kept up to date (revised bars)",
    "orders": "Market and limit orders with partial fills",
    "positions": "Positions",
    "account_summary": "Account summary and balances",
    "reconnect": "Reconnect after a server-side disconnect",
}


def check(client: str, item: str) -> None:
    """Raise ValueError unless (client, item) names a checklist cell."""
    if client not in CLIENTS:
        raise ValueError(f"unknown conformance client {client!r}; one of {sorted(CLIENTS)}")
    if item not in ITEMS:
        raise ValueError(f"unknown conformance item {item!r}; one of {list(ITEMS)}")
