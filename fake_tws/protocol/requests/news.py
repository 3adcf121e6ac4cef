"""news requests."""
