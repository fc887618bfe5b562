"""Queueing messages in the outbox, inside the caller's transaction, so an event and its message commit together."""

from __future__ import annotations

from typing import Any

from flask import current_app

from hms.extensions import db
from hms.models import Channel, Notification, NotificationStatus, User


def configured_channels() -> list[str]:
    """Email always (a local mailbox folder stands in for SMTP in development); webhook and SMS when set."""
    settings = current_app.config["HMS"]
    channels = [Channel.EMAIL.value]
    if settings.webhook_url:
        channels.append(Channel.WEBHOOK.value)
    if settings.sms_enabled and settings.sms_url:
        channels.append(Channel.SMS.value)
    return channels


def queue(
    *,
    user: User,
    kind: str,
    subject: str,
    body: str,
    appointment_id: int | None = None,
    data: dict[str, Any] | None = None,
    channels: list[str] | None = None,
) -> list[Notification]:
    """Write one outbox row per channel; delivery happens after commit (see notifications.tasks)."""
    rows = []
    for channel in channels or configured_channels():
        recipient = user.email if channel == Channel.EMAIL.value else None
        if channel == Channel.SMS.value:
            profile = user.patient or user.doctor
            recipient = profile.phone if profile else None
        row = Notification(
            user_id=user.id,
            appointment_id=appointment_id,
            channel=channel,
            kind=kind,
            recipient=recipient,
            subject=subject,
            payload={"body": body, **(data or {})},
            status=NotificationStatus.PENDING.value,
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    _schedule_after_commit([row.id for row in rows])
    return rows


def _schedule_after_commit(notification_ids: list[int]) -> None:
    """Remember ids to hand to the worker once the transaction commits (a hook set by notifications.tasks)."""
    pending = db.session.info.setdefault("hms_pending_notifications", [])
    pending.extend(notification_ids)
