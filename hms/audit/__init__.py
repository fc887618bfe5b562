"""Audit trail: append-only, hash-chained records of clinical reads and writes and of admin actions."""
