"""Request and response shapes of sign-in, tokens and the session (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields

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
    """The access token only: the refresh token is in the HttpOnly cookie `hms_refresh` (path /api/auth/refresh)."""

    access_token = fields.String()
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
