"""contracts requests."""
