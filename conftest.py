"""Repository-wide pytest configuration."""

import os

# Hypothesis: deterministic, bounded runs so the suite has a stable duration.
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
