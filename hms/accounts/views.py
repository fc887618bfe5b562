"""Sign-in, tokens and the current session: /api/auth/... (sign-up and /auth/me are the directory's: they
answer with a person's record)."""

from __future__ import annotations

from flask import request
from flask_jwt_extended import current_user, get_jwt

from hms.accounts import reset, service, sessions, totp, verification
from hms.accounts.schemas import (
    ChangePasswordArgs,
    LoginArgs,
    LoginCodeArgs,
    LogoutRead,
    MessageRead,
    PasswordResetArgs,
    PasswordResetConfirmArgs,
    RecoveryCodesRead,
    SessionsRead,
    SignInLocksRead,
    TokensRead,
    TotpCodeArgs,
    TotpDisableArgs,
    TotpEnrolRead,
    TotpStatusRead,
    VerifyEmailArgs,
)
from hms.common.api import Blueprint, documents_errors
from hms.common.auth import client_ip, login_required, roles_required
from hms.common.security import setting_limit
from hms.extensions import limiter
from hms.models import Role

# The name "accounts" is load-bearing: common.auth.PASSWORD_CHANGE_EXEMPT names these endpoints.
blp = Blueprint("accounts", __name__, url_prefix="/api/auth", description="Sign-in and sessions")


@blp.route("/verify-email", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_password_reset"))
@blp.doc(security=[], **documents_errors(400, 429))
@blp.arguments(VerifyEmailArgs)
@blp.response(200, MessageRead)
def verify_email(data):
    """Confirm an e-mail address with the token of the link mailed to it."""
    return verification.confirm(token=data["token"])


@blp.route("/verify-email/resend", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_password_reset"))
@blp.doc(**documents_errors(429))
@login_required
@blp.response(202, MessageRead)
def resend_verification():
    """Mail me a new link to confirm my e-mail address."""
    return verification.resend(user=current_user)


@blp.route("/login", methods=["POST"])
@blp.doc(**documents_errors(401, 403, 429))
@blp.arguments(LoginArgs)
@blp.response(200, TokensRead)
def login(data):
    """Sign in with username or email and password."""
    return service.login(identifier=data["username"], password=data["password"], ip=client_ip())


@blp.route("/login/totp", methods=["POST"])
@blp.doc(security=[], **documents_errors(401, 403, 429))
@blp.arguments(LoginCodeArgs)
@blp.response(200, TokensRead)
def login_totp(data):
    """Finish a two-factor sign-in: the login's `challenge` and a code from the app (or a recovery code)."""
    return service.login_with_code(challenge=data["challenge"], code=data["code"], ip=client_ip())


@blp.route("/totp", methods=["GET"])
@login_required
@blp.response(200, TotpStatusRead)
def totp_status():
    """Whether my two-factor sign-in is on (or must be), and how many recovery codes are left."""
    return totp.status(user=current_user)


@blp.route("/totp/enrol", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_change_password"))
@blp.doc(**documents_errors(409, 429))
@login_required
@blp.response(200, TotpEnrolRead)
def totp_enrol():
    """Start enrolment: a new secret for the authenticator app, shown this once (with a QR code)."""
    return totp.enrol(user=current_user)


@blp.route("/totp/confirm", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_change_password"))
@blp.doc(**documents_errors(409, 422, 429))
@login_required
@blp.arguments(TotpCodeArgs)
@blp.response(200, RecoveryCodesRead)
def totp_confirm(data):
    """Turn two-factor sign-in on with a code from the app; answers the ten recovery codes, shown this once."""
    return totp.confirm(user=current_user, code=data["code"])


@blp.route("/totp/disable", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_change_password"))
@blp.doc(**documents_errors(409, 422, 429))
@login_required
@blp.arguments(TotpDisableArgs)
@blp.response(200, MessageRead)
def totp_disable(data):
    """Turn two-factor sign-in off: needs my password and a code (or a recovery code)."""
    service.disable_totp(user=current_user, password=data["password"], code=data["code"], ip=client_ip())
    return {"message": "Two-factor sign-in is off."}


@blp.route("/refresh", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_refresh"))
@blp.doc(security=[], **documents_errors(401, 429))
@blp.response(200, TokensRead)
def refresh():
    """A new access token for the session of the `hms_refresh` cookie, which is rotated (set anew) each time.

    No Bearer token: the browser sends the HttpOnly cookie. A refresh token used twice ends its session.
    The optional header `X-HMS-Idle-Seconds` says how long the user has been inactive (a background refresh
    then does not count as use of the session).
    """
    return sessions.refresh(request.cookies.get(sessions.REFRESH_COOKIE), idle_seconds=_idle_seconds())


def _idle_seconds() -> int | None:
    """The SPA's X-HMS-Idle-Seconds header (how long its user has been inactive); anything else is ignored."""
    value = request.headers.get("X-HMS-Idle-Seconds", "")
    return min(int(value), 7 * 86400) if value.isascii() and value.isdigit() and len(value) <= 9 else None


@blp.route("/logout", methods=["POST"])
@login_required
@blp.response(200, LogoutRead)
def logout():
    """End this session: the access token is revoked and the refresh cookie cleared and made useless."""
    service.logout(access_payload=get_jwt())
    return {"message": "Signed out."}


@blp.route("/sessions", methods=["GET"])
@login_required
@blp.response(200, SessionsRead)
def list_sessions():
    """My sessions that are still usable: device, address, when started and last used; `current` is this one."""
    return sessions.list_own(user=current_user, current_session_id=get_jwt().get("sid"))


@blp.route("/sessions/<int:session_id>", methods=["DELETE"])
@login_required
@blp.doc(**documents_errors(404))
@blp.response(204)
def revoke_session(session_id: int):
    """End one of my sessions (signs that device out at once)."""
    sessions.revoke_own(user=current_user, session_id=session_id)


@blp.route("/change-password", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_change_password"))
@blp.doc(**documents_errors(429))
@login_required
@blp.arguments(ChangePasswordArgs)
@blp.response(200, TokensRead)
def change_password(data):
    """Change the password; other sessions end, this one continues with the fresh tokens returned."""
    return service.change_password(
        user=current_user,
        current_password=data["current_password"],
        new_password=data["new_password"],
        ip=client_ip(),
    )


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_password_reset"))
@blp.doc(security=[], **documents_errors(429))
@blp.arguments(PasswordResetArgs)
@blp.response(202, MessageRead)
def request_password_reset(data):
    """Mail a one-time link to choose a new password. The answer is the same whether or not the address is known."""
    return reset.request_reset(email=data["email"], ip=client_ip())


@blp.route("/password-reset/confirm", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_password_reset"))
@blp.doc(security=[], **documents_errors(400, 429))
@blp.arguments(PasswordResetConfirmArgs)
@blp.response(200, MessageRead)
def confirm_password_reset(data):
    """Set a new password with the link's token; every session of the account ends."""
    return reset.confirm_reset(token=data["token"], new_password=data["new_password"])


admin_blp = Blueprint("accounts_admin", __name__, url_prefix="/api/admin/users", description="Sign-in locks")


@admin_blp.route("/<int:user_id>/sign-in-locks", methods=["GET"])
@roles_required(Role.ADMIN.value)
@admin_blp.response(200, SignInLocksRead)
def sign_in_locks(user_id: int):
    """Addresses that failed to sign in to this account, and which of them are locked now."""
    return service.sign_in_locks(user_id=user_id)


@admin_blp.route("/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.ADMIN.value)
@admin_blp.response(200, SignInLocksRead)
def unlock(user_id: int):
    """Lift every sign-in lock of this account (audited)."""
    return service.unlock(user_id=user_id)


blueprints: list[Blueprint] = [blp, admin_blp]
