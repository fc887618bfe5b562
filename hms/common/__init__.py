"""Pieces every domain package shares: errors, pagination, roles, the clock, the database helpers."""
