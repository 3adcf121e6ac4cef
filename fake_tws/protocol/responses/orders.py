"""orders responses."""
