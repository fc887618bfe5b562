"""When a sign-in session may still be used (issue 14): the rules the access-token check (common.auth) and the
session service (accounts.sessions) share. They live in common because common.auth, which every request passes,
must not import a domain package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from hms.models import AuthSession, Role, User


def real_now() -> datetime:
    """Sessions run on real time, like the tokens' own expiry: the product's clock (which tests and demos move
    to a hospital day) must not age or revive a session."""
    return datetime.now(UTC).replace(tzinfo=None)


def idle_limit(role: str) -> timedelta:
    """How long a session may go unused: patients get longer than staff, who can read many patients' records."""
    settings = current_app.config["HMS"]
    minutes = settings.patient_session_idle_minutes if role == Role.PATIENT.value else settings.session_idle_minutes
    return timedelta(minutes=minutes)


def absolute_limit() -> timedelta:
    return timedelta(hours=current_app.config["HMS"].session_hours)


def why_ended(session: AuthSession | None, user: User, now: datetime) -> str | None:
    """None while the session may be used; otherwise the reason it may not (ended, idle or expired)."""
    if session is None or session.user_id != user.id:
        return "unknown"
    if session.ended_at is not None:
        return session.end_reason or "ended"
    if now >= session.expires_at:
        return "expired"
    if now - session.last_used_at > idle_limit(user.role):
        return "idle"
    return None
