"""``InteractiveBrokersDataClient``: IB market data into NautilusTrader's DataEngine.

Same class, constructor and client id as NautilusTrader's adapter
(``nautilus_trader.adapters.interactive_brokers.data``). What it streams, and how:

=============================  ==============================================================
quotes                         ``reqMktData`` (bid/ask and sizes; delayed ticks 66-70 too)
trades                         ``reqTickByTickData`` "AllLast" (refused for currency pairs)
bars, 5 seconds                ``reqRealTimeBars``
bars, other sizes              ``reqHistoricalData`` keepUpToDate (``handle_revised_bars``)
order book deltas (L1, L2)     ``reqMktDepth`` (``params["is_smart_depth"]``, default True)
instrument status              halts from ``reqMktData`` (generic tick 49), shared with quotes
instrument(s)                  the instrument provider, published on subscribe and request
historical quotes / trades     ``reqHistoricalTicks``, paged backwards
historical bars                ``reqHistoricalData``
=============================  ==============================================================

On connect it sets the market data type (``market_data_type``, e.g. DELAYED_FROZEN),
loads the configured instruments and publishes them. ``use_regular_trading_hours``
applies to every bar request. Bars carry IB's bar open as ``ts_event`` (see
``adapter.parsing.bars``), so ``LiveDataEngineConfig(time_bars_timestamp_on_close=False,
validate_data_sequence=True)`` accepts every one.

Reconnects: the client sends every stream again after a new connection or IB's 1101
(after 1102 the streams go on). Bar streams fill the gap from history (5-second bars ask
for it) and report what cannot be filled; order books restart from a CLEAR; quotes
repeat nothing already emitted; trade streams warn that IB does not replay missed
prints. Nothing is emitted twice.

Where ours departs from NautilusTrader's 1.221.0 data client, each where theirs fails:
unsubscribing quotes cancels the ``reqMktData`` line (theirs cancels a tick-by-tick line
that was never opened); 5-second bars are cancelled with ``cancelRealTimeBars`` (theirs
compares a timedelta with 5 and sends ``cancelHistoricalData``);
``ignore_quote_tick_size_updates`` applies to quotes (theirs passes it to trades);
delayed quotes are quotes (theirs reads only tick types 1 and 2, so DELAYED data yields no
quotes); a price and its size make one quote (theirs emits two); a bar is emitted once
without ``handle_revised_bars`` (theirs can emit a bar from its timer and again when the
next bar starts); ``request_instruments`` answers with the instruments (theirs with an
empty list); trades and requests take the provider's qualified contract (theirs the
instrument's ``info``, which for spreads is not a contract IB can use); instrument and
instrument status subscriptions work (theirs do nothing).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.data.messages import (
    RequestBars,
    RequestInstrument,
    RequestInstruments,
    RequestQuoteTicks,
    RequestTradeTicks,
    SubscribeBars,
    SubscribeInstrument,
    SubscribeInstruments,
    SubscribeInstrumentStatus,
    SubscribeOrderBook,
    SubscribeQuoteTicks,
    SubscribeTradeTicks,
    UnsubscribeBars,
    UnsubscribeInstrument,
    UnsubscribeInstruments,
    UnsubscribeInstrumentStatus,
    UnsubscribeOrderBook,
    UnsubscribeQuoteTicks,
    UnsubscribeTradeTicks,
)
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.data import Bar, BarAggregation, BarType, QuoteTick, TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId, InstrumentId
from nautilus_trader.model.instruments import CurrencyPair, Instrument

from adapter.client import IBRequestError, InteractiveBrokersClient
from adapter.client.requests import Subscription
from adapter.common import IB_VENUE, IBContract
from adapter.config import InteractiveBrokersDataClientConfig
from adapter.parsing.bars import KeepUpToDateBars, RealTimeBars
from adapter.parsing.data import (
    NANOS,
    DepthBook,
    TopOfBook,
    TradeIds,
    bar_close_ns,
    bar_duration_str,
    bar_open_ns,
    bar_spec_to_bar_size,
    make_bar,
    make_quote_tick,
    make_trade_tick,
    timedelta_to_duration_str,
    what_to_show,
)
from adapter.providers import InteractiveBrokersInstrumentProvider

HISTORICAL_TICKS_PAGE = 1000  # IB's most per reqHistoricalTicks
DUPLICATE_TICKER_ID = 322
RETRY_INTERVAL_NS = 5_000_000_000  # a refused line is asked for again at most this often
MAX_GAP_FILL_SECONDS = 2000 * 5  # 5-second bars IB returns in one request


class InteractiveBrokersDataClient(LiveMarketDataClient):
    """Streams IB market data into NautilusTrader (see the module docstring).

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
    client : InteractiveBrokersClient
        The connection, possibly shared with an execution client.
    msgbus : MessageBus
    cache : Cache
    clock : LiveClock
    instrument_provider : InteractiveBrokersInstrumentProvider
    ibg_client_id : int
        The API client id of the connection (names this client).
    config : InteractiveBrokersDataClientConfig
    name : str, optional
        The client id; default ``INTERACTIVE_BROKERS-{ibg_client_id:03d}``.
    connection_timeout : int, default 300
        Seconds to wait for the connection on connect.
    request_timeout : int, default 60
        Seconds to wait for a historical data answer.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: InteractiveBrokersClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: InteractiveBrokersInstrumentProvider,
        ibg_client_id: int,
        config: InteractiveBrokersDataClientConfig,
        name: str | None = None,
        connection_timeout: int = 300,
        request_timeout: int = 60,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or f"{IB_VENUE.value}-{ibg_client_id:03d}"),
            venue=None,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._client = client
        self._connection_timeout = connection_timeout
        self._request_timeout = request_timeout
        self._handle_revised_bars = config.handle_revised_bars
        self._use_regular_trading_hours = config.use_regular_trading_hours
        self._market_data_type = config.market_data_type
        self._ignore_quote_tick_size_updates = config.ignore_quote_tick_size_updates

        self._top: dict[InstrumentId, TopOfBook] = {}
        self._trade_ids: dict[InstrumentId, TradeIds] = {}
        self._books: dict[InstrumentId, DepthBook] = {}
        self._bars: dict[BarType, KeepUpToDateBars | RealTimeBars] = {}
        self._server_offset_ns = 0  # TWS's clock minus ours
        self._duplicate_retries: dict[InstrumentId, int] = {}

    @property
    def instrument_provider(self) -> InteractiveBrokersInstrumentProvider:
        return self._instrument_provider  # type: ignore[return-value]

    # -- connection ------------------------------------------------------------------------------

    async def _connect(self) -> None:
        client = self._client
        await client.wait_until_ready(self._connection_timeout)
        client.registered_nautilus_clients.add(self.id)
        client._instrument_provider = self._instrument_provider
        await client.set_market_data_type(self._market_data_type)
        await self._sync_server_clock()
        await self.instrument_provider.initialize()
        for instrument in self.instrument_provider.list_all():
            self._handle_data(instrument)

    async def _disconnect(self) -> None:
        for stream in self._bars.values():
            if isinstance(stream, KeepUpToDateBars):
                stream.cancel()
        client = self._client
        client.registered_nautilus_clients.discard(self.id)
        if client.is_running and not client.registered_nautilus_clients:
            client.stop()

    async def _sync_server_clock(self) -> None:
        try:
            server_secs = await self._client.get_server_time()
        except Exception as e:  # an old or odd gateway: assume our clock
            self._log.warning(f"No server time ({e!r}); bar completion uses the local clock")
            return
        self._server_offset_ns = server_secs * NANOS - self._clock.timestamp_ns()

    def _server_now(self) -> int:
        return self._clock.timestamp_ns() + self._server_offset_ns

    def _on_resend(
        self,
        subscription: Subscription,
        action: Callable[[], None],
    ) -> None:
        """Run ``action`` each time the client sends a stream again (after a reconnect or
        IB's 1101), before the new stream's first message: streams that restart from
        scratch (depth rows, real-time bars) must know."""
        send = subscription.subscribe

        def resend(req_id: int) -> Any:
            action()
            return send(req_id)

        subscription.subscribe = resend

    # -- helpers -----------------------------------------------------------------------------------

    async def _contract(self, instrument_id: InstrumentId) -> IBContract | None:
        provider = self.instrument_provider
        contract = provider.contract.get(instrument_id)
        if contract is None and await provider.fetch_instrument_id(instrument_id):
            contract = provider.contract.get(instrument_id)
            if (instrument := provider.find(instrument_id)) is not None:
                self._handle_data(instrument)
        if contract is None:
            self._log.error(f"Cannot subscribe to {instrument_id}: instrument not found")
        return contract

    def _instrument(self, instrument_id: InstrumentId) -> Instrument | None:
        return self._cache.instrument(instrument_id) or self.instrument_provider.find(
            instrument_id,
        )

    def _magnifier(self, instrument_id: InstrumentId) -> int:
        return self.instrument_provider.get_price_magnifier(instrument_id)

    def _defer(self, callback: Callable[[], None]) -> None:
        self._loop.call_soon(callback)

    def _stream_error(self, what: str) -> Callable[[IBRequestError], None]:
        def on_error(error: IBRequestError) -> None:
            self._log.error(f"IB ended the {what} stream: {error}")

        return on_error

    # -- instruments -------------------------------------------------------------------------------

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        for instrument in self.instrument_provider.list_all():
            self._handle_data(instrument)

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        await self.instrument_provider.fetch_instrument_id(command.instrument_id)
        if (instrument := self.instrument_provider.find(command.instrument_id)) is not None:
            self._handle_data(instrument)
        else:
            self._log.error(f"Cannot subscribe to instrument {command.instrument_id}: not found")

    async def _unsubscribe_instruments(self, command: UnsubscribeInstruments) -> None:
        pass  # instruments are published when they load; there is no stream to stop

    async def _unsubscribe_instrument(self, command: UnsubscribeInstrument) -> None:
        pass

    # -- quotes and instrument status (one reqMktData line per instrument) ------------------------

    async def _top_of_book(self, instrument_id: InstrumentId) -> TopOfBook | None:
        if (top := self._top.get(instrument_id)) is not None:
            return top
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return None
        if (top := self._top.get(instrument_id)) is not None:  # subscribed while we waited
            return top
        top = TopOfBook(
            instrument,
            now=self._clock.timestamp_ns,
            on_quote=self._handle_data,
            on_status=self._handle_data,
            defer=self._defer,
            ignore_size_updates=self._ignore_quote_tick_size_updates,
            price_magnifier=self._magnifier(instrument_id),
        )
        self._top[instrument_id] = top
        await self._client.subscribe_market_data(
            instrument_id,
            contract,
            "",
            handler=top,
            on_error=self._on_top_error(instrument_id),
        )
        return top

    def _on_top_error(self, instrument_id: InstrumentId) -> Callable[[IBRequestError], None]:
        def on_error(error: IBRequestError) -> None:
            top = self._top.pop(instrument_id, None)
            now = self._clock.timestamp_ns()
            last_retry = self._duplicate_retries.get(instrument_id, 0)
            if (
                error.code == DUPLICATE_TICKER_ID
                and top is not None
                and now - last_retry > RETRY_INTERVAL_NS
            ):
                # TWS still holds the line it was sent before (a resend after a reconnect
                # crossed its cleanup): ask again under a new id rather than go silent.
                self._duplicate_retries[instrument_id] = now
                self._log.warning(f"Market data of {instrument_id} refused ({error}); asking again")
                self.create_task(
                    self._resubscribe_top(instrument_id, top.quotes, top.status),
                    log_msg=f"resubscribe {instrument_id}",
                )
                return
            self._log.error(f"IB ended the market data of {instrument_id}: {error}")

        return on_error

    async def _resubscribe_top(
        self, instrument_id: InstrumentId, quotes: bool, status: bool
    ) -> None:
        if (top := await self._top_of_book(instrument_id)) is not None:
            top.quotes, top.status = quotes, status

    async def _release_top(self, instrument_id: InstrumentId) -> None:
        top = self._top.get(instrument_id)
        if top is not None and not top.quotes and not top.status:
            del self._top[instrument_id]
            await self._client.unsubscribe_market_data(instrument_id)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        if (top := await self._top_of_book(command.instrument_id)) is not None:
            top.quotes = True

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        if (top := self._top.get(command.instrument_id)) is not None:
            top.quotes = False
            await self._release_top(command.instrument_id)

    async def _subscribe_instrument_status(self, command: SubscribeInstrumentStatus) -> None:
        if (top := await self._top_of_book(command.instrument_id)) is not None:
            top.status = True

    async def _unsubscribe_instrument_status(self, command: UnsubscribeInstrumentStatus) -> None:
        if (top := self._top.get(command.instrument_id)) is not None:
            top.status = False
            await self._release_top(command.instrument_id)

    # -- trades ------------------------------------------------------------------------------------

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        instrument_id = command.instrument_id
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return
        if isinstance(instrument, CurrencyPair):
            self._log.error(
                f"Cannot subscribe to trades of {instrument_id}: IB has no trades for "
                "currency pairs (subscribe to quotes)",
            )
            return
        trade_ids = self._trade_ids.setdefault(instrument_id, TradeIds())
        magnifier = self._magnifier(instrument_id)
        now = self._clock.timestamp_ns
        handle = self._handle_data

        def on_tick(tick: Any) -> None:
            trade = make_trade_tick(
                instrument,
                tick,
                ts_init=now(),
                trade_id=trade_ids.next(int(tick.time) * NANOS, tick.price, tick.size),
                price_magnifier=magnifier,
            )
            if trade is not None:
                handle(trade)

        subscription = await self._client.subscribe_ticks(
            instrument_id,
            contract,
            "AllLast",
            handler=on_tick,
            on_error=self._stream_error(f"trades of {instrument_id}"),
        )
        self._on_resend(
            subscription,
            lambda: self._log.warning(
                f"Trades of {instrument_id} resubscribed: IB does not replay the prints "
                "missed while disconnected (request_trade_ticks can fetch them)",
            ),
        )

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        self._trade_ids.pop(command.instrument_id, None)
        await self._client.unsubscribe_ticks(command.instrument_id, "AllLast")

    # -- order book ----------------------------------------------------------------------------------

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        instrument_id = command.instrument_id
        if command.book_type == BookType.L3_MBO:
            self._log.error(
                f"Cannot subscribe to {instrument_id} order book: IB has no L3 (MBO) data; "
                "use L1_MBP or L2_MBP",
            )
            return
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return
        depth = 1 if command.book_type == BookType.L1_MBP else (command.depth or 20)
        is_smart_depth = bool(command.params.get("is_smart_depth", True))
        book = DepthBook(instrument, depth, self._magnifier(instrument_id))
        self._books[instrument_id] = book
        now = self._clock.timestamp_ns
        handle = self._handle_data

        def on_update(update: Any) -> None:
            deltas = book.apply(update, now())
            if deltas is not None:
                handle(deltas)

        subscription = await self._client.subscribe_order_book(
            instrument_id,
            contract,
            depth,
            is_smart_depth,
            handler=on_update,
            on_error=self._stream_error(f"order book of {instrument_id}"),
        )
        # IB sends the book again from its first row: start from a CLEAR
        self._on_resend(subscription, lambda: handle(book.clear_deltas(now())))

    async def _subscribe_order_book_snapshots(self, command: SubscribeOrderBook) -> None:
        await self._subscribe_order_book_deltas(command)

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        if self._books.pop(command.instrument_id, None) is not None:
            await self._client.unsubscribe_order_book(command.instrument_id)

    async def _unsubscribe_order_book_snapshots(self, command: UnsubscribeOrderBook) -> None:
        await self._unsubscribe_order_book_deltas(command)

    # -- bars --------------------------------------------------------------------------------------

    async def _subscribe_bars(self, command: SubscribeBars) -> None:
        bar_type = command.bar_type
        if bar_type in self._bars:
            return
        instrument_id = bar_type.instrument_id
        if not bar_type.spec.is_time_aggregated():
            self._log.error(f"Cannot subscribe to {bar_type}: IB aggregates time bars only")
            return
        try:
            bar_size = bar_spec_to_bar_size(bar_type.spec)
            what = what_to_show(bar_type)
        except ValueError as e:
            self._log.error(f"Cannot subscribe to {bar_type}: {e}")
            return
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return
        rth = self._use_regular_trading_hours
        if bar_type.spec.aggregation == BarAggregation.SECOND and bar_type.spec.step == 5:
            stream = RealTimeBars(
                bar_type,
                instrument,
                now=self._clock.timestamp_ns,
                emit=self._handle_data,
                on_gap=lambda last, first: self.create_task(
                    self._fill_realtime_gap(stream, contract, what, last, first),
                    log_msg=f"fill the gap of {bar_type}",
                ),
                price_magnifier=self._magnifier(instrument_id),
            )
            self._bars[bar_type] = stream
            subscription = await self._client.subscribe_realtime_bars(
                bar_type,
                contract,
                rth,
                what_to_show=what,
                handler=stream,
                on_error=self._on_bars_error(bar_type),
            )
            self._on_resend(subscription, lambda: setattr(stream, "reconnected", True))
            return
        start_ns = command.params.get("start_ns")
        keep = KeepUpToDateBars(
            bar_type,
            instrument,
            handle_revised_bars=self._handle_revised_bars,
            now=self._clock.timestamp_ns,
            server_now=self._server_now,
            call_later=self._loop.call_later,
            emit=self._handle_data,
            warn=self._log.warning,
            price_magnifier=self._magnifier(instrument_id),
            start_ns=int(start_ns) if start_ns is not None else None,
        )
        self._bars[bar_type] = keep
        duration = bar_duration_str(bar_type)
        if start_ns is not None:
            covered = dt.timedelta(seconds=(self._server_now() - int(start_ns)) / NANOS)
            duration = max(duration, timedelta_to_duration_str(covered), key=_duration_seconds)
        await self._client.subscribe_historical_bars(
            bar_type,
            contract,
            rth,
            bar_size=bar_size,
            what_to_show=what,
            duration=duration,
            handler=keep,
            on_error=self._on_bars_error(bar_type),
        )

    def _on_bars_error(self, bar_type: BarType) -> Callable[[IBRequestError], None]:
        def on_error(error: IBRequestError) -> None:
            stream = self._bars.pop(bar_type, None)
            if isinstance(stream, KeepUpToDateBars):
                stream.cancel()
            self._log.error(f"IB ended the {bar_type} bars: {error}")

        return on_error

    async def _fill_realtime_gap(
        self,
        stream: RealTimeBars,
        contract: IBContract,
        what: str,
        last_ns: int,
        first_ns: int,
    ) -> None:
        """After a reconnect: the 5-second bars between the last one emitted and the
        first one streamed again, from history."""
        seconds = (first_ns - last_ns) // NANOS
        bars: list = []
        if seconds > MAX_GAP_FILL_SECONDS:
            self._log.warning(
                f"{stream.bar_type}: {seconds}s of 5-second bars missed while disconnected; "
                f"filling the last {MAX_GAP_FILL_SECONDS}s from history",
            )
            seconds = MAX_GAP_FILL_SECONDS
        try:
            bars = await self._client.get_historical_bars(
                contract,
                duration=f"{seconds} S",
                bar_size="5 secs",
                what_to_show=what,
                end_date_time=pd.Timestamp(first_ns, tz="UTC").to_pydatetime(),
                use_rth=self._use_regular_trading_hours,
                timeout=self._request_timeout,
            )
        except Exception as e:
            self._log.warning(
                f"{stream.bar_type}: bars from {pd.Timestamp(last_ns, tz='UTC')} to "
                f"{pd.Timestamp(first_ns, tz='UTC')} were missed while disconnected and "
                f"could not be filled: {e!r}",
            )
        finally:
            if self._bars.get(stream.bar_type) is stream:
                stream.fill(bars)

    async def _unsubscribe_bars(self, command: UnsubscribeBars) -> None:
        bar_type = command.bar_type
        stream = self._bars.pop(bar_type, None)
        if isinstance(stream, RealTimeBars):
            await self._client.unsubscribe_realtime_bars(bar_type)
        elif isinstance(stream, KeepUpToDateBars):
            stream.cancel()
            await self._client.unsubscribe_historical_bars(bar_type)

    # -- requests ---------------------------------------------------------------------------------

    async def _request_instrument(self, request: RequestInstrument) -> None:
        force = bool(request.params.get("force_instrument_update", False))
        await self.instrument_provider.load_with_return_async(
            request.instrument_id,
            force_instrument_update=force,
        )
        instrument = self.instrument_provider.find(request.instrument_id)
        if instrument is None:
            self._log.warning(f"Instrument {request.instrument_id} not available")
            return
        self._handle_data(instrument)
        self._handle_instrument(instrument, request.id, request.start, request.end, request.params)

    async def _request_instruments(self, request: RequestInstruments) -> None:
        provider = self.instrument_provider
        force = bool(request.params.get("force_instrument_update", False))
        if "ib_contracts" in request.params:
            contracts = [
                c if isinstance(c, IBContract) else IBContract(**c)
                for c in request.params["ib_contracts"]
            ]
            ids = await provider.load_ids_with_return_async(
                contracts,
                force_instrument_update=force,
            )
        else:
            cached = [i.id for i in self._cache.instruments()]
            await provider.load_ids_with_return_async(cached, force_instrument_update=force)
            ids = [i.id for i in provider.list_all()]
        instruments = []
        for instrument_id in ids:
            instrument = provider.find(instrument_id)
            if instrument is None or (
                request.venue is not None and instrument.id.venue != request.venue
            ):
                continue
            self._handle_data(instrument)
            instruments.append(instrument)
        self._handle_instruments(
            request.venue,
            instruments,
            request.id,
            request.start,
            request.end,
            request.params,
        )

    async def _request_quote_ticks(self, request: RequestQuoteTicks) -> None:
        ticks = await self._historical_ticks(request, "BID_ASK")
        if ticks is None:
            return
        self._handle_quote_ticks(
            request.instrument_id,
            ticks,
            request.id,
            request.start,
            request.end,
            request.params,
        )

    async def _request_trade_ticks(self, request: RequestTradeTicks) -> None:
        instrument = self._instrument(request.instrument_id)
        if isinstance(instrument, CurrencyPair):
            self._log.error(
                f"Cannot request trades of {request.instrument_id}: IB has no trades for "
                "currency pairs",
            )
            return
        ticks = await self._historical_ticks(request, "TRADES")
        if ticks is None:
            return
        self._handle_trade_ticks(
            request.instrument_id,
            ticks,
            request.id,
            request.start,
            request.end,
            request.params,
        )

    async def _historical_ticks(
        self,
        request: RequestQuoteTicks | RequestTradeTicks,
        what: str,
    ) -> list[QuoteTick | TradeTick] | None:
        """Ticks from ``request.start`` (or the ``request.limit`` latest) to
        ``request.end`` (or now), asked for backwards a page at a time."""
        instrument_id = request.instrument_id
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return None
        start_s = _epoch_seconds(request.start)
        limit = request.limit or (0 if start_s is not None else self._cache.tick_capacity)
        end: Any = request.end if request.end is not None else ""
        magnifier = self._magnifier(instrument_id)
        now = self._clock.timestamp_ns()
        trade_ids = TradeIds()
        pages: list[list] = []
        count = 0
        while True:
            page = await self._client.get_historical_ticks(
                contract,
                what_to_show=what,
                end_date_time=end,
                number_of_ticks=HISTORICAL_TICKS_PAGE,
                use_rth=self._use_regular_trading_hours,
                timeout=self._request_timeout,
            )
            if not page:
                break
            earliest = min(int(t.time) for t in page)
            full = len(page) >= HISTORICAL_TICKS_PAGE
            if full and any(int(t.time) != earliest for t in page):
                # the earliest second may be cut: ask for it whole with the next page
                page = [t for t in page if int(t.time) != earliest]
                next_end = earliest
            else:
                next_end = earliest - 1
            if start_s is not None:
                page = [t for t in page if int(t.time) >= start_s]
            pages.append(page)
            count += len(page)
            if not full or (start_s is not None and earliest <= start_s):
                break
            if start_s is None and count >= limit:
                break
            end = dt.datetime.fromtimestamp(next_end, tz=dt.UTC)
        raw = sorted((t for page in reversed(pages) for t in page), key=lambda t: int(t.time))
        ticks: list[QuoteTick | TradeTick] = []
        for tick in raw:
            made = (
                make_quote_tick(instrument, tick, ts_init=now, price_magnifier=magnifier)
                if what == "BID_ASK"
                else make_trade_tick(
                    instrument,
                    tick,
                    ts_init=now,
                    trade_id=trade_ids.next(int(tick.time) * NANOS, tick.price, tick.size),
                    price_magnifier=magnifier,
                )
            )
            if made is not None:
                made_ts = made.ts_event
                if request.end is not None and made_ts > pd.Timestamp(request.end).value:
                    continue
                ticks.append(made)
        if limit and len(ticks) > limit:
            ticks = ticks[-limit:]
        return ticks

    async def _request_bars(self, request: RequestBars) -> None:
        bar_type = request.bar_type
        if not bar_type.spec.is_time_aggregated():
            self._log.error(f"Cannot request {bar_type}: IB aggregates time bars only")
            return
        try:
            bar_size = bar_spec_to_bar_size(bar_type.spec)
            what = what_to_show(bar_type)
        except ValueError as e:
            self._log.error(f"Cannot request {bar_type}: {e}")
            return
        instrument_id = bar_type.instrument_id
        contract = await self._contract(instrument_id)
        instrument = self._instrument(instrument_id)
        if contract is None or instrument is None:
            return
        end = request.end
        start = request.start
        if start is not None:
            until = (
                pd.Timestamp(end) if end is not None else pd.Timestamp(self._server_now(), tz="UTC")
            )
            span = until - pd.Timestamp(start)
            duration = timedelta_to_duration_str(span.to_pytimedelta())
        else:
            duration = bar_duration_str(bar_type, request.limit or 300)
        try:
            ib_bars = await self._client.get_historical_bars(
                contract,
                duration=duration,
                bar_size=bar_size,
                what_to_show=what,
                end_date_time=end if end is not None else "",
                use_rth=self._use_regular_trading_hours,
                timeout=self._request_timeout,
            )
        except (IBRequestError, TimeoutError) as e:
            self._log.error(f"Request for {bar_type} bars failed: {e}")
            ib_bars = []
        magnifier = self._magnifier(instrument_id)
        server_now = self._server_now()
        start_ns = pd.Timestamp(start).value if start is not None else None
        end_ns = pd.Timestamp(end).value if end is not None else None
        bars: list[Bar] = []
        for ib_bar in ib_bars:
            opened = bar_open_ns(ib_bar.date, bar_type)
            closed = bar_close_ns(opened, bar_type)
            if closed > server_now and end_ns is None:
                continue  # still forming
            if (start_ns is not None and opened < start_ns) or (
                end_ns is not None and opened > end_ns
            ):
                continue
            bars.append(
                make_bar(
                    bar_type,
                    ib_bar,
                    instrument,
                    ts_event=opened,
                    ts_init=closed,
                    price_magnifier=magnifier,
                ),
            )
        bars.sort(key=lambda b: b.ts_event)
        if request.limit and len(bars) > request.limit:
            bars = bars[-request.limit :]
        if not bars:
            self._log.warning(f"No bars received for {bar_type}")
        self._handle_bars(bar_type, bars, request.id, request.start, request.end, request.params)


def _epoch_seconds(value: Any) -> int | None:
    if value is None:
        return None
    return int(pd.Timestamp(value).value // NANOS)


_UNIT_SECONDS = {"S": 1, "D": 86_400, "W": 604_800, "M": 2_592_000, "Y": 31_536_000}


def _duration_seconds(duration: str) -> int:
    count, unit = duration.split()
    return int(count) * _UNIT_SECONDS[unit]
