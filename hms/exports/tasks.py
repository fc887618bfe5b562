"""Celery tasks of the exports: write one job's file, remove expired files, re-send jobs that never reached a worker.

`job_task` is how every kind of export job becomes a task (the CSV exports here, the FHIR bulk export in
hms/fhir/tasks.py): one job id in, the job's writer called, a lost database retried with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from hms.celery_app import send_task_safely
from hms.exports import service


def job_task(
    name: str,
    run: Callable[..., str],
    doc: str,
    *,
    on_give_up: Callable[..., None] | None = None,
    **options: Any,
) -> Any:
    """A task that runs one export job: `run(job_id=...)` claims and writes it (a duplicate message finds the job
    leased or done). An OperationalError is retried 5 times with backoff; `on_give_up(job_id=, error=)` runs on
    the last attempt. `options` add Celery task options (time limits, acks)."""

    def task(self: Any, job_id: int) -> str:
        try:
            return run(job_id=job_id)
        except OperationalError as error:
            if on_give_up is not None and self.request.retries >= (self.max_retries or 0):
                on_give_up(job_id=job_id, error=error)  # the last attempt: never leave it "running"
            raise

    task.__doc__ = doc
    return shared_task(
        name=name,
        bind=True,
        autoretry_for=(OperationalError,),
        retry_backoff=10,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=5,
        **options,
    )(task)


run_export = job_task(
    "hms.exports.run_export",
    service.run_export,
    "Write the CSV of one export job and e-mail its owner that it is ready.",
    on_give_up=service.fail_after_retries,
    soft_time_limit=600,
    time_limit=660,
    acks_late=True,
    reject_on_worker_lost=True,
)


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
