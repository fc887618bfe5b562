"""The Celery wiring, proven with a REAL worker process: an export job goes from the API through the broker to
the worker and back to the database, once with Redis and once with the embedded SQLAlchemy (SQLite) broker.
No eager mode: the test process only publishes; the worker subprocess runs the task.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import pytest
import redis
from flask import Flask

from hms import create_app
from hms.extensions import db
from hms.models import ExportJob, Notification
from tests.conftest import bearer, fresh, make_settings
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("HMS_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKER_START_TIMEOUT = 60
JOB_TIMEOUT = 60


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def producer_app(app: Flask, tmp_path: Path, *, redis_url: str | None, queue: str) -> Iterator[Flask]:
    """A second application on the test database that publishes to a real broker (the session app uses memory)."""
    settings = make_settings(
        tmp_path,
        database_url=app.config["HMS"].database_url,
        redis_url=redis_url,
        testing=False,
        extra={"celery_queue": queue, "cache_prefix": f"hms-worker-test-{queue}:"},
    )
    producer = create_app(settings)
    try:
        yield producer
    finally:
        with producer.app_context():
            db.session.remove()
            db.engine.dispose()
        # Creating a Celery app makes it "current": give the session app its own back.
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()


@contextmanager
def celery_worker(producer: Flask, *, queue: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """`celery -A hms.celery_app worker --pool=solo -Q <queue>`, configured only through the environment."""
    settings = producer.config["HMS"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_") and key != "REDIS_URL"}
    env.update(
        DATABASE_URL=settings.database_url,
        HMS_INSTANCE_PATH=str(settings.instance_path),
        HMS_JWT_SECRET=settings.jwt_secret,
        HMS_TIMEZONE=settings.timezone,
        HMS_CELERY_QUEUE=queue,
        PYTHONPATH=str(PROJECT_ROOT),
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    log = log_path.open("w")
    command = [sys.executable, "-m", "celery", "-A", "hms.celery_app", "worker", "--pool=solo", "-Q", queue]
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h"]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()


def wait_for(predicate, *, timeout: float, what: str, log_path: Path):
    """Poll predicate(session) in a fresh session each time, so the worker's commits are visible."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fresh() as session:
            value = predicate(session)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log_path.read_text()[-4000:]}")


def export_end_to_end(app: Flask, tmp_path: Path, *, redis_url: str | None) -> None:
    queue = f"hms-test-{uuid.uuid4().hex[:10]}"
    log_path = tmp_path / "worker.log"
    with producer_app(app, tmp_path, redis_url=redis_url, queue=queue) as producer:
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

        with celery_worker(producer, queue=queue, log_path=log_path):
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
