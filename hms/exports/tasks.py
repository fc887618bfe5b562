"""Celery tasks of the exports: write one job's file, remove expired files, re-send jobs that never reached a worker."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from hms.celery_app import send_task_safely
from hms.exports import service


@shared_task(
    name="hms.exports.run_export",
    bind=True,
    soft_time_limit=600,
    time_limit=660,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_export(self, job_id: int) -> str:
    """Write the CSV of one export job and e-mail its owner that it is ready."""
    try:
        return service.run_export(job_id=job_id)
    except OperationalError as error:
        if self.request.retries >= (self.max_retries or 0):
            service.fail_after_retries(job_id=job_id, error=error)  # the last attempt: never leave it "running"
        raise


@shared_task(name="hms.exports.sweep_jobs", bind=True, soft_time_limit=50, time_limit=58)
def sweep_jobs(self) -> int:
    """Every minute: re-send export jobs (CSV and FHIR bulk) whose message was lost or whose worker died."""
    jobs = service.undispatched_jobs()
    for job_id, task_name in jobs:
        send_task_safely(task_name, job_id)
    return len(jobs)


@shared_task(name="hms.exports.cleanup_exports", bind=True, soft_time_limit=300, time_limit=330)
def cleanup_exports(self) -> int:
    """Daily: delete export files older than HMS_EXPORT_TTL_DAYS and re-send jobs whose message was lost."""
    for job_id, task_name in service.undispatched_jobs():
        send_task_safely(task_name, job_id)
    return service.cleanup_expired()
