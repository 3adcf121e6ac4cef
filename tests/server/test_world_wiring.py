"""The gateway owns the broker world, built from the server config, and follows the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import trio
import trio.testing

from fake_tws.broker import AccountConfig, OrderStatusEvent, WorldConfig
from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers import clock as clock_family
from fake_tws.ibtypes import Contract, Order
from fake_tws.session import CONNECTION_HANDLERS, Gateway
from tests.server.raw_client import running

# A Tuesday morning, New York regular hours.
START = datetime(2026, 4, 7, 14, 0, tzinfo=UTC)


def test_the_world_has_one_default_account_per_managed_account():
    gateway = Gateway(ServerConfig(accounts=("DU1", "DU2"), clock=VirtualClock(START)))
    assert gateway.world.managed_accounts() == ["DU1", "DU2"]


def test_a_configured_world_must_hold_every_managed_account():
    world = WorldConfig(accounts=(AccountConfig(account_id="DU7"),))
    with pytest.raises(ValueError, match=r"managed accounts \['DU1'\] are not accounts"):
        ServerConfig(accounts=("DU1",), world=world)
    assert ServerConfig(accounts=("DU7",), world=world).world_config().accounts == world.accounts


@pytest.mark.trio
async def test_resting_orders_act_as_the_clock_moves_without_any_request():
    clock = VirtualClock(START)
    handlers = CONNECTION_HANDLERS | clock_family.HANDLERS
    async with running(ServerConfig(clock=clock), handlers) as server:
        world = server.gateway.world
        statuses = []
        world.subscribe(lambda e: statuses.append(e) if isinstance(e, OrderStatusEvent) else None)
        price = world.quote(Contract(conId=265598)).ask
        limit = Order(
            action="BUY",
            orderType="LMT",
            totalQuantity=Decimal(1),
            lmtPrice=round(price * 0.999, 2),
            tif="GTC",
        )
        world.place_order(client_id=1, order_id=1, contract=Contract(conId=265598), order=limit)
        statuses.clear()
        await trio.testing.wait_all_tasks_blocked()
        for _ in range(6 * 3600):  # up to 6 hours, until the path crosses the limit
            clock.advance(1)
            await trio.testing.wait_all_tasks_blocked()
            if any(e.status == "Filled" for e in statuses):
                break
        assert any(e.status == "Filled" for e in statuses), "the clock service never advanced"
