"""Celery tasks of the monthly reports: fan out one task per active doctor, each renders and e-mails one report."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from hms.celery_app import send_task_safely
from hms.common.clock import today_local
from hms.reports import service


@shared_task(name="hms.reports.send_monthly_reports", bind=True, soft_time_limit=120, time_limit=150)
def send_monthly_reports(self, month: str | None = None) -> int:
    """On the 1st: last month's report for every active doctor, one task each so one failure stops no other."""
    month = month or service.previous_month(today_local())
    doctor_ids = service.active_doctor_ids()
    for doctor_id in doctor_ids:
        send_task_safely("hms.reports.send_monthly_report", doctor_id, month)
    return len(doctor_ids)


@shared_task(
    name="hms.reports.send_monthly_report",
    bind=True,
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(OperationalError, OSError),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=4,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_monthly_report(self, doctor_id: int, month: str) -> int | None:
    """Render one doctor's report and queue the e-mail (HTML body, PDF attached); idempotent per doctor and month."""
    return service.email_monthly_report(doctor_id=doctor_id, month=month)
