"""The world follows the server's clock: resting orders act as time moves.

One gateway service wakes whenever the clock has moved (a second of wall time with the
real clock; an `advance` with the virtual one) and lets the world catch up, which emits
fills and status changes to whoever subscribed (the orders and accounts families).
"""

from __future__ import annotations

from fake_tws.session import Gateway, Handlers

HANDLERS = Handlers()

# How often, in clock seconds, the world catches up when nothing else asks it to. Every
# world call also catches up first, so this only bounds how late an unprompted fill is.
STEP_SECONDS = 1.0


@HANDLERS.service
async def follow_the_clock(gateway: Gateway) -> None:
    while True:
        await gateway.clock.sleep(STEP_SECONDS)
        gateway.world.advance()
