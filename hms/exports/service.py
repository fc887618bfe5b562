"""Export jobs (SPEC §5, §7, §8.3): start at once, written by a worker, downloaded by their owner only, expired
after HMS_EXPORT_TTL_DAYS; plus the patient's direct CSV and PDF downloads. Every one of them is audited."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.celery_app import enqueue_after_commit
from hms.common.clock import now_local, utcnow_naive
from hms.common.errors import Conflict, NotFound
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.exports.csvfiles import format_medicines, lines_for
from hms.exports.schemas import ADMIN_KINDS, PATIENT_KIND
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Doctor, ExportJob, ExportStatus, Patient, User
from hms.notifications.service import queue
from hms.reports.pdf import html_to_pdf

logger = logging.getLogger(__name__)

RUN_TASK = "hms.exports.run_export"
ACTIVE = (ExportStatus.PENDING.value, ExportStatus.RUNNING.value)
REPORT_FILES_TTL_DAYS = 40
TEMPLATES = Path(__file__).parent / "templates"


# Kinds written by another package's task (e.g. FHIR bulk export); every other kind is a CSV of run_export.
TASKS_BY_KIND: dict[str, str] = {}


def task_for(kind: str) -> str:
    """The task that writes a job of this kind."""
    return TASKS_BY_KIND.get(kind, RUN_TASK)


def start_job(*, user: User, kind: str, params: dict[str, Any], patient_id: int | None = None) -> ExportJob:
    """Create a job (or return the same one still under way) and hand it to its kind's task after commit; audited."""
    return _start(user=user, kind=kind, params=params, patient_id=patient_id)


def _start(*, user: User, kind: str, params: dict[str, Any], patient_id: int | None) -> ExportJob:
    """Create a job (or return the same one still under way) and hand it to the worker after commit."""
    with unit_of_work():
        existing = db.session.execute(
            select(ExportJob)
            .where(ExportJob.owner_id == user.id, ExportJob.kind == kind, ExportJob.status.in_(ACTIVE))
            .order_by(ExportJob.id.desc())
        ).scalars()
        for job in existing:
            if job.params == params:
                return job
        job = ExportJob(owner_id=user.id, kind=kind, params=params, status=ExportStatus.PENDING.value)
        db.session.add(job)
        db.session.flush()
        record(
            action="export.create",
            entity="export_job",
            entity_id=job.id,
            patient_id=patient_id,
            details={"kind": kind, **params},
        )
        enqueue_after_commit(db.session, task_for(kind), job.id)
    return job


def start_patient_export(*, user: User) -> ExportJob:
    """A patient's own history as CSV, written in the background."""
    patient = user.patient
    if patient is None:
        raise NotFound("Only patients have a history to export.")
    return _start(user=user, kind=PATIENT_KIND, params={"patient_id": patient.id}, patient_id=patient.id)


def start_admin_export(
    *, user: User, kind: str, date_from: date | None = None, date_to: date | None = None
) -> ExportJob:
    """All appointments or treatments (optionally in a date range), for an admin, audited."""
    params = {
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    }
    return _start(user=user, kind=kind, params=params, patient_id=None)


def _scope(statement: Any, *, user: User, admin: bool) -> Any:
    """Admins see admin exports (any admin's); a patient sees only their own jobs."""
    if admin:
        return statement.where(ExportJob.kind.in_(ADMIN_KINDS))
    return statement.where(ExportJob.owner_id == user.id, ExportJob.kind == PATIENT_KIND)


def list_jobs(*, user: User, admin: bool, page: int, per_page: int) -> dict[str, Any]:
    """Newest first, paginated."""
    statement = _scope(select(ExportJob), user=user, admin=admin).order_by(ExportJob.id.desc())
    return paginate(statement, page=page, per_page=per_page)


def get_job(*, user: User, job_id: int, admin: bool) -> ExportJob:
    """One job of the caller's scope; someone else's job is simply not found."""
    job = db.session.execute(_scope(select(ExportJob).where(ExportJob.id == job_id), user=user, admin=admin)).scalar()
    if job is None:
        raise NotFound(f"Export {job_id} was not found.")
    return job


def file_path(job: ExportJob) -> Path:
    exports_dir = current_app.config["HMS"].exports_dir.resolve()
    path = (exports_dir / str(job.file)).resolve()
    if path.parent != exports_dir:
        raise NotFound("The export file is missing.")
    return path


def download(*, user: User, job_id: int, admin: bool) -> tuple[Path, str]:
    """The file of a finished job (path, download name), audited as export.download."""
    with unit_of_work():
        job = get_job(user=user, job_id=job_id, admin=admin)
        if job.status in ACTIVE:
            raise Conflict("The export is not ready yet; try again in a moment.", code="not_ready")
        if job.status == ExportStatus.FAILED.value:
            raise Conflict(f"The export failed: {job.error or 'unknown error'}.", code="export_failed")
        if not job.file:
            raise NotFound("This export has expired; please start a new one.")
        path = file_path(job)
        if not path.is_file():
            raise NotFound("The export file is missing; please start a new one.")
        patient_id = job.params.get("patient_id") if job.kind == PATIENT_KIND else None
        record(
            action="export.download",
            entity="export_job",
            entity_id=job.id,
            patient_id=patient_id,
            details={"kind": job.kind},
        )
    name = "my-medical-history" if job.kind == PATIENT_KIND else job.kind
    return path, f"{name}-{job.created_at:%Y%m%d}-{job.id}.csv"


def claimable() -> Any:
    """Pending, or running under a lease that ran out (its worker died): another worker may take the job."""
    lease = timedelta(seconds=current_app.config["HMS"].export_lease_seconds)
    return or_(
        ExportJob.status == ExportStatus.PENDING.value,
        (ExportJob.status == ExportStatus.RUNNING.value) & (ExportJob.started_at <= utcnow_naive() - lease),
    )


def _fail(job_id: int, error: BaseException) -> None:
    """Record why a job failed, so no job stays "running"."""
    db.session.rollback()  # discard the failed read or write before recording the failure
    with unit_of_work():
        job = db.session.get(ExportJob, job_id)
        if job is not None:
            job.status, job.error, job.finished_at = (
                ExportStatus.FAILED.value,
                f"{type(error).__name__}: {error}"[:1000],
                utcnow_naive(),
            )


def run_export(*, job_id: int) -> str:
    """Write a job's CSV (the worker's side): claimed → done with a file, or failed with the reason.

    The claim is a lease (started_at + HMS_EXPORT_LEASE_SECONDS): a duplicate message finds the job leased and
    skips it, while a job whose worker was killed mid-way is taken again once the lease has run out. The file is
    written under a temporary name, renamed, and then the job is marked done; if that commit fails the file is
    removed again, so a file on disk always belongs to a job marked done.
    """
    with unit_of_work():
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, claimable())
            .values(status=ExportStatus.RUNNING.value, started_at=utcnow_naive())
        )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return "skipped"
    job = db.session.get(ExportJob, job_id)
    assert job is not None
    kind, params = job.kind, dict(job.params or {})
    settings = current_app.config["HMS"]
    name = f"{uuid.uuid4()}.csv"
    target = settings.exports_dir / name
    partial = target.with_suffix(".part")
    try:
        lines, counter = lines_for(kind, params)
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in lines:
                handle.write(chunk)
        partial.replace(target)
        db.session.rollback()  # end the read transaction of the export before the job's own unit of work
        with unit_of_work():
            _finish(job_id=job_id, name=name, row_count=counter[0], ttl_days=settings.export_ttl_days)
    except OperationalError:
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        db.session.rollback()
        with contextlib.suppress(OperationalError), unit_of_work():  # hand the job back: the retry may claim it
            db.session.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING.value)
                .values(status=ExportStatus.PENDING.value)
            )
        raise  # transient: the task retries (see tasks.py)
    except Exception as exc:
        logger.exception("Export %s failed", job_id)
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        _fail(job_id, exc)
        return "failed"
    return "done"


def _finish(*, job_id: int, name: str, row_count: int, ttl_days: int) -> None:
    """Mark the job done with its file and queue the owner's e-mail (inside the caller's unit of work)."""
    job = db.session.get(ExportJob, job_id)
    assert job is not None
    job.status, job.file, job.row_count = ExportStatus.DONE.value, name, row_count
    job.finished_at, job.error = utcnow_naive(), None
    owner = db.session.get(User, job.owner_id)
    if owner is not None:
        is_patient = job.kind == PATIENT_KIND
        queue(
            user=owner,
            kind="export_ready",
            subject="Your export is ready" if is_patient else f"Your {job.kind} export is ready",
            body=f"Your CSV export #{job.id} ({row_count} rows) has finished and is ready to download.",
            channels=["email"],
            data={
                "export_id": job.id,
                "portal_path": "/patient/history" if is_patient else "/admin/exports",
                "ttl_days": ttl_days,
            },
        )


def fail_after_retries(*, job_id: int, error: BaseException) -> None:
    """The task gave up retrying a transient error: the job is failed, not left "running"."""
    _fail(job_id, error)


def cleanup_expired() -> int:
    """Delete export files older than HMS_EXPORT_TTL_DAYS (the job stays, file empty, error "expired").

    The jobs are marked expired first; their files go once that has committed.
    """
    settings = current_app.config["HMS"]
    cutoff = utcnow_naive() - timedelta(days=settings.export_ttl_days)
    expired_files: list[Path] = []
    with unit_of_work():
        jobs = (
            db.session.execute(select(ExportJob).where(ExportJob.file.is_not(None), ExportJob.finished_at < cutoff))
            .scalars()
            .all()
        )
        for job in jobs:
            with contextlib.suppress(NotFound):
                expired_files.append(file_path(job))
            job.file, job.error = None, "expired"
    for path in expired_files:
        path.unlink(missing_ok=True)
    referenced = set(db.session.execute(select(ExportJob.file).where(ExportJob.file.is_not(None))).scalars())
    cutoff_ts = cutoff.timestamp()
    for path in settings.exports_dir.iterdir():
        if path.is_file() and path.name not in referenced and path.stat().st_mtime < cutoff_ts:
            path.unlink(missing_ok=True)
    reports_dir = settings.instance_path / "reports"
    if reports_dir.is_dir():
        report_cutoff = (
            utcnow_naive() - timedelta(days=max(REPORT_FILES_TTL_DAYS, settings.export_ttl_days))
        ).timestamp()
        for path in reports_dir.iterdir():
            if path.is_file() and path.stat().st_mtime < report_cutoff:
                path.unlink(missing_ok=True)
    return len(jobs)


def undispatched_jobs() -> list[tuple[int, str]]:
    """Jobs whose message was lost (still pending after the grace) or whose worker died (lease run out), each with
    the task that writes its kind."""
    settings = current_app.config["HMS"]
    lease = timedelta(seconds=settings.export_lease_seconds)
    grace = timedelta(seconds=settings.outbox_grace_seconds)
    now = utcnow_naive()
    rows = db.session.execute(
        select(ExportJob.id, ExportJob.kind).where(
            or_(
                (ExportJob.status == ExportStatus.PENDING.value) & (ExportJob.created_at <= now - grace),
                (ExportJob.status == ExportStatus.RUNNING.value) & (ExportJob.started_at <= now - lease),
            )
        )
    ).all()
    return [(job_id, task_for(kind)) for job_id, kind in rows]


def _patient_of(user: User) -> Patient:
    if user.patient is None:
        raise NotFound("Only patients have a history to export.")
    return user.patient


def history_csv(*, user: User) -> tuple[Iterator[str], str]:
    """The patient's history as streamed CSV chunks and a file name; the read is audited first."""
    with unit_of_work():
        patient = _patient_of(user)
        record(
            action="history.export",
            entity="patient",
            entity_id=patient.id,
            patient_id=patient.id,
            details={"format": "csv"},
        )
    lines, _counter = lines_for(PATIENT_KIND, {"patient_id": patient.id})
    return lines, f"my-medical-history-{now_local():%Y%m%d}.csv"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True), undefined=StrictUndefined
    )


def history_pdf(*, user: User) -> tuple[bytes, str]:
    """The patient's history printed to PDF (WeasyPrint); the read is audited."""
    with unit_of_work():
        patient = _patient_of(user)
        visits = (
            db.session.execute(
                select(Appointment)
                .where(Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.COMPLETED.value)
                .options(
                    joinedload(Appointment.doctor).joinedload(Doctor.department), joinedload(Appointment.treatment)
                )
                .order_by(Appointment.date.desc(), Appointment.start_time.desc())
            )
            .scalars()
            .all()
        )
        record(
            action="history.export",
            entity="patient",
            entity_id=patient.id,
            patient_id=patient.id,
            details={"format": "pdf"},
        )
    settings = current_app.config["HMS"]
    html = (
        _environment()
        .get_template("patient_history.html")
        .render(
            patient=patient,
            visits=visits,
            format_medicines=format_medicines,
            generated_at=now_local().strftime("%Y-%m-%d %H:%M %Z"),
            hospital=str(settings.extra.get("hospital_name", "Hospital Management System")),
        )
    )
    return html_to_pdf(html), f"my-medical-history-{now_local():%Y%m%d}.pdf"
