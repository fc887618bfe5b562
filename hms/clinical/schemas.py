"""Request and response shapes of treatments and histories (docs/api-contract.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hms.common.fields import Date, Int, Line, PageArgs, Text, Timestamp
from hms.models import VisitType
from hms.scheduling.schemas.appointments import AppointmentRead

VISIT_TYPES = tuple(v.value for v in VisitType)


def _text(max_length: int, **kwargs) -> Text:
    return Text(max_length, allow_none=True, **kwargs)


class MedicineSchema(Schema):
    name = Line(200, min_length=1, required=True, metadata={"example": "Amoxicillin"})
    dose = Line(100, allow_none=True, metadata={"example": "500 mg"})
    frequency = Line(100, allow_none=True, metadata={"example": "three times a day"})
    duration_days = Int(min=0, max=3650, allow_none=True, strict=True, metadata={"example": 5})
    instructions = _text(500)


class TreatmentUpdate(Schema):
    diagnosis = _text(5000, metadata={"example": "Acute bronchitis"})
    prescription = _text(5000)
    notes = _text(10000)
    visit_type = fields.String(validate=validate.OneOf(VISIT_TYPES))
    tests_ordered = _text(5000)
    precautions = _text(5000)
    follow_up_date = Date(allow_none=True)
    medicines = fields.List(fields.Nested(MedicineSchema), validate=validate.Length(max=50))


class MedicineRead(Schema):
    name = fields.String()
    dose = fields.String(allow_none=True)
    frequency = fields.String(allow_none=True)
    duration_days = fields.Integer(allow_none=True)
    instructions = fields.String(allow_none=True)


class TreatmentRead(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null while no record has been written"})
    appointment_id = fields.Integer()
    diagnosis = fields.String(allow_none=True)
    prescription = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    visit_type = fields.String()
    tests_ordered = fields.String(allow_none=True)
    precautions = fields.String(allow_none=True)
    follow_up_date = fields.Date(allow_none=True)
    medicines = fields.List(fields.Nested(MedicineRead))
    created_at = Timestamp(allow_none=True)
    updated_at = Timestamp(allow_none=True)


class TreatmentWithAppointment(TreatmentRead):
    appointment = fields.Nested(AppointmentRead)


class HistoryItem(AppointmentRead):
    treatment = fields.Nested(TreatmentRead, allow_none=True)


class HistoryArgs(PageArgs):
    pass


class DoctorPatientArgs(PageArgs):
    q = Line(120)


class DoctorPatientRead(Schema):
    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    blood_group = fields.String(allow_none=True)
    allergies = fields.String(allow_none=True)
    medical_history = fields.String(allow_none=True)
    emergency_contact = fields.String(allow_none=True)
    last_visit = fields.Date(allow_none=True)
    next_visit = fields.Date(allow_none=True)
    appointment_count = fields.Integer()
