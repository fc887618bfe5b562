"""Request and response shapes of sign-up, sign-in and the session (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hms.directory.schemas import (
    USERNAME_RULE,
    DoctorRead,
    PatientProfileFields,
    PatientRead,
    PatientUpdate,
    _DoctorProfileFields,
)


class UserRead(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    must_change_password = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class MeRead(UserRead):
    doctor = fields.Nested(DoctorRead, allow_none=True)
    patient = fields.Nested(PatientRead, allow_none=True)


class LoginArgs(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=255), metadata={"example": "admin"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class RegisterArgs(PatientProfileFields):
    username = fields.String(required=True, validate=USERNAME_RULE)
    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(max=256))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=160))


class ChangePasswordArgs(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, validate=validate.Length(max=256))


class LogoutArgs(Schema):
    refresh_token = fields.String(validate=validate.Length(max=4096))


class TokensRead(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserRead)


class AccessTokenRead(Schema):
    access_token = fields.String()


class LogoutRead(Schema):
    message = fields.String()


class DoctorProfileUpdate(_DoctorProfileFields):
    """What a doctor may change about themself (the department is the admin's decision)."""

    full_name = fields.String(validate=validate.Length(min=1, max=160))

    class Meta:
        exclude = ("department_id",)


class PatientProfileUpdate(PatientUpdate):
    """What a patient may change about themself: every profile field and their email."""


class SignInLockRead(Schema):
    ip = fields.String()
    failures = fields.Integer()
    locked = fields.Boolean()
    locked_until = fields.DateTime(allow_none=True)
    last_failure_at = fields.DateTime()


class SignInLocksRead(Schema):
    user_id = fields.Integer()
    locked = fields.Boolean()
    items = fields.List(fields.Nested(SignInLockRead))
