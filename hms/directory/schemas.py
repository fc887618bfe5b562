"""Request and response shapes of departments, doctors and patients (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from hms.common.pagination import PageArgs

GENDERS = ("male", "female", "other")
BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
USERNAME_RULE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
    error="Use 3-64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
)


class _Stripped(Schema):
    """Trims surrounding spaces of every string, so ' Cardiology ' and 'Cardiology' are one name.

    Passwords are never altered: the exact password chosen is the one that signs in.
    """

    @pre_load
    def _strip(self, data, **_kwargs):
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) and "password" not in k else v for k, v in data.items()}
        return data


def _text(max_length: int | None = None, **kwargs) -> fields.String:
    rules = [validate.Length(max=max_length)] if max_length else []
    return fields.String(validate=rules, **kwargs)


# ---- departments -------------------------------------------------------------------------------------------


class DepartmentRead(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    doctor_count = fields.Integer()


class DoctorPublic(Schema):
    """A doctor as the public directory shows them: no username, no email."""

    id = fields.Integer()
    user_id = fields.Integer()
    full_name = fields.String()
    department_id = fields.Integer(allow_none=True)
    department_name = fields.String(allow_none=True)
    specialization = fields.String(allow_none=True)
    qualifications = fields.String(allow_none=True)
    experience_years = fields.Integer(allow_none=True)
    consultation_fee = fields.Float(allow_none=True)
    phone = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    about = fields.String(allow_none=True)
    slot_minutes = fields.Integer()
    is_active = fields.Boolean()


class DepartmentDetail(DepartmentRead):
    doctors = fields.List(fields.Nested(DoctorPublic))


class DepartmentCreate(_Stripped):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = _text(5000, allow_none=True)


class DepartmentUpdate(_Stripped):
    name = fields.String(validate=validate.Length(min=1, max=120))
    description = _text(5000, allow_none=True)


class DepartmentArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=120))


# ---- doctors -----------------------------------------------------------------------------------------------


class DoctorRead(DoctorPublic):
    """A doctor as admins (and the doctor themself) see them."""

    username = fields.String()
    email = fields.String()
    must_change_password = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    archived_at = fields.DateTime(allow_none=True)


class _DoctorProfileFields(_Stripped):
    department_id = fields.Integer(allow_none=True)
    specialization = _text(120, allow_none=True)
    qualifications = _text(2000, allow_none=True)
    experience_years = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=70))
    consultation_fee = fields.Decimal(allow_none=True, places=2, validate=validate.Range(min=0, max=10_000_000))
    phone = _text(32, allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    about = _text(5000, allow_none=True)
    slot_minutes = fields.Integer(validate=validate.Range(min=5, max=240))


class DoctorCreate(_DoctorProfileFields):
    username = fields.String(required=True, validate=USERNAME_RULE)
    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(max=256))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    department_id = fields.Integer(required=True)
    specialization = fields.String(required=True, validate=validate.Length(min=1, max=120))


class DoctorUpdate(_DoctorProfileFields):
    email = fields.Email(validate=validate.Length(max=255))
    full_name = fields.String(validate=validate.Length(min=1, max=160))


class DirectoryArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=120))
    department_id = fields.Integer()
    specialization = fields.String(validate=validate.Length(max=120))
    available_on = fields.Date()


class AdminDoctorArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=120))
    department_id = fields.Integer()
    specialization = fields.String(validate=validate.Length(max=120))
    include_archived = fields.Boolean(load_default=False)


# ---- patients ----------------------------------------------------------------------------------------------


class PatientRead(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    email = fields.String()
    full_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    blood_group = fields.String(allow_none=True)
    height_cm = fields.Float(allow_none=True)
    weight_kg = fields.Float(allow_none=True)
    allergies = fields.String(allow_none=True)
    medical_history = fields.String(allow_none=True)
    emergency_contact = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    archived_at = fields.DateTime(allow_none=True)


class PatientProfileFields(_Stripped):
    """The optional profile of a patient, shared by registration and the admin forms."""

    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    phone = _text(32, allow_none=True)
    address = _text(2000, allow_none=True)
    blood_group = fields.String(allow_none=True, validate=validate.OneOf(BLOOD_GROUPS))
    height_cm = fields.Decimal(allow_none=True, places=1, validate=validate.Range(min=20, max=300))
    weight_kg = fields.Decimal(allow_none=True, places=1, validate=validate.Range(min=1, max=500))
    allergies = _text(5000, allow_none=True)
    medical_history = _text(20000, allow_none=True)
    emergency_contact = _text(255, allow_none=True)


class PatientCreate(PatientProfileFields):
    username = fields.String(required=True, validate=USERNAME_RULE)
    email = fields.Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, validate=validate.Length(max=256))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=160))


class PatientUpdate(PatientProfileFields):
    email = fields.Email(validate=validate.Length(max=255))
    full_name = fields.String(validate=validate.Length(min=1, max=160))


class AdminPatientArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=120))
    include_archived = fields.Boolean(load_default=False)


# ---- results -----------------------------------------------------------------------------------------------


class DeleteResult(Schema):
    class Meta:
        unknown = EXCLUDE

    deleted = fields.Boolean()
    deactivated = fields.Boolean()
    message = fields.String()
