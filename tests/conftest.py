"""Fixtures: one migrated database per run (SQLite by default, PostgreSQL with HMS_TEST_DATABASE_URL),
emptied after every test; an app, a client, token helpers and a controllable clock.

Requests are isolated as in production: no app context is held for a test, so every test-client request
pushes its own app context and gets its own SQLAlchemy session, removed (rolled back) at its teardown. A
write that a request forgets to commit is therefore invisible to the next request and to the test.
Factories commit through their own short-lived sessions, and the test reads results back through
`fresh()` (a new app context and session) or through the API, never through objects a request touched.

Tests commit for real (the concurrency tests need several connections), so isolation between tests is by
emptying every table after each test rather than by a rolled-back outer transaction.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from hms import create_app
from hms.common import clock
from hms.config import Settings
from hms.extensions import cache, db, limiter
from tests import factories

# The suite configures every app itself. Settings a developer or `make` exported for `make run`
# (HMS_DEMO_DATA=1, HMS_ENV, DATABASE_URL...) must not leak into the tests' apps or the servers they start.
_TEST_KNOBS = ("HMS_TEST_", "HMS_FUZZ_", "HMS_AXE_", "HMS_MUTATION")
for _name in list(os.environ):
    if (_name.startswith("HMS_") and not _name.startswith(_TEST_KNOBS)) or _name in ("DATABASE_URL", "REDIS_URL"):
        del os.environ[_name]


def _worker_database(url: str) -> str:
    """Under pytest-xdist (make test runs `-n`), each worker gets a PostgreSQL database of its own, `<name>_gw0`...,
    created when missing: the tests commit for real and empty every table afterwards, so workers cannot share one.
    SQLite needs nothing: each worker's session directory (tmp_path_factory) is its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url.startswith("postgresql") or not worker:
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    server = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


TEST_DATABASE_URL = _worker_database(os.environ.get("HMS_TEST_DATABASE_URL", ""))
REDIS_TEST_URL = os.environ.get("HMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test app: its own instance folder, the run's database, no Redis unless asked."""
    database_url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    values: dict[str, object] = {
        "instance_path": tmp_path / "instance",
        "database_url": database_url,
        "redis_url": None,
        "testing": True,
        "jwt_secret": "test-secret-" + "x" * 40,
        "timezone": "Asia/Kolkata",
        # Cheap argon2 in tests only: a sign-in costs milliseconds instead of ~0.3 s (production keeps the
        # strong defaults; tests/accounts/test_passwords.py checks that).
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        # No waiting behind the anti-enumeration floors either: only the tests about the floors set one
        # (tests/accounts/test_password_reset.py, test_verification.py); production refuses less than the default.
        "password_reset_floor_seconds": 0.0,
        "register_floor_seconds": 0.0,
    }
    values.update(overrides)
    return Settings.from_env(**values)


def _reset_schema(app: Flask) -> None:
    """Drop whatever a previous run left and migrate from zero, so the migrations themselves are tested.

    scripts/mutate.py runs hundreds of short sessions: with HMS_MUTATION_SQLITE_TEMPLATE it migrates once into that
    file and each later SQLite session starts from a copy of it.
    """
    from flask_migrate import upgrade

    template = Path(os.environ.get("HMS_MUTATION_SQLITE_TEMPLATE", "")) if not TEST_DATABASE_URL else None
    if template is not None and template.name:
        with app.app_context():
            database = Path(db.engine.url.database or "")
            if template.exists():
                db.engine.dispose()
                shutil.copyfile(template, database)
            else:
                upgrade()
                db.engine.dispose()
                shutil.copyfile(database, template)
        return
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hms")


@pytest.fixture(scope="session")
def app(session_dir: Path) -> Iterator[Flask]:
    settings = make_settings(session_dir, extra={"cache_prefix": f"hms-test-{uuid.uuid4().hex[:8]}:"})
    application = create_app(settings)
    _reset_schema(application)
    application.extensions["hms_test_limiter_storage"] = (limiter._storage, limiter._limiter)
    global _APP
    _APP = application
    with application.app_context():
        factories.bind(db.engine)
    yield application
    _APP = None


_APP: Flask | None = None


def the_app() -> Flask:
    """The app of the running test session (for helpers that are not fixtures)."""
    if _APP is None:
        raise RuntimeError("the app fixture has not been set up")
    return _APP


@contextmanager
def fresh(app: Flask | None = None) -> Iterator[Session]:
    """A new app context and its own session, as the next request would have; removed (rolled back) on exit.

    Use it to read results back and to call services directly: what it sees is only what was committed.
    Rows read through it stay readable afterwards (detached, columns loaded), as a snapshot.
    """
    with (app or the_app()).app_context():
        session = db.session()
        try:
            yield session
        finally:
            session.expunge_all()
            session.rollback()


def save(*rows: object) -> None:
    """Commit new or detached rows in a session of their own, as set-up a test needs."""
    with fresh() as session:
        for row in rows:
            session.merge(row) if inspect(row).detached else session.add(row)
        session.commit()


def fetch(model: type, ident: object) -> object | None:
    """One row by id, as a fresh session sees it now (detached snapshot)."""
    with fresh() as session:
        return session.get(model, ident)


def fetch_all(statement) -> list:
    """The ORM rows of a select, as a fresh session sees them now (detached snapshots)."""
    with fresh() as session:
        return list(session.execute(statement).scalars())


def fetch_value(statement):
    """The single value of a select (scalar_one), as a fresh session sees it now."""
    with fresh() as session:
        return session.execute(statement).scalar_one()


_TABLES: list[str] = []


def _empty_tables() -> None:
    """Empty what the test wrote. On SQLite one read first asks which tables hold rows (whoever wrote them: this
    process, a gunicorn server or a Celery worker), and only those are emptied: most tests write to a few of the
    tables, and a test that wrote nothing costs one SELECT and no write transaction. PostgreSQL truncates them all
    in one statement, which also restarts the id sequences."""
    if not _TABLES:
        _TABLES.extend(table.name for table in reversed(db.metadata.sorted_tables))  # children before parents
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
            return
        probe = ", ".join(f"EXISTS (SELECT 1 FROM {name})" for name in _TABLES)
        written = connection.execute(text(f"SELECT {probe}")).one()
        for name, has_rows in zip(_TABLES, written, strict=True):
            if has_rows:
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    """Nothing held between requests: no app context for the test; empty tables and cache afterwards."""
    with app.app_context():
        cache.clear()
        # flask-limiter keeps one store per Limiter and the last create_app wins: give the session app its own back.
        limiter._storage, limiter._limiter = app.extensions["hms_test_limiter_storage"]
        limiter.reset()
    yield
    clock.set_now(None)
    with app.app_context():
        _empty_tables()
        cache.clear()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a new app context (its own session), as in production.

    Even a test that holds an app context (inside `fresh()`) cannot make a request share its session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


# Every app a test builds (some build a second one with other settings) gets the isolating client.
Flask.test_client_class = IsolatedClient


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fresh_session():
    """The `fresh` context manager as a fixture: `with fresh_session() as session: ...`."""
    return fresh


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def frozen_clock():
    """Set the product's clock: frozen_clock('2026-11-24 10:00') in hospital time (Asia/Kolkata)."""
    from zoneinfo import ZoneInfo

    def _set(moment: str | datetime) -> datetime:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("Asia/Kolkata"))
        clock.set_now(moment)
        return moment

    yield _set
    clock.set_now(None)


def bearer(user) -> dict[str, str]:
    """Authorization header for a user, as a logged-in client would send it: a session of its own, whose
    access token names it (common.auth refuses access tokens without a live session)."""
    from hms.accounts import sessions
    from hms.models import User

    with the_app().app_context():
        return {"Authorization": f"Bearer {sessions.start(db.session.get(User, user.id))['access_token']}"}


@pytest.fixture
def auth():
    return bearer


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[str]:
    """The app served by a real gunicorn on a loopback port, on the test database (tests/processes.py)."""
    from tests.processes import app_server  # tests/processes.py imports make_settings from here

    with app_server(app, tmp_path) as base:
        yield base


# The longest tests start first, so that under pytest-xdist (make test: --dist worksteal) they are under way at once
# and the workers that finish their share take the waiting short tests of the busy ones, instead of a long test
# starting last and the run waiting for it alone.
_LONG_MARKERS = ("fuzz", "slow", "faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        marks = {mark.name for mark in item.iter_markers()}
        return next((index for index, name in enumerate(_LONG_MARKERS) if name in marks), len(_LONG_MARKERS))

    items.sort(key=rank)
