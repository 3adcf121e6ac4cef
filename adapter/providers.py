"""``InteractiveBrokersInstrumentProvider``: NautilusTrader instruments for IB contracts.

The provider turns instrument ids and ``IBContract`` queries into instruments (asking
IB with ``reqContractDetails``), expands queries into futures and options chains, and
keeps what the data and execution clients need to talk to IB about an instrument.

What other parts of the adapter read (names as in NautilusTrader's adapter):

===================================  ======================================================
``contract[instrument_id]``          the qualified ``IBContract`` (conId set) to send to IB;
                                     for spreads, the ``BAG`` contract with its legs
``contract_details[instrument_id]``  its ``IBContractDetails`` (no entry for spreads)
``contract_id_to_instrument_id``     conId -> instrument id, for IB messages that name a
                                     contract by conId (positions, executions, orders). A
                                     continuous future (CONTFUT) shares its conId with the
                                     front month; the month's own id wins that entry.
``find(instrument_id)``              the instrument (base class), also added to the
                                     client's cache (``client._cache``)
``get_price_magnifier(id)``          IB prices are the Nautilus price times this
``filter_sec_types``                 secTypes never loaded (set)
===================================  ======================================================

Awaitables: ``initialize()``, ``load_ids_async``/``load_async``/``load_all_async``
(base class), ``load_with_return_async``/``load_ids_with_return_async`` (they return
the ids loaded), ``fetch_instrument_id(id) -> bool``, ``get_instrument(contract)``,
``instrument_id_to_ib_contract(id)``, ``instrument_id_to_ib_contract_details(id)``.

Errors: a contract IB does not know (error 200) or an IB error about the request is
logged and the contract is not loaded (the methods return ``None``, ``False`` or
``[]``, as NautilusTrader's do). A lost connection (``IBConnectionError``) or no answer
in time (``IBRequestTimeout``) is raised: the load did not happen, and the caller
should know.

Chains: a query with ``build_futures_chain`` (on the contract or in the config) loads
every future of the root, and ``build_options_chain`` every option on the underlying
(``reqSecDefOptParams``, then one ``reqContractDetails`` per expiry, restricted to the
underlying's conId); options on a CONTFUT are options on each future of its chain.
Chain members are kept only if they expire within ``min_expiry_days`` ..
``max_expiry_days`` (contract first, then config, default 0 and 90) of the provider's
clock's date, both ends included.

Caching: at most ``MAX_QUERIES_IN_FLIGHT`` queries are out at once; each distinct query
is sent to IB once; its answer is kept for
``cache_validity_days`` (``None``: for the provider's life) and ``force_instrument_update``
asks again. Instruments already in the client's cache with contract details in ``info``
are rebuilt from it without asking IB (as theirs does).

Where ours departs from NautilusTrader's 1.221.0 provider, each where theirs fails:

- A query matching several contracts loads them all (theirs unpacks ``[qualified] =
  details`` and loads nothing). Each contract is named by its own venue (theirs names
  every contract of a query by the first one's venue, so options of an AAPL chain got
  ``.NASDAQ`` and could not be named back).
- The futures chain is cut to the expiry window like the options chain (theirs loads
  every future, expired ones included); an option expiring today is in the window
  (theirs compares with the current time of day and drops it); a window bound of 0 on
  the contract counts (theirs reads 0 as "unset").
- The config's chain flags expand only contracts they apply to (theirs asks for a
  futures chain of every contract, stocks too).
- ``initialize`` loads ``load_ids`` *and* ``load_contracts`` (theirs skips the contracts
  when ids are configured); concurrent calls share one load.
- ``load_with_return_async`` takes instrument id strings too (theirs logs an error and
  loads nothing, which broke the historic client's ``request_instruments``).
- An id is loaded only if IB's answer names that id (theirs reports success for any
  answer, then ``contract[id]`` raises ``KeyError``).
- ``instrument_id_to_ib_contract`` returns the qualified contract once loaded (theirs
  rebuilds the query from the id each time).
- ``get_instrument`` for a ``BAG`` finds the spread by its legs (theirs maps conId 0, the
  conId of every BAG, to whichever spread was loaded last).

``filters`` arguments are accepted and ignored, as in theirs; ``filter_callable`` in the
config is honoured. ``pickle_path`` is not used (nor by theirs).
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec
import pandas as pd
from nautilus_trader.common.component import Clock
from nautilus_trader.common.config import resolve_path
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapter.client import IBNoSecurityDefinition, IBRequestError, InteractiveBrokersClient
from adapter.client.contract import OptionChain, contract_key
from adapter.common import IBContract, IBContractDetails, dict_to_contract_details
from adapter.config import InteractiveBrokersInstrumentProviderConfig
from adapter.parsing.instruments import parse_instrument, parse_spread_instrument_id
from adapter.parsing.symbology import instrument_id_to_ib_contract
from adapter.parsing.venues import exchanges_for_venue, venue_for_contract

DEFAULT_MIN_EXPIRY_DAYS = 0
DEFAULT_MAX_EXPIRY_DAYS = 90
MAX_QUERIES_IN_FLIGHT = 20
_NANOS_PER_DAY = 86_400 * 1_000_000_000
# Our chain options on IBContract; IB never sees them, and they must not split the cache.
_ADAPTER_FIELDS = {
    "build_futures_chain": None,
    "build_options_chain": None,
    "options_chain_exchange": None,
    "min_expiry_days": None,
    "max_expiry_days": None,
}
_DECIMAL_FIELDS = ("minSize", "sizeIncrement", "suggestedSizeIncrement")
_FUTURES = ("FUT", "CONTFUT")
_OPTION_UNDERLYINGS = ("STK", "FUT", "IND")
T = TypeVar("T")


class InteractiveBrokersInstrumentProvider(InstrumentProvider):
    """Loads instruments through an ``InteractiveBrokersClient`` (see the module docstring).

    Parameters
    ----------
    client : InteractiveBrokersClient
        The connection to ask IB through; its ``_cache`` receives every instrument.
    clock : Clock
        Stamps instruments and dates the expiry window of chains.
    config : InteractiveBrokersInstrumentProviderConfig
        What to load at start, how to name it and which chains to build.
    request_timeout : float, default 10.0
        Seconds to wait for IB's answer to each contract query (ours; keyword only).
    """

    def __init__(
        self,
        client: InteractiveBrokersClient,
        clock: Clock,
        config: InteractiveBrokersInstrumentProviderConfig,
        *,
        request_timeout: float = 10.0,
    ) -> None:
        super().__init__(config=config)
        self._client = client
        self._request_timeout = request_timeout
        self._clock = clock
        self.config = config

        self.contract_details: dict[InstrumentId, IBContractDetails] = {}
        self.contract_id_to_instrument_id: dict[int, InstrumentId] = {}
        self.contract: dict[InstrumentId, IBContract] = {}

        self._load_contracts_on_start = list(config.load_contracts or ())
        self._filter_sec_types = set(config.filter_sec_types)
        self._filter_callable: Callable[[Instrument], bool] | None = (
            resolve_path(config.filter_callable) if config.filter_callable else None
        )
        self._details_by_con_id: dict[int, IBContractDetails] = {}  # names BAG legs
        # query text -> (when answered, ns; IB's answer)
        self._answers: dict[str, tuple[int, list[IBContractDetails]]] = {}
        self._option_chains: dict[tuple, tuple[int, list[OptionChain]]] = {}
        self._initializing: asyncio.Future | None = None
        # Queries wait here rather than in the client's 50-a-second queue, where their
        # time limit would run out before they are even sent.
        self._in_flight = asyncio.Semaphore(MAX_QUERIES_IN_FLIGHT)

    # -- start-up -------------------------------------------------------------------------

    async def initialize(self, reload: bool = False) -> None:
        """Load ``load_ids`` and ``load_contracts`` once (again with ``reload``). Callers
        arriving while a load runs wait for it instead of starting another."""
        if self._initializing is not None:
            await asyncio.shield(self._initializing)
            if not reload:
                return
        if self._loaded and not reload:
            return
        self._initializing = asyncio.get_running_loop().create_future()
        self._loading = True
        try:
            await self.load_all_async(self._filters)
            self._loaded = True
            self._log.info(f"Initialized with {self.count} instruments")
            self._initializing.set_result(None)
        except BaseException as e:
            self._initializing.set_exception(e)
            self._initializing.exception()  # the waiters get it; no "never retrieved"
            raise
        finally:
            self._loading = False
            self._initializing = None

    async def load_all_async(self, filters: dict | None = None) -> None:
        """Load the configured ``load_ids`` and ``load_contracts`` (IB has no "all")."""
        ids = [
            InstrumentId.from_str(i) if isinstance(i, str) else i
            for i in (self._load_ids_on_start or ())
        ]
        contracts = [
            IBContract(**c) if isinstance(c, dict) else c for c in self._load_contracts_on_start
        ]
        if not ids and not contracts:
            self._log.debug("No instruments configured to load")
            return
        await self.load_ids_with_return_async([*ids, *contracts], filters)

    # -- loading --------------------------------------------------------------------------

    async def load_ids_async(
        self,
        instrument_ids: list[InstrumentId],
        filters: dict | None = None,
    ) -> None:
        await self.load_ids_with_return_async(instrument_ids, filters)

    async def load_async(self, instrument_id: InstrumentId, filters: dict | None = None) -> None:
        await self.load_with_return_async(instrument_id, filters)

    async def load_ids_with_return_async(
        self,
        instrument_ids: list[InstrumentId | IBContract | str],
        filters: dict | None = None,
        force_instrument_update: bool = False,
    ) -> list[InstrumentId]:
        """Load each id or contract query (at the same time); the ids loaded, in order."""
        results = await run_all(
            self.load_with_return_async(item, filters, force_instrument_update)
            for item in instrument_ids
        )
        loaded: dict[InstrumentId, None] = {}
        for ids in results:
            loaded.update(dict.fromkeys(ids or ()))
        return list(loaded)

    async def load_with_return_async(
        self,
        instrument_id: InstrumentId | IBContract | str,
        filters: dict | None = None,
        force_instrument_update: bool = False,
    ) -> list[InstrumentId] | None:
        """Load an instrument id (or its string) or every instrument an ``IBContract``
        query resolves to, chains included; the ids loaded, or ``None``."""
        if isinstance(instrument_id, str):
            try:
                instrument_id = InstrumentId.from_str(instrument_id)
            except ValueError as e:
                self._log.error(f"Not an instrument id: {instrument_id!r} ({e})")
                return None
        if isinstance(instrument_id, InstrumentId):
            if await self.fetch_instrument_id(instrument_id, force_instrument_update):
                return [instrument_id]
            return None
        if isinstance(instrument_id, IBContract):
            details = await self._expand(instrument_id, force_instrument_update)
            if not details:
                self._log.error(
                    f"No contract found for {instrument_id!r}; check it is tradable in TWS",
                )
                return None
            return self._add_details(details, None, force_instrument_update)
        self._log.error(f"Expected InstrumentId, IBContract or str, got {instrument_id!r}")
        return None

    async def fetch_instrument_id(
        self,
        instrument_id: InstrumentId,
        force_instrument_update: bool = False,
    ) -> bool:
        """Load ``instrument_id`` unless it is loaded; whether it is loaded now."""
        if instrument_id in self.contract and not force_instrument_update:
            return True
        if instrument_id.is_spread():
            return await self._fetch_spread(instrument_id, force_instrument_update)
        venue = instrument_id.venue.value
        if not force_instrument_update and self._add_from_cache(instrument_id):
            return True
        for exchange in exchanges_for_venue(venue):
            try:
                query = instrument_id_to_ib_contract(
                    instrument_id,
                    exchange,
                    self.config.symbology_method,
                    self.contract_details,
                )
            except ValueError as e:
                self._log.error(f"Cannot ask IB for {instrument_id}: {e}")
                return False
            details = await self._ask(query, force_instrument_update)
            if not details:
                continue
            loaded = self._add_details(details, venue, force_instrument_update)
            if instrument_id in loaded:
                return True
            self._log.warning(f"{query!r} for {instrument_id} resolved to {loaded} instead")
        self._log.error(f"No contract found for {instrument_id}")
        return False

    def _add_from_cache(self, instrument_id: InstrumentId) -> bool:
        """Rebuild an instrument the client's cache holds, from its ``info``."""
        cached = self._client._cache.instrument(instrument_id)
        if cached is None or not cached.info or not cached.info.get("contract"):
            return False
        try:
            details = dict_to_contract_details(cached.info)
            # Stored as JSON (a catalog, redis), the sizes come back as text.
            details = msgspec.structs.replace(
                details,
                **{
                    name: Decimal(value)
                    for name in _DECIMAL_FIELDS
                    if isinstance(value := getattr(details, name), str)
                },
            )
        except (TypeError, ValueError, ArithmeticError) as e:
            self._log.warning(f"Cached {instrument_id} has unreadable contract details: {e}")
            return False
        return instrument_id in self._add_details([details], instrument_id.venue.value)

    async def _fetch_spread(self, spread_id: InstrumentId, force: bool) -> bool:
        legs: list[tuple[IBContractDetails, int]] = []
        for leg_id, ratio in spread_id.to_list():
            if not await self.fetch_instrument_id(leg_id, force):
                self._log.error(f"Cannot load leg {leg_id} of spread {spread_id}")
                return False
            legs.append((self.contract_details[leg_id], ratio))
        exchange = exchanges_for_venue(spread_id.venue.value)[0]
        bag = instrument_id_to_ib_contract(
            spread_id,
            exchange,
            self.config.symbology_method,
            self.contract_details,
        )
        self._add_spread(spread_id, legs, bag, force)
        return True

    def _add_spread(
        self,
        spread_id: InstrumentId,
        legs: list[tuple[IBContractDetails, int]],
        bag: IBContract,
        force: bool = False,
    ) -> Instrument:
        spread = parse_spread_instrument_id(spread_id, legs, self._clock.timestamp_ns())
        self._keep(spread, force)
        self.contract[spread_id] = bag
        return spread

    # -- instruments for IB's contracts ----------------------------------------------------

    async def get_instrument(self, contract: IBContract) -> Instrument | None:
        """The instrument of a contract IB sent (a position's, an order's), loading it
        if needed; ``None`` for filtered secTypes, ``ValueError`` if IB has no such
        contract."""
        if self._is_filtered_sec_type(contract.secType):
            self._log.warning(f"Skipping filtered secType {contract.secType!r}: {contract!r}")
            return None
        if contract.secType == "BAG":
            return await self._bag_instrument(contract)
        instrument_id = self.contract_id_to_instrument_id.get(contract.conId)
        if instrument_id is not None and (instrument := self.find(instrument_id)) is not None:
            return instrument
        loaded = await self.load_with_return_async(contract) or []
        if contract.conId:
            instrument_id = self.contract_id_to_instrument_id.get(contract.conId)
        else:  # a query: its one match
            instrument_id = loaded[0] if len(loaded) == 1 else None
        if instrument_id is None or (instrument := self.find(instrument_id)) is None:
            raise ValueError(f"Instrument not found for contract {contract!r}")
        return instrument

    async def _bag_instrument(self, bag: IBContract) -> Instrument:
        if not bag.comboLegs:
            raise ValueError(f"BAG contract without legs: {bag!r}")
        legs: list[tuple[IBContractDetails, int]] = []
        leg_ids: list[tuple[InstrumentId, int]] = []
        for leg in bag.comboLegs:
            leg_query = IBContract(
                conId=leg.conId,
                exchange=leg.exchange or bag.exchange,
                symbol=bag.symbol,
                currency=bag.currency,
            )
            leg_instrument = await self.get_instrument(leg_query)
            if leg_instrument is None:
                raise ValueError(f"Leg {leg!r} of {bag!r} is of a filtered secType")
            ratio = leg.ratio if leg.action == "BUY" else -leg.ratio
            legs.append((self.contract_details[leg_instrument.id], ratio))
            leg_ids.append((leg_instrument.id, ratio))
        spread_id = InstrumentId.new_spread(leg_ids)
        if (existing := self.find(spread_id)) is not None:
            return existing
        return self._add_spread(spread_id, legs, bag)

    async def instrument_id_to_ib_contract(self, instrument_id: InstrumentId) -> IBContract | None:
        """The contract to send IB for ``instrument_id``: the qualified one once loaded;
        before that, the query its id stands for (asking IB only when the venue stands
        for several exchanges, or for spreads)."""
        if (contract := self.contract.get(instrument_id)) is not None:
            return contract
        exchanges = exchanges_for_venue(instrument_id.venue.value)
        if len(exchanges) == 1 and not instrument_id.is_spread():
            try:
                return instrument_id_to_ib_contract(
                    instrument_id,
                    exchanges[0],
                    self.config.symbology_method,
                    self.contract_details,
                )
            except ValueError as e:
                self._log.error(f"Cannot name {instrument_id} as an IB contract: {e}")
                return None
        if await self.fetch_instrument_id(instrument_id):
            return self.contract[instrument_id]
        return None

    async def instrument_id_to_ib_contract_details(
        self,
        instrument_id: InstrumentId,
    ) -> IBContractDetails | None:
        if await self.fetch_instrument_id(instrument_id):
            return self.contract_details.get(instrument_id)
        return None

    def get_price_magnifier(self, instrument_id: InstrumentId) -> int:
        details = self.contract_details.get(instrument_id)
        return (details.priceMagnifier or 1) if details is not None else 1

    def determine_venue_from_contract(self, contract: IBContract) -> str:
        """The venue naming ``contract``'s instrument under this provider's config."""
        return venue_for_contract(
            contract,
            self.config.convert_exchange_to_mic_venue,
            self.config.symbol_to_mic_venue,
        )

    @property
    def filter_sec_types(self) -> set[str]:
        return self._filter_sec_types

    def _is_filtered_sec_type(self, sec_type: str | None) -> bool:
        return bool(sec_type) and sec_type in self._filter_sec_types

    # -- contract details and chains -------------------------------------------------------

    async def get_contract_details(self, contract: IBContract) -> list[IBContractDetails]:
        """Every contract ``contract`` matches, expanded into the chains it asks for."""
        return await self._expand(contract, force=False)

    async def _expand(self, contract: IBContract, force: bool) -> list[IBContractDetails]:
        query = contract
        if self._wants_options_chain(contract) and contract.secType not in _FUTURES:
            # On an options chain query the expiry is the options', not the underlying's.
            query = msgspec.structs.replace(contract, lastTradeDateOrContractMonth="")
        details = await self._ask(query, force)
        if not details:
            return []
        window = self._expiry_window(contract)
        found = list(details)
        underlyings = details
        if self._wants_futures_chain(contract):
            chain = await self._gather(
                self._future_chain(d.contract, window, force)
                for d in _unique_roots(details)
                if d.contract.secType in _FUTURES
            )
            found += chain
            underlyings = chain or details
        if self._wants_options_chain(contract):
            exchange = contract.options_chain_exchange or contract.exchange
            found += await self._gather(
                self._option_chain(d.contract, contract, window, exchange, force)
                for d in underlyings
                if d.contract.secType in _OPTION_UNDERLYINGS
            )
        return _unique_contracts(found)

    async def get_future_chain_details(self, underlying: IBContract) -> list[IBContractDetails]:
        """Every future on ``underlying``'s root (expired ones too), unfiltered."""
        return await self._ask(_future_chain_query(underlying, include_expired=True), False)

    async def get_option_chain_details_by_range(
        self,
        underlying: IBContract,
        min_expiry: pd.Timestamp,
        max_expiry: pd.Timestamp,
        exchange: str | None = None,
    ) -> list[IBContractDetails]:
        """The options on ``underlying`` expiring from ``min_expiry`` to ``max_expiry``
        (dates, both included), listed on ``exchange`` (default SMART, for futures
        options the future's exchange)."""
        window = (pd.Timestamp(min_expiry).date(), pd.Timestamp(max_expiry).date())
        return await self._options_by_range(underlying, window, exchange, force=False)

    async def get_option_chain_details_by_expiry(
        self,
        underlying: IBContract,
        last_trading_date: str,
        exchange: str,
    ) -> list[IBContractDetails]:
        """The options on ``underlying`` expiring on ``last_trading_date`` (YYYYMMDD)."""
        return await self._options_by_expiry(underlying, last_trading_date, exchange, False)

    async def _future_chain(
        self,
        underlying: IBContract,
        window: tuple[dt.date, dt.date],
        force: bool,
    ) -> list[IBContractDetails]:
        include_expired = window[0] < self._today()
        chain = await self._ask(_future_chain_query(underlying, include_expired), force)
        kept = [d for d in chain if _within(_expiry_date(d.contract), window)]
        self._log.info(
            f"Futures chain of {underlying.symbol}.{underlying.exchange}: {len(kept)} of "
            f"{len(chain)} expire from {window[0]} to {window[1]}",
        )
        return kept

    async def _option_chain(
        self,
        underlying: IBContract,
        query: IBContract,
        window: tuple[dt.date, dt.date],
        exchange: str,
        force: bool,
    ) -> list[IBContractDetails]:
        if query.lastTradeDateOrContractMonth and query.secType not in _FUTURES:
            expiry = query.lastTradeDateOrContractMonth
            return await self._options_by_expiry(underlying, expiry, exchange, force)
        return await self._options_by_range(underlying, window, exchange, force)

    async def _options_by_range(
        self,
        underlying: IBContract,
        window: tuple[dt.date, dt.date],
        exchange: str | None,
        force: bool,
    ) -> list[IBContractDetails]:
        wanted = exchange or (underlying.exchange if underlying.secType == "FUT" else "SMART")
        chains = await self._chains(underlying, wanted, force)
        expiries = sorted(
            {e for chain in chains for e in chain.expirations if _within(_date(e), window)},
        )
        if not chains:
            self._log.warning(f"No option chain on {underlying.symbol} at {wanted}")
        options = await self._gather(
            self._options_by_expiry(underlying, expiry, wanted, force) for expiry in expiries
        )
        self._log.info(
            f"Options on {underlying.symbol}.{wanted}: {len(options)} in {len(expiries)} "
            f"expiries from {window[0]} to {window[1]}",
        )
        return options

    async def _chains(
        self, underlying: IBContract, exchange: str, force: bool
    ) -> list[OptionChain]:
        key = (underlying.conId, underlying.symbol, underlying.secType, exchange)
        if not force and (cached := self._fresh(self._option_chains.get(key))) is not None:
            return cached
        fut_fop_exchange = exchange if underlying.secType == "FUT" else ""
        try:
            async with self._in_flight:
                chains = await self._client.get_option_chains(
                    underlying, fut_fop_exchange, self._request_timeout
                )
        except (IBRequestError, ValueError) as e:
            self._log.error(f"No option chains for {underlying!r}: {e}")
            return []
        chains = [c for c in chains if c.exchange == exchange]
        self._option_chains[key] = (self._clock.timestamp_ns(), chains)
        return chains

    async def _options_by_expiry(
        self,
        underlying: IBContract,
        expiry: str,
        exchange: str | None,
        force: bool,
    ) -> list[IBContractDetails]:
        query = IBContract(
            secType="FOP" if underlying.secType == "FUT" else "OPT",
            symbol=underlying.symbol,
            exchange=exchange or "SMART",
            currency=underlying.currency,
            lastTradeDateOrContractMonth=expiry,
        )
        options = await self._ask(query, force)
        if underlying.conId:
            options = [d for d in options if d.underConId == underlying.conId]
        return options

    async def _ask(self, query: IBContract, force: bool) -> list[IBContractDetails]:
        """IB's details for a query, asked once while the answer is valid."""
        query = msgspec.structs.replace(query, **_ADAPTER_FIELDS)
        key = contract_key(query)
        if not force and (cached := self._fresh(self._answers.get(key))) is not None:
            return cached
        try:
            async with self._in_flight:
                details = await self._client.get_contract_details(query, self._request_timeout)
        except IBNoSecurityDefinition:
            self._log.info(f"IB knows no contract for {query!r}")
            return []
        except IBRequestError as e:
            self._log.error(f"Contract details for {query!r} failed: {e}")
            return []
        self._answers[key] = (self._clock.timestamp_ns(), details)
        return details

    def _fresh(self, entry: tuple[int, Any] | None) -> Any:
        if entry is None:
            return None
        days = self.config.cache_validity_days
        if days is not None and self._clock.timestamp_ns() - entry[0] >= days * _NANOS_PER_DAY:
            return None
        return entry[1]

    async def _gather(self, coroutines: Iterable[Any]) -> list[IBContractDetails]:
        return [d for details in await run_all(coroutines) for d in details]

    def _wants_futures_chain(self, contract: IBContract) -> bool:
        if contract.secType not in _FUTURES:
            return False
        if contract.build_futures_chain or self.config.build_futures_chain:
            return True
        # Options on a continuous future are options on the futures of its chain.
        return contract.secType == "CONTFUT" and self._wants_options_chain(contract)

    def _wants_options_chain(self, contract: IBContract) -> bool:
        return bool(contract.build_options_chain or self.config.build_options_chain)

    def _expiry_window(self, contract: IBContract) -> tuple[dt.date, dt.date]:
        low = _first(contract.min_expiry_days, self.config.min_expiry_days, DEFAULT_MIN_EXPIRY_DAYS)
        high = _first(
            contract.max_expiry_days,
            self.config.max_expiry_days,
            DEFAULT_MAX_EXPIRY_DAYS,
        )
        today = self._today()
        return today + dt.timedelta(days=low), today + dt.timedelta(days=high)

    def _today(self) -> dt.date:
        return pd.Timestamp(self._clock.timestamp_ns(), tz="UTC").date()

    # -- turning details into instruments ---------------------------------------------------

    def _add_details(
        self,
        details: list[IBContractDetails],
        venue: str | None,
        force: bool = False,
    ) -> list[InstrumentId]:
        """Parse and keep instruments; ``venue`` None names each by its own contract."""
        loaded: list[InstrumentId] = []
        for item in details:
            contract = item.contract
            if self._is_filtered_sec_type(contract.secType):
                self._log.warning(f"Skipping filtered secType {contract.secType!r}: {contract!r}")
                continue
            try:
                instrument = parse_instrument(
                    item,
                    venue or self.determine_venue_from_contract(contract),
                    self.config.symbology_method,
                    self._details_by_con_id,
                    ts_init=self._clock.timestamp_ns(),
                )
            except ValueError as e:
                self._log.error(f"Cannot make an instrument of {contract!r}: {e}")
                continue
            if self._filter_callable is not None and not self._filter_callable(instrument):
                continue
            self._keep(instrument, force)
            self.contract[instrument.id] = contract
            self.contract_details[instrument.id] = item
            con_id = contract.conId
            # A CONTFUT has its front month's conId; the month keeps the entry.
            if con_id and (
                contract.secType != "CONTFUT" or con_id not in self.contract_id_to_instrument_id
            ):
                self.contract_id_to_instrument_id[con_id] = instrument.id
                self._details_by_con_id[con_id] = item
            loaded.append(instrument.id)
        if loaded:
            self._log.debug(f"Loaded {len(loaded)} instruments: {loaded[:10]}")
        return loaded

    def _keep(self, instrument: Instrument, force: bool) -> None:
        self.add(instrument)
        cache = self._client._cache
        if force or cache.instrument(instrument.id) is None:
            cache.add_instrument(instrument)


async def run_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all at once; the first failure cancels the rest and is raised as is (no
    ``ExceptionGroup``, so callers catch ``IBConnectionError`` and the like directly)."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _first(*values: int | None) -> int:
    return next(v for v in values if v is not None)


def _future_chain_query(underlying: IBContract, include_expired: bool) -> IBContract:
    return IBContract(
        secType="FUT",
        symbol=underlying.symbol,
        exchange=underlying.exchange,
        currency=underlying.currency,
        tradingClass=underlying.tradingClass,
        includeExpired=include_expired,
    )


def _unique_roots(details: list[IBContractDetails]) -> list[IBContractDetails]:
    seen: dict[tuple, IBContractDetails] = {}
    for d in details:
        c = d.contract
        seen.setdefault((c.symbol, c.exchange, c.tradingClass, c.currency), d)
    return list(seen.values())


def _unique_contracts(details: list[IBContractDetails]) -> list[IBContractDetails]:
    seen: dict[tuple, IBContractDetails] = {}
    for d in details:
        seen.setdefault((d.contract.conId, d.contract.secType, d.contract.exchange), d)
    return list(seen.values())


def _date(text: str) -> dt.date | None:
    """A YYYYMMDD expiry's date; a YYYYMM month's last day."""
    text = text.strip()[:8]
    try:
        if len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 6:
            year, month = int(text[:4]), int(text[4:])
            return dt.date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        pass
    return None


def _expiry_date(contract: IBContract) -> dt.date | None:
    return _date(contract.lastTradeDateOrContractMonth or contract.lastTradeDate)


def _within(day: dt.date | None, window: tuple[dt.date, dt.date]) -> bool:
    return day is not None and window[0] <= day <= window[1]
