"""Shapes of appointments: booking, rescheduling and cancelling, the public settings, an appointment as read,
the list filters of each role and the doctor's and patient's dashboards."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate, validates_schema

from hms.common.fields import Date, Id, PageArgs, Text, Timestamp
from hms.scheduling.schemas.common import STATUSES, _check_range, hhmm


class AppointmentCreate(Schema):
    doctor_id = Id(required=True, strict=True)
    date = Date(required=True)
    start_time = hhmm(required=True, metadata={"example": "09:30"})
    reason = Text(1000, load_default=None, allow_none=True, metadata={"example": "Chest pain on exertion"})


class AdminAppointmentCreate(AppointmentCreate):
    patient_id = Id(required=True, strict=True)


class AppointmentReschedule(Schema):
    date = Date(required=True)
    start_time = hhmm(required=True, metadata={"example": "10:00"})


class CancelCreate(Schema):
    reason = Text(1000, load_default=None, allow_none=True)


class AdminCancelCreate(Schema):
    reason = Text(1000, min_length=1, required=True, metadata={"example": "Doctor on emergency duty"})


class HorizonRead(Schema):
    patient = fields.Integer()
    admin = fields.Integer()


class SettingsRead(Schema):
    timezone = fields.String(metadata={"description": "the hospital's IANA time zone (HMS_TIMEZONE)"})
    today = fields.Date(metadata={"description": "today in the hospital's time zone"})
    now = fields.String(metadata={"description": "now in the hospital's time zone, ISO 8601 with its offset"})
    utc_offset = fields.String(metadata={"example": "+05:30"})
    phone_region = fields.String(metadata={"description": "region a phone number without +country is read in"})
    booking_horizon_days = fields.Nested(HorizonRead, metadata={"description": "days ahead each role may book"})
    slot_minutes_default = fields.Integer()


class AppointmentRead(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    patient_name = fields.String()
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    department_id = fields.Integer(allow_none=True)
    department_name = fields.String(allow_none=True)
    date = fields.Date()
    start_time = hhmm()
    end_time = hhmm()
    status = fields.String()
    reason = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    cancelled_at = Timestamp(allow_none=True)
    rescheduled_from = fields.Integer(allow_none=True)
    has_treatment = fields.Boolean()
    phase = fields.String(metadata={"description": "upcoming | past | cancelled (hms/scheduling/rules.py)"})
    in_progress = fields.Boolean(metadata={"description": "booked, started and not yet ended"})
    has_started = fields.Boolean()
    moved = fields.Boolean(metadata={"description": "the cancelled original of a rescheduled appointment"})


class _DateRangeArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    date_from = Date()
    date_to = Date()

    @validates_schema
    def _range(self, data, **_kwargs):
        _check_range(data, "date_from", "date_to", "The end date must not be before the start date.")


class PatientAppointmentArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    upcoming = fields.Boolean()
    scope = fields.String(
        validate=validate.OneOf(("upcoming", "past", "cancelled")),
        metadata={"description": "the phase of the appointments (hms/scheduling/rules.py): what the SPA's tabs send"},
    )

    @post_load
    def _scope_to_phase(self, data, **_kwargs):
        scope = data.pop("scope", None)
        if scope is not None:
            data["phase"] = scope
        return data


class DoctorAppointmentArgs(_DateRangeArgs):
    date = Date()


class AdminAppointmentArgs(_DateRangeArgs):
    doctor_id = Id()
    patient_id = Id()
    department_id = Id()
    order = fields.String(
        load_default="newest",
        validate=validate.OneOf(("newest", "soonest")),
        metadata={"description": "newest first (history), or soonest first (today and upcoming)"},
    )


class DoctorAppointmentsArgs(_DateRangeArgs):
    """Admin's view of one doctor's appointment history."""


class DoctorCounts(Schema):
    today = fields.Integer()
    upcoming = fields.Integer()
    completed_this_month = fields.Integer()
    patients = fields.Integer()


class DoctorMonth(Schema):
    month = fields.String()
    completed = fields.Integer()
    cancelled = fields.Integer()
    no_show = fields.Integer()


class DoctorDashboard(Schema):
    today = fields.List(fields.Nested(AppointmentRead))
    upcoming = fields.List(fields.Nested(AppointmentRead))
    counts = fields.Nested(DoctorCounts)
    monthly = fields.List(fields.Nested(DoctorMonth))


class PatientCounts(Schema):
    upcoming = fields.Integer()
    completed = fields.Integer()


class PatientMonth(Schema):
    month = fields.String()
    count = fields.Integer()


class PatientDashboard(Schema):
    upcoming = fields.List(fields.Nested(AppointmentRead))
    visits_per_month = fields.List(fields.Nested(PatientMonth))
    counts = fields.Nested(PatientCounts)
