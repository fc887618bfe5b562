"""Two-factor sign-in with time-based one-time passwords (TOTP, RFC 6238) and single-use recovery codes.

The secret is encrypted (Fernet) with a key derived from the signing key, which lives outside the database, so a
copy of the database alone cannot mint codes; it is shown to its owner once, at enrolment. A code is accepted in
the current 30-second step or one step either side (clock drift), and only for a step later than the last one
accepted (``users.totp_last_step``, advanced by one conditional UPDATE), so a code seen over a shoulder cannot be
replayed. Recovery codes are kept as HMAC-SHA256 digests and each works once.

Sign-in is two calls: the password answers with a short-lived signed challenge (no session yet), and the
challenge plus a code finishes the sign-in. Wrong codes count against the same per-account-and-address throttle
as wrong passwords (accounts.service), and a correct password alone does not clear that count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, or_, select, update

from hms.audit.service import record
from hms.common import clock
from hms.common.errors import Conflict, Forbidden, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import TotpRecoveryCode, User

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
CHALLENGE_SECONDS = 300
ISSUER = "Hospital Management System"


def _derived(label: bytes) -> bytes:
    secret = current_app.config["HMS"].jwt_secret.encode()
    return hmac.new(secret, label, hashlib.sha256).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived(b"hms-totp-secret")))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # the signing key changed: the user enrols again (an admin can reset them)
        return None


def _recovery_digest(code: str) -> str:
    return hmac.new(_derived(b"hms-totp-recovery"), _normal(code).encode(), hashlib.sha256).hexdigest()


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def required(user: User) -> bool:
    """Whether this user must use two-factor sign-in (HMS_ADMIN_TOTP_REQUIRED, HMS_DOCTOR_TOTP_REQUIRED)."""
    return user.role in current_app.config["HMS"].totp_required_roles


def status(*, user: User) -> dict[str, Any]:
    left = db.session.execute(
        select(func.count(TotpRecoveryCode.id)).where(
            TotpRecoveryCode.user_id == user.id, TotpRecoveryCode.used_at.is_(None)
        )
    ).scalar_one()
    return {
        "enabled": enabled(user),
        "pending": user.totp_secret is not None and not enabled(user),
        "required": required(user),
        "recovery_codes_left": int(left) if enabled(user) else 0,
    }


# ---- codes ---------------------------------------------------------------------------------------------------


def _current_step() -> int:
    return int(clock.now_utc().timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str) -> int | None:
    """The time-step (now, or one either side) whose code is `code`, or None."""
    code = _normal(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp, now = pyotp.TOTP(secret), _current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _take_step(user: User, step: int) -> bool:
    """Record `step` as used, only if it is later than the last one used (atomic: two requests cannot both win)."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _take_recovery_code(user: User, code: str) -> bool:
    normal = _normal(code)
    if not (8 <= len(normal) <= 20 and normal.isascii() and normal.isalnum()):
        return False
    result = db.session.execute(
        update(TotpRecoveryCode)
        .where(
            TotpRecoveryCode.user_id == user.id,
            TotpRecoveryCode.code_hash == _recovery_digest(normal),
            TotpRecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.utcnow_naive())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def use_code(user: User, code: str, *, allow_recovery: bool = True) -> str | None:
    """Inside the caller's unit of work: consume `code` (a TOTP code of an unused step, or an unused recovery
    code); which kind it was ("totp" / "recovery"), or None when it is not acceptable."""
    secret = _decrypt(user.totp_secret) if user.totp_secret else None
    if secret is not None:
        step = _matching_step(secret, code)
        if step is not None:
            return "totp" if _take_step(user, step) else None
    if allow_recovery and enabled(user) and _take_recovery_code(user, code):
        remaining = db.session.execute(
            select(func.count(TotpRecoveryCode.id)).where(
                TotpRecoveryCode.user_id == user.id, TotpRecoveryCode.used_at.is_(None)
            )
        ).scalar_one()
        record(
            action="totp_recovery_code_used",
            entity="user",
            entity_id=user.id,
            actor=user,
            details={"remaining": int(remaining)},
        )
        return "recovery"
    return None


# ---- enrolment -----------------------------------------------------------------------------------------------


def enrol(*, user: User) -> dict[str, Any]:
    """Start (or restart) enrolment: a new secret, kept encrypted, returned once with its otpauth URI and QR."""
    if enabled(user):
        raise Conflict("Two-factor sign-in is already on. Turn it off first to enrol a new device.")
    secret = pyotp.random_base32()
    with unit_of_work():
        user.totp_secret = _encrypt(secret)
        user.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": svg}


def confirm(*, user: User, code: str) -> dict[str, Any]:
    """Turn two-factor sign-in on with a first valid code; the ten recovery codes are returned this once."""
    if enabled(user):
        raise Conflict("Two-factor sign-in is already on.")
    if user.totp_secret is None:
        raise Conflict("Start the enrolment first.")
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    with unit_of_work():
        if use_code(user, code, allow_recovery=False) is None:
            raise ValidationFailed("The code is not correct.", fields={"code": ["The code is not correct."]})
        user.totp_enabled_at = clock.utcnow_naive()
        db.session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))
        db.session.add_all(TotpRecoveryCode(user_id=user.id, code_hash=_recovery_digest(c)) for c in codes)
        record(action="totp_enabled", entity="user", entity_id=user.id, actor=user)
    return {"recovery_codes": codes}


def _new_recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def disable(*, user: User, code: str) -> None:
    """Turn two-factor sign-in off (the caller checked the password and counts failures)."""
    if not enabled(user):
        raise Conflict("Two-factor sign-in is not on.")
    if required(user):
        raise Forbidden("Your role must keep two-factor sign-in on.", code="totp_required")
    with unit_of_work():
        if use_code(user, code) is None:
            raise ValidationFailed("The code is not correct.", fields={"code": ["The code is not correct."]})
        _clear(user)
        record(action="totp_disabled", entity="user", entity_id=user.id, actor=user)


def _clear(user: User) -> None:
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    db.session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))


# ---- sign-in challenge ---------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["HMS"].jwt_secret, salt="hms-totp-challenge")


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def challenge(user: User) -> str:
    """A signed, short-lived proof that `user` gave the right password (bound to that password)."""
    issued = int(clock.now_utc().timestamp())
    return str(_serializer().dumps({"u": user.id, "t": issued, "p": _password_fingerprint(user)}))


def challenge_user(token: str) -> User | None:
    """The user of a valid, unexpired challenge whose password has not changed since; None otherwise."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("t"), int):
        return None
    age = int(clock.now_utc().timestamp()) - data["t"]
    if not 0 <= age <= CHALLENGE_SECONDS:
        return None
    user = db.session.get(User, data["u"])
    if user is None or not enabled(user) or not hmac.compare_digest(str(data.get("p")), _password_fingerprint(user)):
        return None
    return user
