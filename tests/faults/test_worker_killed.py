"""A worker killed with SIGKILL in the middle of an export leaves a job that another worker finishes."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import insert

from hms.celery_app import send_task_safely
from hms.extensions import db
from hms.models import Appointment, ExportJob, Notification
from tests.conftest import bearer
from tests.factories import AdminFactory, DoctorFactory, PatientFactory
from tests.faults.conftest import fault_app, wait_for
from tests.processes import Worker

ROWS = 8_000  # enough that the export is still running when the worker is killed
LEASE_SECONDS = 5


def _job(application, job_id: int) -> tuple[str, int | None, str | None]:
    with application.app_context():
        job = db.session.get(ExportJob, job_id)
        return job.status, job.row_count, job.file


def test_an_export_whose_worker_was_killed_is_finished_by_the_next_worker(app, tmp_path: Path, redis_server, workers):
    with fault_app(app, tmp_path, redis_url=redis_server.url, export_lease_seconds=LEASE_SECONDS) as application:
        with application.app_context():
            admin, doctor, patient = AdminFactory(), DoctorFactory(), PatientFactory()
            first_day = date(2024, 1, 1)
            db.session.execute(
                insert(Appointment),
                [
                    {
                        "patient_id": patient.id,
                        "doctor_id": doctor.id,
                        "date": first_day + timedelta(days=n // 16),
                        "start_time": clock_time(9 + (n % 16) // 2, 30 * (n % 2)),
                        "end_time": clock_time(9 + (n % 16) // 2, 30 * (n % 2) + 29),
                        "status": "cancelled",
                        "reason": f"Visit {n}",
                        "cancelled_by": "patient",
                    }
                    for n in range(ROWS)
                ],
            )
            db.session.commit()
            headers = bearer(admin)
        client = application.test_client()
        first = Worker(application, tmp_path / "worker-1.log")
        workers.append(first)
        first.start()

        started = client.post("/api/admin/exports", json={"kind": "appointments"}, headers=headers)
        assert started.status_code == 202, started.get_json()
        job_id = started.get_json()["id"]
        deadline = time.monotonic() + 60
        while _job(application, job_id)[0] != "running":
            assert time.monotonic() < deadline, first.log()[-3000:]
            time.sleep(0.05)
        first.kill()
        killed_at = time.monotonic()
        status, row_count, file = _job(application, job_id)
        assert (status, row_count, file) == ("running", None, None), "the export ended before the worker was killed"

        second = Worker(application, tmp_path / "worker-2.log")
        workers.append(second)
        second.start()
        # Until its lease runs out the job belongs to the dead worker; then the sweep hands it to a live one.
        time.sleep(max(0.0, LEASE_SECONDS + 0.5 - (time.monotonic() - killed_at)))
        with application.app_context():
            assert send_task_safely("hms.exports.sweep_jobs", flask_app=application)
        wait_for(
            lambda: _job(application, job_id)[0] == "done",
            timeout=90,
            what="the export to be finished by the second worker",
            log=second.log_path,
        )

        download = client.get(f"/api/admin/exports/{job_id}/download", headers=headers)
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
        assert len(rows) == ROWS and _job(application, job_id)[1] == ROWS
        with application.app_context():
            ready = db.session.execute(db.select(Notification.kind).where(Notification.kind == "export_ready")).all()
        assert len(ready) == 1
