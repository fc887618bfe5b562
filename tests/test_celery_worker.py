"""The Celery wiring, proven with a REAL worker process: an export job goes from the API through the broker to
the worker and back to the database, once with Redis and once with the embedded SQLAlchemy (SQLite) broker.
No eager mode: the test process only publishes; the worker subprocess runs the task.
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import pytest
import redis
from flask import Flask

from hms.models import ExportJob, Notification
from tests.conftest import bearer, fresh
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.processes import running_worker, worker_app

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("HMS_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/14")
JOB_TIMEOUT = 60


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_for(predicate, *, timeout: float, what: str, log_path: Path):
    """Poll predicate(session) in a fresh session each time, so the worker's commits are visible."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fresh() as session:
            value = predicate(session)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log_path.read_text()[-4000:]}")


def export_end_to_end(app: Flask, tmp_path: Path, *, redis_url: str | None) -> None:
    queue = f"hms-test-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    with worker_app(app, tmp_path, redis_url=redis_url, queue=queue) as producer:
        patient = PatientFactory()
        doctor = DoctorFactory(full_name="Dr. Kavya Menon", department__name="Dermatology")
        TreatmentFactory(
            appointment__patient=patient,
            appointment__doctor=doctor,
            appointment__date=date(2026, 2, 3),
            diagnosis="Eczema",
        )
        AppointmentFactory(
            patient=patient,
            doctor=doctor,
            date=date(2026, 2, 10),
            start_time=clock_time(10, 0),
            end_time=clock_time(10, 30),
            status="completed",
            reason="Review",
        )
        AppointmentFactory(patient=patient, doctor=doctor, date=date(2026, 3, 1), status="booked")
        headers = bearer(patient.user)
        client = producer.test_client()

        with running_worker(producer, log_path):
            started = client.post("/api/patient/exports", headers=headers)
            assert started.status_code == 202
            job_id = started.get_json()["id"]

            job = wait_for(
                lambda session: (
                    (j := session.get(ExportJob, job_id)) is not None and j.status in ("done", "failed") and j
                ),
                timeout=JOB_TIMEOUT,
                what=f"export {job_id}",
                log_path=log_path,
            )
            assert (job.status, job.error, job.row_count) == ("done", None, 2)

            # The worker also delivered the "your export is ready" e-mail through the outbox (the mailbox folder).
            wait_for(
                lambda session: session.query(Notification).filter_by(kind="export_ready", status="sent").count() == 1,
                timeout=JOB_TIMEOUT,
                what="the export_ready e-mail",
                log_path=log_path,
            )
        eml = list(producer.config["HMS"].mailbox_dir.glob("*-export_ready.eml"))
        assert len(eml) == 1 and patient.user.email in eml[0].read_text()

        download = client.get(f"/api/patient/exports/{job_id}/download", headers=headers)
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
        assert [(row["date"], row["time"], row["doctor"], row["department"], row["diagnosis"]) for row in rows] == [
            ("2026-02-03", "09:00", "Dr. Kavya Menon", "Dermatology", "Eczema"),
            ("2026-02-10", "10:00", "Dr. Kavya Menon", "Dermatology", ""),
        ]
        assert "succeeded" in log_path.read_text()


@pytest.mark.skipif(not redis_available(), reason=f"no Redis at {REDIS_URL}")
def test_export_job_reaches_done_on_a_real_worker_through_redis(app, tmp_path):
    export_end_to_end(app, tmp_path, redis_url=REDIS_URL)


def test_export_job_reaches_done_on_a_real_worker_through_the_embedded_sqlalchemy_broker(app, tmp_path):
    export_end_to_end(app, tmp_path, redis_url=None)
    assert (tmp_path / "instance" / "broker.sqlite3").is_file()
