"""Delivering a batch of outbox rows: one write to lease them all and one for every ten outcomes.

The web process's publisher coalesces the ids committed within a few tens of milliseconds into one message (see
hms.celery_app). On SQLite every write transaction waits its turn behind the bookings, so a row delivered on its
own costs three turns (claim, lease renewal, outcome); a batch of ten costs two in all. Outcomes are written every
ten rows, so a worker killed mid-batch sends at most ten messages again once their lease has run out. Each row
is still claimed only if it is pending and due, and its outcome is the one `service.deliver` would record
(`service.outcome_of`); a row due for a retry is left to the outbox sweep.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from hms.celery_app import PUBLISH_BATCH_LIMIT
from hms.common.clock import utcnow_naive
from hms.extensions import db
from hms.models import Appointment, Doctor, Notification, NotificationStatus, User
from hms.notifications import service

# Outcomes are written this often, so a worker killed mid-batch sends at most this many again after the lease.
RECORD_EVERY = 10
# Sending stops after this long (slow or unreachable servers, 20 s timeouts each), well inside the task's soft time
# limit and the lease; the rows not tried are handed back to the outbox sweep at once.
SEND_BUDGET_SECONDS = 120.0


def _claim_all(notification_ids: list[int]) -> list[int]:
    """Lease the pending, due rows among these ids to this worker; the ids it now holds."""
    statement = service.lease_statement(Notification.id.in_(notification_ids)).returning(Notification.id)
    return sorted(service.in_write_transaction(lambda: list(db.session.execute(statement).scalars())))


def _hand_back(notification_ids: list[int]) -> None:
    """Rows this worker claimed but did not try: due now, so the sweep sends them again (attempts unchanged)."""
    service.in_write_transaction(
        lambda: db.session.execute(
            update(Notification)
            .where(Notification.id.in_(notification_ids), Notification.status == NotificationStatus.PENDING.value)
            .values(next_attempt_at=utcnow_naive())
        )
    )


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


def _rendered(rows: list[Notification]) -> list[tuple[Notification, Any, str | None, bool]]:
    """Each row with its message, or the error that rendering it raised (and whether retrying cannot help)."""
    from hms.notifications import senders

    return [(row, *service.attempted(partial(senders.render, row))) for row in rows]


def deliver_many(notification_ids: list[int]) -> dict[str, int]:
    """Send every pending, due row of the batch and record the outcomes; counts by outcome (skipped: not ours,
    handed_back: claimed but not tried within the time budget)."""
    from hms.notifications import senders

    wanted = sorted(set(notification_ids))[:PUBLISH_BATCH_LIMIT]  # what the publisher sends at most
    claimed = _claim_all(wanted) if wanted else []
    counts = {"sent": 0, "failed": 0, "pending": 0, "skipped": len(wanted) - len(claimed), "handed_back": 0}
    if not claimed:
        return counts
    rows = list(db.session.execute(select(Notification).where(Notification.id.in_(claimed))).scalars())
    loaded = _load_what_messages_name(rows)  # noqa: F841  (held: the identity map keeps only weak references)
    prepared = _rendered(rows)
    # The rows keep their loaded columns once detached: writing outcomes (which ends this read) does not expire
    # them, so sending needs no statement per row.
    db.session.expunge_all()
    db.session.rollback()
    started = time.monotonic()
    outcomes: list[tuple[int, dict[str, Any]]] = []
    for index, (row, message, error, permanent) in enumerate(prepared):
        if time.monotonic() - started > SEND_BUDGET_SECONDS:
            untried = [other.id for other, *_rest in prepared[index:]]
            _hand_back(untried)
            counts["handed_back"] = len(untried)
            break
        if message is not None:
            _sent, error, permanent = service.attempted(partial(senders.send, row, message))
        outcome, values = service.outcome_of(row.id, attempts=(row.attempts or 0) + 1, error=error, permanent=permanent)
        counts[outcome.status] += 1
        outcomes.append((row.id, values))
        if len(outcomes) >= RECORD_EVERY:
            service.record_outcomes(outcomes)
            outcomes = []
    if outcomes:
        service.record_outcomes(outcomes)
    return counts
