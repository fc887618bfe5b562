"""Issue 21: what makes the default server fast, pinned without timing anything.

- the cache without Redis is shared by every web process (a SQLite file): values, invalidation, atomic counters;
- the embedded broker is published to off the request's path, and nothing is lost by that;
- the liveness route touches nothing;
- statement counts of a booking, a cancel and each list page (tests/test_statement_counts.py).
Timings live in `make bench` (bench/load.py), never in tests.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from hms import celery_app as celery_module
from hms import create_app
from hms.common.cache import get_or_set, invalidate
from hms.common.sqlite_cache import SQLiteCache
from hms.extensions import cache
from hms.models import Notification
from tests.conftest import fresh, make_settings
from tests.factories import AvailabilityFactory, DoctorFactory, PatientFactory


class Counter:
    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


# ---- the shared cache ------------------------------------------------------------------------------------------


def test_without_redis_the_cache_is_the_shared_sqlite_file(app):
    with app.app_context():
        assert isinstance(cache.cache, SQLiteCache)
        assert Path(cache.cache.path) == app.config["HMS"].instance_path / "cache.sqlite3"


def test_two_processes_see_each_others_values_and_invalidations(app, tmp_path):
    """Two application instances on one instance folder stand for two gunicorn workers."""
    folder = tmp_path / "shared"
    first = create_app(make_settings(folder, database_url=app.config["SQLALCHEMY_DATABASE_URI"]))
    second = create_app(make_settings(folder, database_url=app.config["SQLALCHEMY_DATABASE_URI"]))
    compute_first, compute_second = Counter("old"), Counter("new")
    with first.app_context():
        assert get_or_set("slots:7:2026-11-25", "state", compute_first) == "old"
    with second.app_context():
        assert get_or_set("slots:7:2026-11-25", "state", compute_second) == "old"  # computed once, for both
        invalidate("slots:7:2026-11-25")
    with first.app_context():
        assert get_or_set("slots:7:2026-11-25", "state", compute_second) == "new"  # the other's invalidation
    assert (compute_first.calls, compute_second.calls) == (1, 1)


def _increment(path: str, times: int, go) -> None:
    backend = SQLiteCache(path)
    go.wait(30)
    for _ in range(times):
        backend.inc("gen:counter")


def test_counters_are_atomic_across_processes(tmp_path):
    """Generation counters and sign-in failure counts are incremented in the database, never read-modify-write."""
    path = str(tmp_path / "cache.sqlite3")
    SQLiteCache(path).add("gen:counter", 1000, timeout=0)
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    workers = [context.Process(target=_increment, args=(path, 400, go)) for _ in range(3)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(60)
    assert all(worker.exitcode == 0 for worker in workers)
    assert SQLiteCache(path).get("gen:counter") == 1000 + 3 * 400


def test_add_keeps_the_first_value_and_expired_values_are_gone(tmp_path, monkeypatch):
    backend = SQLiteCache(tmp_path / "cache.sqlite3", key_prefix="p:")
    assert backend.add("k", {"a": 1}, timeout=10)
    assert not backend.add("k", {"a": 2}, timeout=10)
    assert backend.get("k") == {"a": 1}
    assert backend.get_many("k", "missing") == [{"a": 1}, None]
    other = SQLiteCache(tmp_path / "cache.sqlite3", key_prefix="q:")
    assert other.get("k") is None  # another prefix, another application
    later = __import__("time").time() + 11
    monkeypatch.setattr("hms.common.sqlite_cache.time.time", lambda: later)
    assert backend.get("k") is None
    assert backend.inc("k") == 1  # an expired value counts from zero
    assert backend.get("k") == 1


# ---- the embedded broker is off the request's path -------------------------------------------------------------


@pytest.fixture
def sqlite_broker_app(app, tmp_path):
    settings = make_settings(
        tmp_path,
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        extra={"celery_broker_url": f"sqlalchemy+sqlite:///{tmp_path / 'broker.sqlite3'}"},
    )
    return create_app(settings)


def test_a_booking_answers_before_its_message_is_published_and_the_message_still_goes(
    sqlite_broker_app, frozen_clock, auth, monkeypatch
):
    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 25), start_time=time(9, 0), end_time=time(10, 0))
    patient = PatientFactory()
    published: list[tuple[str, tuple, str]] = []
    real_send = celery_module.send_task_safely

    def recording_send(task_name, *args, flask_app=None):
        published.append((task_name, args, threading.current_thread().name))
        return real_send(task_name, *args, flask_app=flask_app)

    monkeypatch.setattr(celery_module, "send_task_safely", recording_send)
    broker_statements: list[str] = []

    def on_statement(connection, _cursor, statement, *_args):
        if "kombu" in statement and threading.current_thread() is threading.main_thread():
            broker_statements.append(statement)

    event.listen(Engine, "before_cursor_execute", on_statement)
    try:
        response = sqlite_broker_app.test_client().post(
            "/api/patient/appointments",
            json={"doctor_id": doctor.id, "date": "2026-11-25", "start_time": "09:00"},
            headers=auth(patient.user),
        )
        assert response.status_code == 201, response.get_json()
        assert celery_module.publisher.drain(10)
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)
    assert broker_statements == []  # the request thread never touched the broker
    with fresh() as session:
        outbox = list(session.execute(select(Notification.id)).scalars())
    assert outbox
    delivered = [i for name, args, _ in published if name == celery_module.DELIVER_BATCH_TASK for i in args[0]]
    assert sorted(delivered) == sorted(outbox)
    assert {thread for _, _, thread in published} == {"hms-publisher"}
    with sqlite_broker_app.app_context():
        import sqlalchemy

        engine = sqlalchemy.create_engine(sqlite_broker_app.extensions["celery"].conf.broker_url.split("+", 1)[1])
        with engine.connect() as connection:
            batches = [args for name, args, _ in published if name == celery_module.DELIVER_BATCH_TASK]
            assert connection.execute(sqlalchemy.text("SELECT count(*) FROM kombu_message")).scalar_one() == len(
                batches
            )
        engine.dispose()


# ---- liveness --------------------------------------------------------------------------------------------------


def test_liveness_is_constant_and_touches_no_database(client):
    statements: list[str] = []

    def on_statement(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", on_statement)
    try:
        response = client.get("/api/health/live")
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert statements == []


def test_sqlite_commits_leave_the_checkpoint_to_a_background_thread(tmp_path, monkeypatch):
    """No COMMIT copies the write-ahead log into the database file (it used to, every ~1,000 pages, while every
    other writer waited): each process's checkpoint thread does, so the file itself soon holds what was committed."""
    import shutil
    import sqlite3
    import time as clock

    from sqlalchemy import text

    from hms.common import db as db_module
    from hms.extensions import db

    monkeypatch.setattr(db_module, "CHECKPOINT_INTERVAL_SECONDS", 0.05)
    database = tmp_path / "checkpointed.sqlite3"
    app = create_app(make_settings(tmp_path, database_url=f"sqlite:///{database}"))
    with app.app_context():
        assert db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        db.session.execute(text("CREATE TABLE visits (id INTEGER PRIMARY KEY, note TEXT)"))
        db.session.execute(text("INSERT INTO visits (note) VALUES ('seen')"), [{}] * 50)
        db.session.commit()
        db.session.remove()

    def rows_in_the_file_alone() -> int:
        copy = tmp_path / "copy.sqlite3"  # the database file without its log: only what was checkpointed
        shutil.copyfile(database, copy)
        connection = sqlite3.connect(copy)
        try:
            return connection.execute("SELECT count(*) FROM visits").fetchone()[0]
        except sqlite3.OperationalError:  # no such table yet
            return 0
        finally:
            connection.close()

    deadline = clock.monotonic() + 10
    while rows_in_the_file_alone() != 50 and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert rows_in_the_file_alone() == 50
    with app.app_context():
        db.engine.dispose()


def test_a_serving_app_freezes_what_start_up_made_and_a_test_app_does_not(tmp_path):
    """Long-lived processes (gunicorn workers, Celery) keep start-up's objects out of every later full collection;
    test apps, built by the hundred in one process, stay collectable."""
    import gc

    gc.unfreeze()
    create_app(make_settings(tmp_path / "test-app"))
    assert gc.get_freeze_count() == 0
    try:
        create_app(make_settings(tmp_path / "served", testing=False, jwt_secret="served-secret-" + "y" * 40))
        assert gc.get_freeze_count() > 10_000  # the modules, mappers and app of a whole process
    finally:
        gc.unfreeze()
