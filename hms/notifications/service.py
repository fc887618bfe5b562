"""Queueing messages in the outbox, inside the caller's transaction, so an event and its message commit together;
and delivering them from the worker, with backoff, so a failure is recorded and retried, never lost."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy import ColumnElement, Insert, Table, Update, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from hms.common.clock import today_local, utcnow_naive
from hms.common.db import update_by_id_parameters, update_by_id_statement
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Channel, Doctor, Notification, NotificationStatus, User

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# While a worker sends a message the row is leased: the sweep and duplicate deliveries leave it alone.
LEASE = timedelta(minutes=5)
# A pending row never handed to a worker is re-dispatched by the sweep after HMS_OUTBOX_GRACE_SECONDS.
# A retry may arrive a little before its due time (clocks of two processes); accept it.
EARLY_TOLERANCE = timedelta(seconds=5)
# How often a busy status write is retried (about a minute in all): far shorter than the lease.
STATUS_WRITE_ATTEMPTS = 12


def configured_channels() -> list[str]:
    """Email always (a local mailbox folder stands in for SMTP in development); webhook and SMS when set."""
    settings = current_app.config["HMS"]
    channels = [Channel.EMAIL.value]
    if settings.webhook_url:
        channels.append(Channel.WEBHOOK.value)
    if settings.sms_enabled and settings.sms_url:
        channels.append(Channel.SMS.value)
    return channels


def recipient_for(user: User, channel: str) -> str | None:
    """The address a channel sends to: the email, the profile's phone for SMS, the configured URL for webhooks."""
    if channel == Channel.EMAIL.value:
        return user.email
    if channel == Channel.SMS.value:
        profile = user.patient or user.doctor
        return profile.phone if profile else None
    return None


def queue(
    *,
    user: User,
    kind: str,
    subject: str,
    body: str,
    appointment_id: int | None = None,
    data: dict[str, Any] | None = None,
    channels: list[str] | None = None,
) -> list[int]:
    """Write one outbox row per channel; delivery happens after commit (see hms.celery_app). The new rows' ids.

    A Core insert, not ORM objects: a booking or a cancel writes its messages in the hot path, and adding the
    rows to the session cost a flush of everything the session held (about 1 ms a message) for rows that this
    request never reads again.
    """
    payload = {"body": body, **(data or {})}
    rows = [
        {
            "user_id": user.id,
            "appointment_id": appointment_id,
            "channel": channel,
            "kind": kind,
            "recipient": recipient_for(user, channel),
            "subject": subject,
            "payload": payload,
        }
        for channel in channels or configured_channels()
    ]
    ids = list(db.session.execute(_queue_statement(), rows).scalars())
    _schedule_after_commit(ids)
    return ids


@cache
def _queue_statement() -> Insert:
    """The outbox insert, built once; pending with no attempts and created now come from the columns' defaults."""
    table = cast(Table, Notification.__table__)
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def _schedule_after_commit(notification_ids: list[int]) -> None:
    """Remember ids to hand to the worker once the transaction commits (the listener is in hms.celery_app)."""
    pending = db.session.info.setdefault("hms_pending_notifications", [])
    pending.extend(notification_ids)


def create_daily_reminders(*, day: date | None = None) -> list[int]:
    """One reminder per booked appointment of a hospital-local day and channel; a second run adds nothing."""
    with unit_of_work():
        day = day or today_local()
        channels = configured_channels()
        appointments = db.session.execute(
            select(Appointment)
            .where(Appointment.date == day, Appointment.status == AppointmentStatus.BOOKED.value)
            .options(joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department))
            .order_by(Appointment.start_time, Appointment.id)
        ).scalars()
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        created: list[int] = []
        for appointment in appointments:
            user = appointment.patient.user
            if not user.is_active:
                continue
            when = f"{appointment.date:%A %d %B %Y} at {appointment.start_time:%H:%M}"
            body = f"This is a reminder of your appointment with {appointment.doctor.display_name} on {when}."
            for channel in channels:
                statement = (
                    insert(Notification)
                    .values(
                        user_id=user.id,
                        appointment_id=appointment.id,
                        channel=channel,
                        kind="reminder",
                        recipient=recipient_for(user, channel),
                        subject=f"Reminder: your appointment today at {appointment.start_time:%H:%M}",
                        payload={"body": body},
                        status=NotificationStatus.PENDING.value,
                        attempts=0,
                        created_at=utcnow_naive(),
                    )
                    .on_conflict_do_nothing(
                        index_elements=["appointment_id", "kind", "channel"],
                        index_where=text("kind = 'reminder'"),
                    )
                    .returning(Notification.id)
                )
                new_id = db.session.execute(statement).scalar_one_or_none()
                if new_id is not None:
                    created.append(new_id)
        _schedule_after_commit(created)
    return created


@dataclass
class DeliveryOutcome:
    status: str  # sent | failed | pending (will be retried) | skipped
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 … minutes, capped at an hour."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def _write(statement: Any) -> int:
    """Run one UPDATE in its own write transaction, retrying while SQLite is busy; the rows it changed."""
    return in_write_transaction(lambda: int(cast(CursorResult, db.session.execute(statement)).rowcount or 0))


def in_write_transaction(work: Callable[[], T]) -> T:
    """Run `work` in its own write transaction, retrying while SQLite is busy; what it returned.

    A worker that has sent a message must record it: losing the "sent" mark would send it again after the lease.
    BEGIN IMMEDIATE (unit_of_work) queues behind other writers instead of failing on a stale read snapshot.
    """
    for attempt in range(STATUS_WRITE_ATTEMPTS):
        try:
            with unit_of_work():
                result = work()
            return result
        except OperationalError:
            if attempt == STATUS_WRITE_ATTEMPTS - 1:
                raise
            logger.warning("outbox write busy (attempt %s); retrying", attempt + 1)
            time.sleep(min(5.0, 0.05 * 2**attempt))
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def lease_statement(which: ColumnElement[bool]) -> Update:
    """The UPDATE that leases to this worker the rows matching `which` that are pending and due (not sent, not
    failed, not held by another worker's lease): a single delivery and a batch claim rows alike."""
    now = utcnow_naive()
    return (
        update(Notification)
        .where(
            which,
            Notification.status == NotificationStatus.PENDING.value,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now + EARLY_TOLERANCE),
        )
        .values(next_attempt_at=now + LEASE)
    )


def _claim(notification_id: int) -> bool:
    """Lease a pending, due row to this worker; False when it is sent, failed, not due or held by another."""
    return _write(lease_statement(Notification.id == notification_id)) == 1


def _extend_lease(notification_id: int) -> None:
    """The sender renews its lease just before it talks to the server, so a slow render cannot let it lapse."""
    _write(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == NotificationStatus.PENDING.value)
        .values(next_attempt_at=utcnow_naive() + LEASE)
    )


def record_outcomes(outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    """Write outcomes (notification id, column values from `outcome_of`) in one write transaction: one UPDATE
    statement per kind of outcome (every "sent" row sets the same columns), run for all its rows at once. Building
    and compiling an UPDATE per row was a quarter of the worker's CPU per message."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for notification_id, values in outcomes:
        by_columns.setdefault(tuple(sorted(values)), []).append(update_by_id_parameters(notification_id, values))

    def write() -> None:
        for columns, rows in by_columns.items():
            db.session.execute(_outcome_statement(columns), rows)

    in_write_transaction(write)


@cache
def _outcome_statement(columns: tuple[str, ...]) -> Update:
    """The UPDATE that records one kind of outcome, built once per set of columns (the values are parameters)."""
    return update_by_id_statement(cast(Table, Notification.__table__), columns)


def deliver(*, notification_id: int) -> DeliveryOutcome:
    """Send one outbox row through its channel and record the outcome (sent, retry later, or failed for good)."""
    from hms.notifications import senders

    if not _claim(notification_id):
        return DeliveryOutcome("skipped")
    row = db.session.get(Notification, notification_id)
    assert row is not None

    def render_and_send() -> None:
        message = senders.render(row)
        _extend_lease(notification_id)  # commits: the row's attributes are read again, as they are now
        senders.send(row, message)

    _done, error, permanent = attempted(render_and_send)
    attempts = (row.attempts or 0) + 1
    db.session.rollback()  # end the read snapshot; the outcome is written in a fresh write transaction
    outcome, values = outcome_of(notification_id, attempts=attempts, error=error, permanent=permanent)
    record_outcomes([(notification_id, values)])
    return outcome


def attempted(action: Callable[[], T]) -> tuple[T | None, str | None, bool]:
    """Run a render or a send: what it returned, or the error it raised as text and whether retrying cannot help
    (a PermanentDeliveryError: no address, channel switched off)."""
    from hms.notifications import senders

    try:
        return action(), None, False
    except senders.PermanentDeliveryError as exc:
        return None, str(exc), True
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000], False


def outcome_of(
    notification_id: int, *, attempts: int, error: str | None, permanent: bool
) -> tuple[DeliveryOutcome, dict[str, Any]]:
    """What one attempt means for its row: sent, failed for good (permanent, or out of attempts), or due again
    after the backoff; and the column values that record it."""
    if error is None:
        values = {
            "status": NotificationStatus.SENT.value,
            "attempts": attempts,
            "sent_at": utcnow_naive(),
            "error": None,
            "next_attempt_at": None,
        }
        return DeliveryOutcome("sent"), values
    if permanent or attempts >= MAX_ATTEMPTS:
        logger.error("Notification %s failed for good after %s attempts: %s", notification_id, attempts, error)
        values = {
            "status": NotificationStatus.FAILED.value,
            "attempts": attempts,
            "error": error,
            "next_attempt_at": None,
        }
        return DeliveryOutcome("failed"), values
    delay = backoff_seconds(attempts)
    logger.warning("Notification %s attempt %s failed (%s); retry in %.0f s", notification_id, attempts, error, delay)
    values = {"attempts": attempts, "error": error, "next_attempt_at": utcnow_naive() + timedelta(seconds=delay)}
    return DeliveryOutcome("pending", retry_in=delay), values


def due_for_dispatch(*, limit: int = 500) -> list[int]:
    """Pending rows whose retry is due, or that no worker ever received (a publish failed): the sweep resends them."""
    now = utcnow_naive()
    grace = timedelta(seconds=current_app.config["HMS"].outbox_grace_seconds)
    return list(
        db.session.execute(
            select(Notification.id)
            .where(
                Notification.status == NotificationStatus.PENDING.value,
                or_(
                    Notification.next_attempt_at <= now,
                    Notification.next_attempt_at.is_(None) & (Notification.created_at <= now - grace),
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        ).scalars()
    )


def list_notifications(
    *, status: str | None = None, channel: str | None = None, page: int = 1, per_page: int = 20
) -> dict[str, Any]:
    """A page of outbox rows for the admin, newest first (their bodies stay out: they may name a visit)."""
    from hms.common.pagination import paginate

    statement = select(Notification)
    if status:
        statement = statement.where(Notification.status == status)
    if channel:
        statement = statement.where(Notification.channel == channel)
    return paginate(statement.order_by(Notification.id.desc()), page=page, per_page=per_page)
