"""Market data: streams with handlers, snapshots, and paced historical requests.

The client speaks IB here; turning ticks and bars into NautilusTrader data is the data
client's job. Each ``subscribe_*`` takes a ``handler`` that receives the stream's events:

- ``subscribe_market_data`` (``reqMktData``): ``TickPrice``, ``TickSize``, ``TickString``,
  ``TickGeneric``, ``MarketDataTypeChanged``
- ``subscribe_ticks`` (``reqTickByTickData``): ibapi ``HistoricalTickBidAsk`` /
  ``HistoricalTickLast`` / ``HistoricalTick`` (the same types historical ticks come in)
- ``subscribe_order_book`` (``reqMktDepth``): ``DepthUpdate``
- ``subscribe_realtime_bars`` (``reqRealTimeBars``): ibapi ``RealTimeBar``
- ``subscribe_historical_bars`` (``reqHistoricalData`` keepUpToDate): ``BarUpdate`` per
  bar (``is_update`` False for the initial bars, True after), ``HistoricalBarsEnd`` once
  the initial bars are in

and an optional ``on_error`` told when IB ends the stream (e.g. ``IBNoPermissions`` for
354/10089; partial-permission warnings such as 10090 leave the stream running).
Streams are keyed by their first argument (an instrument or bar type): subscribing twice
returns the live subscription; ``unsubscribe_*`` takes the same key.

Historical requests pass the ``HistoricalPacer``, so our own traffic never causes IB's
pacing violation (162).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ibapi.common import (
    BarData,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    RealTimeBar,
    TickAttrib,
    TickAttribBidAsk,
    TickAttribLast,
)
from ibapi.const import UNSET_DECIMAL

from adapter.client.codes import IBRequestError
from adapter.client.contract import contract_key
from adapter.client.pacing import HistoricalPacer
from adapter.client.requests import Subscription
from adapter.common import IBContract

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object

Handler = Callable[[Any], None]
ErrorHandler = Callable[[IBRequestError], None]

# Tick types of reqMktData: live and delayed
BID, ASK, LAST = 1, 2, 4
DELAYED_BID, DELAYED_ASK, DELAYED_LAST = 66, 67, 68


@dataclass(frozen=True, slots=True)
class TickPrice:
    tick_type: int
    price: float
    attrib: TickAttrib


@dataclass(frozen=True, slots=True)
class TickSize:
    tick_type: int
    size: Decimal


@dataclass(frozen=True, slots=True)
class TickString:
    tick_type: int
    value: str


@dataclass(frozen=True, slots=True)
class TickGeneric:
    tick_type: int
    value: float


@dataclass(frozen=True, slots=True)
class MarketDataTypeChanged:
    market_data_type: int  # 1 real-time, 2 frozen, 3 delayed, 4 delayed frozen


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    position: int
    operation: int  # 0 insert, 1 update, 2 delete
    side: int  # 0 ask, 1 bid
    price: float
    size: Decimal
    market_maker: str = ""  # the exchange for smart depth, else the market maker
    is_smart_depth: bool = False


@dataclass(frozen=True, slots=True)
class BarUpdate:
    bar: BarData
    is_update: bool  # False: one of the initial bars; True: the latest bar, revised


@dataclass(frozen=True, slots=True)
class HistoricalBarsEnd:
    start: str
    end: str


@dataclass
class MarketSnapshot:
    """What a ``reqMktData`` snapshot returned, by IB tick type."""

    prices: dict[int, float] = field(default_factory=dict)
    sizes: dict[int, Decimal] = field(default_factory=dict)
    strings: dict[int, str] = field(default_factory=dict)
    generics: dict[int, float] = field(default_factory=dict)
    market_data_type: int | None = None

    @classmethod
    def from_events(cls, events: list[Any]) -> MarketSnapshot:
        snapshot = cls()
        for event in events:
            match event:
                case TickPrice():
                    snapshot.prices[event.tick_type] = event.price
                case TickSize():
                    snapshot.sizes[event.tick_type] = event.size
                case TickString():
                    snapshot.strings[event.tick_type] = event.value
                case TickGeneric():
                    snapshot.generics[event.tick_type] = event.value
                case MarketDataTypeChanged():
                    snapshot.market_data_type = event.market_data_type
        return snapshot

    def _price(self, live: int, delayed: int) -> float | None:
        price = self.prices.get(live, self.prices.get(delayed))
        return None if price is None or price < 0 else price  # IB sends -1 for "none"

    @property
    def bid(self) -> float | None:
        return self._price(BID, DELAYED_BID)

    @property
    def ask(self) -> float | None:
        return self._price(ASK, DELAYED_ASK)

    @property
    def last(self) -> float | None:
        return self._price(LAST, DELAYED_LAST)


_SMALL_BAR = re.compile(r"^\s*(\d+)\s*secs?\s*$")


def is_small_bar(bar_size: str) -> bool:
    """Bars of 30 seconds or less: the ones IB's 60-per-10-minutes limit applies to."""
    match = _SMALL_BAR.match(bar_size)
    return match is not None and int(match.group(1)) <= 30


def ib_datetime(value: str | datetime) -> str:
    """IB's date-time text ("yyyymmdd-HH:MM:SS", UTC) for a datetime; text as is."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")


class InteractiveBrokersClientMarketDataMixin(_Base):
    def _init_market_data(self) -> None:
        self._market_data_type: int | None = None
        self._historical_pacer = HistoricalPacer()

    async def set_market_data_type(self, market_data_type: int) -> None:
        """Real-time (1), frozen (2), delayed (3) or delayed-frozen (4) data from now on;
        kept across reconnects."""
        self._market_data_type = market_data_type
        if self._api_ready:
            self._eclient.reqMarketDataType(market_data_type)

    # -- streams ------------------------------------------------------------------------------

    async def subscribe_market_data(
        self,
        instrument_id: Hashable,
        contract: IBContract,
        generic_tick_list: str = "",
        *,
        handler: Handler,
        on_error: ErrorHandler | None = None,
    ) -> Subscription:
        """Top of book, last trade and the generic ticks asked for (``reqMktData``)."""
        return self._subscribe(
            (str(instrument_id), "market data"),
            lambda req_id: self._eclient.reqMktData(
                req_id,
                contract,
                generic_tick_list,
                False,
                False,
                [],
            ),
            self._eclient.cancelMktData,
            handler,
            on_error,
        )

    async def unsubscribe_market_data(self, instrument_id: Hashable) -> None:
        self._unsubscribe((str(instrument_id), "market data"))

    async def subscribe_ticks(
        self,
        instrument_id: Hashable,
        contract: IBContract,
        tick_type: str,
        ignore_size: bool = False,
        *,
        handler: Handler,
        on_error: ErrorHandler | None = None,
    ) -> Subscription:
        """Tick-by-tick data: ``tick_type`` "BidAsk", "Last", "AllLast" or "MidPoint"."""
        return self._subscribe(
            (str(instrument_id), tick_type),
            lambda req_id: self._eclient.reqTickByTickData(
                req_id,
                contract,
                tick_type,
                0,
                ignore_size,
            ),
            self._eclient.cancelTickByTickData,
            handler,
            on_error,
        )

    async def unsubscribe_ticks(self, instrument_id: Hashable, tick_type: str) -> None:
        self._unsubscribe((str(instrument_id), tick_type))

    async def subscribe_order_book(
        self,
        instrument_id: Hashable,
        contract: IBContract,
        depth: int,
        is_smart_depth: bool = True,
        *,
        handler: Handler,
        on_error: ErrorHandler | None = None,
    ) -> Subscription:
        """Market depth, ``depth`` rows a side (``reqMktDepth``)."""
        return self._subscribe(
            (str(instrument_id), "order book"),
            lambda req_id: self._eclient.reqMktDepth(req_id, contract, depth, is_smart_depth, []),
            lambda req_id: self._eclient.cancelMktDepth(req_id, is_smart_depth),
            handler,
            on_error,
        )

    async def unsubscribe_order_book(self, instrument_id: Hashable) -> None:
        self._unsubscribe((str(instrument_id), "order book"))

    async def subscribe_realtime_bars(
        self,
        bar_type: Hashable,
        contract: IBContract,
        use_rth: bool,
        *,
        what_to_show: str,
        handler: Handler,
        on_error: ErrorHandler | None = None,
    ) -> Subscription:
        """5-second bars as they complete (``reqRealTimeBars``)."""
        return self._subscribe(
            (str(bar_type), "realtime bars"),
            lambda req_id: self._eclient.reqRealTimeBars(
                req_id,
                contract,
                5,
                what_to_show,
                use_rth,
                [],
            ),
            self._eclient.cancelRealTimeBars,
            handler,
            on_error,
        )

    async def unsubscribe_realtime_bars(self, bar_type: Hashable) -> None:
        self._unsubscribe((str(bar_type), "realtime bars"))

    async def subscribe_historical_bars(
        self,
        bar_type: Hashable,
        contract: IBContract,
        use_rth: bool,
        *,
        bar_size: str,
        what_to_show: str,
        duration: str,
        handler: Handler,
        on_error: ErrorHandler | None = None,
    ) -> Subscription:
        """``duration`` of initial bars, then the latest bar as it forms
        (``reqHistoricalData`` with keepUpToDate; paced like every historical request)."""

        async def send(req_id: int) -> None:
            await self._historical_pacer.acquire(
                ("bars", contract_key(contract), "", duration, bar_size, what_to_show, use_rth),
                (contract_key(contract), contract.exchange, what_to_show),
                small=is_small_bar(bar_size),
            )
            if self._subscriptions.get(req_id) is not None and self._api_ready:
                self._eclient.reqHistoricalData(
                    req_id,
                    contract,
                    "",
                    duration,
                    bar_size,
                    what_to_show,
                    int(use_rth),
                    2,
                    True,
                    [],
                )

        return self._subscribe(
            (str(bar_type), "historical bars"),
            send,
            self._eclient.cancelHistoricalData,
            handler,
            on_error,
        )

    async def unsubscribe_historical_bars(self, bar_type: Hashable) -> None:
        self._unsubscribe((str(bar_type), "historical bars"))

    # -- snapshots and historical requests ---------------------------------------------------------

    async def get_snapshot(
        self,
        contract: IBContract,
        generic_tick_list: str = "",
        regulatory: bool = False,
        timeout: float = 15.0,
    ) -> MarketSnapshot:
        """One ``reqMktData`` snapshot (IB ends it within 11 seconds)."""
        events = await self._request(
            ("snapshot", contract_key(contract), generic_tick_list, regulatory),
            lambda req_id: self._eclient.reqMktData(
                req_id,
                contract,
                generic_tick_list,
                True,
                regulatory,
                [],
            ),
            timeout=timeout,
            cancel=self._eclient.cancelMktData,
        )
        return MarketSnapshot.from_events(events)

    async def get_historical_bars(
        self,
        contract: IBContract,
        *,
        duration: str,
        bar_size: str,
        what_to_show: str = "TRADES",
        end_date_time: str | datetime = "",
        use_rth: bool = True,
        timeout: float = 60.0,
    ) -> list[BarData]:
        """Bars ending at ``end_date_time`` ("" for now), e.g. ``duration="1 D"``,
        ``bar_size="1 min"``. Intraday bar dates come as epoch seconds (formatDate 2)."""
        end = ib_datetime(end_date_time)
        identity = ("bars", contract_key(contract), end, duration, bar_size, what_to_show, use_rth)
        return await self._request(
            identity,
            lambda req_id: self._eclient.reqHistoricalData(
                req_id,
                contract,
                end,
                duration,
                bar_size,
                what_to_show,
                int(use_rth),
                2,
                False,
                [],
            ),
            timeout=timeout,
            cancel=self._eclient.cancelHistoricalData,
            pace=lambda: self._historical_pacer.acquire(
                identity,
                (contract_key(contract), contract.exchange, what_to_show),
                small=is_small_bar(bar_size),
            ),
        )

    async def get_historical_ticks(
        self,
        contract: IBContract,
        *,
        what_to_show: str,
        start_date_time: str | datetime = "",
        end_date_time: str | datetime = "",
        number_of_ticks: int = 1000,
        use_rth: bool = True,
        ignore_size: bool = False,
        timeout: float = 60.0,
    ) -> list[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast]:
        """Up to ``number_of_ticks`` ticks ("TRADES", "BID_ASK" or "MIDPOINT") from
        ``start_date_time`` or up to ``end_date_time`` (give one of them)."""
        start, end = ib_datetime(start_date_time), ib_datetime(end_date_time)
        identity = ("ticks", contract_key(contract), start, end, number_of_ticks, what_to_show)
        return await self._request(
            identity,
            lambda req_id: self._eclient.reqHistoricalTicks(
                req_id,
                contract,
                start,
                end,
                number_of_ticks,
                what_to_show,
                int(use_rth),
                ignore_size,
                [],
            ),
            timeout=timeout,
            pace=lambda: self._historical_pacer.acquire(
                identity,
                (contract_key(contract), contract.exchange, what_to_show),
            ),
        )

    # -- callbacks ------------------------------------------------------------------------------------

    def _on_tickPrice(self, reqId: int, tickType: int, price: float, attrib: TickAttrib) -> None:
        self._deliver(reqId, TickPrice(tickType, price, attrib))

    def _on_tickSize(self, reqId: int, tickType: int, size: Decimal) -> None:
        if size != UNSET_DECIMAL:  # ibapi reports "no size" with a price as a size tick
            self._deliver(reqId, TickSize(tickType, size))

    def _on_tickString(self, reqId: int, tickType: int, value: str) -> None:
        self._deliver(reqId, TickString(tickType, value))

    def _on_tickGeneric(self, reqId: int, tickType: int, value: float) -> None:
        self._deliver(reqId, TickGeneric(tickType, value))

    def _on_marketDataType(self, reqId: int, marketDataType: int) -> None:
        self._deliver(reqId, MarketDataTypeChanged(marketDataType))

    def _on_tickReqParams(
        self, tickerId: int, minTick: float, bboExchange: str, snapshotPermissions: int
    ) -> None:
        pass  # informational: the ticker's min tick and BBO exchange

    def _on_tickSnapshotEnd(self, reqId: int) -> None:
        self._requests.finish(reqId)

    def _on_tickByTickBidAsk(
        self,
        reqId: int,
        time: int,
        bidPrice: float,
        askPrice: float,
        bidSize: Decimal,
        askSize: Decimal,
        tickAttribBidAsk: TickAttribBidAsk,
    ) -> None:
        tick = HistoricalTickBidAsk()
        tick.time, tick.tickAttribBidAsk = time, tickAttribBidAsk
        tick.priceBid, tick.priceAsk, tick.sizeBid, tick.sizeAsk = (
            bidPrice,
            askPrice,
            bidSize,
            askSize,
        )
        self._deliver(reqId, tick)

    def _on_tickByTickAllLast(
        self,
        reqId: int,
        tickType: int,
        time: int,
        price: float,
        size: Decimal,
        tickAttribLast: TickAttribLast,
        exchange: str,
        specialConditions: str,
    ) -> None:
        tick = HistoricalTickLast()
        tick.time, tick.tickAttribLast, tick.price, tick.size = time, tickAttribLast, price, size
        tick.exchange, tick.specialConditions = exchange, specialConditions
        self._deliver(reqId, tick)

    def _on_tickByTickMidPoint(self, reqId: int, time: int, midPoint: float) -> None:
        tick = HistoricalTick()
        tick.time, tick.price = time, midPoint
        self._deliver(reqId, tick)

    def _on_updateMktDepth(
        self,
        reqId: int,
        position: int,
        operation: int,
        side: int,
        price: float,
        size: Decimal,
    ) -> None:
        self._deliver(reqId, DepthUpdate(position, operation, side, price, size))

    def _on_updateMktDepthL2(
        self,
        reqId: int,
        position: int,
        marketMaker: str,
        operation: int,
        side: int,
        price: float,
        size: Decimal,
        isSmartDepth: bool,
    ) -> None:
        self._deliver(
            reqId,
            DepthUpdate(position, operation, side, price, size, marketMaker, isSmartDepth),
        )

    def _on_realtimeBar(
        self,
        reqId: int,
        time: int,
        open_: float,
        high: float,
        low: float,
        close: float,
        volume: Decimal,
        wap: Decimal,
        count: int,
    ) -> None:
        self._deliver(reqId, RealTimeBar(time, -1, open_, high, low, close, volume, wap, count))

    def _on_historicalData(self, reqId: int, bar: BarData) -> None:
        if self._requests.get(reqId) is not None:
            self._deliver(reqId, bar)
        else:
            self._deliver(reqId, BarUpdate(bar, is_update=False))

    def _on_historicalDataUpdate(self, reqId: int, bar: BarData) -> None:
        self._deliver(reqId, BarUpdate(bar, is_update=True))

    def _on_historicalDataEnd(self, reqId: int, start: str, end: str) -> None:
        if self._requests.get(reqId) is not None:
            self._requests.finish(reqId)
        else:
            self._deliver(reqId, HistoricalBarsEnd(start, end))

    def _on_historicalTicks(self, reqId: int, ticks: list, done: bool) -> None:
        self._collect_ticks(reqId, ticks, done)

    def _on_historicalTicksBidAsk(self, reqId: int, ticks: list, done: bool) -> None:
        self._collect_ticks(reqId, ticks, done)

    def _on_historicalTicksLast(self, reqId: int, ticks: list, done: bool) -> None:
        self._collect_ticks(reqId, ticks, done)

    def _collect_ticks(self, req_id: int, ticks: list, done: bool) -> None:
        if (request := self._requests.get(req_id)) is None:
            return
        request.results.extend(ticks)
        if done:
            self._requests.finish(req_id)
