"""Delivering a batch of outbox rows: one write to lease them all and one to record every outcome.

The embedded broker hands the worker batches (the web process's publisher coalesces the ids committed within
a few tens of milliseconds, see hms.celery_app). On SQLite every write transaction waits its turn behind the
bookings, so a row delivered on its own costs three turns (claim, lease renewal, outcome); a batch costs two in
all. Each row is still claimed only if it is pending and due, sent once, and its outcome is the same as
`service.deliver` would record (`service.outcome_of`); a row due for a retry is left to the outbox sweep.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from hms.common.clock import utcnow_naive
from hms.extensions import db
from hms.models import Appointment, Doctor, Notification, NotificationStatus, User
from hms.notifications import service

# A batch longer than this is split by the publisher; the lease is renewed when half of it has passed.
BATCH_LIMIT = 100


def _claim_all(notification_ids: list[int]) -> list[int]:
    """Lease the pending, due rows among these ids to this worker; the ids it now holds."""
    now = utcnow_naive()
    statement = (
        update(Notification)
        .where(
            Notification.id.in_(notification_ids),
            Notification.status == NotificationStatus.PENDING.value,
            or_(
                Notification.next_attempt_at.is_(None),
                Notification.next_attempt_at <= now + service.EARLY_TOLERANCE,
            ),
        )
        .values(next_attempt_at=now + service.LEASE)
        .returning(Notification.id)
    )
    return sorted(service.in_write_transaction(lambda: list(db.session.execute(statement).scalars())))


def _renew_lease(notification_ids: list[int]) -> None:
    service.in_write_transaction(
        lambda: db.session.execute(
            update(Notification)
            .where(Notification.id.in_(notification_ids), Notification.status == NotificationStatus.PENDING.value)
            .values(next_attempt_at=utcnow_naive() + service.LEASE)
        )
    )


def _record_all(outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    def write() -> None:
        for notification_id, values in outcomes:
            db.session.execute(update(Notification).where(Notification.id == notification_id).values(**values))

    service.in_write_transaction(write)


def _load_what_messages_name(rows: list[Notification]) -> list[object]:
    """The users (with their patient or doctor) and appointments (with doctor and department) the batch's
    messages name, in two statements: rendering then finds them in the session instead of loading five rows
    per message one by one."""
    user_ids = {row.user_id for row in rows if row.user_id}
    appointment_ids = {row.appointment_id for row in rows if row.appointment_id}
    loaded: list[object] = []
    if user_ids:
        users = select(User).options(joinedload(User.patient), joinedload(User.doctor)).where(User.id.in_(user_ids))
        loaded += db.session.execute(users).unique().scalars().all()
    if appointment_ids:
        appointments = (
            select(Appointment)
            .options(joinedload(Appointment.doctor).joinedload(Doctor.department))
            .where(Appointment.id.in_(appointment_ids))
        )
        loaded += db.session.execute(appointments).unique().scalars().all()
    return loaded


def deliver_many(notification_ids: list[int]) -> dict[str, int]:
    """Send every pending, due row of the batch and record the outcomes; counts by outcome (skipped: not ours)."""
    from hms.notifications import senders

    wanted = sorted(set(notification_ids))[:BATCH_LIMIT]
    claimed = _claim_all(wanted) if wanted else []
    counts = {"sent": 0, "failed": 0, "pending": 0, "skipped": len(wanted) - len(claimed)}
    if not claimed:
        return counts
    rows = list(db.session.execute(select(Notification).where(Notification.id.in_(claimed))).scalars())
    loaded = _load_what_messages_name(rows)  # noqa: F841  (held: the identity map keeps only weak references)
    renew_after = time.monotonic() + service.LEASE.total_seconds() / 2
    outcomes: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        if time.monotonic() > renew_after:  # slow servers: keep the rest of the batch ours
            _renew_lease([other.id for other in rows[index:]])
            renew_after = time.monotonic() + service.LEASE.total_seconds() / 2
        error: str | None = None
        permanent = False
        try:
            senders.send(row, senders.render(row))
        except senders.PermanentDeliveryError as exc:
            error, permanent = str(exc), True
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
        outcome, values = service.outcome_of(row.id, attempts=(row.attempts or 0) + 1, error=error, permanent=permanent)
        counts[outcome.status] += 1
        outcomes.append((row.id, values))
    db.session.rollback()  # end the read snapshot; the outcomes are written in a fresh write transaction
    _record_all(outcomes)
    return counts
