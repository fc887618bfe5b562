"""Fixtures: one migrated database per run (SQLite by default, PostgreSQL with HMS_TEST_DATABASE_URL),
emptied after every test; an app, a client, token helpers and a controllable clock.

Tests commit for real (the concurrency tests need several connections), so isolation is by emptying
every table after each test rather than by a rolled-back outer transaction.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import text

from hms import create_app
from hms.common import clock
from hms.config import Settings
from hms.extensions import cache, db, limiter

TEST_DATABASE_URL = os.environ.get("HMS_TEST_DATABASE_URL", "")
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
    }
    values.update(overrides)
    return Settings.from_env(**values)


def _reset_schema(app: Flask) -> None:
    """Drop whatever a previous run left and migrate from zero, so the migrations themselves are tested."""
    from flask_migrate import upgrade

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
    yield application


def _empty_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    ctx = app.app_context()
    ctx.push()
    cache.clear()
    # flask-limiter keeps one store per Limiter, and the last create_app wins: give the session app its own back.
    limiter._storage, limiter._limiter = app.extensions["hms_test_limiter_storage"]
    limiter.reset()
    yield
    clock.set_now(None)
    db.session.rollback()
    _empty_tables()
    cache.clear()
    db.session.remove()
    ctx.pop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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
    """Authorization header for a user, as a logged-in client would send it."""
    return {"Authorization": f"Bearer {create_access_token(identity=user)}"}


@pytest.fixture
def auth():
    return bearer
