"""Sans-IO TWS API protocol: bytes in, typed messages out, and back.

Nothing here touches sockets, clocks or the simulated world.
"""
