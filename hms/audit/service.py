"""Writing, listing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from flask_jwt_extended import current_user
from sqlalchemy import func, select

from hms.common.clock import local_datetime, utcnow_naive
from hms.common.pagination import paginate
from hms.common.uow import in_unit_of_work, unit_of_work
from hms.extensions import db
from hms.models import AuditEvent, User

# PostgreSQL: one transaction-scoped advisory lock serialises every writer of the chain. (Locking the newest
# row FOR UPDATE would not: a writer arriving after a commit locks the new head while another writer that waited
# on the old head is still appending, and the chain forks.)
CHAIN_LOCK_KEY = 424242


def _digest(event: AuditEvent) -> str:
    """Keyed hash (HMAC-SHA-256) of a record's content and its predecessor's hash.

    The key (HMS_AUDIT_KEY or instance/audit_key) lives outside the database: whoever can write the table but
    not read the key cannot delete, edit or re-hash a record without `flask audit-verify` noticing.
    """
    body = json.dumps(
        {
            "id": event.id,
            "at": event.at.isoformat(timespec="microseconds") if event.at else None,
            "actor_id": event.actor_id,
            "actor_username": event.actor_username,
            "actor_role": event.actor_role,
            "action": event.action,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "patient_id": event.patient_id,
            "ip": event.ip,
            "details": event.details,
            "prev_hash": event.prev_hash,
        },
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    key = current_app.config["HMS"].audit_key.encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _request_actor() -> User | None:
    if not has_request_context():
        return None
    try:
        return current_user._get_current_object() if current_user else None  # type: ignore[attr-defined]
    except Exception:  # no token verified in this request
        return None


def record(
    *,
    action: str,
    entity: str,
    entity_id: Any = None,
    patient_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> AuditEvent:
    """Add an audit record to the current transaction; it commits (or rolls back) with the change it describes.

    The chain is extended while holding the chain lock (see _lock_chain), so concurrent writers cannot fork it.
    `details` is stored as JSON: dates, decimals and other values are kept as their text.
    """
    actor = actor or _request_actor()
    _lock_chain()
    db.session.flush()  # a new actor in the same transaction gets its id
    actor_values = (actor.id, actor.username, actor.role) if actor else (None, None, None)
    event = AuditEvent(
        at=utcnow_naive(),
        actor_id=actor_values[0],
        actor_username=actor_values[1],
        actor_role=actor_values[2],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        ip=request.remote_addr if has_request_context() else None,
        details=json.loads(json.dumps(details or {}, default=str)),
    )
    previous = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
    event.prev_hash = previous or ""
    db.session.add(event)
    db.session.flush()
    event.hash = _digest(event)
    db.session.flush()
    return event


def _lock_chain() -> None:
    """Become the only writer of the chain until this transaction ends, so the newest hash cannot change under us.

    The record joins its caller's unit of work and never commits: on SQLite that transaction is already the one
    writer (BEGIN IMMEDIATE), on PostgreSQL it takes a transaction-scoped advisory lock.
    """
    session = db.session()
    if not in_unit_of_work(session):
        raise RuntimeError("audit records are written inside a unit of work (hms.common.uow.unit_of_work)")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(db.text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})"))


def verify_chain() -> tuple[int, AuditEvent | None]:
    """Walk the chain in order; return how many records were checked and the first broken one, if any."""
    previous = ""
    checked = 0
    statement = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    for event in db.session.execute(statement).scalars():
        if event.prev_hash != previous or not hmac.compare_digest(event.hash or "", _digest(event)):
            return checked, event
        previous = event.hash or ""
        checked += 1
    return checked, None


def _stored_moment(day: date) -> datetime:
    """Hospital-local midnight of `day` in the stored form (naive UTC)."""
    return local_datetime(day, time(0)).astimezone(UTC).replace(tzinfo=None)


def list_events(
    *,
    actor_id: int | None = None,
    action: str | None = None,
    entity: str | None = None,
    patient_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    """A page of audit events, newest first; dates are hospital-local days, both ends included.

    Reading the log is itself audited (who looked at whose trail), after the page is read.
    """
    statement = select(AuditEvent)
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if action:
        statement = statement.where(func.lower(AuditEvent.action).contains(action.strip().lower(), autoescape=True))
    if entity:
        statement = statement.where(func.lower(AuditEvent.entity).contains(entity.strip().lower(), autoescape=True))
    if patient_id is not None:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if date_from is not None:
        statement = statement.where(AuditEvent.at >= _stored_moment(date_from))
    if date_to is not None:
        statement = statement.where(AuditEvent.at < _stored_moment(date_to + timedelta(days=1)))
    statement = statement.order_by(AuditEvent.id.desc())
    result = paginate(statement, page=page, per_page=per_page)
    filters: dict[str, Any] = {"actor_id": actor_id, "action": action, "entity": entity, "patient_id": patient_id}
    filters.update(date_from=date_from, date_to=date_to, page=page)
    with unit_of_work():
        record(action="audit.read", entity="audit", details={k: v for k, v in filters.items() if v is not None})
    return result
