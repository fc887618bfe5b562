"""FHIR Bulk Data export (system level, admins): an export job of the exports package (same table, audit, expiry
after HMS_EXPORT_TTL_DAYS), written by a Celery task as one NDJSON file per resource type, downloaded by its owner."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.clock import utcnow_naive
from hms.common.errors import Conflict, NotFound
from hms.common.uow import unit_of_work
from hms.exports import service as exports
from hms.extensions import db
from hms.fhir import (
    appointment,
    condition,
    encounter,
    healthcare_service,
    medication_request,
    patient,
    practitioner,
)
from hms.fhir import practitioner_role as role
from hms.fhir import schedule as fhir_schedule
from hms.fhir.common import Invalid
from hms.fhir.registry import Operation, register_system_operation
from hms.fhir.visits import completed_visits
from hms.models import Appointment, Department, Doctor, ExportJob, ExportStatus, Patient, Treatment, User

logger = logging.getLogger(__name__)

KIND = "fhir_bulk"
TASK = "hms.fhir.run_bulk_export"
exports.TASKS_BY_KIND[KIND] = TASK
BATCH = 500


def _patients(_owner: User) -> Iterator[dict[str, Any]]:
    rows = select(Patient).options(joinedload(Patient.user)).order_by(Patient.id)
    yield from (patient.to_fhir(p) for p in db.session.execute(rows.execution_options(yield_per=BATCH)).scalars())


def _doctors(mapper: Callable[[Doctor], dict[str, Any]]) -> Callable[[User], Iterator[dict[str, Any]]]:
    def rows(_owner: User) -> Iterator[dict[str, Any]]:
        statement = practitioner.doctors().order_by(Doctor.id).execution_options(yield_per=BATCH)
        yield from (mapper(d) for d in db.session.execute(statement).scalars())

    return rows


def _departments(_owner: User) -> Iterator[dict[str, Any]]:
    statement = select(Department).order_by(Department.id)
    yield from (healthcare_service.to_fhir(d) for d in db.session.execute(statement).scalars())


def _appointments(_owner: User) -> Iterator[dict[str, Any]]:
    statement = (
        select(Appointment)
        .options(joinedload(Appointment.patient), joinedload(Appointment.doctor))
        .order_by(Appointment.id)
        .execution_options(yield_per=BATCH)
    )
    yield from (appointment.to_fhir(a) for a in db.session.execute(statement).scalars())


def _visits(owner: User, *, treated: bool) -> Iterator[Appointment]:
    statement = completed_visits(owner).order_by(Appointment.id)
    if treated:
        statement = statement.join(Treatment, Treatment.appointment_id == Appointment.id)
    yield from db.session.execute(statement.execution_options(yield_per=BATCH)).scalars()


def _encounters(owner: User) -> Iterator[dict[str, Any]]:
    yield from (encounter.to_fhir(v) for v in _visits(owner, treated=False))


def _conditions(owner: User) -> Iterator[dict[str, Any]]:
    yield from (condition.to_fhir(v) for v in _visits(owner, treated=True) if v.treatment and v.treatment.diagnosis)


def _medication_requests(owner: User) -> Iterator[dict[str, Any]]:
    for visit in _visits(owner, treated=True):
        for index, medicine in medication_request.medicines(visit):
            yield medication_request.to_fhir(visit, index, medicine)


# What a bulk export holds, in this order; each type is written by its generator.
EXPORT_TYPES: dict[str, Callable[[User], Iterator[dict[str, Any]]]] = {
    "Patient": _patients,
    "HealthcareService": _departments,
    "Practitioner": _doctors(practitioner.to_fhir),
    "PractitionerRole": _doctors(role.to_fhir),
    "Schedule": _doctors(fhir_schedule.to_fhir),
    "Appointment": _appointments,
    "Encounter": _encounters,
    "Condition": _conditions,
    "MedicationRequest": _medication_requests,
}
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")

EXPORT = register_system_operation(
    Operation(
        "export",
        "FHIR Bulk Data system export for admins (Prefer: respond-async; _type; _outputFormat="
        "application/fhir+ndjson); poll Content-Location, then download each NDJSON file with the same token.",
    )
)


def start(*, user: User, types: str | None, output_format: str | None, since: str | None) -> ExportJob:
    """Start (or join the same running) bulk export of the chosen types; the job is audited as export.create."""
    if since is not None:
        raise Invalid("_since is not supported: every export is complete.", element="_since")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise Invalid("_outputFormat is application/fhir+ndjson.", element="_outputFormat")
    wanted = list(EXPORT_TYPES)
    if types:
        wanted = [t.strip() for t in types.split(",") if t.strip()]
        unknown = [t for t in wanted if t not in EXPORT_TYPES]
        if unknown or not wanted:
            raise Invalid(f"_type may name {', '.join(EXPORT_TYPES)}.", element="_type")
    return exports.start_job(user=user, kind=KIND, params={"types": wanted})


def get(*, user: User, job_id: int) -> ExportJob:
    """The caller's own bulk export job; anyone else's is not found."""
    job = db.session.execute(
        select(ExportJob).where(ExportJob.id == job_id, ExportJob.owner_id == user.id, ExportJob.kind == KIND)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"Export {job_id} was not found.")
    return job


def _path(job: ExportJob, resource_type: str) -> Path:
    return current_app.config["HMS"].exports_dir.resolve() / f"{job.file}.{resource_type}.ndjson"


def manifest(*, user: User, job_id: int, base_url: str, request_url: str) -> dict[str, Any] | None:
    """None while the job runs; the Bulk Data manifest once done; expired or failed jobs are errors."""
    job = get(user=user, job_id=job_id)
    if job.status in exports.ACTIVE:
        return None
    if job.status == ExportStatus.FAILED.value:
        raise Conflict(f"The export failed: {job.error or 'unknown error'}.", code="export_failed")
    if not job.file:
        raise NotFound("This export has expired; please start a new one.")
    counts = (job.params or {}).get("counts", {})
    return {
        "transactionTime": (job.started_at or job.created_at).isoformat(timespec="seconds") + "Z",
        "request": request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": t, "url": f"{base_url}/$export-file/{job.id}/{t}.ndjson", "count": counts.get(t, 0)}
            for t in (job.params or {}).get("types", [])
        ],
        "error": [],
    }


def file(*, user: User, job_id: int, resource_type: str) -> Path:
    """One NDJSON file of the caller's finished export; the download is audited."""
    job = get(user=user, job_id=job_id)
    if job.status != ExportStatus.DONE.value or resource_type not in (job.params or {}).get("types", []):
        raise NotFound(f"The export {job_id} has no {resource_type} file.")
    path = _path(job, resource_type) if job.file else None
    if path is None or not path.is_file():
        raise NotFound("This export has expired; please start a new one.")
    with unit_of_work():
        record(
            action="export.download",
            entity="export_job",
            entity_id=job.id,
            details={"kind": KIND, "type": resource_type},
        )
    return path


def run(*, job_id: int) -> str:
    """The worker's side: claim the job (a lease, as the CSV exports), write one NDJSON file per type, record the
    counts (or the failure)."""
    with unit_of_work():
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.kind == KIND, exports.claimable())
            .values(status=ExportStatus.RUNNING.value, started_at=utcnow_naive())
        )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return "skipped"
    job = db.session.get(ExportJob, job_id)
    owner = db.session.get(User, job.owner_id) if job else None
    assert job is not None and owner is not None
    prefix = f"fhir-{uuid.uuid4()}"
    directory = current_app.config["HMS"].exports_dir
    written: list[Path] = []
    counts: dict[str, int] = {}
    try:
        for resource_type in job.params.get("types", []):
            target = directory / f"{prefix}.{resource_type}.ndjson"
            partial = target.with_suffix(".part")
            written.append(partial)
            count = 0
            with partial.open("w", encoding="utf-8") as handle:
                for resource in EXPORT_TYPES[resource_type](owner):
                    handle.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
            partial.replace(target)
            written[-1] = target
            counts[resource_type] = count
    except Exception as exc:
        for path in written:
            path.unlink(missing_ok=True)
        db.session.rollback()
        if isinstance(exc, OperationalError):
            # Hand the job back at once, so the retry may claim it.
            with contextlib.suppress(OperationalError), unit_of_work():
                db.session.execute(
                    update(ExportJob)
                    .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING.value)
                    .values(status=ExportStatus.PENDING.value)
                )
            raise  # transient: the task retries
        logger.exception("FHIR bulk export %s failed", job_id)
        with unit_of_work():
            job = db.session.get(ExportJob, job_id)
            assert job is not None
            job.status, job.error, job.finished_at = (
                ExportStatus.FAILED.value,
                f"{type(exc).__name__}: {exc}"[:1000],
                utcnow_naive(),
            )
        return "failed"
    try:
        # A fresh write transaction (unit_of_work ends the long read first: SQLite must not upgrade it).
        with unit_of_work():
            job = db.session.get(ExportJob, job_id)
            assert job is not None
            job.params = {**job.params, "counts": counts}
            job.status, job.file, job.row_count = ExportStatus.DONE.value, prefix, sum(counts.values())
            job.finished_at, job.error = utcnow_naive(), None
    except Exception:
        for path in written:  # no file without its row: the retry writes them again
            path.unlink(missing_ok=True)
        raise
    return "done"
