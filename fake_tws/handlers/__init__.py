"""Request handlers backed by the broker world, one module per family.

Each module has a `HANDLERS` table (see `fake_tws.session.Handlers`); `ALL_HANDLERS`
is what a server answers with by default. A family may also register gateway services
(background tasks), e.g. the one that lets the world act as the clock moves.
"""

from fake_tws.session import CONNECTION_HANDLERS

from . import accounts, clock, contracts, historical, market_data, orders, ticks

ALL_HANDLERS = (
    CONNECTION_HANDLERS
    | clock.HANDLERS
    | contracts.HANDLERS
    | accounts.HANDLERS
    | market_data.HANDLERS
    | ticks.HANDLERS
    | historical.HANDLERS
    | orders.HANDLERS
)

__all__ = ["ALL_HANDLERS"]
