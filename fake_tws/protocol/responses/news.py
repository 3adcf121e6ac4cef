"""news responses."""
