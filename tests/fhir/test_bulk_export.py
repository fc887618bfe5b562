"""FHIR Bulk Data export: admins only, async through the export jobs (Celery task), NDJSON per type, owner-only
download, audited, expired like every export."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from sqlalchemy import func, select

from hms.common import clock
from hms.exports.service import undispatched_jobs
from hms.models import AuditEvent, ExportJob
from tests.conftest import bearer, fetch, fetch_all, fetch_value, fresh
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.fhir.helpers import fhir, outcome, validate

TASK = "hms.fhir.run_bulk_export"
ASYNC = {"Prefer": "respond-async"}


def run_job(app, job_id: int) -> str:
    """Run the task's body here, as a worker would (tests/test_celery_worker.py proves the real worker wiring)."""
    return app.extensions["celery"].tasks[TASK](job_id)


def _job_id(location: str) -> int:
    return int(location.rsplit("/", 1)[1])


def test_an_admin_exports_every_type_as_ndjson_that_validates(app, client):
    treatment = TreatmentFactory()
    AppointmentFactory(patient=treatment.appointment.patient, status="cancelled")
    admin = AdminFactory()
    headers = {**bearer(admin), **ASYNC}
    started = client.get("/fhir/$export", headers=headers)
    assert started.status_code == 202
    status_url = started.headers["Content-Location"]
    assert status_url.startswith("http://localhost/fhir/$export-poll-status/")
    path = status_url.removeprefix("http://localhost")
    pending = client.get(path, headers=headers)
    assert pending.status_code == 202 and pending.headers["X-Progress"] == "in progress"
    assert run_job(app, _job_id(status_url)) == "done"
    done = client.get(path, headers=headers)
    assert done.status_code == 200 and done.mimetype == "application/json"
    manifest = done.get_json()
    assert manifest["requiresAccessToken"] is True
    outputs = {o["type"]: o for o in manifest["output"]}
    assert list(outputs) == [
        "Patient",
        "HealthcareService",
        "Practitioner",
        "PractitionerRole",
        "Schedule",
        "Appointment",
        "Encounter",
        "Condition",
        "MedicationRequest",
    ]
    counts = {t: o["count"] for t, o in outputs.items()}
    assert counts == {
        "Patient": 1,
        "HealthcareService": 2,
        "Practitioner": 2,
        "PractitionerRole": 2,
        "Schedule": 2,
        "Appointment": 2,
        "Encounter": 1,
        "Condition": 1,
        "MedicationRequest": 1,
    }
    for resource_type, output in outputs.items():
        response = client.get(output["url"].removeprefix("http://localhost"), headers=bearer(admin))
        assert response.status_code == 200 and response.mimetype == "application/fhir+ndjson"
        lines = response.get_data(as_text=True).splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            assert validate(json.loads(line))["resourceType"] == resource_type
    condition = client.get(outputs["Condition"]["url"].removeprefix("http://localhost"), headers=bearer(admin))
    assert json.loads(condition.get_data(as_text=True))["code"] == {"text": "Stable angina"}


def test_type_filter_and_the_download_is_the_owners_only_and_audited(app, client):
    PatientFactory()
    owner, other_admin = AdminFactory(), AdminFactory()
    started = client.get("/fhir/$export?_type=Patient", headers={**bearer(owner), **ASYNC})
    job_id = _job_id(started.headers["Content-Location"])
    run_job(app, job_id)
    manifest = client.get(f"/fhir/$export-poll-status/{job_id}", headers=bearer(owner)).get_json()
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    url = f"/fhir/$export-file/{job_id}/Patient.ndjson"
    assert (
        outcome(client.get(f"/fhir/$export-poll-status/{job_id}", headers=bearer(other_admin)), 404)["code"]
        == "not-found"
    )
    assert outcome(client.get(url, headers=bearer(other_admin)), 404)["code"] == "not-found"
    assert outcome(client.get(f"/fhir/$export-file/{job_id}/Condition.ndjson", headers=bearer(owner)), 404)
    assert client.get(url, headers=bearer(owner)).status_code == 200
    actions = [e.action for e in fetch_all(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["export.create", "export.download"]


def test_only_admins_may_export_and_bad_parameters_name_themselves(client):
    for user in (PatientFactory().user, DoctorFactory().user):
        assert outcome(client.get("/fhir/$export", headers={**bearer(user), **ASYNC}), 403)["code"] == "forbidden"
    assert outcome(client.get("/fhir/$export", headers=ASYNC), 401)["code"] == "login"
    headers = bearer(AdminFactory())
    assert outcome(client.get("/fhir/$export", headers=headers), 400)["expression"] == ["Prefer"]
    assert outcome(client.get("/fhir/$export?_type=Slot", headers={**headers, **ASYNC}), 400)["expression"] == ["_type"]
    since = client.get("/fhir/$export?_since=2026-01-01", headers={**headers, **ASYNC})
    assert outcome(since, 400)["expression"] == ["_since"]
    fmt = client.get("/fhir/$export?_outputFormat=text/csv", headers={**headers, **ASYNC})
    assert outcome(fmt, 400)["expression"] == ["_outputFormat"]
    assert fetch_value(select(func.count(ExportJob.id))) == 0


def test_an_export_expires_with_the_other_exports(app, client, runner):
    PatientFactory()
    admin = AdminFactory()
    started = client.get("/fhir/$export?_type=Patient", headers={**bearer(admin), **ASYNC})
    job_id = _job_id(started.headers["Content-Location"])
    run_job(app, job_id)
    url = f"/fhir/$export-file/{job_id}/Patient.ndjson"
    assert client.get(url, headers=bearer(admin)).status_code == 200
    prefix = fetch(ExportJob, job_id).file
    files = list(app.config["HMS"].exports_dir.glob(f"{prefix}.*"))
    assert [f.name for f in files] == [f"{prefix}.Patient.ndjson"]

    ttl = app.config["HMS"].export_ttl_days
    later = clock.now_utc() + timedelta(days=ttl + 1)
    old = (later - timedelta(days=ttl + 1)).timestamp() - 60
    os.utime(files[0], (old, old))
    clock.set_now(later)
    app.extensions["celery"].tasks["hms.exports.cleanup_exports"]()
    assert not files[0].exists()
    assert outcome(client.get(url, headers=bearer(admin)), 404)["code"] == "not-found"
    assert outcome(client.get(f"/fhir/$export-poll-status/{job_id}", headers=bearer(admin)), 404)["code"] == "not-found"


def test_metadata_lists_the_export_operation(client):
    statement = fhir(client.get("/fhir/metadata"))
    assert [o["name"] for o in statement["rest"][0]["operation"]] == ["export"]


def test_a_leased_bulk_job_is_not_run_twice_and_a_lost_one_goes_back_to_its_own_task(app, client, frozen_clock):
    frozen_clock("2026-11-24 08:00")
    admin = AdminFactory()
    started = client.get("/fhir/$export?_type=Patient", headers={**bearer(admin), **ASYNC})
    job_id = _job_id(started.headers["Content-Location"])
    later = clock.now_utc() + timedelta(seconds=app.config["HMS"].outbox_grace_seconds + 1)
    clock.set_now(later)
    with fresh():
        assert undispatched_jobs() == [(job_id, TASK)]
    with fresh() as session:
        session.get(ExportJob, job_id).status = "running"
        session.get(ExportJob, job_id).started_at = later.replace(tzinfo=None)
        session.commit()
    assert run_job(app, job_id) == "skipped"
    clock.set_now(later + timedelta(seconds=app.config["HMS"].export_lease_seconds + 1))
    assert run_job(app, job_id) == "done"
    assert fetch(ExportJob, job_id).status == "done"
