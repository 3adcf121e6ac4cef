"""Contract lookups with real clients over TCP: ibapi 10.30.1 (EClient and its reader
thread) and ib_async 2.1.0 (asyncio), each resolving every documented contract type.

The server's clock is virtual and never moves here: chains are listed as of START.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from ib_async import (
    CFD,
    IB,
    Bond,
    ContFuture,
    Contract,
    Crypto,
    Forex,
    Future,
    Option,
    StartupFetchNONE,
    Stock,
)
from ibapi.contract import Contract as IbapiContract

from fake_tws.broker import WorldConfig
from fake_tws.broker.curated import BondSpec, bond
from fake_tws.clock import VirtualClock
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 6, 14, 0, tzinfo=UTC)  # a Monday, 10:00 New York
TIMEOUT = 5.0
NO_DEFINITION = "No security definition has been found for the request"
AAPL_BOND_ISIN = "US037833DX52"  # curated: Apple 2.2% 2029
# ib_async reads a bond's coupon with int(), so it drops any bond with a fractional
# coupon (every curated one); its tests use this whole-coupon bond instead.
WHOLE_COUPON_BOND = bond(
    BondSpec(
        610100099,
        "IBKR",
        "45841NAA",
        5.0,
        date(2031, 6, 1),
        date(2021, 6, 1),
        "CORP",
        "Interactive Brokers Group",
        99.0,
    )
)
WHOLE_COUPON_ISIN = "US45841NAA54"

RECORDED = (
    "contractDetails",
    "bondContractDetails",
    "contractDetailsEnd",
    "securityDefinitionOptionParameter",
    "securityDefinitionOptionParameterEnd",
    "symbolSamples",
    "marketRule",
    "familyCodes",
    "softDollarTiers",
    "userInfo",
)


class Recorder(IbapiClient):
    """IbapiClient that also records the contracts family's callbacks."""


def _recorder(name: str):
    def record(self: Recorder, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name in RECORDED:
    setattr(Recorder, _name, _recorder(_name))


@pytest.fixture(scope="module")
def server():
    world = WorldConfig(instruments=(WHOLE_COUPON_BOND,))
    with ServerThread(clock=VirtualClock(START), world=world) as gateway:
        yield gateway


@pytest.fixture
def ibapi(server):
    client = Recorder().open(server.port, 1)
    client.wait_for_bootstrap()
    yield client
    client.close()


def ibapi_contract(**fields: Any) -> IbapiContract:
    contract = IbapiContract()
    for name, value in fields.items():
        setattr(contract, name, value)
    return contract


def resolve(client: Recorder, req_id: int, **fields: Any) -> list[Any]:
    """reqContractDetails; the details (plain or bond) that came before the End."""
    client.reqContractDetails(req_id, ibapi_contract(**fields))
    client.wait_for(lambda: (req_id,) in client.named("contractDetailsEnd"))
    return [
        args[1]
        for name, args in client.calls
        if name in ("contractDetails", "bondContractDetails") and args[0] == req_id
    ]


# -- ibapi -------------------------------------------------------------------------------


@pytest.mark.conformance(client="ibapi", item="contracts.stk")
def test_ibapi_resolves_stocks_on_smart_and_their_listing_exchange(ibapi):
    cases = [
        (1, "SPY", "SMART", 756733),
        (2, "SPY", "ARCA", 756733),
        (3, "AAPL", "SMART", 265598),
        (4, "AAPL", "NASDAQ", 265598),
    ]
    for req_id, symbol, exchange, con_id in cases:
        [found] = resolve(
            ibapi, req_id, symbol=symbol, secType="STK", exchange=exchange, currency="USD"
        )
        assert (found.contract.conId, found.contract.exchange) == (con_id, exchange)
    assert found.longName == "APPLE INC" and found.contract.primaryExchange == "NASDAQ"
    assert found.timeZoneId == "US/Eastern" and "20260406:" in found.liquidHours


@pytest.mark.conformance(client="ibapi", item="contracts.bond")
def test_ibapi_resolves_a_bond_by_isin(ibapi):
    [found] = resolve(ibapi, 10, secIdType="ISIN", secId=AAPL_BOND_ISIN)
    assert ibapi.named("bondContractDetails") and not ibapi.named("contractDetails")
    assert found.contract.secType == "BOND"
    assert (found.cusip, found.coupon, found.maturity) == ("037833DX5", 2.2, "20290911")


@pytest.mark.conformance(client="ibapi", item="contracts.opt")
def test_ibapi_walks_an_option_chain_to_one_option(ibapi):
    ibapi.reqSecDefOptParams(20, "AAPL", "", "STK", 265598)
    ibapi.wait_for(lambda: ibapi.named("securityDefinitionOptionParameterEnd"))
    chains = ibapi.named("securityDefinitionOptionParameter")
    assert {c[1] for c in chains} == {"SMART", "AMEX", "BOX", "CBOE", "ISE", "PHLX"}
    _, _exchange, under_con_id, trading_class, multiplier, expirations, strikes = chains[0]
    assert (under_con_id, trading_class, multiplier) == (265598, "AAPL", "100")
    expiry, strike = sorted(expirations)[0], sorted(strikes)[len(strikes) // 2]
    [option] = resolve(
        ibapi,
        21,
        symbol="AAPL",
        secType="OPT",
        lastTradeDateOrContractMonth=expiry,
        strike=strike,
        right="C",
        exchange="SMART",
        currency="USD",
    )
    c = option.contract
    assert (c.secType, c.lastTradeDateOrContractMonth, c.strike, c.right) == (
        "OPT",
        expiry,
        strike,
        "C",
    )
    assert c.multiplier == "100" and option.underConId == 265598


@pytest.mark.conformance(client="ibapi", item="contracts.fut")
@pytest.mark.conformance(client="ibapi", item="contracts.cash")
@pytest.mark.conformance(client="ibapi", item="contracts.crypto")
@pytest.mark.conformance(client="ibapi", item="contracts.cfd")
def test_ibapi_resolves_futures_a_continuous_future_forex_crypto_and_a_cfd(ibapi):
    chain = resolve(ibapi, 30, symbol="ES", secType="FUT", exchange="CME")
    months = [d.contract.lastTradeDateOrContractMonth[:6] for d in chain]
    assert months == ["202606", "202609", "202612", "202703", "202706"]
    [front] = resolve(ibapi, 31, symbol="ES", secType="CONTFUT", exchange="CME")
    assert front.contract.secType == "CONTFUT"
    assert front.contract.conId == chain[0].contract.conId
    [fx] = resolve(ibapi, 32, symbol="EUR", secType="CASH", currency="GBP", exchange="IDEALPRO")
    assert fx.contract.localSymbol == "EUR.GBP"
    [eth] = resolve(ibapi, 33, symbol="ETH", secType="CRYPTO", currency="USD", exchange="PAXOS")
    assert eth.contract.conId == 495759171
    [cfd] = resolve(ibapi, 34, symbol="IBUS30", secType="CFD", currency="USD", exchange="SMART")
    assert cfd.contract.conId == 620730920


def test_ibapi_gets_error_200_for_an_unknown_contract(ibapi):
    ibapi.reqContractDetails(
        40, ibapi_contract(symbol="ZZZZNONE1", secType="STK", exchange="SMART", currency="USD")
    )
    assert ibapi.wait_for_error(200) == (40, 200, NO_DEFINITION)
    ibapi.reqCurrentTime()  # a later answer proves no End was sent in between
    ibapi.wait_for(lambda: ibapi.named("currentTime"))
    assert not ibapi.named("contractDetailsEnd")


def test_ibapi_one_shot_lookups(ibapi):
    ibapi.reqMatchingSymbols(50, "AAPL")
    ibapi.reqMarketRule(26)
    ibapi.reqFamilyCodes()
    ibapi.reqSoftDollarTiers(52)
    ibapi.reqUserInfo(53)
    names = ("symbolSamples", "marketRule", "familyCodes", "softDollarTiers", "userInfo")
    ibapi.wait_for(lambda: all(ibapi.named(n) for n in names))
    [(req_id, descriptions)] = ibapi.named("symbolSamples")
    assert req_id == 50 and descriptions[0].contract.conId == 265598
    [(rule_id, increments)] = ibapi.named("marketRule")
    assert rule_id == 26 and increments[0].increment == 0.01
    [(codes,)] = ibapi.named("familyCodes")
    assert [c.accountID for c in codes] == ["DU123456"]
    assert ibapi.named("softDollarTiers") == [(52, [])]
    assert ibapi.named("userInfo") == [(53, "")]
    assert [e for e in ibapi.named("error") if e[1] not in (2104, 2106, 2158)] == []


# -- ib_async ------------------------------------------------------------------------------


async def connect(server) -> IB:
    ib = IB()
    await ib.connectAsync(
        "127.0.0.1",
        server.port,
        clientId=2,
        timeout=TIMEOUT,
        readonly=True,
        fetchFields=StartupFetchNONE,
        raiseSyncErrors=True,
    )
    return ib


@pytest.mark.conformance(client="ib_async", item="contracts.stk")
@pytest.mark.conformance(client="ib_async", item="contracts.bond")
@pytest.mark.conformance(client="ib_async", item="contracts.fut")
@pytest.mark.conformance(client="ib_async", item="contracts.cash")
@pytest.mark.conformance(client="ib_async", item="contracts.crypto")
@pytest.mark.conformance(client="ib_async", item="contracts.cfd")
@pytest.mark.asyncio
async def test_ib_async_qualifies_every_contract_type(server):
    ib = await connect(server)
    try:
        contracts = [
            Stock("SPY", "SMART", "USD"),
            Stock("SPY", "ARCA", "USD"),
            Stock("AAPL", "SMART", "USD"),
            Stock("AAPL", "NASDAQ", "USD"),
            Bond(secIdType="ISIN", secId=WHOLE_COUPON_ISIN),
            CFD("IBUS30", "SMART", "USD"),
            ContFuture("ES", "CME"),
            Forex("EURGBP"),
            Crypto("ETH", "PAXOS", "USD"),
        ]
        qualified = await asyncio.wait_for(ib.qualifyContractsAsync(*contracts), TIMEOUT)
        assert [c.conId for c in qualified] == [
            756733,
            756733,
            265598,
            265598,
            610100099,
            620730920,
            qualified[6].conId,
            12087807,
            495759171,
        ]
        assert qualified[6].secType == "CONTFUT" and qualified[6].localSymbol == "ESM6"
        assert qualified[1].exchange == "ARCA" and qualified[2].exchange == "SMART"
        [bond_details] = await ib.reqContractDetailsAsync(
            Bond(secIdType="ISIN", secId=WHOLE_COUPON_ISIN)
        )
        assert (bond_details.cusip, bond_details.coupon) == ("45841NAA5", 5)
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ib_async", item="contracts.fut")
@pytest.mark.conformance(client="ib_async", item="contracts.opt")
@pytest.mark.asyncio
async def test_ib_async_futures_chain_and_option_chain(server):
    ib = await connect(server)
    try:
        chain = await asyncio.wait_for(
            ib.reqContractDetailsAsync(Future("ES", exchange="CME")), TIMEOUT
        )
        assert [d.contract.localSymbol for d in chain] == ["ESM6", "ESU6", "ESZ6", "ESH7", "ESM7"]
        params = await asyncio.wait_for(
            ib.reqSecDefOptParamsAsync("AAPL", "", "STK", 265598), TIMEOUT
        )
        smart = next(p for p in params if p.exchange == "SMART")
        assert smart.tradingClass == "AAPL" and smart.multiplier == "100"
        expiry = sorted(smart.expirations)[0]
        strike = sorted(smart.strikes)[len(smart.strikes) // 2]
        [option] = await asyncio.wait_for(
            ib.qualifyContractsAsync(Option("AAPL", expiry, strike, "P", "SMART")), TIMEOUT
        )
        assert option.conId and option.right == "P" and option.multiplier == "100"
    finally:
        ib.disconnect()


@pytest.mark.asyncio
async def test_ib_async_unknown_contract_is_error_200_and_unqualified(server):
    ib = await connect(server)
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code, text))
    try:
        result = await asyncio.wait_for(
            ib.qualifyContractsAsync(Contract(symbol="ZZZZNONE1", secType="STK", exchange="SMART")),
            TIMEOUT,
        )
        assert result == [None]
        [(req_id, code, text)] = errors
        assert (code, text) == (200, NO_DEFINITION) and req_id > 0
    finally:
        ib.disconnect()


def test_ibapi_gets_a_whole_option_chain_through_a_small_outbox():
    """~2 MB of details through a 1 MiB outbox: sent at once, the client would be cut
    off for not reading; paced, every detail arrives."""
    with ServerThread(clock=VirtualClock(START), outbox_limit=1024 * 1024) as server:
        client = Recorder().open(server.port, 3)
        try:
            client.wait_for_bootstrap()
            found = resolve(client, 60, symbol="SPY", secType="OPT", exchange="SMART")
            assert len(found) > 1500 and {d.contract.symbol for d in found} == {"SPY"}
            assert client.isConnected()
        finally:
            client.close()
