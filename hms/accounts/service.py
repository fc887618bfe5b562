"""Accounts: creating users, signing in (with brute-force protection), tokens, sessions and passwords."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from hms.accounts import reset, sessions, totp, verification
from hms.accounts.passwords import KNOWN_DEMO_PASSWORDS, hash_password, password_problems, verify_password
from hms.audit.service import record
from hms.common import clock
from hms.common.auth import issued_moment, revoke_token
from hms.common.errors import Duplicate, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import cache, db
from hms.models import LoginThrottle, Role, User

DEFAULT_ADMIN_EMAIL = "admin@hospital.local"
# Changing an address (the directory's edits call this) makes it unverified until its link is opened.
set_email = verification.set_email
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


def check_password(*, password: str, username: str | None, email: str | None = None, field: str = "password") -> None:
    problems = password_problems(password, username=username, email=email)
    if current_app.config["HMS"].is_production and _is_demo_password(password):
        problems.append("This password is published with the demo data; choose another.")
    if problems:
        raise ValidationFailed("The password is not acceptable.", fields={field: problems})


def create_user(*, username: str, email: str, password: str, role: str, must_change_password: bool = False) -> User:
    """Add a user after the uniqueness and password rules; the caller commits."""
    username, email = username.strip(), email.strip().lower()
    check_unique(username=username, email=email)
    check_password(password=password, username=username, email=email)
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    verification.on_created(user)
    return user


def end_sessions(user: User, *, reason: str = "password_changed") -> None:
    """End every session and make every token issued so far invalid (tokens carry their issue time in
    microseconds, see common.auth); the caller commits."""
    user.tokens_valid_after = issued_moment()
    sessions.end_all(user.id, reason=reason)


def set_active(*, user: User, active: bool) -> None:
    """Block (ending every session and the doctor's calendar feed at once) or unblock an account, which also
    lifts its sign-in locks; the caller audits and commits."""
    user.is_active = active
    if active:
        clear_sign_in_locks(user_id=user.id)
        return
    end_sessions(user, reason="blocked")
    if user.doctor is not None:
        user.doctor.calendar_token = None


# ---- tokens ------------------------------------------------------------------------------------------------


def issue_tokens(user: User) -> dict[str, Any]:
    """A new session: the access token for the body, the refresh token in its cookie (see sessions)."""
    return sessions.start(user)


def _ip_failure_key(ip: str | None) -> str:
    minute = int(clock.now_utc().timestamp() // 60)
    return f"login-failures:{ip or 'unknown'}:{minute}"


def _ip_failures(ip: str | None) -> int:
    try:
        return int(cache.cache.get(_ip_failure_key(ip)) or 0)
    except Exception:  # the cache is an accelerator: when it is down, the per-pair lock still protects
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


def _account_key(user: User | None, identifier: str) -> str:
    """Known users are counted by id (username and e-mail share one count); unknown names by the name itself."""
    return f"user:{user.id}" if user is not None else f"name:{identifier.strip().lower()[:250]}"


def _throttle(account: str, ip: str) -> LoginThrottle | None:
    return db.session.execute(
        select(LoginThrottle).where(LoginThrottle.account == account, LoginThrottle.ip == ip)
    ).scalar_one_or_none()


def _seconds_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def _locked_error(seconds: int) -> RateLimited:
    minutes = max(1, math.ceil(seconds / 60))
    return RateLimited(
        f"Too many failed sign-ins for this account from your address. Try again in {minutes} min.",
        retry_after=seconds,
    )


def _check_not_locked(*, account: str, ip: str, now: datetime) -> None:
    """Refuse an address that has itself failed too often for this account; others are never refused."""
    if _ip_failures(ip) >= current_app.config["HMS"].login_ip_failures_per_minute:
        raise RateLimited(
            "Too many failed sign-ins from your address. Please wait a minute and try again.",
            retry_after=60 - int(clock.now_utc().timestamp()) % 60,
        )
    throttle = _throttle(account, ip)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise _locked_error(_seconds_left(throttle.locked_until, now))


def _count_failure(*, account: str, user: User | None, ip: str, now: datetime) -> RateLimited | None:
    """Count a failure of this account from this address and commit it; the lock that it starts, if any.

    Each further lock of the same pair lasts twice as long (growing delays), at most a day.
    """
    settings = current_app.config["HMS"]
    _count_ip_failure(ip)
    user_id = user.id if user is not None else None
    lock: RateLimited | None = None
    with unit_of_work():
        throttle = _throttle(account, ip)
        if throttle is None:
            try:
                with db.session.begin_nested():
                    throttle = LoginThrottle(account=account, user_id=user_id, ip=ip, failures=0, locks=0)
                    db.session.add(throttle)
            except IntegrityError:  # a concurrent failure of the same pair created it first
                throttle = _throttle(account, ip)
                assert throttle is not None
        if throttle.locked_until is not None and throttle.locked_until <= now:
            throttle.failures, throttle.locked_until = 0, None  # the lock ran out: a fresh series begins
        throttle.failures = (throttle.failures or 0) + 1
        throttle.last_failure_at = now
        if throttle.failures >= settings.login_max_failures:
            throttle.locks = (throttle.locks or 0) + 1
            minutes = min(24 * 60, settings.login_lock_minutes * 2 ** (throttle.locks - 1))
            throttle.failures, throttle.locked_until = 0, now + timedelta(minutes=minutes)
            lock = _locked_error(minutes * 60)
    return lock


def _forget_failures(*, account: str, ip: str) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.account == account, LoginThrottle.ip == ip))


def login(*, identifier: str, password: str, ip: str | None) -> dict[str, Any]:
    """Sign in by username or email; failures are counted per account AND address, and lock only that pair.

    Known and unknown names get the same answers (401, then 429 for the pair); only failures count against an
    address, so a whole hospital may sign in from one address in a minute.
    """
    address = ip or "unknown"
    user = find_user(identifier=identifier)
    account = _account_key(user, identifier)
    now = clock.utcnow_naive()
    _check_not_locked(account=account, ip=address, now=now)
    verified = verify_password(user.password_hash if user else None, password)
    # A self-registered account whose address is not confirmed yet answers like a wrong password (and counts
    # like one): otherwise signing in would tell whether registering with an address created an account.
    if user is None or not verified or user.awaiting_verification:
        lock = _count_failure(account=account, user=user, ip=address, now=now)
        raise lock or Unauthorized("The username or password is not correct.", code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("This account has been blocked. Please contact the hospital.", code="account_blocked")
    if totp.enabled(user):
        # The failures are not forgotten yet: a correct password must not reset the count of wrong codes.
        return {"totp_required": True, "challenge": totp.challenge(user)}
    return _finish_sign_in(user=user, account=account, address=address, password=password, now=now)


def _finish_sign_in(*, user: User, account: str, address: str, password: str | None, now: datetime) -> dict[str, Any]:
    with unit_of_work():
        _forget_failures(account=account, ip=address)
        if password is not None and current_app.config["HMS"].is_production and _is_demo_password(password):
            user.must_change_password = True  # a published password is never usable in production
        user.last_login_at = now
    return issue_tokens(user)


def login_with_code(*, challenge: str, code: str, ip: str | None) -> dict[str, Any]:
    """The second step of a two-factor sign-in: the password's challenge and a code (or a recovery code).

    Wrong codes count like wrong passwords against the account and address, and lock the pair the same way.
    """
    address, now = ip or "unknown", clock.utcnow_naive()
    user = totp.challenge_user(challenge)
    if user is None:
        raise Unauthorized("The sign-in has expired. Please enter your password again.", code="challenge_invalid")
    account = _account_key(user, user.username)
    _check_not_locked(account=account, ip=address, now=now)
    if not user.is_active:
        raise Forbidden("This account has been blocked. Please contact the hospital.", code="account_blocked")
    with unit_of_work():
        used = totp.use_code(user, code)
    if used is None:
        lock = _count_failure(account=account, user=user, ip=address, now=now)
        raise lock or Unauthorized("The code is not correct.", code="invalid_code")
    return _finish_sign_in(user=user, account=account, address=address, password=None, now=now)


def disable_totp(*, user: User, password: str, code: str, ip: str | None) -> None:
    """Turn two-factor sign-in off: needs the password and a code; a wrong password counts like a failed sign-in."""
    address, account, now = ip or "unknown", _account_key(user, user.username), clock.utcnow_naive()
    _check_not_locked(account=account, ip=address, now=now)
    if not verify_password(user.password_hash, password):
        lock = _count_failure(account=account, user=user, ip=address, now=now)
        raise lock or ValidationFailed(
            "The password is not correct.", fields={"password": ["The password is not correct."]}
        )
    try:
        totp.disable(user=user, code=code)
    except ValidationFailed:
        lock = _count_failure(account=account, user=user, ip=address, now=now)
        if lock is not None:
            raise lock from None
        raise


def _is_demo_password(password: str) -> bool:
    return password in KNOWN_DEMO_PASSWORDS


def sign_in_locks(*, user_id: int) -> dict[str, Any]:
    """Addresses with failed sign-ins for this account, newest first, and whether each is locked now."""
    if db.session.get(User, user_id) is None:
        raise NotFound(f"User {user_id} was not found.")
    now = clock.utcnow_naive()
    rows = db.session.execute(
        select(LoginThrottle).where(LoginThrottle.user_id == user_id).order_by(LoginThrottle.last_failure_at.desc())
    ).scalars()
    items = [
        {
            "ip": row.ip,
            "failures": row.failures,
            "locked": row.locked_until is not None and row.locked_until > now,
            "locked_until": row.locked_until,
            "last_failure_at": row.last_failure_at,
        }
        for row in rows
    ]
    return {"user_id": user_id, "locked": any(item["locked"] for item in items), "items": items}


def clear_sign_in_locks(*, user_id: int) -> int:
    """Forget every failed sign-in of the account (the caller commits); how many addresses were cleared."""
    result = db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unlock(*, user_id: int) -> dict[str, Any]:
    """An admin lifts every sign-in lock of an account; audited."""
    with unit_of_work():
        if db.session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} was not found.")
        cleared = clear_sign_in_locks(user_id=user_id)
        record(action="user_unlocked", entity="user", entity_id=user_id, details={"addresses": cleared})
    return sign_in_locks(user_id=user_id)


def _expiry(payload: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(payload.get("exp") or time.time() + 86400), UTC).replace(tzinfo=None)


def logout(*, access_payload: dict[str, Any]) -> None:
    """End the session of the presented access token (its refresh token dies with it) and revoke the token."""
    with unit_of_work():
        revoke_token(jti=access_payload["jti"], expires_at=_expiry(access_payload))
        sessions.end(access_payload.get("sid"), reason="signed_out")
    sessions.clear_refresh_cookie()


def change_password(*, user: User, current_password: str, new_password: str, ip: str | None) -> dict[str, Any]:
    """Replace the password and end every other session; the caller gets fresh tokens and stays signed in.

    A wrong current password counts like a failed sign-in, so a stolen token cannot guess the password.
    """
    address, account, now = ip or "unknown", _account_key(user, user.username), clock.utcnow_naive()
    _check_not_locked(account=account, ip=address, now=now)
    if not verify_password(user.password_hash, current_password):
        lock = _count_failure(account=account, user=user, ip=address, now=now)
        if lock is not None:
            raise lock
        raise ValidationFailed(
            "The current password is not correct.",
            fields={"current_password": ["The current password is not correct."]},
        )
    check_password(password=new_password, username=user.username, email=user.email, field="new_password")
    if verify_password(user.password_hash, new_password):
        raise ValidationFailed(
            "Choose a password different from the current one.",
            fields={"new_password": ["The new password must differ from the current one."]},
        )
    with unit_of_work():
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        end_sessions(user)
        record(action="password_changed", entity="user", entity_id=user.id, actor=user)
        reset.queue_password_changed(user)
    return issue_tokens(user)


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
        "must_change_password": user.must_change_password,
        "email_verified": user.email_verified_at is not None,
        "totp_enabled": totp.enabled(user),
        "totp_required": totp.required(user),
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


# ---- administrators ----------------------------------------------------------------------------------------


def create_admin(*, username: str, email: str, password: str) -> User:
    """An administrator account (the CLI and first start use this)."""
    with unit_of_work():
        user = create_user(username=username, email=email, password=password, role=Role.ADMIN.value)
        db.session.flush()
        record(action="admin_created", entity="user", entity_id=user.id, details={"username": user.username})
    return user


def ensure_admin() -> User | None:
    """At first start, create `admin` from HMS_ADMIN_PASSWORD when it is set and no administrator exists.

    The password sat in the environment, so it must be changed at first sign-in.
    """
    password = current_app.config["HMS"].admin_password
    if not password:
        return None
    if db.session.execute(select(User.id).where(User.role == Role.ADMIN.value).limit(1)).first() is not None:
        return None
    user = create_admin(username="admin", email=DEFAULT_ADMIN_EMAIL, password=password)
    with unit_of_work():
        user.must_change_password = True
    return user
