"""Request and response shapes of sign-in, tokens and the session (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields

from hms.accounts import totp
from hms.common.fields import Line, Text, Timestamp
from hms.common.validation import EmailAddress


class UserRead(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    must_change_password = fields.Boolean()
    email_verified = fields.Boolean()
    # Read from a user_dict() or a User (sign-in answers serialise the User itself).
    totp_enabled = fields.Function(lambda u: u["totp_enabled"] if isinstance(u, dict) else totp.enabled(u))
    # An administrator who must enrol two-factor sign-in before anything else (HMS_ADMIN_TOTP_REQUIRED).
    totp_required = fields.Function(lambda u: u["totp_required"] if isinstance(u, dict) else totp.required(u))
    created_at = Timestamp()
    last_login_at = Timestamp(allow_none=True)


class LoginArgs(Schema):
    username = Line(255, min_length=1, required=True, metadata={"example": "admin"})
    password = Text(256, min_length=1, required=True, metadata={"example": "admin123"})


class ChangePasswordArgs(Schema):
    current_password = Text(256, required=True)
    new_password = Text(256, required=True)


class PasswordResetArgs(Schema):
    email = EmailAddress(required=True, metadata={"example": "asha@example.org"})


class PasswordResetConfirmArgs(Schema):
    token = Line(200, min_length=1, required=True)
    new_password = Text(256, required=True)


class VerifyEmailArgs(Schema):
    token = Line(200, min_length=1, required=True)


class MessageRead(Schema):
    message = fields.String()


class SessionInfoRead(Schema):
    """The session just started or refreshed: the SPA warns before `idle_seconds` without activity end it."""

    id = fields.Integer()
    idle_seconds = fields.Integer()
    access_seconds = fields.Integer()
    expires_at = Timestamp()


class TokensRead(Schema):
    """The access token only: the refresh token is in the HttpOnly cookie `hms_refresh` (path /api/auth/refresh).

    When the account has two-factor sign-in, the password answers only `totp_required` and a `challenge` to send
    with a code to /api/auth/login/totp (no session yet).
    """

    access_token = fields.String()
    totp_required = fields.Boolean()
    challenge = fields.String()
    user = fields.Nested(UserRead)
    session = fields.Nested(SessionInfoRead)


class SessionRead(Schema):
    id = fields.Integer()
    device = fields.String()
    ip = fields.String(allow_none=True)
    created_at = Timestamp()
    last_used_at = Timestamp()
    expires_at = Timestamp()
    current = fields.Boolean()


class SessionsRead(Schema):
    items = fields.List(fields.Nested(SessionRead))


class LogoutRead(Schema):
    message = fields.String()


class SignInLockRead(Schema):
    ip = fields.String()
    failures = fields.Integer()
    locked = fields.Boolean()
    locked_until = Timestamp(allow_none=True)
    last_failure_at = Timestamp()


class SignInLocksRead(Schema):
    user_id = fields.Integer()
    locked = fields.Boolean()
    items = fields.List(fields.Nested(SignInLockRead))


class LoginCodeArgs(Schema):
    challenge = Line(400, min_length=1, required=True)
    code = Line(32, min_length=1, required=True, metadata={"example": "123456"})


class TotpCodeArgs(Schema):
    code = Line(32, min_length=1, required=True, metadata={"example": "123456"})


class TotpDisableArgs(Schema):
    password = Text(256, min_length=1, required=True)
    code = Line(32, min_length=1, required=True, metadata={"example": "123456"})


class TotpStatusRead(Schema):
    enabled = fields.Boolean()
    pending = fields.Boolean()
    required = fields.Boolean()
    recovery_codes_left = fields.Integer()


class TotpEnrolRead(Schema):
    """Shown once: the secret (to type in), its otpauth URI and the same as a QR code (inline SVG, made here)."""

    secret = fields.String()
    otpauth_uri = fields.String()
    qr_svg = fields.String()


class RecoveryCodesRead(Schema):
    """The ten single-use recovery codes, shown this once (only their hashes are kept)."""

    recovery_codes = fields.List(fields.String())
