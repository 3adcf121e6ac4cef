"""market data responses."""
