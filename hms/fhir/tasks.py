"""Celery task of the FHIR bulk export (re-sent by the exports sweep like every export job that never started)."""

from __future__ import annotations

from hms.exports.tasks import job_task
from hms.fhir import bulk

run_bulk_export = job_task(
    bulk.TASK,
    bulk.run,
    "Write the NDJSON files of one FHIR bulk export job.",
    soft_time_limit=1800,
    time_limit=1860,
    acks_late=True,
)
