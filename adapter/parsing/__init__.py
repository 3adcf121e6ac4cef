"""Conversions between IB's types and NautilusTrader's: pure functions, no I/O."""
