"""The contract catalog: reqContractDetails, reqSecDefOptParams, reqMatchingSymbols,
reqMarketRule, and contract resolution for orders and market data.

Resolution follows TWS: every field left empty matches anything, several matches give
several details, a conId alone resolves, and no match is a `NoSecurityDefinition`
(the session answers error 200). An empty exchange means the instrument's default
(SMART for stocks, CME for ES...); a given exchange must be one of its validExchanges
and is echoed in the returned contract. Expired futures and options only match with
includeExpired. CONTFUT resolves to the front-month future, reported as CONTFUT.

Curated instruments are always there; option and futures chains are listed as of
today (from the injected clock) and materialised on first use; any other plausible
stock ticker is generated from (seed, symbol) unless that is switched off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime

import msgspec
from faker import Faker

from fake_tws.ibtypes import Contract, ContractDescription, ContractDetails, PriceIncrement

from . import chains
from .curated import curated_instruments
from .generated import GENERATED_CON_IDS, generated_stock, plausible_ticker
from .instruments import MARKET_RULES, Instrument, increment_at
from .schedule import SessionRule, around_the_clock

MAX_MATCHING_SYMBOLS = 16
OPTION_PARAM_EXCHANGES = ("SMART", "AMEX", "BOX", "CBOE", "ISE", "PHLX")


class NoSecurityDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """Nothing (or nothing unique, for an order) matches; IB's error 200."""

    code: int = 200
    message: str = "No security definition has been found for the request"


class OptionChainParams(msgspec.Struct, frozen=True, kw_only=True):
    """One answer of reqSecDefOptParams (per exchange)."""

    exchange: str
    underlyingConId: int
    tradingClass: str
    multiplier: str
    expirations: tuple[str, ...]
    strikes: tuple[float, ...]


class Catalog:
    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        seed: int = 0,
        extra: Iterable[Instrument] = (),
        prices: Mapping[str, float] | None = None,
        generate_unknown_stocks: bool = True,
        around_the_clock: bool = False,
    ) -> None:
        self._now = now
        self._around_the_clock = around_the_clock
        self._seed = seed
        self._prices = {k.upper(): v for k, v in (prices or {}).items()}
        self._generate = generate_unknown_stocks
        self._faker: Faker | None = None  # built on first use: it takes ~20 ms
        self._by_con_id: dict[int, Instrument] = {}
        self._by_symbol: dict[str, list[Instrument]] = {}
        self._chains: dict[tuple, list[Instrument]] = {}
        self._hours: dict[tuple[SessionRule, date], tuple[str, str]] = {}
        for instrument in curated_instruments():
            self.register(self._with_price(instrument))
        for instrument in extra:
            self.register(instrument)

    # --- registry ----------------------------------------------------------------------

    def register(self, instrument: Instrument) -> Instrument:
        """Add an instrument (a scenario's own, say). Re-registering a conId replaces it.
        In an around-the-clock catalog every instrument trades at all hours."""
        if self._around_the_clock:
            instrument = replace(instrument, schedule=around_the_clock(instrument.schedule))
        old = self._by_con_id.get(instrument.con_id)
        if old is not None:
            self._by_symbol[old.symbol.upper()].remove(old)
        self._by_con_id[instrument.con_id] = instrument
        self._by_symbol.setdefault(instrument.symbol.upper(), []).append(instrument)
        return instrument

    def instrument(self, con_id: int) -> Instrument:
        found = self.find(con_id)
        if found is None:
            raise KeyError(f"no instrument with conId {con_id}")
        return found

    def find(self, con_id: int) -> Instrument | None:
        found = self._by_con_id.get(con_id)
        if found is None and _in_span(con_id, chains.OPTION_CON_IDS):
            for underlying in [i for i in self._by_con_id.values() if i.sec_type == "STK"]:
                self._options(underlying)
            found = self._by_con_id.get(con_id)
        if found is None and _in_span(con_id, chains.FUTURE_CON_IDS):
            for root in chains.FUTURE_ROOTS.values():
                self._futures(root, include_expired=True)
            found = self._by_con_id.get(con_id)
        return found

    def today(self) -> date:
        return self._now().date()

    def _with_price(self, instrument: Instrument) -> Instrument:
        level = self._prices.get(instrument.symbol.upper())
        if level is None or instrument.sec_type != "STK":
            return instrument
        return replace(instrument, profile=replace(instrument.profile, price=level))

    # --- reqContractDetails ----------------------------------------------------------

    def contract_details(self, query: Contract) -> list[ContractDetails] | NoSecurityDefinition:
        found = self.resolve(query)
        if not found:
            return NoSecurityDefinition()
        return [self.details_of(instrument, exchange, query) for instrument, exchange in found]

    def resolve(self, query: Contract) -> list[tuple[Instrument, str]]:
        """Matching instruments with the exchange each is reported on."""
        today = self.today()
        out = []
        for instrument in self._candidates(query):
            exchange = _exchange_for(query, instrument)
            if exchange is not None and _matches(query, instrument, today):
                out.append((instrument, exchange))
        out.sort(key=lambda pair: _order_key(pair[0]))
        return out

    def resolve_one(self, query: Contract) -> tuple[Instrument, Contract] | NoSecurityDefinition:
        """The single instrument an order or a market-data request is for."""
        found = self.resolve(query)
        if len(found) != 1:
            if found:
                return NoSecurityDefinition(
                    message=f"The contract description specified for {query.symbol} is ambiguous."
                )
            return NoSecurityDefinition()
        instrument, exchange = found[0]
        return instrument, self.details_of(instrument, exchange, query).contract

    def details_of(
        self, instrument: Instrument, exchange: str = "", query: Contract | None = None
    ) -> ContractDetails:
        details = instrument.details
        trading, liquid = self._hours_strings(instrument.schedule)
        contract = details.contract
        if exchange and exchange != contract.exchange:
            contract = msgspec.structs.replace(contract, exchange=exchange)
        if query is not None and query.secType.upper() == "CONTFUT":
            contract = msgspec.structs.replace(contract, secType="CONTFUT")
        return msgspec.structs.replace(
            details, contract=contract, tradingHours=trading, liquidHours=liquid
        )

    def _hours_strings(self, rule: SessionRule) -> tuple[str, str]:
        now = self._now()
        key = (rule, now.date())
        cached = self._hours.get(key)
        if cached is None:
            cached = self._hours[key] = rule.hours_strings(now.timestamp())
        return cached

    def _candidates(self, query: Contract) -> list[Instrument]:
        if query.conId:
            found = self.find(query.conId)
            return [found] if found is not None else []
        sec_type = query.secType.upper()
        symbol = query.symbol.upper()
        if query.secId and query.secIdType:
            secid = query.secId.upper()
            return [
                i
                for i in self._by_con_id.values()
                if any(t.value.upper() == secid for t in i.details.secIdList)
            ]
        if not symbol and query.localSymbol:
            symbol = _symbol_from_local(query.localSymbol, sec_type)
        if sec_type in ("OPT", "FOP"):
            underlying = self._stock(symbol)
            return self._options(underlying) if underlying and sec_type == "OPT" else []
        if sec_type in ("FUT", "CONTFUT"):
            root = chains.FUTURE_ROOTS.get(symbol)
            if root is None:
                return []
            listed = self._futures(root, include_expired=query.includeExpired)
            if sec_type == "CONTFUT":
                live = [f for f in listed if not f.expired(self.today())]
                return live[:1]
            return listed
        known = [i for i in self._by_symbol.get(symbol, []) if i.sec_type not in ("OPT", "FUT")]
        if sec_type == "STK" and not any(i.sec_type == "STK" for i in known):
            generated = self._stock(symbol)
            return [generated] if generated else []
        return known

    def _stock(self, symbol: str) -> Instrument | None:
        for instrument in self._by_symbol.get(symbol, []):
            if instrument.sec_type == "STK":
                return instrument
        if not (self._generate and plausible_ticker(symbol)):
            return None
        if self._faker is None:
            self._faker = Faker("en_US")
        made = generated_stock(symbol, self._seed, self._faker, self._prices.get(symbol))
        while made.con_id in self._by_con_id:  # a hash collision: step to a free conId
            bumped = made.con_id + 1
            if bumped >= GENERATED_CON_IDS[0] + GENERATED_CON_IDS[1]:
                bumped = GENERATED_CON_IDS[0]
            made = replace(
                made,
                details=msgspec.structs.replace(
                    made.details,
                    contract=msgspec.structs.replace(made.details.contract, conId=bumped),
                ),
            )
        return self.register(made)

    def _options(self, underlying: Instrument) -> list[Instrument]:
        key = ("OPT", underlying.con_id, self.today())
        chain = self._chains.get(key)
        if chain is None:
            chain = [self._known(i) for i in chains.option_chain(underlying, self.today())]
            self._chains[key] = chain
        return chain

    def _futures(self, root: chains.FutureRoot, include_expired: bool) -> list[Instrument]:
        key = ("FUT", root.symbol, self.today(), include_expired)
        chain = self._chains.get(key)
        if chain is None:
            months = chains.future_months(root, self.today(), include_expired)
            chain = [self._known(chains.future(root, y, m)) for y, m in months]
            self._chains[key] = chain
        return chain

    def _known(self, instrument: Instrument) -> Instrument:
        existing = self._by_con_id.get(instrument.con_id)
        return existing if existing is not None else self.register(instrument)

    # --- reqSecDefOptParams, reqMatchingSymbols, reqMarketRule -------------------------

    def option_chain_params(
        self, underlying_symbol: str, underlying_sec_type: str = "STK", underlying_con_id: int = 0
    ) -> list[OptionChainParams]:
        if underlying_sec_type.upper() != "STK":
            return []
        underlying = self._stock(underlying_symbol.upper())
        if underlying is None or (underlying_con_id and underlying_con_id != underlying.con_id):
            return []
        options = self._options(underlying)
        expirations = tuple(sorted({o.contract.lastTradeDateOrContractMonth for o in options}))
        strikes = tuple(sorted({o.contract.strike for o in options}))
        return [
            OptionChainParams(
                exchange=exchange,
                underlyingConId=underlying.con_id,
                tradingClass=underlying.symbol,
                multiplier="100",
                expirations=expirations,
                strikes=strikes,
            )
            for exchange in OPTION_PARAM_EXCHANGES
        ]

    def matching_symbols(self, pattern: str) -> list[ContractDescription]:
        """Up to 16 descriptions: ticker prefix matches first, then name matches."""
        text = pattern.strip().upper()
        if not text:
            return []
        listed = [
            i
            for i in self._by_con_id.values()
            if i.sec_type in ("STK", "CRYPTO", "CFD") and i.con_id < GENERATED_CON_IDS[0]
        ]
        by_symbol = sorted((i for i in listed if i.symbol.startswith(text)), key=_order_key)
        by_name = sorted(
            (i for i in listed if text in i.details.longName and i not in by_symbol),
            key=_order_key,
        )
        found = by_symbol + by_name
        if not found:  # an unknown ticker is a company like any other
            generated = self._stock(text)
            if generated is not None:
                found.insert(0, generated)
        return [_description(i) for i in found[:MAX_MATCHING_SYMBOLS]]

    def market_rule(self, rule_id: int) -> tuple[PriceIncrement, ...] | None:
        return MARKET_RULES.get(rule_id)

    def price_increment(self, instrument: Instrument, price: float) -> float:
        rule = instrument.rule_id
        return increment_at(rule, price) if rule in MARKET_RULES else instrument.details.minTick


def _in_span(con_id: int, span: tuple[int, int]) -> bool:
    return span[0] <= con_id < span[0] + span[1]


def _symbol_from_local(local_symbol: str, sec_type: str) -> str:
    text = local_symbol.upper()
    if sec_type == "OPT":
        return text[:6].strip()
    if sec_type in ("FUT", "CONTFUT") and len(text) > 2:
        return text[:-2]
    if sec_type in ("CASH", "CRYPTO") and "." in text:
        return text.split(".")[0]  # "EUR.GBP", "ETH.USD": the base currency
    return text


def _exchange_for(query: Contract, instrument: Instrument) -> str | None:
    wanted = query.exchange.upper()
    default = instrument.contract.exchange
    if not wanted:
        return default
    valid = instrument.details.validExchanges.split(",")
    return wanted if wanted in valid or wanted == default else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _matches(query: Contract, instrument: Instrument, today: date) -> bool:
    c = instrument.contract
    d = instrument.details
    if query.symbol and query.symbol.upper() != c.symbol.upper():
        return False
    wanted_type = query.secType.upper()
    if (
        wanted_type
        and wanted_type != c.secType
        and not (wanted_type == "CONTFUT" and c.secType == "FUT")
    ):
        return False
    if query.currency and query.currency.upper() != c.currency:
        return False
    when = query.lastTradeDateOrContractMonth
    if when and not (c.lastTradeDateOrContractMonth.startswith(when) or d.contractMonth == when):
        return False
    if query.strike and abs(query.strike - c.strike) > 1e-6:
        return False
    right = {"CALL": "C", "PUT": "P"}.get(query.right.upper(), query.right.upper())
    if right and right != c.right:
        return False
    if query.multiplier and _number(query.multiplier) != float(c.multiplier or 1):
        return False  # a multiplier that is not a number matches nothing (error 200)
    if query.primaryExchange and query.primaryExchange.upper() != c.primaryExchange:
        return False
    if query.localSymbol and query.localSymbol.replace(" ", "").upper() != c.localSymbol.replace(
        " ", ""
    ):
        return False
    if query.tradingClass and query.tradingClass.upper() != c.tradingClass.upper():
        return False
    wanted_id = query.secId.upper() if query.secIdType else ""
    if wanted_id and not any(t.value.upper() == wanted_id for t in d.secIdList):
        return False
    return query.includeExpired or not instrument.expired(today)


def _order_key(instrument: Instrument) -> tuple:
    c = instrument.contract
    return (c.secType, c.symbol, c.lastTradeDateOrContractMonth, c.strike, c.right, c.conId)


def _description(instrument: Instrument) -> ContractDescription:
    c = instrument.contract
    derivatives = ("CFD", "OPT", "IOPT", "WAR", "BAG") if c.secType == "STK" else ()
    return ContractDescription(
        contract=Contract(
            conId=c.conId,
            symbol=c.symbol,
            secType=c.secType,
            primaryExchange=c.primaryExchange or c.exchange,
            currency=c.currency,
            description=instrument.details.longName,
        ),
        derivativeSecTypes=derivatives,
    )
