"""``HistoricInteractiveBrokersClient``: instruments, bars and ticks from IB, for backtests.

    client = HistoricInteractiveBrokersClient(host="127.0.0.1", port=7497, client_id=5)
    await client.connect()
    instruments = await client.request_instruments(contracts=[...], instrument_ids=[...])
    bars = await client.request_bars(["1-HOUR-LAST"], end_date_time=..., tz_name="UTC",
                                     duration="1 D", contracts=[...])
    ParquetDataCatalog("./catalog").write_data(instruments + bars)
    await client.disconnect()

Signatures and defaults are NautilusTrader's (1.221.0). What it does beyond theirs:

- Long periods are cut into requests IB serves (see ``adapter.historical.bars``), sent a
  few at a time within IB's pacing limits (the client's ``HistoricalPacer``); theirs asks
  for whole years, days and seconds in one request each, which IB refuses for small bars.
- A pacing violation (162) is retried after ``pacing_backoff`` seconds (doubling), a lost
  connection once the client has reconnected, each at most ``max_retries`` times; then
  the error is raised. A request that gets no answer within ``timeout`` raises
  ``IBRequestTimeout`` (theirs returns nothing for it and the download silently lacks
  those bars). "No data" for a period (162 "HMDS query returned no data") is no bars.
- A contract IB does not know is logged and skipped, as with theirs.
- Bars still forming when IB answered (ending after the server's time) are left out:
  a catalog gets complete bars only (theirs keeps the partial bar).
- ``request_instruments(instrument_ids=[...])`` loads the ids (theirs passes the
  strings to the provider, which loads nothing). A contract and an id naming the same
  instrument are downloaded once (theirs twice). Instruments are loaded once per client.
- Ticks page forward without losing ticks at page borders (``adapter.historical.ticks``).
- A progress bar shows on a terminal (``show_progress``); ``disconnect()`` (or ``async
  with``) stops the connection (theirs has no way to). Creating a second client in one
  process works (theirs fails: logging is initialised twice).
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import msgspec
import pandas as pd
from ibapi.common import MarketDataTypeEnum
from nautilus_trader.cache.cache import Cache
from nautilus_trader.cache.config import CacheConfig
from nautilus_trader.common.component import (
    LiveClock,
    Logger,
    MessageBus,
    init_logging,
    is_logging_initialized,
    log_level_from_str,
)
from nautilus_trader.model.data import Bar, BarType, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggregationSource
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import Instrument

from adapter.client import (
    IBConnectionError,
    IBPacingViolation,
    IBRequestError,
    InteractiveBrokersClient,
    ReconnectPolicy,
)
from adapter.common import IBContract
from adapter.config import InteractiveBrokersInstrumentProviderConfig
from adapter.historical.bars import (
    BarRequest,
    bar_request,
    check_duration,
    duration_for,
    duration_seconds,
    duration_start,
    max_span,
    parse_bar_spec,
    segments,
    to_bars,
)
from adapter.historical.progress import Progress
from adapter.historical.ticks import TickPager, to_quote_ticks, to_trade_ticks
from adapter.providers import InteractiveBrokersInstrumentProvider, run_all

T = TypeVar("T")
HMDS_ERROR = 162
# 162 for a period without data ("HMDS query returned no data: ...") or a data type the
# instrument has none of ("No historical market data for EUR/CASH@IDEALPRO Last 0").
_NO_DATA = re.compile(r"returned no data|no historical market data", re.IGNORECASE)
# NautilusTrader's logging can be set up once per process, and its guard must live as
# long as the process: dropping it leaves logging "uninitialised" yet impossible to set
# up again (the next init_logging panics and aborts the process).
_LOG_GUARD: Any = None
TRADER_ID = TraderId("historic_interactive_brokers_client-001")


class HistoricInteractiveBrokersClient:
    """Requests historical instruments, bars and ticks from TWS / IB Gateway.

    Parameters
    ----------
    host, port, client_id
        Where TWS or the Gateway listens, and the API client id to use.
    market_data_type : int, default REALTIME
        Set at connect (``IBMarketDataTypeEnum``).
    log_level : str, default "INFO"
        Of NautilusTrader's logging, if nothing in this process set it up before.
    cache_config : CacheConfig, optional
        For the instrument cache; a redis ``database`` backs it, as with theirs.
    show_progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    reconnect : ReconnectPolicy, optional
        How the connection is (re)established.
    max_retries : int, default 3
        Retries of a request after a pacing violation or a lost connection.
    pacing_backoff : float, default 15.0
        Seconds before the first retry after a pacing violation (doubling each time).
    max_concurrent_requests : int, default 4
        Historical requests in flight at once.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        market_data_type: int = MarketDataTypeEnum.REALTIME,
        log_level: str = "INFO",
        cache_config: CacheConfig | None = None,
        *,
        show_progress: bool | None = None,
        reconnect: ReconnectPolicy | None = None,
        max_retries: int = 3,
        pacing_backoff: float = 15.0,
        max_concurrent_requests: int = 4,
    ) -> None:
        self._host = host
        self._port = port
        self._client_id = client_id
        self.market_data_type = market_data_type
        _init_logging(log_level)
        self.log = Logger(name="HistoricInteractiveBrokersClient")
        self._clock = LiveClock()
        self._msgbus = MessageBus(TRADER_ID, self._clock)
        self._cache = _make_cache(cache_config)
        self._reconnect = reconnect
        self._show_progress = show_progress
        self._max_retries = max_retries
        self._pacing_backoff = pacing_backoff
        self._max_concurrent = max(1, max_concurrent_requests)
        self._client: InteractiveBrokersClient | None = None
        self._providers: dict[
            InteractiveBrokersInstrumentProviderConfig,
            InteractiveBrokersInstrumentProvider,
        ] = {}

    # -- connection ---------------------------------------------------------------------------

    async def connect(self, timeout: float = 300) -> None:
        """Connect (once) and set the market data type."""
        client = self._client
        if client is None or client.is_stopped or client.is_disposed:
            client = self._client = InteractiveBrokersClient(
                asyncio.get_running_loop(),
                self._msgbus,
                self._cache,
                self._clock,
                host=self._host,
                port=self._port,
                client_id=self._client_id,
                reconnect=self._reconnect,
            )
            client.start()
        try:
            await client.wait_until_ready(timeout)
        except BaseException:
            await self.disconnect()
            raise
        client.registered_nautilus_clients.add(1)
        await client.set_market_data_type(self.market_data_type)

    async def disconnect(self) -> None:
        """Close the connection and end the client's tasks."""
        client, self._client = self._client, None
        if client is None:
            return
        if not client.is_stopped and not client.is_disposed:
            client.stop()
        await client.wait_until_stopped()

    async def __aenter__(self) -> HistoricInteractiveBrokersClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    async def _connected(self) -> InteractiveBrokersClient:
        if self._client is None or not self._client.is_running:
            await self.connect()
        assert self._client is not None
        return self._client

    # -- instruments ---------------------------------------------------------------------------

    async def request_instruments(
        self,
        instrument_ids: list[str] | None = None,
        contracts: list[IBContract] | None = None,
        instrument_provider_config: InteractiveBrokersInstrumentProviderConfig | None = None,
    ) -> list[Instrument]:
        """The instruments for instrument ids (e.g. ``"AAPL.NASDAQ"``) and contract
        queries (chains expanded); ids IB does not know are logged and skipped."""
        provider = await self._provider(instrument_provider_config)
        loaded = await provider.load_ids_with_return_async(
            [*(instrument_ids or []), *(contracts or [])],
        )
        return [i for i in map(provider.find, loaded) if i is not None]

    async def _provider(
        self,
        config: InteractiveBrokersInstrumentProviderConfig | None,
    ) -> InteractiveBrokersInstrumentProvider:
        client = await self._connected()
        config = config or InteractiveBrokersInstrumentProviderConfig()
        provider = self._providers.get(config)
        if provider is None or provider._client is not client:
            provider = InteractiveBrokersInstrumentProvider(client, self._clock, config)
            self._providers[config] = provider
        return provider

    async def _targets(
        self,
        contracts: list[IBContract] | None,
        instrument_ids: list[str] | None,
        config: InteractiveBrokersInstrumentProviderConfig | None,
    ) -> tuple[InteractiveBrokersInstrumentProvider, list[tuple[Instrument, IBContract]]]:
        if not contracts and not instrument_ids:
            raise ValueError("Either contracts or instrument_ids must be provided")
        provider = await self._provider(config)
        loaded = await provider.load_ids_with_return_async(
            [*(instrument_ids or []), *(contracts or [])],
        )
        targets = []
        for instrument_id in loaded:
            instrument = provider.find(instrument_id)
            contract = provider.contract.get(instrument_id)
            if instrument is not None and contract is not None:
                targets.append((instrument, contract))
        return provider, targets

    # -- bars ---------------------------------------------------------------------------------------

    async def request_bars(
        self,
        bar_specifications: list[str],
        end_date_time: datetime.datetime,
        tz_name: str,
        start_date_time: datetime.datetime | None = None,
        duration: str | None = None,
        contracts: list[IBContract] | None = None,
        instrument_ids: list[str] | None = None,
        instrument_provider_config: InteractiveBrokersInstrumentProviderConfig | None = None,
        use_rth: bool = True,
        timeout: int = 120,
    ) -> list[Bar]:
        """Bars of each specification (e.g. ``"1-HOUR-LAST"``, ``"5-MINUTE-MID"``) for
        each contract and instrument id, sorted by ``ts_init``.

        The period is ``start_date_time`` .. ``end_date_time`` (naive times are in
        ``tz_name``), or ``duration`` (``"<int> S|D|W|M|Y"``) back from the end; give one
        of them. For continuous futures IB serves data up to now only: the request ends
        now and the bars are cut to the period. ``timeout`` is per request.
        """
        if start_date_time is not None and duration:
            raise ValueError("Either start_date_time or duration should be provided, not both.")
        end = _utc(end_date_time, tz_name)
        start = _utc(start_date_time, tz_name) if start_date_time is not None else None
        if start is not None and start >= end:
            raise ValueError("Start date must be before end date.")
        if duration:
            check_duration(duration)
        elif start is None:
            raise ValueError("Either start_date_time or duration must be provided")
        specs = [parse_bar_spec(s) for s in bar_specifications]
        provider, targets = await self._targets(
            contracts, instrument_ids, instrument_provider_config
        )
        client = await self._connected()
        now = pd.Timestamp(await client.get_server_time(), unit="s", tz="UTC")

        jobs: list[tuple[Instrument, IBContract, BarRequest, _Plan]] = []
        for instrument, contract in targets:
            for spec in specs:
                request = bar_request(BarType(instrument.id, spec, AggregationSource.EXTERNAL))
                plan = _plan(contract, request, start, end, duration, now)
                jobs.append((instrument, contract, request, plan))
        total = sum(len(plan.pages) for *_, plan in jobs)
        self.log.info(f"Requesting bars: {len(jobs)} series in {total} requests")

        limit = asyncio.Semaphore(self._max_concurrent)
        now_ns = now.value
        with Progress(total, "bars", "req", self._show_progress) as progress:

            async def page(job: tuple, end_text: Any, length: str) -> list[Bar]:
                instrument, contract, request, plan = job
                async with limit:
                    raw = await self._retrying(
                        lambda: client.get_historical_bars(
                            contract,
                            duration=length,
                            bar_size=request.bar_size,
                            what_to_show=request.what_to_show,
                            end_date_time=end_text,
                            use_rth=use_rth,
                            timeout=timeout,
                        ),
                        f"{request.bar_type} to {end_text or 'now'} ({length})",
                        timeout,
                    )
                bars = to_bars(
                    request, raw, instrument, provider.get_price_magnifier(instrument.id)
                )
                bars = [b for b in bars if b.ts_init <= now_ns and plan.keeps(b.ts_event)]
                progress.advance(1, bars=len(bars))
                return bars

            pages = [(job, end_text, length) for job in jobs for end_text, length in job[3].pages]
            results = await run_all(page(*p) for p in pages)

        data: list[Bar] = []
        seen: set[tuple[str, int]] = set()
        for (job, _, _), bars in zip(pages, results, strict=True):
            bar_type = str(job[2].bar_type)
            for bar in bars:
                key = (bar_type, bar.ts_event)
                if key not in seen:  # pages may overlap at their borders
                    seen.add(key)
                    data.append(bar)
        self.log.info(f"Received {len(data)} bars")
        return sorted(data, key=lambda bar: bar.ts_init)

    # -- ticks --------------------------------------------------------------------------------------

    async def request_ticks(
        self,
        tick_type: Literal["TRADES", "BID_ASK"],
        start_date_time: datetime.datetime,
        end_date_time: datetime.datetime,
        tz_name: str,
        contracts: list[IBContract] | None = None,
        instrument_ids: list[str] | None = None,
        instrument_provider_config: InteractiveBrokersInstrumentProviderConfig | None = None,
        use_rth: bool = True,
        timeout: int = 60,
    ) -> list[TradeTick | QuoteTick]:
        """Trade ticks ("TRADES") or quote ticks ("BID_ASK") from ``start_date_time`` to
        ``end_date_time`` (both included; naive times are in ``tz_name``), sorted by
        ``ts_init``. IB serves 1000 ticks a request, so long periods take many."""
        if tick_type not in ("TRADES", "BID_ASK"):
            raise ValueError(
                "tick_type must be one of: 'TRADES' (for TradeTicks), 'BID_ASK' (for QuoteTicks)",
            )
        start = _utc(start_date_time, tz_name)
        end = _utc(end_date_time, tz_name)
        if start >= end:
            raise ValueError("Start date must be before end date.")
        if end - start > pd.Timedelta(days=1):
            self.log.warning(
                "Requesting tick data for more than 1 day may take a long time: IB serves "
                "1000 ticks a request and 60 requests in 10 minutes",
            )
        provider, targets = await self._targets(
            contracts, instrument_ids, instrument_provider_config
        )
        client = await self._connected()
        first, last = int(start.timestamp()), int(end.timestamp())
        limit = asyncio.Semaphore(self._max_concurrent)

        with Progress((last - first) * len(targets), "ticks", "s", self._show_progress) as progress:

            async def download(instrument: Instrument, contract: IBContract) -> list[Any]:
                pager = TickPager(first, last)
                while not pager.done:
                    cursor = pager.cursor
                    fetch = functools.partial(
                        client.get_historical_ticks,
                        contract,
                        what_to_show=tick_type,
                        start_date_time=_from_epoch(cursor),
                        number_of_ticks=pager.page_size,
                        use_rth=use_rth,
                        timeout=timeout,
                    )
                    async with limit:
                        page = await self._retrying(
                            fetch,
                            f"{tick_type} ticks of {instrument.id} from {_from_epoch(cursor)}",
                            timeout,
                        )
                    pager.add_page(page)
                    reached = last if pager.done else min(pager.cursor, last)
                    progress.advance(max(reached - cursor, 0), ticks=len(pager.ticks))
                magnifier = provider.get_price_magnifier(instrument.id)
                if tick_type == "TRADES":
                    return to_trade_ticks(instrument, pager.ticks, magnifier)
                return to_quote_ticks(instrument, pager.ticks, magnifier)

            results = await run_all(download(i, c) for i, c in targets)

        data = [tick for ticks in results for tick in ticks]
        self.log.info(f"Received {len(data)} {tick_type} ticks")
        return sorted(data, key=lambda tick: tick.ts_init)

    # -- retries -------------------------------------------------------------------------------------

    async def _retrying(
        self,
        call: Callable[[], Awaitable[list[T]]],
        what: str,
        timeout: float,
    ) -> list[T]:
        """``call()``, retried after pacing violations and lost connections."""
        attempt = 0
        while True:
            try:
                return await call()
            except IBRequestError as e:
                if e.code == HMDS_ERROR and _NO_DATA.search(e.message):
                    self.log.warning(f"No data for {what}: {e.message}")
                    return []
                if not isinstance(e, IBPacingViolation) or attempt >= self._max_retries:
                    raise
                delay = self._pacing_backoff * 2**attempt
                self.log.warning(f"Pacing violation on {what}; retrying in {delay:g}s")
                await asyncio.sleep(delay)
            except IBConnectionError as e:
                if attempt >= self._max_retries or self._client is None:
                    raise
                self.log.warning(f"Connection lost during {what} ({e}); retrying once connected")
                await self._client.wait_until_ready(timeout)
            attempt += 1


class _Plan:
    """The requests for one series, and which bars of their answers to keep."""

    def __init__(
        self,
        pages: list[tuple[Any, str]],
        start: pd.Timestamp | None,
        end: pd.Timestamp,
    ) -> None:
        self.pages = pages  # (end: datetime or "" for now, duration)
        self._start = start.value if start is not None else None
        self._end = end.value

    def keeps(self, ts_event: int) -> bool:
        if self._start is None:
            return True
        return self._start <= ts_event < self._end


def _plan(
    contract: IBContract,
    request: BarRequest,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
    duration: str | None,
    now: pd.Timestamp,
) -> _Plan:
    if contract.secType == "CONTFUT":
        # IB takes no end date for continuous futures: ask up to now, keep the period.
        first = start if start is not None else duration_start(end, duration or "")
        length = (
            duration
            if start is None and end >= now
            else duration_for((now - first).total_seconds())
        )
        return _Plan([("", length)], first, end)
    if duration and duration_seconds(duration) <= max_span(request.seconds):
        return _Plan([(end.to_pydatetime(), duration)], None, end)  # IB's own reading
    first = start if start is not None else duration_start(end, duration or "")
    pages = [(e.to_pydatetime(), d) for e, d in segments(first, end, request.seconds)]
    return _Plan(pages, first, end)


def _init_logging(log_level: str) -> None:
    global _LOG_GUARD
    if _LOG_GUARD is None and not is_logging_initialized():
        _LOG_GUARD = init_logging(level_stdout=log_level_from_str(log_level))


def _utc(value: datetime.datetime | datetime.date, tz_name: str) -> pd.Timestamp:
    """A naive time read in ``tz_name`` (an aware one as is), in UTC."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz_name)
    return stamp.tz_convert("UTC")


def _from_epoch(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _make_cache(config: CacheConfig | None) -> Cache:
    if config is None:
        return Cache()
    database = None
    if config.database is not None:
        if config.database.type != "redis":
            raise ValueError(
                f"Unrecognized `cache_config.database.type` {config.database.type!r}: only "
                "'redis' is supported; pass `database=None` for no database",
            )
        from nautilus_trader.cache.database import CacheDatabaseAdapter
        from nautilus_trader.core.uuid import UUID4
        from nautilus_trader.serialization.serializer import MsgSpecSerializer

        database = CacheDatabaseAdapter(
            trader_id=TRADER_ID,
            instance_id=UUID4(),
            serializer=MsgSpecSerializer(
                encoding=msgspec.msgpack if config.encoding.lower() == "msgpack" else msgspec.json,
                timestamps_as_str=True,
                timestamps_as_iso8601=config.timestamps_as_iso8601,
            ),
            config=config,
        )
    return Cache(database=database, config=config)
