"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import has_request_context, request
from flask_jwt_extended import current_user
from sqlalchemy import select

from hms.common.clock import utcnow_naive
from hms.extensions import db
from hms.models import AuditEvent, User


def _digest(event: AuditEvent) -> str:
    """Hash of a record's content and its predecessor's hash: changing any past record breaks the chain."""
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
    return hashlib.sha256(body.encode()).hexdigest()


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

    The chain is extended under a lock on the newest record's position so concurrent writers cannot fork it.
    """
    actor = actor or _request_actor()
    event = AuditEvent(
        at=utcnow_naive(),
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else None,
        actor_role=actor.role if actor else None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
    )
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(424242)"))
    previous = db.session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    event.prev_hash = previous or ""
    db.session.add(event)
    db.session.flush()
    event.hash = _digest(event)
    db.session.flush()
    return event


def verify_chain() -> tuple[int, AuditEvent | None]:
    """Walk the chain in order; return how many records were checked and the first broken one, if any."""
    previous = ""
    checked = 0
    for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if event.prev_hash != previous or event.hash != _digest(event):
            return checked, event
        previous = event.hash or ""
        checked += 1
    return checked, None
