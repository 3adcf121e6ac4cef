#!/usr/bin/env python3
"""Download instruments, bars and ticks from TWS / IB Gateway into a Parquet catalog.

NautilusTrader's example (examples/live/interactive_brokers/historical_download.py)
with its imports switched to our adapter; nothing else in the download changes:

    from nautilus_trader.adapters.interactive_brokers.common import IBContract
    from nautilus_trader.adapters.interactive_brokers.historical import HistoricInteractiveBrokersClient
becomes
    from adapter.common import IBContract
    from adapter.historical import HistoricInteractiveBrokersClient

Run it against TWS, the Gateway, or fake-tws:

    fake-tws serve --port 7497 &
    python examples/historical_download.py --port 7497 --catalog ./catalog
"""

from __future__ import annotations

import argparse
import asyncio
import datetime

from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapter.common import IBContract
from adapter.historical import HistoricInteractiveBrokersClient


async def main(host: str, port: int, client_id: int = 5, catalog_path: str = "./catalog") -> None:
    contract = IBContract(
        secType="STK",
        symbol="AAPL",
        exchange="SMART",
        primaryExchange="NASDAQ",
    )
    instrument_id = "TSLA.NASDAQ"

    client = HistoricInteractiveBrokersClient(host=host, port=port, client_id=client_id)
    await client.connect()

    instruments = await client.request_instruments(
        contracts=[contract],
        instrument_ids=[instrument_id],
    )

    bars = await client.request_bars(
        bar_specifications=["1-HOUR-LAST", "30-MINUTE-MID"],
        end_date_time=datetime.datetime(2023, 11, 6, 16, 30),
        tz_name="America/New_York",
        duration="1 D",
        contracts=[contract],
        instrument_ids=[instrument_id],
    )

    trade_ticks = await client.request_ticks(
        "TRADES",
        start_date_time=datetime.datetime(2023, 11, 6, 10, 0),
        end_date_time=datetime.datetime(2023, 11, 6, 10, 1),
        tz_name="America/New_York",
        contracts=[contract],
        instrument_ids=[instrument_id],
    )

    quote_ticks = await client.request_ticks(
        "BID_ASK",
        start_date_time=datetime.datetime(2023, 11, 6, 10, 0),
        end_date_time=datetime.datetime(2023, 11, 6, 10, 1),
        tz_name="America/New_York",
        contracts=[contract],
        instrument_ids=[instrument_id],
    )

    await client.disconnect()

    catalog = ParquetDataCatalog(catalog_path)
    catalog.write_data(instruments)
    catalog.write_data(bars)
    catalog.write_data(trade_ticks)
    catalog.write_data(quote_ticks)
    print(
        f"wrote {len(instruments)} instruments, {len(bars)} bars, {len(trade_ticks)} trades "
        f"and {len(quote_ticks)} quotes to {catalog_path}",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7497)
    parser.add_argument("--client-id", type=int, default=5)
    parser.add_argument("--catalog", default="./catalog")
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port, args.client_id, args.catalog))
