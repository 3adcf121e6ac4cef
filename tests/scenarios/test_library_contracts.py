"""scenarios/contracts/*: each shipped contract scenario against real clients over TCP."""

from __future__ import annotations

import pytest
from ib_async import IB, ContFuture, Option, StartupFetchNONE, Stock
from ibapi.contract import Contract as IbContract

from tests.scenarios.support import served, stock

TIMEOUT = 5.0
AAPL_CON_ID = 265598


def test_option_chain():
    with served("contracts/option_chain") as run:
        client = run.ibapi(1)
        client.reqSecDefOptParams(1, "AAPL", "", "STK", AAPL_CON_ID)
        client.wait_for(lambda: client.named("securityDefinitionOptionParameterEnd"))
        chains = client.named("securityDefinitionOptionParameter")
        smart = next(c for c in chains if c[1] == "SMART")
        _, _, under, trading_class, multiplier, expirations, strikes = smart
        assert (under, trading_class, multiplier) == (AAPL_CON_ID, "AAPL", "100")
        assert min(strikes) < 150 < max(strikes)  # strikes around the scenario's price
        expiry = sorted(expirations)[0]
        strike = min(strikes, key=lambda k: abs(k - 150))
        option = IbContract()
        option.symbol, option.secType, option.exchange, option.currency = (
            "AAPL",
            "OPT",
            "SMART",
            "USD",
        )
        option.lastTradeDateOrContractMonth, option.strike, option.right = expiry, strike, "C"
        client.reqContractDetails(2, option)
        client.wait_for(lambda: client.named("contractDetailsEnd"))
        [(_, details)] = client.named("contractDetails")
        assert details.contract.multiplier == "100"
        assert details.contract.localSymbol.startswith("AAPL  " + expiry[2:])
        assert details.underConId == AAPL_CON_ID


@pytest.mark.asyncio
async def test_option_chain_ib_async():
    with served("contracts/option_chain") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            chains = await ib.reqSecDefOptParamsAsync("AAPL", "", "STK", aapl.conId)
            chain = next(c for c in chains if c.exchange == "SMART")
            expiry = sorted(chain.expirations)[0]
            strike = min(chain.strikes, key=lambda k: abs(k - 150))
            [put] = await ib.qualifyContractsAsync(Option("AAPL", expiry, strike, "P", "SMART"))
            assert put.conId and put.multiplier == "100"
        finally:
            ib.disconnect()


def future(sec_type: str = "FUT") -> IbContract:
    contract = IbContract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = (
        "ES",
        sec_type,
        "CME",
        "USD",
    )
    return contract


def test_futures_roll():
    with served("contracts/futures_roll") as run:
        client = run.ibapi(1)
        client.reqContractDetails(1, future())
        client.wait_for(lambda: client.named("contractDetailsEnd"))
        months = [d.contract.localSymbol for _, d in client.named("contractDetails")]
        assert months[:2] == ["ESH6", "ESM6"]
        client.reqContractDetails(2, future("CONTFUT"))
        client.wait_for(lambda: len(client.named("contractDetailsEnd")) == 2)
        front = [d for r, d in client.named("contractDetails") if r == 2]
        assert [d.contract.localSymbol for d in front] == ["ESH6"]
        run.advance(7 * 86400)  # past Friday's expiry
        client.reqContractDetails(3, future("CONTFUT"))
        client.wait_for(lambda: len(client.named("contractDetailsEnd")) == 3)
        rolled = [d for r, d in client.named("contractDetails") if r == 3]
        assert [d.contract.localSymbol for d in rolled] == ["ESM6"]


@pytest.mark.asyncio
async def test_futures_roll_ib_async():
    with served("contracts/futures_roll") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            [front] = await ib.qualifyContractsAsync(ContFuture("ES", "CME"))
            assert front.lastTradeDateOrContractMonth.startswith("202603")
        finally:
            ib.disconnect()


def test_bond_by_isin():
    with served("contracts/bond_by_isin") as run:
        client = run.ibapi(1)
        bond = IbContract()
        bond.secIdType, bond.secId, bond.secType = "ISIN", "US037833DX52", "BOND"
        client.reqContractDetails(1, bond)
        client.wait_for(lambda: client.named("contractDetailsEnd"))
        [(req_id, details)] = client.named("bondContractDetails")
        assert req_id == 1
        assert (details.cusip, details.coupon, details.maturity) == ("037833DX5", 2.2, "20290911")
        # (ib_async 2.1.0 cannot read this message: it types the coupon as an int, so a
        # real 2.2% coupon fails its decoder too; hence no ib_async test here.)


def test_unknown_symbol():
    with served("contracts/unknown_symbol") as run:
        client = run.ibapi(1)
        client.reqContractDetails(4, stock("NOPE"))
        client.wait_for(lambda: client.errors())
        assert client.errors() == [
            (4, 200, "No security definition has been found for the request")
        ]
        client.reqContractDetails(5, stock("MSFT"))  # others as usual
        client.wait_for(lambda: client.named("contractDetailsEnd"))
