"""historical responses."""
