"""Sign-in sessions: a refresh token in an HttpOnly cookie, rotated on every use, with reuse detection.

Why this shape (OWASP ASVS 3.2-3.5):
- The refresh token never reaches JavaScript: it lives in an ``HttpOnly; SameSite=Strict`` cookie scoped to
  ``/api/auth/refresh`` (``Secure`` over HTTPS), so a script that runs on the page cannot carry it away. The
  SPA keeps the short access token in memory only.
- Each refresh hands out a new refresh token and invalidates the one presented. The token is signed (so its
  session and generation cannot be made up) and only its SHA-256 is stored. An older generation presented
  again means two parties hold the family: the whole session ends (the thief's and the owner's copies alike).
  Two tabs that refresh at the same moment are not thieves: the token just replaced is accepted for
  ``HMS_REFRESH_GRACE_SECONDS`` and answered with an access token only (the browser already has the new cookie).
- Access tokens name their session (claim ``sid``); ``hms.common.auth`` refuses them once the session ended,
  went idle or reached its absolute lifetime, so revoking a session or idling out takes effect at once.
- "Idle" is measured from the last refresh: the SPA refreshes only while its user is active (polling is not
  activity), so a session nobody touches ends after the idle timeout (staff 30 min, patients 60 min).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import after_this_request, current_app, has_request_context, request
from flask_jwt_extended import create_access_token
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select, update

from hms.audit.service import record
from hms.common.auth import client_ip
from hms.common.errors import NotFound, Unauthorized
from hms.common.session_rules import absolute_limit, idle_limit, real_now, why_ended
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import AuthSession, User

REFRESH_COOKIE = "hms_refresh"
REFRESH_PATH = "/api/auth/refresh"
# A hint without any secret, readable by the SPA: "a refresh cookie may be there", so an anonymous visitor's
# page load does not spend a refresh request (and its rate limit) on a certain 401.
HINT_COOKIE = "hms_session"
_SALT = "hms-refresh-token"


# ---- tokens ------------------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["HMS"].jwt_secret, salt=_SALT)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(session_id: int, generation: int) -> str:
    return str(_serializer().dumps([session_id, generation, secrets.token_urlsafe(24)]))


def _read_refresh_token(token: str) -> tuple[int, int] | None:
    """(session id, generation) of a token we signed; None for anything else."""
    try:
        value = _serializer().loads(token)
    except BadData:
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(part, int) and not isinstance(part, bool) for part in value[:2])
    ):
        return int(value[0]), int(value[1])
    return None


def access_token(user: User, session: AuthSession) -> str:
    return create_access_token(identity=user, additional_claims={"sid": session.id})


def session_info(user: User, session: AuthSession) -> dict[str, Any]:
    """What the SPA needs to warn before the idle timeout and to refresh before the access token runs out."""
    settings = current_app.config["HMS"]
    return {
        "id": session.id,
        "idle_seconds": int(idle_limit(user.role).total_seconds()),
        "expires_at": session.expires_at,
        "access_seconds": settings.access_token_minutes * 60,
    }


# ---- the cookie --------------------------------------------------------------------------------------------


def _secure() -> bool:
    return bool(request.is_secure or current_app.config["HMS"].public_url.startswith("https://"))


def set_refresh_cookie(token: str, expires_at: datetime) -> None:
    """Send the refresh token to the browser with this response, where scripts cannot read it."""
    max_age = max(1, int((expires_at - real_now()).total_seconds()))
    secure = _secure()

    @after_this_request
    def _set(response):  # type: ignore[no-untyped-def]
        response.set_cookie(
            REFRESH_COOKIE,
            token,
            max_age=max_age,
            path=REFRESH_PATH,
            secure=secure,
            httponly=True,
            samesite="Strict",
        )
        response.set_cookie(HINT_COOKIE, "1", max_age=max_age, path="/", secure=secure, samesite="Strict")
        return response


def clear_refresh_cookie() -> None:
    secure = _secure()

    @after_this_request
    def _clear(response):  # type: ignore[no-untyped-def]
        response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, secure=secure, httponly=True, samesite="Strict")
        response.delete_cookie(HINT_COOKIE, path="/", secure=secure, samesite="Strict")
        return response


# ---- starting, refreshing and ending -----------------------------------------------------------------------


def _client() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    agent = request.headers.get("User-Agent") or None
    return client_ip(), agent[:255] if agent else None


def start(user: User) -> dict[str, Any]:
    """A new session for a user who just proved who they are: tokens for the body, and the cookie set.

    Joins the caller's unit of work (or opens one).
    """
    ip, agent = _client()
    now = real_now()
    with unit_of_work():
        session = AuthSession(
            user_id=user.id,
            refresh_hash="",
            generation=0,
            created_at=now,
            last_used_at=now,
            expires_at=now + absolute_limit(),
            ip=ip,
            user_agent=agent,
        )
        db.session.add(session)
        db.session.flush()
        token = _new_refresh_token(session.id, 0)
        session.refresh_hash = _digest(token)
    if has_request_context():
        set_refresh_cookie(token, session.expires_at)
    return {"access_token": access_token(user, session), "user": user, "session": session_info(user, session)}


@dataclass
class _Outcome:
    error: Unauthorized | None = None
    token: str | None = None


def _session_error(reason: str) -> Unauthorized:
    messages = {
        "idle": "You were signed out after a period of inactivity. Please sign in again.",
        "expired": "Your session has reached its maximum length. Please sign in again.",
        "reused": "This session was ended because its sign-in token was used twice. Please sign in again.",
    }
    return Unauthorized(messages.get(reason, "This session has ended. Please sign in again."), code="session_ended")


def refresh(token: str | None, *, idle_seconds: int | None = None) -> dict[str, Any]:
    """Rotate the refresh token of the cookie: a new access token, and a new refresh token in the cookie.

    An older token of the family ends the session (outside the short grace for two tabs refreshing at once).
    `idle_seconds` is how long the SPA's user has been inactive (its header X-HMS-Idle-Seconds): a refresh that
    a background request needed then does not count as use. It can only move "last used" forward, and only
    after the idle check, so it cannot revive a session that already went idle.
    """
    parsed = _read_refresh_token(token) if token else None
    if parsed is None:
        clear_refresh_cookie()
        raise Unauthorized("Sign in first: there is no valid session.", code="session_ended")
    session_id, generation = parsed
    now = real_now()
    outcome = _Outcome()
    with unit_of_work():
        session = db.session.execute(
            select(AuthSession).where(AuthSession.id == session_id).with_for_update()
        ).scalar_one_or_none()
        user = db.session.get(User, session.user_id) if session is not None else None
        if session is None or user is None:
            outcome.error = _session_error("unknown")
        elif not user.is_active:
            _end(session, "blocked", now)
            outcome.error = _session_error("blocked")
        elif (reason := why_ended(session, user, now)) is not None:
            if session.ended_at is None:
                _end(session, reason, now)
            outcome.error = _session_error(reason)
        elif _digest(token) == session.refresh_hash:  # type: ignore[arg-type]
            new = _new_refresh_token(session.id, session.generation + 1)
            session.generation += 1
            session.refresh_hash = _digest(new)
            session.rotated_at = now
            session.last_used_at = _used_at(session, now, idle_seconds)
            session.ip, session.user_agent = _client()
            outcome.token = new
        elif generation == session.generation - 1 and _in_grace(session, now):
            # a second tab's concurrent refresh: an access token, no new cookie (the browser has it already)
            session.last_used_at = _used_at(session, now, idle_seconds)
        elif generation < session.generation:
            _end(session, "reused", now)
            record(
                action="refresh_token_reused",
                entity="user",
                entity_id=user.id,
                actor=user,
                details={"session": session.id},
            )
            outcome.error = _session_error("reused")
        else:
            outcome.error = _session_error("unknown")
    if outcome.error is not None:
        clear_refresh_cookie()
        raise outcome.error
    assert session is not None and user is not None
    if outcome.token is not None:
        set_refresh_cookie(outcome.token, session.expires_at)
    return {"access_token": access_token(user, session), "user": user, "session": session_info(user, session)}


def _used_at(session: AuthSession, now: datetime, idle_seconds: int | None) -> datetime:
    reported = now - timedelta(seconds=max(0, idle_seconds or 0))
    return max(session.last_used_at, reported)


def _in_grace(session: AuthSession, now: datetime) -> bool:
    grace = timedelta(seconds=current_app.config["HMS"].refresh_grace_seconds)
    return session.rotated_at is not None and now - session.rotated_at <= grace


def _end(session: AuthSession, reason: str, now: datetime) -> None:
    session.ended_at, session.end_reason = now, reason


def end(session_id: int | None, *, reason: str = "signed_out") -> None:
    """End one session (the caller's unit of work commits); unknown or ended sessions are left alone."""
    if session_id is None:
        return
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.ended_at.is_(None))
        .values(ended_at=real_now(), end_reason=reason)
    )


def end_all(user_id: int, *, reason: str) -> None:
    """End every session of a user (password changed or reset, account blocked); the caller commits."""
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=real_now(), end_reason=reason)
    )


# ---- the user's own list -----------------------------------------------------------------------------------

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """A short, human name for a User-Agent ("Firefox on Windows"); the raw string says little to a patient."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system or ""
    return re.split(r"[\s/;(]", user_agent, maxsplit=1)[0][:40] or "Unknown device"


def list_own(*, user: User, current_session_id: int | None) -> dict[str, Any]:
    """The user's sessions that may still be used, the most recently used first."""
    now = real_now()
    rows = db.session.execute(
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.last_used_at.desc(), AuthSession.id.desc())
    ).scalars()
    items = [
        {
            "id": row.id,
            "device": device_label(row.user_agent),
            "ip": row.ip,
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "expires_at": row.expires_at,
            "current": row.id == current_session_id,
        }
        for row in rows
        if why_ended(row, user, now) is None
    ]
    return {"items": items}


def revoke_own(*, user: User, session_id: int) -> None:
    """End one of the user's own sessions (another device, or this one); audited. Others' ids are 404."""
    with unit_of_work():
        session = db.session.get(AuthSession, session_id)
        if session is None or session.user_id != user.id or session.ended_at is not None:
            raise NotFound(f"Session {session_id} was not found.")
        _end(session, "revoked", real_now())
        record(action="session_revoked", entity="user", entity_id=user.id, actor=user, details={"session": session_id})
