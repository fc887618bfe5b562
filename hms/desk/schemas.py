"""Request and response shapes of the front desk: walk-ins, check-in and the queue."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hms.common.fields import Date, Id, Line, Text, Timestamp
from hms.models import QueueKind, QueueState


class WalkInCreate(Schema):
    doctor_id = Id(required=True, strict=True)
    patient_id = Id(
        strict=True, metadata={"description": "a registered patient; else full_name (and phone) register one"}
    )
    full_name = Line(160, metadata={"example": "Kiran Rao"})
    phone = Line(32, allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(["male", "female", "other"]))
    date_of_birth = Date(allow_none=True)
    reason = Text(1000, allow_none=True)
    emergency = fields.Boolean(load_default=False, metadata={"description": "seen first, without a slot (audited)"})

    @validates_schema
    def _who(self, data: dict, **_kwargs: object) -> None:
        if not data.get("patient_id") and not (data.get("full_name") or "").strip():
            raise ValidationError("Enter the patient's name, or choose a registered patient.", "full_name")


class CheckInCreate(Schema):
    appointment_id = Id(required=True, strict=True)


class QueueArgs(Schema):
    doctor_id = Id()


class QueueTokenRead(Schema):
    id = fields.Integer()
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    date = fields.Date()
    number = fields.Integer(metadata={"description": "the token number of the doctor's day"})
    patient_id = fields.Integer()
    patient_name = fields.String()
    appointment_id = fields.Integer(allow_none=True)
    start_time = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": [k.value for k in QueueKind]})
    state = fields.String(metadata={"enum": [s.value for s in QueueState]})
    reason = fields.String(allow_none=True)
    created_at = Timestamp()
