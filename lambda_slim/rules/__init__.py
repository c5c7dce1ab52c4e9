"""Named pruning rules, one module each."""
