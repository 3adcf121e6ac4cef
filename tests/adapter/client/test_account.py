"""Accounts, account summary, positions and PnL against a scripted fake-tws."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ibapi.account_summary_tags import AccountSummaryTags

from adapter.client import (
    AccountValue,
    IBConnectionError,
    IBPosition,
    IBRequestError,
    IBRequestTimeout,
)
from adapter.client import PnL as PnLEvent
from adapter.client import PnLSingle as PnLSingleEvent
from fake_tws.ibtypes import Contract
from fake_tws.protocol.requests.account import (
    CancelAccountSummary,
    CancelPnL,
    CancelPositions,
    ReqAccountSummary,
    ReqPnL,
    ReqPnLSingle,
    ReqPositions,
)
from fake_tws.protocol.responses.account import (
    AccountSummary,
    AccountSummaryEnd,
    PnL,
    PnLSingle,
    Position,
    PositionEnd,
)
from tests.adapter.client.support import Events

AAPL = Contract(conId=265598, symbol="AAPL", secType="STK", exchange="NASDAQ", currency="USD")
ES = Contract(conId=495512563, symbol="ES", secType="FUT", exchange="CME", currency="USD")
ACCOUNTS = ("DU1", "DU2")


def summary(request) -> list:
    return [
        AccountSummary(
            reqId=request.reqId,
            account="DU1",
            tag="NetLiquidation",
            value="100000.5",
            currency="USD",
        ),
        AccountSummary(
            reqId=request.reqId, account="DU2", tag="NetLiquidation", value="5", currency="EUR"
        ),
        AccountSummaryEnd(reqId=request.reqId),
    ]


def positions(session, request) -> None:
    session.send(Position(account="DU1", contract=AAPL, position=Decimal(100), avgCost=150.25))
    session.send(Position(account="DU2", contract=ES, position=Decimal(-2), avgCost=250000.0))
    session.send(PositionEnd())


@pytest.mark.asyncio
async def test_accounts_are_the_managed_accounts(connect):
    client = await connect(accounts=ACCOUNTS)
    accounts = client.accounts()
    accounts.add("changed")
    assert client.accounts() == {"DU1", "DU2"}  # a copy


@pytest.mark.asyncio
async def test_account_summary_streams_to_account_handlers(connect, gateway):
    gateway.on(ReqAccountSummary)(lambda s, r: [s.send(m) for m in summary(r)])
    gateway.record(CancelAccountSummary)
    client = await connect(accounts=ACCOUNTS)
    du1, du2 = Events(), Events()
    client.subscribe_event("accountSummary-DU1", du1)
    client.subscribe_event("accountSummary-DU2", du2)

    client.subscribe_account_summary()
    client.subscribe_account_summary()  # already live: not sent twice

    assert await du1.wait() == [("NetLiquidation", "100000.5", "USD")]
    assert await du2.wait() == [("NetLiquidation", "5", "EUR")]
    [request] = await gateway.requests_of(ReqAccountSummary)
    assert (request.groupName, request.tags) == ("All", AccountSummaryTags.AllTags)
    await client.get_server_time()
    assert not [r for r in gateway.requests if isinstance(r, CancelAccountSummary)]

    client.unsubscribe_account_summary("DU1")
    [cancel] = await gateway.requests_of(CancelAccountSummary)
    assert cancel.reqId == request.reqId


@pytest.mark.asyncio
async def test_get_account_summary_answers_once_and_cancels(connect, gateway):
    gateway.on(ReqAccountSummary)(lambda s, r: [s.send(m) for m in summary(r)])
    gateway.record(CancelAccountSummary)
    client = await connect(accounts=ACCOUNTS)
    values = await client.get_account_summary("NetLiquidation")
    assert values == [
        AccountValue("DU1", "NetLiquidation", "100000.5", "USD"),
        AccountValue("DU2", "NetLiquidation", "5", "EUR"),
    ]
    [request] = await gateway.requests_of(ReqAccountSummary)
    assert request.tags == "NetLiquidation"
    [cancel] = await gateway.requests_of(CancelAccountSummary)
    assert cancel.reqId == request.reqId


@pytest.mark.asyncio
async def test_positions_are_fetched_once_for_concurrent_callers_and_then_cancelled(
    connect,
    gateway,
):
    gateway.on(ReqPositions)(positions)
    gateway.record(CancelPositions)
    client = await connect(accounts=ACCOUNTS)

    du1, du2 = await asyncio.gather(client.get_positions("DU1"), client.get_positions("DU2"))

    [aapl] = du1
    assert isinstance(aapl, IBPosition)
    assert (aapl.account_id, aapl.contract.conId, aapl.quantity, aapl.avg_cost) == (
        "DU1",
        265598,
        Decimal(100),
        150.25,
    )
    assert [(p.contract.symbol, p.quantity) for p in du2] == [("ES", Decimal(-2))]
    assert len(await gateway.requests_of(ReqPositions)) == 1
    await gateway.requests_of(CancelPositions)  # reqPositions streams until cancelled


@pytest.mark.asyncio
async def test_position_updates_stream_to_account_handlers(connect, gateway):
    gateway.on(ReqPositions)(positions)
    gateway.record(CancelPositions)
    client = await connect(accounts=ACCOUNTS)
    updates = Events()
    client.subscribe_event("positionUpdate-DU2", updates)

    client.subscribe_positions()
    [update] = await updates.wait()
    assert (update.account_id, update.contract.symbol, update.quantity) == (
        "DU2",
        "ES",
        Decimal(-2),
    )

    assert len(await client.get_positions("DU1")) == 1  # while subscribed: no cancel
    await client.get_server_time()
    assert not [r for r in gateway.requests if isinstance(r, CancelPositions)]
    client.unsubscribe_positions()
    await gateway.requests_of(CancelPositions)


@pytest.mark.asyncio
async def test_a_disconnect_while_fetching_positions_fails_the_request(connect, gateway):
    gateway.on(ReqPositions)(lambda session, request: session.close("gone"))
    client = await connect()
    with pytest.raises(IBConnectionError):
        await client.get_positions("DU123456")


@pytest.mark.asyncio
async def test_pnl_streams_with_unset_values_as_none(connect, gateway):
    @gateway.on(ReqPnL)
    def pnl(session, request) -> None:
        session.send(PnL(reqId=request.reqId, dailyPnL=12.5, unrealizedPnL=None, realizedPnL=3.0))

    @gateway.on(ReqPnLSingle)
    def pnl_single(session, request) -> None:
        session.send(
            PnLSingle(
                reqId=request.reqId,
                pos=Decimal(100),
                dailyPnL=1.0,
                unrealizedPnL=2.0,
                realizedPnL=None,
                value=18900.0,
            ),
        )

    gateway.record(CancelPnL)
    client = await connect(accounts=ACCOUNTS)
    account_pnl, position_pnl = Events(), Events()
    subscription = client.subscribe_pnl("DU1", account_pnl)
    client.subscribe_pnl_single("DU1", 265598, position_pnl)

    assert await account_pnl.wait() == [PnLEvent(12.5, None, 3.0)]
    assert await position_pnl.wait() == [PnLSingleEvent(Decimal(100), 1.0, 2.0, None, 18900.0)]
    [request] = await gateway.requests_of(ReqPnL)
    assert request.account == "DU1"
    [single] = await gateway.requests_of(ReqPnLSingle)
    assert (single.account, single.conid) == ("DU1", 265598)

    client.unsubscribe_pnl("DU1")
    [cancel] = await gateway.requests_of(CancelPnL)
    assert cancel.reqId == subscription.req_id


@pytest.mark.asyncio
async def test_pnl_for_an_unknown_account_ends_with_an_error(connect, gateway):
    gateway.on(ReqPnL)(
        lambda s, r: s.error(
            r.reqId, 321, "Error validating request.-'cD' : cause - Invalid account"
        ),
    )
    client = await connect()
    errors = Events()
    subscription = client.subscribe_pnl("NOPE", Events(), on_error=errors)
    [error] = await errors.wait()
    assert isinstance(error, IBRequestError) and error.code == 321
    assert client._subscriptions.get(subscription.req_id) is None


@pytest.mark.asyncio
async def test_an_unanswered_account_summary_times_out_and_is_cancelled(connect, gateway):
    gateway.on(ReqAccountSummary)(lambda session, request: None)
    gateway.record(CancelAccountSummary)
    client = await connect()
    with pytest.raises(IBRequestTimeout):
        await client.get_account_summary(timeout=0.05)
    [request] = await gateway.requests_of(ReqAccountSummary)
    [cancel] = await gateway.requests_of(CancelAccountSummary)
    assert cancel.reqId == request.reqId
