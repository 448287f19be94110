"""The reliability suite: the archive's promise, each part checked end to end."""
