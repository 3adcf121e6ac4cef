"""account responses."""
