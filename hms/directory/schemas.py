"""Request and response shapes of departments, doctors and patients (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from hms.accounts.schemas import UserRead
from hms.common.fields import Date, Id, Int, Line, Number, PageArgs, StrippedSchema, Text, Timestamp
from hms.common.validation import EmailAddress, PhoneNumber, birth_date_field

GENDERS = ("male", "female", "other")
BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
USERNAME_RULE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
    error="Use 3-64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
)


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
    display_name = fields.String(metadata={"description": "the name as shown to people, with the title: Dr. Asha Rao"})
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


class DepartmentCreate(StrippedSchema):
    name = Line(120, min_length=1, required=True, metadata={"example": "Cardiology"})
    description = Text(5000, allow_none=True)


class DepartmentUpdate(StrippedSchema):
    name = Line(120, min_length=1)
    description = Text(5000, allow_none=True)


class DepartmentArgs(PageArgs):
    q = Line(120)


# ---- doctors -----------------------------------------------------------------------------------------------


class DoctorRead(DoctorPublic):
    """A doctor as admins (and the doctor themself) see them."""

    username = fields.String()
    email = fields.String()
    must_change_password = fields.Boolean()
    created_at = Timestamp()
    last_login_at = Timestamp(allow_none=True)
    archived_at = Timestamp(allow_none=True)


class _DoctorProfileFields(StrippedSchema):
    department_id = Id(allow_none=True)
    specialization = Line(120, allow_none=True)
    qualifications = Text(2000, allow_none=True)
    experience_years = Int(min=0, max=70, allow_none=True)
    consultation_fee = Number(min=0, max=10_000_000, allow_none=True, places=2, metadata={"example": 800})
    phone = PhoneNumber(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    about = Text(5000, allow_none=True)
    slot_minutes = Int(min=5, max=240, metadata={"example": 30})


class DoctorCreate(_DoctorProfileFields):
    username = Line(64, required=True, validate=USERNAME_RULE, metadata={"example": "dr.asha"})
    email = EmailAddress(required=True, metadata={"example": "asha@hospital.example"})
    password = Text(256, required=True)
    full_name = Line(160, min_length=1, required=True, metadata={"example": "Dr. Asha Rao"})
    department_id = Id(required=True)
    specialization = Line(120, min_length=1, required=True, metadata={"example": "Interventional cardiology"})


class DoctorBookingsArgs(Schema):
    bookings = fields.String(
        validate=validate.OneOf(("cancel", "keep")),
        metadata={"description": "what happens to the doctor's booked visits ahead: cancel them or keep them"},
    )


class DoctorBlockRead(DoctorRead):
    settled_appointments = fields.List(
        fields.Integer(), metadata={"description": "ids of the visits ahead that were cancelled or kept"}
    )


class DoctorUpdate(_DoctorProfileFields):
    email = EmailAddress()
    full_name = Line(160, min_length=1)


class DirectoryArgs(PageArgs):
    q = Line(120)
    department_id = Id()
    specialization = Line(120)
    available_on = Date()


class AdminDoctorArgs(PageArgs):
    q = Line(120)
    department_id = Id()
    specialization = Line(120)
    include_archived = fields.Boolean(load_default=False)


# ---- patients ----------------------------------------------------------------------------------------------


class PatientRead(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    email = fields.String()
    email_verified = fields.Boolean()
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
    created_at = Timestamp()
    last_login_at = Timestamp(allow_none=True)
    archived_at = Timestamp(allow_none=True)


class PatientProfileFields(StrippedSchema):
    """The optional profile of a patient, shared by registration and the admin forms."""

    date_of_birth = birth_date_field(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    phone = PhoneNumber(allow_none=True)
    address = Text(2000, allow_none=True)
    blood_group = fields.String(allow_none=True, validate=validate.OneOf(BLOOD_GROUPS))
    height_cm = Number(min=20, max=300, allow_none=True, places=1, metadata={"example": 172.5})
    weight_kg = Number(min=1, max=500, allow_none=True, places=1, metadata={"example": 68})
    allergies = Text(5000, allow_none=True)
    medical_history = Text(20000, allow_none=True)
    emergency_contact = Line(255, allow_none=True)


class PatientCreate(PatientProfileFields):
    username = Line(64, required=True, validate=USERNAME_RULE, metadata={"example": "ravi.m"})
    email = EmailAddress(required=True, metadata={"example": "ravi@example.org"})
    password = Text(256, required=True)
    full_name = Line(160, min_length=1, required=True, metadata={"example": "Ravi Menon"})


class PatientUpdate(PatientProfileFields):
    email = EmailAddress()
    full_name = Line(160, min_length=1)


class AdminPatientArgs(PageArgs):
    q = Line(120)
    include_archived = fields.Boolean(load_default=False)


# ---- results -----------------------------------------------------------------------------------------------


class DeleteResult(Schema):
    class Meta:
        unknown = EXCLUDE

    deleted = fields.Boolean()
    deactivated = fields.Boolean()
    message = fields.String()


# ---- a person's own record: sign-up, /auth/me, own profiles ----------------------------------------------


class RegisterArgs(PatientProfileFields):
    username = Line(64, required=True, validate=USERNAME_RULE, metadata={"example": "asha.k"})
    email = EmailAddress(required=True, metadata={"example": "asha@example.org"})
    password = Text(256, required=True)
    full_name = Line(160, min_length=1, required=True, metadata={"example": "Asha Kumar"})


class MeRead(UserRead):
    doctor = fields.Nested(DoctorRead, allow_none=True)
    patient = fields.Nested(PatientRead, allow_none=True)


class DoctorProfileUpdate(_DoctorProfileFields):
    """What a doctor may change about themself (the department is the admin's decision)."""

    full_name = Line(160, min_length=1)

    class Meta:
        exclude = ("department_id",)


class PatientProfileUpdate(PatientUpdate):
    """What a patient may change about themself: every profile field and their email."""
