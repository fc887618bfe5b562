"""Request and response shapes of sign-in, tokens and the session (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields

from hms.common.fields import Line, Text, Timestamp


class UserRead(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    must_change_password = fields.Boolean()
    created_at = Timestamp()
    last_login_at = Timestamp(allow_none=True)


class LoginArgs(Schema):
    username = Line(255, min_length=1, required=True, metadata={"example": "admin"})
    password = Text(256, min_length=1, required=True, metadata={"example": "admin123"})


class ChangePasswordArgs(Schema):
    current_password = Text(256, required=True)
    new_password = Text(256, required=True)


class LogoutArgs(Schema):
    refresh_token = Line(4096)


class TokensRead(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserRead)


class AccessTokenRead(Schema):
    access_token = fields.String()


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
