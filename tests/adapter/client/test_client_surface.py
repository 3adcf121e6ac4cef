"""Our client against NautilusTrader's: the constructor, and every client method their
data client, execution client, provider and historical client call."""

from __future__ import annotations

import inspect

import pytest
from nautilus_trader.adapters.interactive_brokers.client import (
    InteractiveBrokersClient as TheirClient,
)

from adapter.client import InteractiveBrokersClient

# Found by grepping their data.py, execution.py, providers.py and historical/ for
# `_client.<name>`.
CALLED_BY_THEIR_CLIENTS = [
    "accounts",
    "cancel_order",
    "get_contract_details",
    "get_executions",
    "get_historical_bars",
    "get_historical_ticks",
    "get_open_orders",
    "get_option_chains",
    "get_positions",
    "is_running",
    "next_order_id",
    "place_order",
    "place_order_list",
    "set_market_data_type",
    "start",
    "stop",
    "subscribe_account_summary",
    "subscribe_event",
    "subscribe_historical_bars",
    "subscribe_market_data",
    "subscribe_order_book",
    "subscribe_positions",
    "subscribe_realtime_bars",
    "subscribe_ticks",
    "unsubscribe_historical_bars",
    "unsubscribe_order_book",
    "unsubscribe_positions",
    "unsubscribe_realtime_bars",
    "unsubscribe_ticks",
    "wait_until_ready",
]


def test_the_constructor_is_theirs_plus_keyword_only_extras():
    ours = inspect.signature(InteractiveBrokersClient.__init__).parameters
    theirs = inspect.signature(TheirClient.__init__).parameters
    positional = [p for p in ours.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert [(p.name, p.default) for p in positional] == [
        (p.name, p.default) for p in theirs.values()
    ]
    extras = [p for p in ours.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert all(p.default is not inspect.Parameter.empty for p in extras)


@pytest.mark.parametrize("name", CALLED_BY_THEIR_CLIENTS)
def test_what_their_clients_call_exists(name):
    assert hasattr(TheirClient, name), f"stale list: theirs has no {name}"
    assert hasattr(InteractiveBrokersClient, name)


def test_same_async_or_sync_as_theirs():
    for name in CALLED_BY_THEIR_CLIENTS:
        theirs, ours = getattr(TheirClient, name), getattr(InteractiveBrokersClient, name)
        if callable(theirs):
            assert inspect.iscoroutinefunction(theirs) == inspect.iscoroutinefunction(ours), name
