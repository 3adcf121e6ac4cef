"""The contracts family at the session level: typed requests in, typed messages out.

No sockets: a session talks to a null link and what it was sent is read back (typed)
from the gateway's journal. The catalog lists chains as of the virtual clock's day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import trio
import trio.testing

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers import ALL_HANDLERS
from fake_tws.handlers import contracts as family
from fake_tws.ibtypes import Contract
from fake_tws.journal import Direction
from fake_tws.protocol.requests import connection as rq_conn
from fake_tws.protocol.requests import contracts as rq
from fake_tws.protocol.requests import market_data as rq_md
from fake_tws.protocol.responses import connection as rs_conn
from fake_tws.protocol.responses import contracts as rs
from fake_tws.protocol.responses import market_data as rs_md
from fake_tws.protocol.responses.connection import Error
from fake_tws.server import NurseryTasks
from fake_tws.session import Gateway, Session
from tests.wire import greeting, start_api

START = datetime(2026, 4, 6, 14, 0, tzinfo=UTC)  # a Monday, 10:00 New York
NO_DEFINITION = "No security definition has been found for the request"
AAPL_BOND_ISIN = "US037833DX52"


class Link:
    """A transport that only counts; `queued` stands in for the server's outbox."""

    def __init__(self) -> None:
        self.queued = 0

    def send(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass


class Client:
    def __init__(self, gateway: Gateway, lo: int = 100, hi: int = 187) -> None:
        self.gateway = gateway
        self.link = Link()
        self.session = Session(gateway, self.link, "test")
        self.session.receive_data(greeting(lo, hi) + start_api(1))
        assert self.session.started
        self._seen = len(gateway.journal.entries)

    def ask(self, request: Any) -> list[Any]:
        handler = self.gateway.handlers.get(type(request))
        assert handler is not None, f"no handler for {type(request).__name__}"
        handler(self.session, request)
        return self.take()

    def take(self) -> list[Any]:
        entries = self.gateway.journal.entries
        out = [e.message for e in entries[self._seen :] if e.direction is Direction.SENT]
        self._seen = len(entries)
        return out


@pytest.fixture
def gateway() -> Gateway:
    return Gateway(ServerConfig(clock=VirtualClock(START)), ALL_HANDLERS)


@pytest.fixture
def client(gateway) -> Client:
    return Client(gateway)


def details(req_id: int, **contract: Any) -> rq.ReqContractDetails:
    return rq.ReqContractDetails(reqId=req_id, contract=Contract(**contract))


def contracts_of(messages: list[Any]) -> list[Contract]:
    return [m.contractDetails.contract for m in messages[:-1]]


# -- reqContractDetails ---------------------------------------------------------------


def test_a_stock_resolves_to_one_details_message_then_the_end(client):
    out = client.ask(details(7, symbol="AAPL", secType="STK", exchange="SMART", currency="USD"))
    assert [type(m) for m in out] == [rs.ContractDetails, rs.ContractDetailsEnd]
    assert out[-1].reqId == 7 and out[0].reqId == 7
    got = out[0].contractDetails
    assert (got.contract.conId, got.contract.exchange, got.contract.primaryExchange) == (
        265598,
        "SMART",
        "NASDAQ",
    )
    assert got.longName == "APPLE INC" and got.marketName == "NMS"
    assert got.tradingHours  # today's sessions from the clock


def test_a_named_exchange_is_echoed(client):
    out = client.ask(details(1, symbol="SPY", secType="STK", exchange="ARCA", currency="USD"))
    assert [c.exchange for c in contracts_of(out)] == ["ARCA"]
    assert contracts_of(out)[0].conId == 756733


def test_no_match_is_error_200_with_the_request_id_and_no_end(client):
    out = client.ask(details(9, symbol="ZZZZNONE1", secType="STK", exchange="SMART"))
    assert out == [Error(reqId=9, errorCode=200, errorString=NO_DEFINITION)]


def test_an_unreadable_field_is_error_200_not_a_dropped_client(client):
    out = client.ask(details(3, symbol="ES", secType="FUT", exchange="CME", multiplier="fifty"))
    assert out == [Error(reqId=3, errorCode=200, errorString=NO_DEFINITION)]
    assert not client.session.closed


def test_a_bond_by_isin_comes_as_bond_contract_details(client):
    out = client.ask(details(4, secIdType="ISIN", secId=AAPL_BOND_ISIN))
    assert [type(m) for m in out] == [rs.BondContractDetails, rs.ContractDetailsEnd]
    bond = out[0].contractDetails
    assert bond.contract.secType == "BOND" and bond.cusip == "037833DX5"


def test_a_partial_future_lists_the_quarterly_chain_and_contfut_the_front_month(client):
    chain = contracts_of(client.ask(details(5, symbol="ES", secType="FUT", exchange="CME")))
    months = [c.lastTradeDateOrContractMonth[:6] for c in chain]
    assert months == ["202606", "202609", "202612", "202703", "202706"]
    front = contracts_of(client.ask(details(6, symbol="ES", secType="CONTFUT", exchange="CME")))
    assert len(front) == 1
    assert front[0].secType == "CONTFUT" and front[0].conId == chain[0].conId


def test_forex_crypto_and_cfd_resolve(client):
    queries = [
        {"symbol": "EUR", "secType": "CASH", "currency": "GBP", "exchange": "IDEALPRO"},
        {"symbol": "ETH", "secType": "CRYPTO", "currency": "USD", "exchange": "PAXOS"},
        {"symbol": "IBUS30", "secType": "CFD", "currency": "USD", "exchange": "SMART"},
    ]
    found = [contracts_of(client.ask(details(i, **q))) for i, q in enumerate(queries)]
    assert [[c.localSymbol for c in f] for f in found] == [["EUR.GBP"], ["ETH.USD"], ["IBUS30"]]


def test_a_large_answer_without_a_transport_goes_out_at_once(client):
    out = client.ask(details(8, symbol="AAPL", secType="OPT", exchange="SMART"))
    assert len(out) > family.BATCH + 1
    assert isinstance(out[-1], rs.ContractDetailsEnd)
    assert {c.secType for c in contracts_of(out)} == {"OPT"}


class FillingLink(Link):
    """An outbox that grows with every message and drains only when told to."""

    def send(self, data: bytes) -> None:
        self.queued += len(data)


@pytest.mark.trio
async def test_a_large_answer_waits_while_the_clients_outbox_is_full(gateway):
    client = Client(gateway)
    client.session.link = link = FillingLink()
    async with trio.open_nursery() as nursery:
        client.session.tasks = NurseryTasks(nursery)
        handler = gateway.handlers.get(rq.ReqContractDetails)
        handler(client.session, details(8, symbol="SPY", secType="OPT", exchange="SMART"))
        received: list[Any] = []
        drains = 0
        with trio.fail_after(5):
            while not received or not isinstance(received[-1], rs.ContractDetailsEnd):
                await trio.testing.wait_all_tasks_blocked()
                # What went out since the last drain stops within one batch past the
                # high-water mark: the task then waits for the client.
                assert link.queued <= family.HIGH_WATER + family.BATCH * 2048
                received += client.take()
                link.queued = 0  # the client reads everything
                drains += 1
                await trio.sleep(family.DRAIN_POLL * 2)
    assert drains >= 3  # ~2 MB through a 0.5 MB window
    assert len(received) > 10 * family.BATCH
    assert all(m.reqId == 8 for m in received)
    keys = [(c.lastTradeDateOrContractMonth, c.strike, c.right) for c in contracts_of(received)]
    assert keys == sorted(keys)  # in order, nothing lost or repeated
    assert len(set(keys)) == len(keys) == len(received) - 1


# -- reqSecDefOptParams --------------------------------------------------------------


def test_sec_def_opt_params_gives_one_message_per_exchange_then_the_end(client, gateway):
    out = client.ask(
        rq.ReqSecDefOptParams(
            reqId=11, underlyingSymbol="AAPL", underlyingSecType="STK", underlyingConId=265598
        )
    )
    assert isinstance(out[-1], rs.SecurityDefinitionOptionParameterEnd) and out[-1].reqId == 11
    chains = out[:-1]
    assert [c.exchange for c in chains] == ["SMART", "AMEX", "BOX", "CBOE", "ISE", "PHLX"]
    world = gateway.world.option_chain_params("AAPL", "STK", 265598)[0]
    assert chains[0].expirations == world.expirations and chains[0].strikes == world.strikes
    assert {(c.underlyingConId, c.tradingClass, c.multiplier) for c in chains} == {
        (265598, "AAPL", "100")
    }


def test_sec_def_opt_params_filters_by_exchange_and_ends_alone_without_options(client):
    out = client.ask(rq.ReqSecDefOptParams(reqId=1, underlyingSymbol="AAPL", futFopExchange="cboe"))
    assert [m.exchange for m in out[:-1]] == ["CBOE"]
    out = client.ask(
        rq.ReqSecDefOptParams(reqId=2, underlyingSymbol="AAPL", underlyingConId=1)  # wrong id
    )
    assert out == [rs.SecurityDefinitionOptionParameterEnd(reqId=2)]


# -- the one-message lookups ----------------------------------------------------------


def test_matching_symbols(client):
    [samples] = client.ask(rq.ReqMatchingSymbols(reqId=4, pattern="AAPL"))
    assert isinstance(samples, rs.SymbolSamples) and samples.reqId == 4
    first = samples.contractDescriptions[0]
    assert (first.contract.symbol, first.contract.conId) == ("AAPL", 265598)
    assert "OPT" in first.derivativeSecTypes


def test_market_rule_and_an_unknown_rule(client, gateway):
    [rule] = client.ask(rq_md.ReqMarketRule(marketRuleId=26))
    assert rule.marketRuleId == 26 and rule.priceIncrements == gateway.world.market_rule(26)
    assert rule.priceIncrements
    assert client.ask(rq_md.ReqMarketRule(marketRuleId=987654)) == [
        rs_md.MarketRule(marketRuleId=987654)
    ]


def test_family_codes_soft_dollar_tiers_and_user_info():
    gateway = Gateway(
        ServerConfig(clock=VirtualClock(START), accounts=("DU1", "DU2")), ALL_HANDLERS
    )
    client = Client(gateway)
    [codes] = client.ask(rq_conn.ReqFamilyCodes())
    assert [c.accountID for c in codes.familyCodes] == ["DU1", "DU2"]
    assert client.ask(rq_conn.ReqSoftDollarTiers(reqId=6)) == [rs_conn.SoftDollarTiers(reqId=6)]
    assert client.ask(rq_conn.ReqUserInfo(reqId=7)) == [
        rs_conn.UserInfo(reqId=7, whiteBrandingId="")
    ]


def test_a_request_older_than_its_answer_gets_error_321():
    gateway = Gateway(ServerConfig(clock=VirtualClock(START)), ALL_HANDLERS)
    client = Client(gateway, lo=100, hi=100)  # before REQ_MATCHING_SYMBOLS (108)
    [error] = client.ask(rq.ReqMatchingSymbols(reqId=3, pattern="AAPL"))
    assert (error.reqId, error.errorCode) == (3, 321)
    assert "reqMatchingSymbols" in error.errorString
    assert not client.session.closed
