"""Contracts: details, option chains, futures chains, matching symbols.

``get_contract_details`` raises ``IBNoSecurityDefinition`` (error 200) when nothing
matches; every method raises ``IBRequestError`` for other IB errors (NautilusTrader's
adapter returns ``None`` for both).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ibapi.contract import ContractDetails

from adapter.client.pacing import RateGate
from adapter.common import IBContract, IBContractDetails
from adapter.parsing.contract_details import (
    contract_details_to_ib_contract_details,
    ib_contract_from_ibapi,
)

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object


@dataclass(frozen=True)
class OptionChain:
    """One exchange's options on an underlying (``securityDefinitionOptionParameter``)."""

    exchange: str
    underlying_con_id: int
    trading_class: str
    multiplier: str
    expirations: frozenset[str]  # "YYYYMMDD"
    strikes: frozenset[float]


def contract_key(contract: Any) -> str:
    """A stable text for a contract (``IBContract`` or ibapi ``Contract``), for keys."""
    if hasattr(contract, "__struct_fields__"):
        return repr(contract)
    return repr(sorted((k, repr(v)) for k, v in vars(contract).items()))


class InteractiveBrokersClientContractMixin(_Base):
    def _init_contracts(self) -> None:
        self._matching_symbols_gate = RateGate(1, 1.0)  # IB: one request per second

    async def get_contract_details(
        self,
        contract: IBContract,
        timeout: float = 10.0,
    ) -> list[IBContractDetails]:
        """Every contract matching ``contract`` (a partly filled contract is a query)."""
        details: list[ContractDetails] = await self._request(
            ("contract details", contract_key(contract)),
            lambda req_id: self._eclient.reqContractDetails(req_id, contract),
            timeout=timeout,
        )
        return [contract_details_to_ib_contract_details(d) for d in details]

    def _on_contractDetails(self, reqId: int, contractDetails: ContractDetails) -> None:
        self._deliver(reqId, contractDetails)

    def _on_bondContractDetails(self, reqId: int, contractDetails: ContractDetails) -> None:
        self._deliver(reqId, contractDetails)

    def _on_contractDetailsEnd(self, reqId: int) -> None:
        self._requests.finish(reqId)

    async def get_option_chains(
        self,
        underlying: IBContract,
        exchange: str = "",
        timeout: float = 20.0,
    ) -> list[OptionChain]:
        """The option chains on ``underlying``, one per exchange (``reqSecDefOptParams``).

        IB needs the underlying's conId; without one it is looked up first. For futures
        underlyings ``exchange`` defaults to the future's own (IB's futFopExchange).
        """
        con_id = underlying.conId or await self._unique_con_id(underlying, timeout)
        fut_fop_exchange = exchange or (underlying.exchange if underlying.secType == "FUT" else "")
        chains: list[OptionChain] = await self._request(
            ("option chains", underlying.symbol, underlying.secType, con_id, fut_fop_exchange),
            lambda req_id: self._eclient.reqSecDefOptParams(
                req_id,
                underlying.symbol,
                fut_fop_exchange,
                underlying.secType,
                con_id,
            ),
            timeout=timeout,
        )
        if exchange and underlying.secType != "FUT":
            chains = [c for c in chains if c.exchange == exchange]
        return chains

    async def _unique_con_id(self, contract: IBContract, timeout: float) -> int:
        details = await self.get_contract_details(contract, timeout)
        con_ids = {d.contract.conId for d in details if d.contract is not None}
        if len(con_ids) != 1:
            raise ValueError(
                f"{contract!r} matches {len(con_ids)} contracts; give one (e.g. by conId)",
            )
        return con_ids.pop()

    def _on_securityDefinitionOptionParameter(
        self,
        reqId: int,
        exchange: str,
        underlyingConId: int,
        tradingClass: str,
        multiplier: str,
        expirations: Iterable[str],
        strikes: Iterable[float],
    ) -> None:
        chain = OptionChain(
            exchange,
            underlyingConId,
            tradingClass,
            multiplier,
            frozenset(expirations),
            frozenset(strikes),
        )
        self._deliver(reqId, chain)

    def _on_securityDefinitionOptionParameterEnd(self, reqId: int) -> None:
        self._requests.finish(reqId)

    async def get_option_chain_details(
        self,
        underlying: IBContract,
        expiry: str,
        exchange: str = "",
        timeout: float = 30.0,
    ) -> list[IBContractDetails]:
        """Every option (``FOP`` on futures) on ``underlying`` expiring on ``expiry``
        ("YYYYMMDD" or "YYYYMM"), restricted to the underlying's conId when it has one."""
        query = IBContract(
            secType="FOP" if underlying.secType == "FUT" else "OPT",
            symbol=underlying.symbol,
            exchange=exchange or underlying.exchange or "SMART",
            currency=underlying.currency,
            lastTradeDateOrContractMonth=expiry,
        )
        details = await self.get_contract_details(query, timeout)
        if underlying.conId:
            details = [d for d in details if d.underConId == underlying.conId]
        return details

    async def get_future_chain_details(
        self,
        underlying: IBContract,
        include_expired: bool = False,
        timeout: float = 30.0,
    ) -> list[IBContractDetails]:
        """Every future on ``underlying``'s symbol and exchange (a ``CONTFUT``, ``FUT``
        or ``IND`` contract), optionally with expired ones."""
        query = IBContract(
            secType="FUT",
            symbol=underlying.symbol,
            exchange=underlying.exchange,
            currency=underlying.currency,
            tradingClass=underlying.tradingClass if underlying.secType != "IND" else "",
            includeExpired=include_expired,
        )
        return await self.get_contract_details(query, timeout)

    async def get_matching_contracts(self, pattern: str, timeout: float = 10.0) -> list[IBContract]:
        """Contracts whose symbol or name matches ``pattern`` (``reqMatchingSymbols``;
        IB allows one such request per second, so calls are spaced out)."""
        return await self._request(
            ("matching symbols", pattern),
            lambda req_id: self._eclient.reqMatchingSymbols(req_id, pattern),
            timeout=timeout,
            pace=self._matching_symbols_gate.acquire,
        )

    def _on_symbolSamples(self, reqId: int, contractDescriptions: Iterable[Any]) -> None:
        contracts = [ib_contract_from_ibapi(d.contract) for d in contractDescriptions]
        self._requests.finish(reqId, contracts)
