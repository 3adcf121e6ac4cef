"""historical requests."""
