"""Accounts: creating users, signing in (with brute-force protection), tokens, sessions and passwords."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from hms.accounts.passwords import hash_password, password_problems, verify_password
from hms.audit.service import record
from hms.common import clock
from hms.common.auth import issued_moment, revoke_token
from hms.common.errors import Duplicate, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from hms.extensions import cache, db
from hms.models import Patient, Role, User

PATIENT_PROFILE_FIELDS = (
    "date_of_birth",
    "gender",
    "phone",
    "address",
    "blood_group",
    "height_cm",
    "weight_kg",
    "allergies",
    "medical_history",
    "emergency_contact",
)
DEFAULT_ADMIN_EMAIL = "admin@hospital.local"
log = logging.getLogger(__name__)


# ---- users -------------------------------------------------------------------------------------------------


def find_user(*, identifier: str) -> User | None:
    """The user whose username or email is `identifier`, ignoring case."""
    needle = identifier.strip().lower()
    return db.session.execute(
        select(User).where(or_(func.lower(User.username) == needle, func.lower(User.email) == needle)).limit(1)
    ).scalar_one_or_none()


def check_unique(*, username: str | None = None, email: str | None = None, exclude_user_id: int | None = None) -> None:
    """Refuse a username or email another account already has (case-insensitively), naming the field."""
    taken: dict[str, list[str]] = {}
    for field, column, value in (("username", User.username, username), ("email", User.email, email)):
        if value is None:
            continue
        statement = select(User.id).where(func.lower(column) == value.strip().lower())
        if exclude_user_id is not None:
            statement = statement.where(User.id != exclude_user_id)
        if db.session.execute(statement.limit(1)).first() is not None:
            taken[field] = [f"This {field} is already in use."]
    if taken:
        raise Duplicate("An account with these details already exists.", fields=taken)


def check_password(*, password: str, username: str | None, field: str = "password") -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise ValidationFailed("The password is not acceptable.", fields={field: problems})


def create_user(*, username: str, email: str, password: str, role: str, must_change_password: bool = False) -> User:
    """Add a user after the uniqueness and password rules; the caller commits."""
    username, email = username.strip(), email.strip().lower()
    check_unique(username=username, email=email)
    check_password(password=password, username=username)
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    return user


def commit_or_duplicate() -> None:
    """Commit; a unique index that a concurrent request won becomes a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        message = str(error.orig).lower()
        if "unique" not in message and "duplicate" not in message:
            raise
        field = next((name for name in ("username", "email") if name in message), "name")
        fields = {field: [f"This {field} is already in use."]}
        raise Duplicate("This already exists.", fields=fields) from error


def end_sessions(user: User) -> None:
    """Make every token issued so far invalid (tokens carry their issue time in microseconds, see common.auth)."""
    user.tokens_valid_after = issued_moment()


def set_active(*, user: User, active: bool) -> None:
    """Block (ending every session at once) or unblock an account; the caller audits and commits."""
    user.is_active = active
    if not active:
        end_sessions(user)


# ---- tokens ------------------------------------------------------------------------------------------------


def issue_tokens(user: User) -> dict[str, Any]:
    return {
        "access_token": create_access_token(identity=user),
        "refresh_token": create_refresh_token(identity=user),
        "user": user,
    }


def register(*, data: dict[str, Any]) -> dict[str, Any]:
    """Self-registration: a patient account with its profile, signed in at once."""
    user = create_user(
        username=data["username"], email=data["email"], password=data["password"], role=Role.PATIENT.value
    )
    user.last_login_at = clock.utcnow_naive()
    patient = Patient(
        user=user, full_name=data["full_name"], **{k: data[k] for k in PATIENT_PROFILE_FIELDS if k in data}
    )
    db.session.add(patient)
    db.session.flush()
    record(action="account_registered", entity="patient", entity_id=patient.id, actor=user)
    commit_or_duplicate()
    return issue_tokens(user)


def _ip_failure_key(ip: str | None) -> str:
    minute = int(clock.now_utc().timestamp() // 60)
    return f"login-failures:{ip or 'unknown'}:{minute}"


def _ip_failures(ip: str | None) -> int:
    try:
        return int(cache.cache.get(_ip_failure_key(ip)) or 0)
    except Exception:  # the cache is an accelerator: when it is down, the per-account lock still protects
        log.exception("login throttle: cache read failed")
        return 0


def _count_ip_failure(ip: str | None) -> None:
    """One more failure for this address in this minute (an atomic INCR on Redis)."""
    key = _ip_failure_key(ip)
    try:
        cache.cache.add(key, 0, timeout=120)
        cache.cache.inc(key)
    except Exception:
        log.exception("login throttle: cache write failed")


def login(*, identifier: str, password: str, ip: str | None) -> dict[str, Any]:
    """Sign in by username or email; failures are throttled per address and lock the account after N in a row.

    Only failures count against an address: a whole hospital may sign in from one address in a minute.
    """
    settings = current_app.config["HMS"]
    if _ip_failures(ip) >= settings.login_ip_failures_per_minute:
        raise RateLimited("Too many failed sign-ins from your address. Please wait a minute and try again.")
    user = find_user(identifier=identifier)
    now = clock.utcnow_naive()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
        raise RateLimited(f"This account is locked after too many failed sign-ins. Try again in {minutes} min.")
    if not verify_password(user.password_hash if user else None, password):
        _count_ip_failure(ip)
        if user is not None:
            _count_account_failure(user, now=now, settings=settings)
        raise Unauthorized("The username or password is not correct.", code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("This account has been blocked. Please contact the hospital.", code="account_blocked")
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return issue_tokens(user)


def _count_account_failure(user: User, *, now: datetime, settings: Any) -> None:
    if user.locked_until is not None:  # an old lock has run out: a fresh series of attempts begins
        user.failed_login_count = 0
        user.locked_until = None
    user.failed_login_count = (user.failed_login_count or 0) + 1
    if user.failed_login_count >= settings.login_max_failures:
        user.failed_login_count = 0
        user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
        db.session.commit()
        raise RateLimited(f"Too many failed sign-ins: this account is locked for {settings.login_lock_minutes} min.")
    db.session.commit()


def refresh(*, user: User) -> dict[str, Any]:
    """A new access token for the holder of a valid refresh token."""
    return {"access_token": create_access_token(identity=user)}


def _expiry(payload: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(payload.get("exp") or time.time() + 86400), UTC).replace(tzinfo=None)


def logout(*, user: User, access_payload: dict[str, Any], refresh_token: str | None = None) -> None:
    """Revoke the presented access token, and the caller's refresh token when they hand it in."""
    revoke_token(jti=access_payload["jti"], expires_at=_expiry(access_payload))
    if not refresh_token:
        return
    try:
        payload = decode_token(refresh_token, allow_expired=True)
    except Exception:  # a malformed or foreign token: nothing to revoke, the sign-out still succeeds
        return
    if payload.get("type") == "refresh" and str(payload.get("sub")) == str(user.id):
        revoke_token(jti=payload["jti"], expires_at=_expiry(payload))


def change_password(*, user: User, current_password: str, new_password: str) -> dict[str, Any]:
    """Replace the password and end every other session; the caller gets fresh tokens and stays signed in."""
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(
            "The current password is not correct.",
            fields={"current_password": ["The current password is not correct."]},
        )
    check_password(password=new_password, username=user.username, field="new_password")
    if verify_password(user.password_hash, new_password):
        raise ValidationFailed(
            "Choose a password different from the current one.",
            fields={"new_password": ["The new password must differ from the current one."]},
        )
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_sessions(user)
    record(action="password_changed", entity="user", entity_id=user.id, actor=user)
    db.session.commit()
    return issue_tokens(user)


def me(*, user: User) -> dict[str, Any]:
    """The signed-in user with the profile of their role."""
    from hms.directory.service import doctor_dict, patient_dict

    return {
        **user_dict(user),
        "doctor": doctor_dict(user.doctor) if user.doctor else None,
        "patient": patient_dict(user.patient) if user.patient else None,
    }


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


# ---- administrators ----------------------------------------------------------------------------------------


def create_admin(*, username: str, email: str, password: str) -> User:
    """An administrator account (the CLI and first start use this)."""
    user = create_user(username=username, email=email, password=password, role=Role.ADMIN.value)
    db.session.flush()
    record(action="admin_created", entity="user", entity_id=user.id, details={"username": user.username})
    commit_or_duplicate()
    return user


def ensure_admin() -> User | None:
    """At first start, create `admin` from HMS_ADMIN_PASSWORD when it is set and no administrator exists."""
    password = current_app.config["HMS"].admin_password
    if not password:
        return None
    if db.session.execute(select(User.id).where(User.role == Role.ADMIN.value).limit(1)).first() is not None:
        return None
    return create_admin(username="admin", email=DEFAULT_ADMIN_EMAIL, password=password)


def own_profile(*, user: User) -> dict[str, Any]:
    """The signed-in doctor's or patient's own profile, in the same shape admins see."""
    from hms.directory.service import doctor_dict, patient_dict

    if user.doctor is not None:
        return doctor_dict(user.doctor)
    if user.patient is not None:
        return patient_dict(user.patient)
    raise NotFound("This account has no profile.")


def update_own_doctor_profile(*, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A doctor edits their own profile, under the same rules as an admin's edit."""
    from hms.directory import service as directory

    if user.doctor is None:
        raise NotFound("This account has no doctor profile.")
    return directory.update_doctor(doctor_id=user.doctor.id, data=data)


def update_own_patient_profile(*, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A patient edits their own profile and email."""
    from hms.directory import service as directory

    if user.patient is None:
        raise NotFound("This account has no patient profile.")
    return directory.update_patient(patient_id=user.patient.id, data=data)
