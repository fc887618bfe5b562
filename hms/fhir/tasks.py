"""Celery task of the FHIR bulk export (re-sent by the exports sweep like every export job that never started)."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from hms.fhir import bulk


@shared_task(
    name=bulk.TASK,
    bind=True,
    soft_time_limit=1800,
    time_limit=1860,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def run_bulk_export(self, job_id: int) -> str:
    """Write the NDJSON files of one FHIR bulk export job."""
    return bulk.run(job_id=job_id)
