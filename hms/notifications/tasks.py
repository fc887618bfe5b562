"""Celery tasks of the outbox: deliver one message, sweep what is due, create the day's reminders."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from sqlalchemy.exc import OperationalError

from hms.celery_app import send_task_safely
from hms.notifications import batch, service


@shared_task(
    name="hms.notifications.deliver_notification",
    bind=True,
    soft_time_limit=45,
    time_limit=60,
    max_retries=service.MAX_ATTEMPTS,
    acks_late=True,
    reject_on_worker_lost=True,
)
def deliver_notification(self, notification_id: int) -> str:
    """Send one outbox row; on a transient failure retry it after the backoff the row records."""
    outcome = service.deliver(notification_id=notification_id)
    if outcome.retry_in is not None and not self.request.called_directly and not self.request.is_eager:
        # If this publish fails too, the row is still pending and due: the sweep re-sends it.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(
    name="hms.notifications.deliver_notifications",
    bind=True,
    soft_time_limit=240,
    time_limit=270,
    acks_late=True,
    reject_on_worker_lost=True,
)
def deliver_notifications(self, notification_ids: list[int]) -> dict[str, int]:
    """Send a batch of outbox rows (the web process's publisher coalesces them, on every broker but memory://); a
    row that must be retried keeps its backoff in the row, and the outbox sweep sends it again when it is due."""
    return batch.deliver_many([int(notification_id) for notification_id in notification_ids])


@shared_task(name="hms.notifications.sweep_outbox", bind=True, soft_time_limit=50, time_limit=58)
def sweep_outbox(self) -> int:
    """Re-dispatch pending messages that are due or never reached a worker: nothing is lost (export jobs have
    their own sweep, hms.exports.sweep_jobs)."""
    ids = service.due_for_dispatch()
    for notification_id in ids:
        send_task_safely("hms.notifications.deliver_notification", notification_id)
    return len(ids)


@shared_task(
    name="hms.notifications.send_daily_reminders",
    bind=True,
    soft_time_limit=600,
    time_limit=660,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def send_daily_reminders(self, day: str | None = None) -> int:
    """Reminders for the booked appointments of a hospital-local day (default today); idempotent."""
    return len(service.create_daily_reminders(day=date.fromisoformat(day) if day else None))
