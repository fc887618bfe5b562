"""Exports: the patient's async history CSV, the admin's audited CSV exports, expiry, and direct CSV/PDF downloads."""

from __future__ import annotations

import csv
import io
import os
import time as systime
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from hms.celery_app import beat_schedule
from hms.common import clock
from hms.models import Appointment, AuditEvent, ExportJob, Notification
from tests.conftest import fetch, fetch_all, fetch_value, fresh
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.pdf import pdf_text, require_pdf_renderer

RUN = "hms.exports.run_export"
CLEANUP = "hms.exports.cleanup_exports"


def run_job(app, job_id: int) -> str:
    """Run the export task's body here, as a worker would (tests/test_celery_worker.py proves the real worker)."""
    return app.extensions["celery"].tasks[RUN](job_id)


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture
def history():
    """A patient with two completed visits (one without a treatment record), and visits that are not history."""
    patient = PatientFactory()
    cardiology = DoctorFactory(full_name="Dr. Meera Iyer", department__name="Cardiology")
    neuro = DoctorFactory(full_name="Dr. Arjun Das", department__name="Neurology")
    first = TreatmentFactory(
        appointment__patient=patient,
        appointment__doctor=cardiology,
        appointment__date=date(2026, 3, 2),
        appointment__start_time=time(9, 30),
        appointment__end_time=time(10, 0),
        appointment__reason="Chest pain",
        diagnosis="Stable angina",
        prescription="Aspirin 75 mg",
        follow_up_date=date(2026, 4, 2),
        visit_type="in_person",
    )
    second = AppointmentFactory(
        patient=patient, doctor=neuro, date=date(2026, 5, 10), start_time=time(11, 0), end_time=time(11, 30),
        status="completed", reason="Headache",
    )  # fmt: skip
    AppointmentFactory(patient=patient, doctor=neuro, date=date(2026, 6, 1), status="booked")
    AppointmentFactory(patient=patient, doctor=cardiology, date=date(2026, 6, 2), status="cancelled")
    AppointmentFactory(
        doctor=cardiology, date=date(2026, 3, 2), start_time=time(10, 0), end_time=time(10, 30), status="completed"
    )
    return patient, first, second


EXPECTED_HISTORY = [
    {
        "date": "2026-03-02",
        "time": "09:30",
        "doctor": "Dr. Meera Iyer",
        "department": "Cardiology",
        "reason": "Chest pain",
        "diagnosis": "Stable angina",
        "prescription": "Aspirin 75 mg",
        "medicines": "Aspirin 75 mg, once daily, 30 days (after food)",
        "follow_up_date": "2026-04-02",
        "visit_type": "in_person",
    },
    {
        "date": "2026-05-10",
        "time": "11:00",
        "doctor": "Dr. Arjun Das",
        "department": "Neurology",
        "reason": "Headache",
        "diagnosis": "",
        "prescription": "",
        "medicines": "",
        "follow_up_date": "",
        "visit_type": "",
    },
]


def test_patient_export_starts_at_once_and_its_csv_matches_the_history(app, client, auth, history):
    patient, _first, _second = history
    headers = auth(patient.user)

    started = client.post("/api/patient/exports", headers=headers)
    assert started.status_code == 202
    job = started.get_json()
    assert job["status"] == "pending" and job["download_url"] is None and job["kind"] == "patient_history"
    assert client.get(f"/api/patient/exports/{job['id']}/download", headers=headers).status_code == 409

    assert run_job(app, job["id"]) == "done"

    status = client.get(f"/api/patient/exports/{job['id']}", headers=headers).get_json()
    assert status["status"] == "done" and status["row_count"] == 2 and status["finished_at"]
    assert status["download_url"] == f"/api/patient/exports/{job['id']}/download"
    download = client.get(status["download_url"], headers=headers)
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert parse(download.data) == EXPECTED_HISTORY

    listed = client.get("/api/patient/exports", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [job["id"]] and listed["total"] == 1
    with fresh() as session:
        ready = session.query(Notification).filter_by(kind="export_ready", user_id=patient.user_id).one()
        assert (ready.channel, ready.subject) == ("email", "Your export is ready")
        actions = [event.action for event in session.query(AuditEvent).order_by(AuditEvent.id)]
        assert actions == ["export.create", "export.download"]
        assert session.query(AuditEvent).filter_by(patient_id=patient.id).count() == 2


def test_another_patient_gets_404_on_the_status_and_the_download(app, client, auth, history):
    patient, _first, _second = history
    job_id = client.post("/api/patient/exports", headers=auth(patient.user)).get_json()["id"]
    run_job(app, job_id)
    stranger = auth(PatientFactory().user)
    for path in (f"/api/patient/exports/{job_id}", f"/api/patient/exports/{job_id}/download"):
        response = client.get(path, headers=stranger)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/patient/exports", headers=stranger).get_json()["items"] == []
    assert client.get(f"/api/admin/exports/{job_id}", headers=auth(AdminFactory())).status_code == 404


def test_starting_twice_while_running_returns_the_same_job(client, auth, history):
    patient, _first, _second = history
    first = client.post("/api/patient/exports", headers=auth(patient.user)).get_json()
    second = client.post("/api/patient/exports", headers=auth(patient.user)).get_json()
    assert first["id"] == second["id"]


def test_running_a_job_twice_writes_it_once(app, client, auth, history):
    patient, _first, _second = history
    job_id = client.post("/api/patient/exports", headers=auth(patient.user)).get_json()["id"]
    assert run_job(app, job_id) == "done"
    assert run_job(app, job_id) == "skipped"
    with fresh() as session:
        assert session.query(Notification).filter_by(kind="export_ready").count() == 1


def test_admin_exports_appointments_and_treatments_with_audit(app, client, auth, history):
    patient, first, _second = history
    admin = AdminFactory()
    headers = auth(admin)

    started = client.post(
        "/api/admin/exports", json={"kind": "appointments", "date_from": "2026-03-01", "date_to": "2026-05-31"},
        headers=headers,
    )  # fmt: skip
    assert started.status_code == 202
    treatments = client.post("/api/admin/exports", json={"kind": "treatments"}, headers=headers).get_json()
    for job_id in (started.get_json()["id"], treatments["id"]):
        assert run_job(app, job_id) == "done"

    appointments_job = started.get_json()["id"]
    appointments_csv = parse(client.get(f"/api/admin/exports/{appointments_job}/download", headers=headers).data)
    expected_ids = [
        appointment.id
        for appointment in fetch_all(
            select(Appointment)
            .filter(Appointment.date >= date(2026, 3, 1), Appointment.date <= date(2026, 5, 31))
            .order_by(Appointment.date, Appointment.start_time, Appointment.id)
        )
    ]
    assert [int(row["id"]) for row in appointments_csv] == expected_ids
    assert {row["status"] for row in appointments_csv} == {"completed"}

    treatments_csv = parse(client.get(f"/api/admin/exports/{treatments['id']}/download", headers=headers).data)
    assert [(row["appointment_id"], row["diagnosis"], row["patient"]) for row in treatments_csv] == [
        (str(first.appointment_id), "Stable angina", patient.full_name)
    ]

    listed = client.get("/api/admin/exports", headers=headers).get_json()
    assert listed["total"] == 2
    events = fetch_all(select(AuditEvent).filter(AuditEvent.actor_id == admin.id).order_by(AuditEvent.id))
    assert [(e.action, e.details.get("kind")) for e in events] == [
        ("export.create", "appointments"),
        ("export.create", "treatments"),
        ("export.download", "appointments"),
        ("export.download", "treatments"),
    ]
    assert events[0].details["date_from"] == "2026-03-01"


def test_admin_export_input_is_validated_and_guarded(client, auth, history):
    patient, _first, _second = history
    headers = auth(AdminFactory())
    bad_kind = client.post("/api/admin/exports", json={"kind": "patients"}, headers=headers)
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["error"]["fields"]
    reversed_range = client.post(
        "/api/admin/exports", json={"kind": "appointments", "date_from": "2026-05-01", "date_to": "2026-04-01"},
        headers=headers,
    )  # fmt: skip
    assert reversed_range.status_code == 422 and "date_to" in reversed_range.get_json()["error"]["fields"]
    typo = client.post("/api/admin/exports", json={"kind": "appointments", "datefrom": "2026-05-01"}, headers=headers)
    assert typo.status_code == 422
    malformed = client.post(
        "/api/admin/exports", data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.is_json
    assert (
        client.post("/api/admin/exports", json={"kind": "appointments"}, headers=auth(patient.user)).status_code == 403
    )
    assert client.post("/api/patient/exports", headers=headers).status_code == 403
    assert client.get("/api/admin/exports/999999", headers=headers).status_code == 404


def test_cleanup_removes_files_older_than_the_ttl_and_marks_the_job_expired(app, client, auth, history, frozen_clock):
    patient, _first, _second = history
    headers = auth(patient.user)
    frozen_clock("2026-06-01 10:00")
    old = client.post("/api/patient/exports", headers=headers).get_json()["id"]
    run_job(app, old)
    old_file = app.config["HMS"].exports_dir / fetch(ExportJob, old).file
    assert old_file.is_file()

    frozen_clock("2026-06-07 10:00")
    recent = client.post("/api/patient/exports", headers=headers).get_json()["id"]
    run_job(app, recent)

    frozen_clock("2026-06-08 10:01")  # HMS_EXPORT_TTL_DAYS = 7: the first file is past it, the second is not
    assert app.extensions["celery"].tasks[CLEANUP]() == 1
    assert not old_file.exists()
    expired = client.get(f"/api/patient/exports/{old}", headers=headers).get_json()
    assert (expired["status"], expired["error"], expired["download_url"]) == ("done", "expired", None)
    gone = client.get(f"/api/patient/exports/{old}/download", headers=headers)
    assert gone.status_code == 404 and "expired" in gone.get_json()["error"]["message"]
    assert client.get(f"/api/patient/exports/{recent}/download", headers=headers).status_code == 200


def test_cleanup_removes_orphan_files_but_keeps_fresh_ones(app):
    exports_dir = app.config["HMS"].exports_dir
    orphan, fresh = exports_dir / "orphan.csv", exports_dir / "fresh.csv"
    orphan.write_text("x")
    fresh.write_text("x")
    long_ago = systime.time() - 30 * 86400
    os.utime(orphan, (long_ago, long_ago))
    app.extensions["celery"].tasks[CLEANUP]()
    assert not orphan.exists() and fresh.exists()
    fresh.unlink()


def test_direct_history_csv_is_streamed_and_audited(client, auth, history):
    patient, _first, _second = history
    response = client.get("/api/patient/history/export.csv", headers=auth(patient.user))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert parse(response.get_data()) == EXPECTED_HISTORY
    event = fetch_value(select(AuditEvent).filter_by(action="history.export"))
    assert (event.patient_id, event.details) == (patient.id, {"format": "csv"})


def test_direct_history_pdf_holds_the_visits_and_is_audited(client, auth, history):
    require_pdf_renderer()
    patient, _first, _second = history
    response = client.get("/api/patient/history/export.pdf", headers=auth(patient.user))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert patient.full_name in text
    assert "Stable angina" in text and "Dr. Arjun Das" in text and "Headache" in text
    assert len(fetch_all(select(AuditEvent).filter_by(action="history.export", patient_id=patient.id))) == 1


def test_history_downloads_are_for_patients_only(client, auth, history):
    doctor = DoctorFactory()
    for path in ("/api/patient/history/export.csv", "/api/patient/history/export.pdf", "/api/patient/exports"):
        assert client.get(path, headers=auth(doctor.user)).status_code == 403
        assert client.get(path).status_code == 401


def test_a_job_that_never_reached_a_worker_is_sent_again(app, client, auth, history, frozen_clock, monkeypatch):
    patient, _first, _second = history
    frozen_clock("2026-06-01 10:00")
    job_id = client.post("/api/patient/exports", headers=auth(patient.user)).get_json()["id"]
    sent = []
    monkeypatch.setattr(app.extensions["celery"].tasks[RUN], "apply_async", lambda args=None, **kw: sent.append(args))
    clock.set_now(clock.now_utc() + timedelta(minutes=3))
    app.extensions["celery"].tasks["hms.exports.sweep_jobs"]()
    assert sent == [(job_id,)]
    assert beat_schedule(app)["export-sweep"]["task"] == "hms.exports.sweep_jobs"  # and beat runs it each minute


def test_a_job_whose_final_commit_fails_is_failed_and_leaves_no_file(app, client, auth, history, monkeypatch):
    from hms.exports import service

    patient, _first, _second = history
    headers = auth(patient.user)
    job_id = client.post("/api/patient/exports", headers=headers).get_json()["id"]
    before = set(app.config["HMS"].exports_dir.iterdir())

    def broken_finish(**_kwargs):
        raise RuntimeError("the database refused the job's last write")

    monkeypatch.setattr(service, "_finish", broken_finish)
    assert run_job(app, job_id) == "failed"
    status = client.get(f"/api/patient/exports/{job_id}", headers=headers).get_json()
    assert status["status"] == "failed" and "refused" in status["error"] and status["download_url"] is None
    assert set(app.config["HMS"].exports_dir.iterdir()) == before  # the written file was removed again


def test_a_job_that_runs_out_of_retries_is_failed_not_left_running(app, client, auth, history, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from hms.exports import service

    patient, _first, _second = history
    headers = auth(patient.user)
    job_id = client.post("/api/patient/exports", headers=headers).get_json()["id"]

    def database_gone(**_kwargs):
        raise OperationalError("UPDATE export_jobs", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "_finish", database_gone)
    task = app.extensions["celery"].tasks[RUN]
    task.push_request(retries=task.max_retries)  # the last attempt
    try:
        with fresh(), pytest.raises(OperationalError):
            task.run(job_id)
    finally:
        task.pop_request()
    assert client.get(f"/api/patient/exports/{job_id}", headers=headers).get_json()["status"] == "failed"
