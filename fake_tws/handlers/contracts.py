"""Contract lookups, answered from the world's catalog as TWS answers them.

    reqContractDetails    contractDetails per match (bondContractDetails for bonds), then
                          contractDetailsEnd. Several matches for a partial contract (an
                          option chain, a futures chain) all come back; no match is error
                          200 "No security definition has been found for the request"
                          with the reqId, and no End (as a live Gateway answers).
    reqSecDefOptParams    securityDefinitionOptionParameter per exchange/tradingClass,
                          then securityDefinitionOptionParameterEnd (just the End when the
                          underlying has no options; futFopExchange, if given, filters).
    reqMatchingSymbols    symbolSamples (at most 16 descriptions).
    reqMarketRule         marketRule (an unknown rule id gets no increments, so a client
                          waiting for it is not left hanging).
    reqFamilyCodes        familyCodes: one (empty) code per managed account.
    reqSoftDollarTiers    softDollarTiers with no tiers (a paper account has none).
    reqUserInfo           userInfo with an empty white-branding id.

reqSmartComponents and reqMktDepthExchanges belong with market depth (market_data.py).

A big answer (a whole option chain is a couple of thousand details, about 2 MB) is sent
in batches from a task that waits while the client's outbox is full, so several at once
neither cut the client off for not reading nor flood ibapi's reader.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import trio

from fake_tws.broker import NoSecurityDefinition
from fake_tws.ibtypes import FamilyCode
from fake_tws.protocol.messages import Response
from fake_tws.protocol.requests import connection as rq_conn
from fake_tws.protocol.requests import contracts as rq
from fake_tws.protocol.requests import market_data as rq_md
from fake_tws.protocol.responses import connection as rs_conn
from fake_tws.protocol.responses import contracts as rs
from fake_tws.protocol.responses import market_data as rs_md
from fake_tws.session import NOT_SUPPORTED, Handlers, Session

HANDLERS = Handlers()

# Answers of up to this many messages go out at once; longer ones in batches this big.
BATCH = 100
# A batch waits while more than this many bytes are queued for the client...
HIGH_WATER = 512 * 1024
# ... checking this often (wall seconds).
DRAIN_POLL = 0.002


# -- sending -----------------------------------------------------------------------------


def send_all(session: Session, messages: Sequence[Response], name: str = "answer") -> None:
    """Send `messages` in order: at once if short (or if there is no transport to pace
    against, as in socketless tests), else in batches from a task of the session."""
    if len(messages) <= BATCH or session.tasks is None:
        for message in messages:
            session.send(message)
        return

    async def paced() -> None:
        for start in range(0, len(messages), BATCH):
            while _queued(session) > HIGH_WATER and not session.closed:
                await trio.sleep(DRAIN_POLL)
            for message in messages[start : start + BATCH]:
                session.send(message)
            await trio.lowlevel.checkpoint()

    session.spawn(name, paced)


def _queued(session: Session) -> int:
    """Bytes waiting for the client (the server's outbox knows; other links say 0)."""
    return getattr(session.link, "queued", 0)


def supported(session: Session, response: type[Response], req_id: int, name: str) -> bool:
    """Whether the negotiated version has `response`; else say so with error 321."""
    if session.version >= response.min_version:
        return True
    session.error(
        req_id,
        NOT_SUPPORTED,
        f"Error validating request.-'{name}' : cause - not supported at server version "
        f"{session.version}",
    )
    return False


# -- handlers ----------------------------------------------------------------------------


@HANDLERS.on(rq.ReqContractDetails)
def contract_details(session: Session, request: rq.ReqContractDetails) -> None:
    try:
        found = session.gateway.world.contract_details(request.contract)
    except ValueError as exc:  # a field the catalog cannot read (e.g. multiplier "x")
        session.log(logging.INFO, "reqContractDetails %s: %s", request.reqId, exc)
        found = NoSecurityDefinition()
    if isinstance(found, NoSecurityDefinition):
        session.error(request.reqId, found.code, found.message)
        return
    messages: list[Response] = [
        rs.BondContractDetails(reqId=request.reqId, contractDetails=details)
        if details.contract.secType == "BOND"
        else rs.ContractDetails(reqId=request.reqId, contractDetails=details)
        for details in found
    ]
    messages.append(rs.ContractDetailsEnd(reqId=request.reqId))
    send_all(session, messages, f"contractDetails {request.reqId}")


@HANDLERS.on(rq.ReqSecDefOptParams)
def sec_def_opt_params(session: Session, request: rq.ReqSecDefOptParams) -> None:
    if not supported(
        session, rs.SecurityDefinitionOptionParameter, request.reqId, request.api_name
    ):
        return
    chains = session.gateway.world.option_chain_params(
        request.underlyingSymbol,
        request.underlyingSecType or "STK",
        request.underlyingConId,
    )
    wanted = request.futFopExchange.strip().upper()
    for chain in chains:
        if wanted and chain.exchange != wanted:
            continue
        session.send(
            rs.SecurityDefinitionOptionParameter(
                reqId=request.reqId,
                exchange=chain.exchange,
                underlyingConId=chain.underlyingConId,
                tradingClass=chain.tradingClass,
                multiplier=chain.multiplier,
                expirations=chain.expirations,
                strikes=chain.strikes,
            )
        )
    session.send(rs.SecurityDefinitionOptionParameterEnd(reqId=request.reqId))


@HANDLERS.on(rq.ReqMatchingSymbols)
def matching_symbols(session: Session, request: rq.ReqMatchingSymbols) -> None:
    if not supported(session, rs.SymbolSamples, request.reqId, request.api_name):
        return
    found = session.gateway.world.matching_symbols(request.pattern)
    session.send(rs.SymbolSamples(reqId=request.reqId, contractDescriptions=tuple(found)))


@HANDLERS.on(rq_md.ReqMarketRule)
def market_rule(session: Session, request: rq_md.ReqMarketRule) -> None:
    if not supported(session, rs_md.MarketRule, -1, request.api_name):
        return
    increments = session.gateway.world.market_rule(request.marketRuleId)
    if increments is None:
        session.log(logging.INFO, "reqMarketRule: no market rule %d", request.marketRuleId)
    session.send(
        rs_md.MarketRule(marketRuleId=request.marketRuleId, priceIncrements=increments or ())
    )


@HANDLERS.on(rq_conn.ReqFamilyCodes)
def family_codes(session: Session, request: rq_conn.ReqFamilyCodes) -> None:
    if not supported(session, rs_conn.FamilyCodes, -1, request.api_name):
        return
    codes = tuple(FamilyCode(accountID=a) for a in session.gateway.config.accounts)
    session.send(rs_conn.FamilyCodes(familyCodes=codes))


@HANDLERS.on(rq_conn.ReqSoftDollarTiers)
def soft_dollar_tiers(session: Session, request: rq_conn.ReqSoftDollarTiers) -> None:
    if not supported(session, rs_conn.SoftDollarTiers, request.reqId, request.api_name):
        return
    session.send(rs_conn.SoftDollarTiers(reqId=request.reqId))


@HANDLERS.on(rq_conn.ReqUserInfo)
def user_info(session: Session, request: rq_conn.ReqUserInfo) -> None:
    if not supported(session, rs_conn.UserInfo, request.reqId, request.api_name):
        return
    session.send(rs_conn.UserInfo(reqId=request.reqId, whiteBrandingId=""))
