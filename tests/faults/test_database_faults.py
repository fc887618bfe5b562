"""Database faults: requests in flight when the connection drops (pg_terminate_backend on our own test database) or
when SQLite stays locked past the busy timeout answer 503 with Retry-After, never 500; the next requests succeed."""

from __future__ import annotations

import sqlite3
import threading
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hms.common.clock import today_local
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, Department
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.faults.conftest import fault_app
from tests.postgres import conninfo_of, on_postgresql, wait_until_a_backend_waits_on_a_lock

on_sqlite = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's lock")


def _setup(application) -> tuple[int, int, str]:
    with application.app_context():
        doctor = DoctorFactory()
        day = today_local() + timedelta(days=1)
        AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=clock_time(9), end_time=clock_time(10))
        patient = PatientFactory()
        return doctor.id, patient.id, patient.user.username


def _login(client, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _booking(doctor_id: int) -> dict:
    day = today_local() + timedelta(days=1)
    return {"doctor_id": doctor_id, "date": day.isoformat(), "start_time": "09:00", "reason": "Check-up"}


def _appointments(application) -> list[str]:
    with application.app_context():
        return list(db.session.execute(db.select(Appointment.status)).scalars())


@on_sqlite
def test_a_write_that_waits_past_sqlites_busy_timeout_gets_503_and_changes_nothing(app, tmp_path: Path):
    extra = {"celery_queue": "unused", "sqlite_busy_seconds": 0.3}
    with fault_app(app, tmp_path, redis_url=None, testing=True, extra=extra) as application:
        doctor_id, _patient_id, username = _setup(application)
        client = application.test_client()
        headers = _login(client, username)
        database = make_url(application.config["HMS"].database_url).database
        locker = sqlite3.connect(database, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            refused = client.post("/api/patient/appointments", json=_booking(doctor_id), headers=headers)
        finally:
            locker.execute("ROLLBACK")
            locker.close()

        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert refused.get_json()["error"]["code"] == "service_unavailable"
        assert _appointments(application) == []
        again = client.post("/api/patient/appointments", json=_booking(doctor_id), headers=headers)
        assert again.status_code == 201, again.get_json()
        assert _appointments(application) == ["booked"]


@on_sqlite
def test_a_write_transaction_begun_first_thing_while_sqlite_is_locked_raises_sqlalchemys_error(app, tmp_path: Path):
    """The BEGIN goes straight to the driver (hms.common.db); its failure must still be SQLAlchemy's
    OperationalError, the one the error handler turns into 503 and the job retries expect."""
    extra = {"celery_queue": "unused", "sqlite_busy_seconds": 0.2}
    with fault_app(app, tmp_path, redis_url=None, testing=True, extra=extra) as application:
        database = make_url(application.config["HMS"].database_url).database
        locker = sqlite3.connect(database, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")
            with application.app_context(), pytest.raises(OperationalError), unit_of_work():
                pass
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        with application.app_context(), unit_of_work() as session:
            session.add(Department(name="Cardiology"))
        with application.app_context():
            assert list(db.session.execute(db.select(Department.name)).scalars()) == ["Cardiology"]


@on_postgresql
def test_requests_in_flight_when_the_database_drops_connections_get_503_and_the_next_ones_succeed(app, tmp_path):
    with fault_app(app, tmp_path, redis_url=None, testing=True) as application:
        doctor_id, patient_id, username = _setup(application)
        client = application.test_client()
        headers = _login(client, username)
        conninfo = conninfo_of(application)
        outcome: dict[str, object] = {}

        with psycopg.connect(conninfo) as locker:
            # Hold the patient's row: the booking's writer lock waits behind it, so the request is in flight.
            locker.execute("SELECT id FROM patients WHERE id = %s FOR UPDATE", (patient_id,))
            thread = threading.Thread(
                target=lambda: outcome.update(
                    response=client.post("/api/patient/appointments", json=_booking(doctor_id), headers=headers)
                )
            )
            thread.start()
            wait_until_a_backend_waits_on_a_lock(conninfo, "the booking")
            with psycopg.connect(conninfo, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                    (locker.info.backend_pid,),
                ).fetchone()[0]
            thread.join(timeout=20)
            locker.rollback()

        assert killed >= 1
        response = outcome["response"]
        assert response.status_code == 503, response.get_json()
        assert (response.headers["Retry-After"], response.get_json()["error"]["code"]) == ("5", "service_unavailable")
        # The pool replaces the dead connections by itself: the very next requests succeed.
        assert client.get("/api/departments").status_code == 200
        assert client.get("/api/patient/appointments", headers=headers).status_code == 200
        again = client.post("/api/patient/appointments", json=_booking(doctor_id), headers=headers)
        assert again.status_code == 201, again.get_json()
        assert _appointments(application) == ["booked"]
