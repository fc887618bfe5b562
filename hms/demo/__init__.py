"""Demo hospital data for `make run` and the browser tests (not a domain with views)."""
