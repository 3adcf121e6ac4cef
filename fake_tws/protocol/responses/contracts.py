"""contracts responses."""
