"""PostgreSQL-only tests: the marker, a driver connection to the test database beside the app's, and whether any
backend of it waits on a row lock (how a test knows a request in flight reached its lock)."""

from __future__ import annotations

import time

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL

on_postgresql = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"), reason="needs PostgreSQL")


def conninfo_of(app: Flask) -> str:
    """The app's database as psycopg's connection string (a connection of the test's own, outside the pool)."""
    url = make_url(app.config["HMS"].database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def backends_waiting_on_a_lock(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        return watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


def wait_until_a_backend_waits_on_a_lock(conninfo: str, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while backends_waiting_on_a_lock(conninfo) == 0:
        assert time.monotonic() < deadline, f"{what} never reached the database"
        time.sleep(0.05)
