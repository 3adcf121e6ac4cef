"""Contract details, chains and symbol search, answered by a scripted fake-tws."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from adapter.client import (
    IBConnectionError,
    IBNoSecurityDefinition,
    IBRequestError,
    IBRequestTimeout,
    OptionChain,
)
from adapter.common import IBContract, IBContractDetails
from fake_tws.ibtypes import Contract, ContractDescription
from fake_tws.ibtypes import ContractDetails as Details
from fake_tws.protocol.requests.contracts import (
    ReqContractDetails,
    ReqMatchingSymbols,
    ReqSecDefOptParams,
)
from fake_tws.protocol.responses.contracts import (
    ContractDetails,
    ContractDetailsEnd,
    SecurityDefinitionOptionParameter,
    SecurityDefinitionOptionParameterEnd,
    SymbolSamples,
)

NO_DEFINITION = "No security definition has been found for the request"
AAPL = Contract(
    conId=265598,
    symbol="AAPL",
    secType="STK",
    exchange="SMART",
    primaryExchange="NASDAQ",
    currency="USD",
    localSymbol="AAPL",
    tradingClass="NMS",
)
AAPL_DETAILS = Details(
    contract=AAPL,
    marketName="NMS",
    minTick=0.01,
    longName="APPLE INC",
    timeZoneId="US/Eastern",
    minSize=Decimal("0.0001"),
    sizeIncrement=Decimal("0.0001"),
)


def option(con_id: int, strike: float, under_con_id: int) -> Details:
    contract = Contract(
        conId=con_id,
        symbol="AAPL",
        secType="OPT",
        lastTradeDateOrContractMonth="20260116",
        strike=strike,
        right="C",
        multiplier="100",
        exchange="SMART",
        currency="USD",
    )
    return Details(contract=contract, minTick=0.01, underConId=under_con_id)


def answer_details(*details: Details):
    def handle(session, request: ReqContractDetails) -> None:
        for d in details:
            session.send(ContractDetails(reqId=request.reqId, contractDetails=d))
        session.send(ContractDetailsEnd(reqId=request.reqId))

    return handle


@pytest.mark.asyncio
async def test_contract_details_are_returned_as_our_structs(connect, gateway):
    gateway.on(ReqContractDetails)(answer_details(AAPL_DETAILS))
    client = await connect()

    query = IBContract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD")
    [details] = await client.get_contract_details(query)

    assert isinstance(details, IBContractDetails)
    contract = details.contract
    assert isinstance(contract, IBContract)
    assert (contract.conId, contract.symbol, contract.secType, contract.primaryExchange) == (
        265598,
        "AAPL",
        "STK",
        "NASDAQ",
    )
    assert (details.longName, details.minTick, details.sizeIncrement) == (
        "APPLE INC",
        0.01,
        Decimal("0.0001"),
    )
    [request] = await gateway.requests_of(ReqContractDetails)
    assert (request.contract.symbol, request.contract.secType) == ("AAPL", "STK")


@pytest.mark.asyncio
async def test_unknown_contract_raises_error_200(connect, gateway):
    gateway.on(ReqContractDetails)(lambda s, r: s.error(r.reqId, 200, NO_DEFINITION))
    client = await connect()

    with pytest.raises(IBNoSecurityDefinition) as raised:
        await client.get_contract_details(IBContract(secType="STK", symbol="NOPE"))

    [request] = await gateway.requests_of(ReqContractDetails)
    assert (raised.value.code, raised.value.message, raised.value.req_id) == (
        200,
        NO_DEFINITION,
        request.reqId,
    )
    assert isinstance(raised.value, IBRequestError)
    assert not client._requests


@pytest.mark.asyncio
async def test_identical_requests_in_flight_share_one_ib_request(connect, gateway):
    sessions = []
    gateway.on(ReqContractDetails)(lambda session, request: sessions.append(session))
    client = await connect()
    query = IBContract(secType="STK", symbol="AAPL")

    first = asyncio.ensure_future(client.get_contract_details(query))
    second = asyncio.ensure_future(client.get_contract_details(query))
    [request] = await gateway.requests_of(ReqContractDetails)
    await asyncio.sleep(0)  # let the second caller reach its wait
    gateway.thread.run_sync(answer_details(AAPL_DETAILS), sessions[0], request)

    assert await first == await second
    assert len(await first) == 1
    assert len(gateway.requests) == 1


@pytest.mark.asyncio
async def test_a_request_without_answer_times_out_and_a_late_answer_is_ignored(connect, gateway):
    sessions = []
    gateway.on(ReqContractDetails)(lambda session, request: sessions.append(session))
    client = await connect()

    with pytest.raises(IBRequestTimeout, match=r"within 0\.05s"):
        await client.get_contract_details(IBContract(symbol="AAPL"), timeout=0.05)
    assert not client._requests

    [request] = await gateway.requests_of(ReqContractDetails)
    gateway.thread.run_sync(answer_details(AAPL_DETAILS), sessions[0], request)
    gateway.on(ReqContractDetails)(answer_details(AAPL_DETAILS))
    assert len(await client.get_contract_details(IBContract(symbol="MSFT"))) == 1


@pytest.mark.asyncio
async def test_a_disconnect_mid_request_fails_it(connect, gateway):
    gateway.on(ReqContractDetails)(lambda session, request: session.close("gateway restart"))
    client = await connect()
    with pytest.raises(IBConnectionError, match="lost"):
        await client.get_contract_details(IBContract(symbol="AAPL"))


@pytest.mark.asyncio
async def test_option_chains_look_up_the_underlying_con_id_first(connect, gateway):
    gateway.on(ReqContractDetails)(answer_details(AAPL_DETAILS))

    @gateway.on(ReqSecDefOptParams)
    def answer_chains(session, request: ReqSecDefOptParams) -> None:
        for exchange in ("SMART", "CBOE"):
            session.send(
                SecurityDefinitionOptionParameter(
                    reqId=request.reqId,
                    exchange=exchange,
                    underlyingConId=request.underlyingConId,
                    tradingClass="AAPL",
                    multiplier="100",
                    expirations=("20260116", "20260220"),
                    strikes=(190.0, 200.0),
                ),
            )
        session.send(SecurityDefinitionOptionParameterEnd(reqId=request.reqId))

    client = await connect()
    chains = await client.get_option_chains(IBContract(secType="STK", symbol="AAPL"))

    [request] = await gateway.requests_of(ReqSecDefOptParams)
    assert (request.underlyingSymbol, request.underlyingSecType, request.underlyingConId) == (
        "AAPL",
        "STK",
        265598,
    )
    assert request.futFopExchange == ""
    assert {c.exchange for c in chains} == {"SMART", "CBOE"}
    assert chains[0] == OptionChain(
        exchange=chains[0].exchange,
        underlying_con_id=265598,
        trading_class="AAPL",
        multiplier="100",
        expirations=frozenset({"20260116", "20260220"}),
        strikes=frozenset({190.0, 200.0}),
    )
    cboe = await client.get_option_chains(IBContract(secType="STK", symbol="AAPL", conId=1), "CBOE")
    assert [c.exchange for c in cboe] == ["CBOE"]


@pytest.mark.asyncio
async def test_option_chain_of_an_ambiguous_underlying_is_refused(connect, gateway):
    other = Details(contract=Contract(conId=1, symbol="AAPL", secType="STK", exchange="MEXI"))
    gateway.on(ReqContractDetails)(answer_details(AAPL_DETAILS, other))
    client = await connect()
    with pytest.raises(ValueError, match="matches 2 contracts"):
        await client.get_option_chains(IBContract(secType="STK", symbol="AAPL"))


@pytest.mark.asyncio
async def test_option_chain_details_keep_options_on_the_underlying(connect, gateway):
    gateway.on(ReqContractDetails)(
        answer_details(option(1, 190.0, 265598), option(2, 200.0, 265598), option(3, 5.0, 999)),
    )
    client = await connect()
    underlying = IBContract(secType="STK", symbol="AAPL", conId=265598, currency="USD")

    details = await client.get_option_chain_details(underlying, "20260116")

    assert [d.contract.conId for d in details] == [1, 2]
    [request] = await gateway.requests_of(ReqContractDetails)
    assert (request.contract.secType, request.contract.lastTradeDateOrContractMonth) == (
        "OPT",
        "20260116",
    )
    assert request.contract.exchange == "SMART"


@pytest.mark.asyncio
async def test_future_chain_details_ask_for_every_future_of_the_symbol(connect, gateway):
    es = Details(contract=Contract(conId=5, symbol="ES", secType="FUT", exchange="CME"))
    gateway.on(ReqContractDetails)(answer_details(es))
    client = await connect()

    details = await client.get_future_chain_details(
        IBContract(secType="CONTFUT", symbol="ES", exchange="CME", currency="USD"),
        include_expired=True,
    )

    assert [d.contract.conId for d in details] == [5]
    [request] = await gateway.requests_of(ReqContractDetails)
    assert (request.contract.secType, request.contract.symbol, request.contract.exchange) == (
        "FUT",
        "ES",
        "CME",
    )
    assert request.contract.includeExpired is True


@pytest.mark.asyncio
async def test_matching_symbols(connect, gateway):
    @gateway.on(ReqMatchingSymbols)
    def samples(session, request: ReqMatchingSymbols) -> None:
        session.send(
            SymbolSamples(
                reqId=request.reqId,
                contractDescriptions=(
                    ContractDescription(contract=AAPL, derivativeSecTypes=("OPT",)),
                ),
            ),
        )

    client = await connect()
    [contract] = await client.get_matching_contracts("AAP")
    assert (contract.conId, contract.symbol, contract.primaryExchange) == (265598, "AAPL", "NASDAQ")
    [request] = await gateway.requests_of(ReqMatchingSymbols)
    assert request.pattern == "AAP"


@pytest.mark.asyncio
async def test_matching_symbols_are_spaced_a_second_apart(connect, gateway):
    gateway.on(ReqMatchingSymbols)(lambda s, r: s.send(SymbolSamples(reqId=r.reqId)))
    client = await connect()
    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    gate = client._matching_symbols_gate
    gate._clock, gate._sleep = (lambda: clock[0]), sleep
    assert await client.get_matching_contracts("A") == []
    assert await client.get_matching_contracts("B") == []
    assert slept == [1.0]


@pytest.mark.asyncio
async def test_a_sharer_timing_out_leaves_the_request_to_the_others(connect, gateway):
    sessions = []
    gateway.on(ReqContractDetails)(lambda session, request: sessions.append(session))
    client = await connect()
    query = IBContract(secType="STK", symbol="AAPL")

    patient = asyncio.ensure_future(client.get_contract_details(query, timeout=5))
    with pytest.raises(IBRequestTimeout):
        await client.get_contract_details(query, timeout=0.05)
    [request] = await gateway.requests_of(ReqContractDetails)
    gateway.thread.run_sync(answer_details(AAPL_DETAILS), sessions[0], request)

    assert len(await patient) == 1
    assert len(gateway.requests) == 1
