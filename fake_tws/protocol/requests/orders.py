"""orders requests."""
