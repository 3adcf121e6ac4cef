"""market data requests."""
