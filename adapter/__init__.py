"""A NautilusTrader Interactive Brokers adapter.

Its public names, configs and defaults match
``nautilus_trader.adapters.interactive_brokers``, so switching is a change of imports;
``adapter/SURFACE.md`` lists that surface and where this adapter departs from it.
"""
