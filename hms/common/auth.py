"""The one place that decides who is calling and what their role lets them reach."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request
from sqlalchemy import ColumnElement, Select, bindparam, exists, false, select, true
from sqlalchemy.orm import joinedload

from hms.common.errors import Forbidden, NotFound, error_response
from hms.common.uow import remember_principal
from hms.extensions import db, jwt
from hms.models import Appointment, AppointmentStatus, AuthSession, Doctor, Patient, RevokedToken, User

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

# Endpoints a user who must change their password may still call.
PASSWORD_CHANGE_EXEMPT = {
    "profile.me",
    "accounts.change_password",
    "accounts.logout",
    "accounts.refresh",
    "accounts.list_sessions",
    "accounts.revoke_session",
}

# Endpoints a user who must enrol two-factor sign-in (HMS_ADMIN_TOTP_REQUIRED, HMS_DOCTOR_TOTP_REQUIRED) may still call.
TOTP_ENROL_EXEMPT = PASSWORD_CHANGE_EXEMPT | {"accounts.totp_status", "accounts.totp_enrol", "accounts.totp_confirm"}


def _must_enrol_totp(user: User) -> bool:
    return user.totp_enabled_at is None and user.role in current_app.config["HMS"].totp_required_roles


def roles_required(*roles: str) -> Callable[[F], F]:
    """Require a valid access token of an active user with one of `roles` (any role when none is given)."""

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request()
            user: User = current_user
            if user.must_change_password and request.endpoint not in PASSWORD_CHANGE_EXEMPT:
                raise Forbidden("You must change your password first.", code="password_change_required")
            if _must_enrol_totp(user) and request.endpoint not in TOTP_ENROL_EXEMPT:
                raise Forbidden("You must turn on two-factor sign-in first.", code="totp_enrolment_required")
            if roles and user.role not in roles:
                raise Forbidden("Your role does not allow this.")
            return fn(*args, **kwargs)

        # Read by hms.common.api.ErrorResponsesPlugin: a token (401) and a role (403) are needed here.
        wrapper._apidoc = deepcopy(getattr(fn, "_apidoc", {}))  # type: ignore[attr-defined]
        manual = wrapper._apidoc.setdefault("manual_doc", {})  # type: ignore[attr-defined]
        manual["x-roles"] = list(roles) or ["any"]
        return wrapper  # type: ignore[return-value]

    return decorator


def login_required(fn: F) -> F:
    return roles_required()(fn)


def current_doctor() -> Doctor:
    doctor = current_user.doctor
    if doctor is None:
        raise Forbidden("Only doctors may do this.")
    return doctor


def current_patient() -> Patient:
    patient = current_user.patient
    if patient is None:
        raise Forbidden("Only patients may do this.")
    return patient


def optional_patient_id() -> int | None:
    """On a public endpoint: the calling patient's id when a valid patient token came along, else None."""
    try:
        if verify_jwt_in_request(optional=True) is None:
            return None
    except Exception:  # an expired or revoked token on a public page reads as anonymous, never as an error
        return None
    patient = current_user.patient if current_user and current_user.role == "patient" else None
    return patient.id if patient is not None else None


def doctor_patient_ids(doctor_id: int) -> Select:
    """Patients a doctor has seen or will see (any appointment not cancelled): whose records the doctor may read."""
    return select(Appointment.patient_id).where(
        Appointment.doctor_id == doctor_id, Appointment.status != AppointmentStatus.CANCELLED.value
    )


def is_doctors_patient(doctor_id: int, patient_id: int) -> bool:
    return (
        db.session.execute(doctor_patient_ids(doctor_id).where(Appointment.patient_id == patient_id).limit(1)).first()
        is not None
    )


def patient_scope(user: User, patient_id_column: Any) -> ColumnElement[bool]:
    """Which patients' records a user may see: an admin all, a doctor their own patients, a patient only themself."""
    if user.role == "admin":
        return true()
    if user.role == "doctor" and user.doctor is not None:
        return patient_id_column.in_(doctor_patient_ids(user.doctor.id))
    if user.role == "patient" and user.patient is not None:
        return patient_id_column == user.patient.id
    return false()


def appointment_scope(user: User) -> ColumnElement[bool]:
    """Which appointments a user may see: an admin all, a doctor their own, a patient their own."""
    if user.role == "admin":
        return true()
    if user.role == "doctor" and user.doctor is not None:
        return Appointment.doctor_id == user.doctor.id
    if user.role == "patient" and user.patient is not None:
        return Appointment.patient_id == user.patient.id
    return false()


def require_clinical_reader(user: User) -> None:
    """Clinical content (diagnoses, medicines) is for the patient and their doctors; admins get it only through
    audited exports (SPEC §2)."""
    if user.role not in ("doctor", "patient"):
        raise Forbidden("Clinical records are read by the patient and their doctors only.")


def client_ip() -> str | None:
    return request.remote_addr if request else None


def revoke_token(*, jti: str, expires_at: datetime) -> None:
    """Put a token id on the blocklist in the database, the one authority every process reads, Redis or not.

    The row joins the caller's unit of work; the caller commits.
    """
    if db.session.query(RevokedToken.id).filter_by(jti=jti).first() is None:
        db.session.add(RevokedToken(jti=jti, expires_at=expires_at))


def is_token_revoked(jti: str) -> bool:
    """One indexed lookup, like the user row each request loads; a Redis outage cannot let a revoked token in."""
    return db.session.query(RevokedToken.id).filter_by(jti=jti).first() is not None


_IDENTITY = "hms_identity"


@cache
def _identity_statement() -> Select:
    """The token's user (with their patient or doctor profile), whether the token is revoked, and its session, in
    one statement. Built once and executed with parameters: constructing it and computing its cache key cost
    more CPU per request than SQLite spends running it."""
    return (
        select(User, exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"), AuthSession)
        .outerjoin(AuthSession, (AuthSession.id == bindparam("sid")) & (AuthSession.user_id == User.id))
        .options(joinedload(User.patient), joinedload(User.doctor))
        .where(User.id == bindparam("user_id"))
    )


def _user_and_revoked(payload: dict) -> bool:
    """Is the token revoked? Asked together with loading its user (and their patient or doctor profile): one
    statement instead of three per authenticated request. The user waits in `g` for the user lookup."""
    jti = payload["jti"]
    sid = _sid(payload)
    # The token's session (issue 14) comes along in the same statement.
    row = db.session.execute(
        _identity_statement(), {"jti": jti, "sid": sid or 0, "user_id": int(payload["sub"])}
    ).one_or_none()
    if row is None:
        return is_token_revoked(jti)
    setattr(g, _IDENTITY, (payload["sub"], row[0], sid, row[2]))
    return bool(row[1])


def _sid(payload: dict) -> int | None:
    sid = payload.get("sid")
    if not isinstance(sid, int) or isinstance(sid, bool) or not 0 < sid < 2**31:
        return None
    return sid


def well_formed(payload: dict) -> bool:
    """Only tokens this app issues are accepted: they expire, say when they were issued and name a user by id.

    A token signed with the key but lacking these (a forged or foreign one) is refused with 401, never a 500.
    """
    sub, exp, iat = payload.get("sub"), payload.get("exp"), payload.get("iat")
    numeric = isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 18
    return numeric and isinstance(exp, int | float) and isinstance(iat, int | float)


# JWT `iat` has whole seconds only: a token issued in the second of a password change would share it with
# the tokens that change ends. Tokens also carry their issue time in microseconds, so no one has to wait.
ISSUED_CLAIM = "iat_us"
_EPOCH = datetime(1970, 1, 1)


def issued_moment() -> datetime:
    """Real time (the token library's clock, not the product's), naive UTC with microseconds."""
    return datetime.now(UTC).replace(tzinfo=None)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _session_alive(user: User, payload: dict, stashed: tuple | None) -> bool:
    """An access token works only while the session it was issued for (claim `sid`) has not ended, gone idle
    or run out: revoking a session, signing out and the idle timeout take effect at once, not at token expiry."""
    from hms.common.session_rules import real_now, why_ended

    sid = _sid(payload)
    if sid is None:
        return False
    session = stashed[3] if stashed and stashed[2] == sid else db.session.get(AuthSession, sid)
    return why_ended(session, user, real_now()) is None


def init_jwt(app: Flask) -> None:
    """Wire Flask-JWT-Extended to our users, blocklist and error format."""

    @jwt.user_identity_loader
    def _identity(user: User | int) -> str:
        return str(user.id if isinstance(user, User) else user)

    @jwt.additional_claims_loader
    def _claims(_identity: Any) -> dict[str, int]:
        return {ISSUED_CLAIM: _microseconds(issued_moment())}

    @jwt.user_lookup_loader
    def _lookup(_header: dict, payload: dict) -> User | None:
        if not well_formed(payload):
            return None
        stashed = g.pop(_IDENTITY, None)
        user = stashed[1] if stashed and stashed[0] == payload["sub"] else db.session.get(User, int(payload["sub"]))
        if user is None or not user.is_active:
            return None
        if user.tokens_valid_after is not None:
            issued = payload.get(ISSUED_CLAIM, payload["iat"] * 1_000_000)
            if issued < _microseconds(user.tokens_valid_after):
                return None
        if not _session_alive(user, payload, stashed):
            return None
        if stashed:
            profile = user.__dict__.get("patient") or user.__dict__.get("doctor")  # loaded with the user, if any
            remember_principal(db.session(), *(row for row in (user, profile, stashed[3]) if row is not None))
        return user

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        jti = payload.get("jti")
        if not isinstance(jti, str):
            return True
        return _user_and_revoked(payload) if well_formed(payload) else is_token_revoked(jti)

    @jwt.unauthorized_loader
    def _missing(reason: str):
        return error_response(401, "unauthorized", "Authentication is required: send a Bearer token.")

    @jwt.invalid_token_loader
    def _invalid(reason: str):
        return error_response(401, "invalid_token", f"The token is not valid: {reason}.")

    @jwt.expired_token_loader
    def _expired(_header: dict, _payload: dict):
        return error_response(401, "token_expired", "The token has expired; refresh it or log in again.")

    @jwt.revoked_token_loader
    def _revoked_response(_header: dict, _payload: dict):
        return error_response(401, "token_revoked", "The token has been revoked; log in again.")

    @jwt.user_lookup_error_loader
    def _lookup_failed(_header: dict, _payload: dict):
        return error_response(
            401, "token_revoked", "This session is no longer valid (account blocked or password changed)."
        )

    @jwt.needs_fresh_token_loader
    def _needs_fresh(_header: dict, _payload: dict):
        return error_response(401, "fresh_token_required", "Log in again to do this.")


def token_claims() -> dict[str, Any]:
    return get_jwt()


def get_or_404(model: type[M], entity_id: int, message: str | None = None) -> M:
    """Load one row by id or raise NotFound with a message that names what was missing."""
    row = db.session.get(model, entity_id)
    if row is None:
        raise NotFound(message or f"{model.__name__} {entity_id} was not found.")
    return row
