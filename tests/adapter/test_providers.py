"""InteractiveBrokersInstrumentProvider against the full fake-tws world over TCP.

The world's virtual clock stands at 2026-01-05 14:30 UTC; the provider's TestClock is
set to the same moment, so expiry windows are deterministic. Listed there: ES futures
H6 (2026-03-20), M6 (06-18), U6 (09-18), Z6 (12-18) and, with includeExpired, the 2025
months; AAPL options expiring 2026-01-09, 01-16, 01-23, 01-30, 02-06, 02-20, 03-20, ...
with 66 contracts per expiry.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime

import nautilus_trader.adapters.interactive_brokers.providers as theirs
import pytest
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Equity, Instrument, OptionContract, OptionSpread

from adapter.client import IBConnectionError, IBRequestTimeout
from adapter.common import ComboLeg, IBContract
from adapter.config import InteractiveBrokersInstrumentProviderConfig, SymbologyMethod
from adapter.parsing.instruments import parse_instrument
from adapter.providers import MAX_QUERIES_IN_FLIGHT, InteractiveBrokersInstrumentProvider
from fake_tws.journal import received, sent
from fake_tws.protocol.requests.contracts import ReqContractDetails
from tests.adapter.historical.support import Script, clock_at, ib_client, start_tws

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)  # the world's virtual clock
AAPL = IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ")
ES = IBContract(secType="CONTFUT", symbol="ES", exchange="CME")
ESH6_CON_ID = 732897484


def only_equities(instrument: Instrument) -> bool:
    """A ``filter_callable`` (referenced by path in a config below)."""
    return isinstance(instrument, Equity)


@pytest.fixture
def tws():
    with start_tws() as server:
        yield server


def make_provider(client, clock=None, **config) -> InteractiveBrokersInstrumentProvider:
    return InteractiveBrokersInstrumentProvider(
        client,
        clock or clock_at(NOW),
        InteractiveBrokersInstrumentProviderConfig(**config),
    )


def detail_requests(tws) -> list:
    return tws.journal.requests("reqContractDetails")


# -- surface -------------------------------------------------------------------------------

PUBLIC = [
    "__init__",
    "initialize",
    "get_instrument",
    "instrument_id_to_ib_contract",
    "instrument_id_to_ib_contract_details",
    "get_price_magnifier",
    "load_all_async",
    "load_ids_async",
    "load_async",
    "load_ids_with_return_async",
    "load_with_return_async",
    "fetch_instrument_id",
    "get_contract_details",
    "get_future_chain_details",
    "get_option_chain_details_by_range",
    "get_option_chain_details_by_expiry",
    "determine_venue_from_contract",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_methods_take_their_parameters_with_their_defaults(name):
    ours = getattr(InteractiveBrokersInstrumentProvider, name)
    their = getattr(theirs.InteractiveBrokersInstrumentProvider, name)
    assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(their)

    def positional(fn):
        return [
            (p.name, p.default)
            for p in inspect.signature(fn).parameters.values()
            if p.kind is not p.KEYWORD_ONLY
        ]

    assert positional(ours) == positional(their)


def test_filter_sec_types_is_a_property_like_theirs():
    assert isinstance(InteractiveBrokersInstrumentProvider.filter_sec_types, property)


# -- loading ids ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_loaded_ids_fill_the_maps_the_clients_read(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        ids = ["AAPL.NASDAQ", "ESH6.CME", "EUR/USD.IDEALPRO"]
        loaded = await provider.load_ids_with_return_async(
            [InstrumentId.from_str(i) for i in ids],
        )

        assert [i.value for i in loaded] == ids
        aapl = InstrumentId.from_str("AAPL.NASDAQ")
        assert provider.contract[aapl].conId == 265598
        assert provider.contract_details[aapl].contract == provider.contract[aapl]
        assert provider.contract_id_to_instrument_id[265598] == aapl
        assert provider.contract_id_to_instrument_id[ESH6_CON_ID].value == "ESH6.CME"
        for instrument_id in loaded:
            instrument = provider.find(instrument_id)
            assert client._cache.instrument(instrument_id) == instrument
            # The instrument is what parsing IB's details gives.
            expected = parse_instrument(
                provider.contract_details[instrument_id],
                instrument_id.venue.value,
                ts_init=instrument.ts_init,
            )
            assert type(expected).to_dict(expected) == type(instrument).to_dict(instrument)
        assert provider.get_price_magnifier(aapl) == 1
        assert provider.get_price_magnifier(InstrumentId.from_str("NOPE.NASDAQ")) == 1


@pytest.mark.asyncio
async def test_instrument_id_strings_load(tws):
    # Theirs logs "Expected InstrumentId or IBContract" for strings and loads nothing.
    async with ib_client(tws) as client:
        provider = make_provider(client)
        assert await provider.load_with_return_async("AAPL.NASDAQ") == [
            InstrumentId.from_str("AAPL.NASDAQ"),
        ]
        assert await provider.load_with_return_async("not an id") is None


@pytest.mark.asyncio
async def test_the_same_contract_is_asked_once(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        aapl = InstrumentId.from_str("AAPL.NASDAQ")
        await asyncio.gather(provider.load_async(aapl), provider.load_async(aapl))
        await provider.load_ids_async([aapl])
        assert await provider.fetch_instrument_id(aapl)
        instrument = await provider.get_instrument(IBContract(conId=265598, exchange="SMART"))
        await provider.get_contract_details(AAPL)
        await provider.get_contract_details(AAPL)

        assert instrument.id == aapl
        assert len(detail_requests(tws)) == 2  # the id's query, and AAPL's


@pytest.mark.asyncio
async def test_answers_expire_after_cache_validity_days_and_on_forced_updates(tws):
    async with ib_client(tws) as client:
        clock = clock_at(NOW)
        provider = make_provider(client, clock, cache_validity_days=1)
        await provider.get_contract_details(AAPL)
        clock.advance_time(clock.timestamp_ns() + 86_399 * 1_000_000_000)
        await provider.get_contract_details(AAPL)
        assert len(detail_requests(tws)) == 1
        clock.advance_time(clock.timestamp_ns() + 1_000_000_000)
        await provider.get_contract_details(AAPL)
        assert len(detail_requests(tws)) == 2

        await provider.load_with_return_async(AAPL, force_instrument_update=True)
        assert len(detail_requests(tws)) == 3


@pytest.mark.asyncio
async def test_an_instrument_in_the_clients_cache_loads_without_asking_ib(tws):
    async with ib_client(tws) as client:
        first = make_provider(client)
        [aapl] = await first.load_with_return_async("AAPL.NASDAQ")
        asked = len(detail_requests(tws))

        second = make_provider(client)
        assert await second.fetch_instrument_id(aapl)
        assert len(detail_requests(tws)) == asked
        assert second.contract[aapl].conId == 265598
        assert second.contract_id_to_instrument_id[265598] == aapl


@pytest.mark.asyncio
async def test_unknown_contracts_are_not_loaded(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        unknown = InstrumentId.from_str("NOPE123.NASDAQ")
        assert await provider.load_with_return_async(unknown) is None
        assert not await provider.fetch_instrument_id(unknown)
        assert await provider.instrument_id_to_ib_contract_details(unknown) is None
        assert (
            await provider.load_with_return_async(IBContract(secType="FUT", symbol="XYZ")) is None
        )
        assert (
            await provider.get_contract_details(IBContract(secType="STK", symbol="NOPE123")) == []
        )
        with pytest.raises(ValueError, match="Instrument not found"):
            await provider.get_instrument(IBContract(conId=12345, exchange="SMART"))
        assert provider.count == 0
        tws.journal.assert_sent("error", errorCode=200)


@pytest.mark.asyncio
async def test_get_instrument_of_a_query_without_con_id(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        instrument = await provider.get_instrument(AAPL)
        assert instrument.id.value == "AAPL.NASDAQ"
        with pytest.raises(ValueError, match="Instrument not found"):  # several matches
            await provider.get_instrument(IBContract(secType="FUT", symbol="ES", exchange="CME"))


@pytest.mark.asyncio
async def test_a_query_matching_several_contracts_loads_them_all(tws):
    # Theirs unpacks `[qualified] = details` and loads nothing for such a query.
    async with ib_client(tws) as client:
        provider = make_provider(client)
        loaded = await provider.load_with_return_async(
            IBContract(secType="FUT", symbol="ES", exchange="CME"),
        )
        assert [i.value for i in loaded] == [
            "ESH6.CME",
            "ESM6.CME",
            "ESU6.CME",
            "ESZ6.CME",
            "ESH7.CME",
        ]


# -- chains -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_futures_chain_is_cut_to_the_expiry_window(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        loaded = await provider.load_with_return_async(
            IBContract(
                secType="CONTFUT",
                symbol="ES",
                exchange="CME",
                build_futures_chain=True,
                max_expiry_days=200,
            ),
        )
        assert [i.value for i in loaded] == ["ES.CME", "ESH6.CME", "ESM6.CME"]
        # The continuous future has its front month's conId; the month keeps that entry.
        assert provider.contract_id_to_instrument_id[ESH6_CON_ID].value == "ESH6.CME"
        assert provider.contract[InstrumentId.from_str("ES.CME")].secType == "CONTFUT"


@pytest.mark.asyncio
async def test_a_window_reaching_back_loads_expired_futures(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client, build_futures_chain=True, min_expiry_days=-300)
        loaded = await provider.load_with_return_async(ES)
        assert [i.value for i in loaded] == [
            "ES.CME",
            "ESH5.CME",
            "ESM5.CME",
            "ESU5.CME",
            "ESZ5.CME",
            "ESH6.CME",
        ]
        assert any(q.contract.includeExpired for q in detail_requests(tws))


@pytest.mark.asyncio
async def test_options_chain_is_cut_to_the_window_and_to_the_underlying(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        loaded = await provider.load_with_return_async(
            IBContract(
                secType="STK",
                symbol="AAPL",
                exchange="SMART",
                primaryExchange="NASDAQ",
                build_options_chain=True,
                max_expiry_days=14,
            ),
        )
        options = [provider.find(i) for i in loaded[1:]]
        assert loaded[0].value == "AAPL.NASDAQ"
        assert len(options) == 2 * 66
        assert {o.expiration_utc.date().isoformat() for o in options} == {
            "2026-01-09",
            "2026-01-16",
        }
        assert all(isinstance(o, OptionContract) and o.id.venue.value == "SMART" for o in options)
        assert {provider.contract_details[o.id].underConId for o in options} == {265598}
        # One reqSecDefOptParams, one reqContractDetails per expiry (plus AAPL's own).
        tws.journal.assert_received("reqSecDefOptParams", times=1)
        assert len(detail_requests(tws)) == 3

        # Each option is named by its own venue, so its id loads on its own.
        other = make_provider(client)
        assert await other.fetch_instrument_id(options[0].id)


@pytest.mark.asyncio
async def test_an_option_expiring_today_is_in_the_window(tws):
    # Theirs compares expiry dates with the current time of day and drops today's.
    async with ib_client(tws) as client:
        provider = make_provider(
            client,
            clock_at(datetime(2026, 1, 9, 18, 0, tzinfo=UTC)),
            build_options_chain=True,
            max_expiry_days=0,
        )
        loaded = await provider.load_with_return_async(AAPL)
        expiries = {provider.contract[i].lastTradeDateOrContractMonth for i in loaded[1:]}
        assert expiries == {"20260109"}


@pytest.mark.asyncio
async def test_an_options_query_with_an_expiry_loads_that_expiry(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        query = IBContract(
            secType="STK",
            symbol="AAPL",
            exchange="SMART",
            lastTradeDateOrContractMonth="20260220",
            build_options_chain=True,
        )
        loaded = await provider.load_with_return_async(query)
        expiries = {provider.contract[i].lastTradeDateOrContractMonth for i in loaded[1:]}
        assert expiries == {"20260220"}
        tws.journal.assert_received("reqSecDefOptParams", times=0)


@pytest.mark.asyncio
async def test_config_chain_flags_expand_only_what_they_apply_to(tws):
    # Theirs asks for a futures chain of every contract, stocks included.
    async with ib_client(tws) as client:
        provider = make_provider(client, build_futures_chain=True, max_expiry_days=100)
        assert [i.value for i in await provider.load_with_return_async(AAPL)] == ["AAPL.NASDAQ"]
        assert [i.value for i in await provider.load_with_return_async(ES)] == [
            "ES.CME",
            "ESH6.CME",
        ]
        assert [q.contract.secType for q in detail_requests(tws)] == ["STK", "CONTFUT", "FUT"]


@pytest.mark.asyncio
async def test_chain_helpers_give_what_theirs_do(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        [es] = await provider.get_contract_details(ES)
        futures = await provider.get_future_chain_details(es.contract)
        assert [d.contract.localSymbol for d in futures][-5:] == [
            "ESH6",
            "ESM6",
            "ESU6",
            "ESZ6",
            "ESH7",
        ]
        assert futures[0].contract.localSymbol == "ESH5"  # expired ones too, as theirs
        [aapl] = await provider.get_contract_details(AAPL)
        by_range = await provider.get_option_chain_details_by_range(
            aapl.contract,
            min_expiry=NOW,
            max_expiry=datetime(2026, 1, 16, tzinfo=UTC),
        )
        by_expiry = await provider.get_option_chain_details_by_expiry(
            aapl.contract,
            "20260116",
            "SMART",
        )
        assert len(by_range) == 2 * 66
        assert by_expiry == by_range[66:]


# -- naming ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_mic_venues_and_symbol_overrides(tws):
    async with ib_client(tws) as client:
        provider = make_provider(
            client,
            convert_exchange_to_mic_venue=True,
            symbol_to_mic_venue={"ES": "GLBX"},
        )
        assert [i.value for i in await provider.load_with_return_async(AAPL)] == ["AAPL.XNAS"]
        assert [i.value for i in await provider.load_with_return_async(ES)] == ["ES.GLBX"]
        # GLBX stands for CBOT, CME, NYBOT and NYMEX: each is tried until one knows ESH6.
        assert await provider.fetch_instrument_id(InstrumentId.from_str("ESH6.GLBX"))
        asked = [q.contract.exchange for q in detail_requests(tws) if q.contract.localSymbol]
        assert asked == ["CBOT", "CME"]
        assert (
            provider.determine_venue_from_contract(
                provider.contract[InstrumentId.from_str("AAPL.XNAS")]
            )
            == "XNAS"
        )


@pytest.mark.asyncio
async def test_raw_symbology(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client, symbology_method=SymbologyMethod.IB_RAW)
        loaded = await provider.load_ids_with_return_async([AAPL, "ESH6=FUT.CME"])
        assert [i.value for i in loaded] == ["AAPL=STK.NASDAQ", "ESH6=FUT.CME"]


@pytest.mark.asyncio
async def test_instrument_id_to_ib_contract(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        aapl = InstrumentId.from_str("AAPL.NASDAQ")
        # Not loaded: the query the id stands for, without asking IB.
        query = await provider.instrument_id_to_ib_contract(aapl)
        assert (query.secType, query.localSymbol, query.primaryExchange, query.conId) == (
            "STK",
            "AAPL",
            "NASDAQ",
            0,
        )
        assert detail_requests(tws) == []
        # Loaded: the qualified contract.
        await provider.load_async(aapl)
        assert (await provider.instrument_id_to_ib_contract(aapl)).conId == 265598
        details = await provider.instrument_id_to_ib_contract_details(aapl)
        assert details.longName == "APPLE INC"


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_filtered_sec_types_are_skipped(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client, filter_sec_types=frozenset({"CASH"}))
        assert provider.filter_sec_types == {"CASH"}
        assert await provider.load_with_return_async("EUR/USD.IDEALPRO") is None
        cash = IBContract(secType="CASH", conId=12087792, exchange="IDEALPRO")
        assert await provider.get_instrument(cash) is None
        assert await provider.load_with_return_async("AAPL.NASDAQ")


@pytest.mark.asyncio
async def test_filter_callable_is_honoured(tws):
    async with ib_client(tws) as client:
        provider = make_provider(
            client,
            build_options_chain=True,
            max_expiry_days=5,
            filter_callable="tests.adapter.test_providers:only_equities",
        )
        assert [i.value for i in await provider.load_with_return_async(AAPL)] == ["AAPL.NASDAQ"]


# -- start-up ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_initialize_loads_ids_and_contracts_once_for_concurrent_callers(tws):
    # Theirs skips `load_contracts` when `load_ids` is set.
    async with ib_client(tws) as client:
        provider = make_provider(
            client,
            load_ids=frozenset({InstrumentId.from_str("AAPL.NASDAQ")}),
            load_contracts=frozenset(
                {IBContract(secType="CASH", symbol="EUR", currency="USD", exchange="IDEALPRO")}
            ),
        )
        await asyncio.gather(provider.initialize(), provider.initialize())
        await provider.initialize()

        assert sorted(i.id.value for i in provider.list_all()) == [
            "AAPL.NASDAQ",
            "EUR/USD.IDEALPRO",
        ]
        assert len(detail_requests(tws)) == 2

        await provider.initialize(reload=True)
        assert len(detail_requests(tws)) == 2  # reloading reuses IB's answers


# -- spreads ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_spread_ids_load_their_legs_and_bag_contracts_find_them(tws):
    async with ib_client(tws) as client:
        provider = make_provider(client)
        spread_id = InstrumentId.from_str("(1)AAPL260109C00175000_((1))AAPL260109C00180000.SMART")
        assert await provider.fetch_instrument_id(spread_id)

        spread = provider.find(spread_id)
        bag = provider.contract[spread_id]
        assert isinstance(spread, OptionSpread)
        assert bag.secType == "BAG" and bag.symbol == "AAPL"
        legs = [provider.contract[leg] for leg, _ in spread_id.to_list()]
        assert [(leg.conId, leg.action) for leg in bag.comboLegs] == [
            (legs[0].conId, "BUY"),
            (legs[1].conId, "SELL"),
        ]
        assert await provider.instrument_id_to_ib_contract(spread_id) == bag

        # A BAG from IB (a position, an order) is found by its legs, whatever its conId.
        from_ib = IBContract(
            secType="BAG",
            symbol="AAPL",
            exchange="SMART",
            currency="USD",
            comboLegs=[
                ComboLeg(conId=legs[0].conId, ratio=1, action="BUY", exchange="SMART"),
                ComboLeg(conId=legs[1].conId, ratio=1, action="SELL", exchange="SMART"),
            ],
        )
        assert await provider.get_instrument(from_ib) is spread
        reversed_legs = msgspec_replace_legs(from_ib, ["SELL", "BUY"])
        other = await provider.get_instrument(reversed_legs)
        assert other.id != spread_id and isinstance(other, OptionSpread)


def msgspec_replace_legs(bag: IBContract, actions: list[str]) -> IBContract:
    import msgspec

    legs = [
        msgspec.structs.replace(leg, action=a)
        for leg, a in zip(bag.comboLegs, actions, strict=True)
    ]
    return msgspec.structs.replace(bag, comboLegs=legs)


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_queries_in_flight_are_bounded():
    # 25 loads at once: 20 queries go out, the rest wait for answers (not in the client's
    # send queue, where their time limit would run while they wait).
    held = []
    script = Script()
    script.on(ReqContractDetails)(lambda session, request: held.append((session, request)))
    symbols = [f"S{i:02d}.NASDAQ" for i in range(25)]
    with start_tws(script) as server:
        async with ib_client(server) as client:
            provider = make_provider(client)
            loads = asyncio.ensure_future(provider.load_ids_with_return_async(symbols))
            await server.wait_for_async(received("reqContractDetails"))
            deadline = asyncio.get_running_loop().time() + 5
            while script.count(ReqContractDetails) < MAX_QUERIES_IN_FLIGHT:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)

            def answer_held() -> None:
                while held:
                    Script.world(*held.pop(0))

            server.call(answer_held)
            first_answer = server.journal.find(sent("contractDetailsEnd"))[0].seq
            while not loads.done():
                server.call(answer_held)
                await asyncio.wait([loads], timeout=0.01)
            assert loads.result()  # (generated stocks not listed on NASDAQ are not found)
            requests = server.journal.find(received("reqContractDetails"))
            assert len(requests) == 25
            assert all(r.seq < first_answer for r in requests[:MAX_QUERIES_IN_FLIGHT])
            assert all(r.seq > first_answer for r in requests[MAX_QUERIES_IN_FLIGHT:])


@pytest.mark.asyncio
async def test_a_lost_connection_is_raised_not_reported_as_unknown():
    script = Script()
    script.on(ReqContractDetails)(lambda session, request: None)  # never answers
    with start_tws(script) as server:
        async with ib_client(server, client_id=3) as client:
            provider = make_provider(client)
            load = asyncio.ensure_future(provider.load_async(InstrumentId.from_str("AAPL.NASDAQ")))
            await server.wait_for_async(received("reqContractDetails"))
            server.disconnect(3)
            with pytest.raises(IBConnectionError):
                await asyncio.wait_for(load, 5)


@pytest.mark.asyncio
async def test_no_answer_in_time_raises_a_timeout():
    script = Script()
    script.on(ReqContractDetails)(lambda session, request: None)
    with start_tws(script) as server:
        async with ib_client(server) as client:
            provider = InteractiveBrokersInstrumentProvider(
                client,
                clock_at(NOW),
                InteractiveBrokersInstrumentProviderConfig(),
                request_timeout=0.2,
            )
            with pytest.raises(IBRequestTimeout):
                await provider.load_async(InstrumentId.from_str("AAPL.NASDAQ"))
