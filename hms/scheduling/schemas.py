"""Request and response shapes of availability, slots, appointments, waitlist and calendars (docs/api-contract.md)."""

from __future__ import annotations

import itertools

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from hms.common.fields import Date, HourMinute, Id, Int, Line, PageArgs, Text, Timestamp

STATUSES = ("booked", "completed", "cancelled", "no_show")


def hhmm(**kwargs) -> HourMinute:
    """A wall-clock time spoken as HH:MM (24-hour)."""
    return HourMinute(**kwargs)


def _check_range(data: dict, start: str, end: str, message: str) -> None:
    if data.get(start) is not None and data.get(end) is not None and data[start] > data[end]:
        raise ValidationError({end: [message]})


# ---- availability --------------------------------------------------------------------------------------------


class WindowSchema(Schema):
    start = hhmm(required=True)
    end = hhmm(required=True)

    @validates_schema
    def _order(self, data, **_kwargs):
        if data["start"] >= data["end"]:
            raise ValidationError({"end": ["The end of a window must be after its start."]})


def _windows_field() -> fields.List:
    return fields.List(fields.Nested(WindowSchema), required=True, validate=validate.Length(max=24))


def check_no_overlap(windows: list[dict]) -> None:
    """Windows of one day must not overlap (touching ends are fine)."""
    ordered = sorted(windows, key=lambda w: w["start"])
    for before, after in itertools.pairwise(ordered):
        if after["start"] < before["end"]:
            raise ValidationError(
                {
                    "windows": [
                        f"Windows {before['start']:%H:%M}-{before['end']:%H:%M} and "
                        f"{after['start']:%H:%M}-{after['end']:%H:%M} overlap."
                    ]
                }
            )


class DayWindows(Schema):
    date = Date(required=True)
    windows = _windows_field()

    @validates_schema
    def _no_overlap(self, data, **_kwargs):
        check_no_overlap(data.get("windows", []))


class AvailabilityUpdate(Schema):
    days = fields.List(fields.Nested(DayWindows), required=True, validate=validate.Length(min=1, max=90))
    cancel_booked = fields.Boolean(load_default=False)

    @validates_schema
    def _unique_dates(self, data, **_kwargs):
        dates = [day["date"] for day in data.get("days", [])]
        if len(dates) != len(set(dates)):
            raise ValidationError({"days": ["Each date may appear once."]})


class AvailabilityTemplate(Schema):
    weekdays = fields.List(
        Int(min=0, max=6), required=True, validate=validate.Length(min=1, max=7), metadata={"example": [0, 1, 2, 3, 4]}
    )
    windows = _windows_field()
    date_from = Date(required=True)
    date_to = Date(required=True)
    cancel_booked = fields.Boolean(load_default=False)

    @validates_schema
    def _checks(self, data, **_kwargs):
        check_no_overlap(data.get("windows", []))
        _check_range(data, "date_from", "date_to", "The end date must not be before the start date.")
        if (data["date_to"] - data["date_from"]).days > 90:
            raise ValidationError({"date_to": ["A template covers at most 90 days."]})


class AvailabilityArgs(Schema):
    date_from = Date()
    days = Int(min=1, max=60, load_default=7)


class ToggleCreate(Schema):
    date = Date(required=True)
    start = hhmm(required=True)


class ToggleRead(Schema):
    date = fields.Date()
    start = hhmm()
    blocked = fields.Boolean()


class WindowRead(Schema):
    start = hhmm()
    end = hhmm()


class SlotRead(Schema):
    start = hhmm()
    end = hhmm()
    available = fields.Boolean()


SLOT_STATES = ("free", "blocked", "booked", "past")


class DoctorSlotRead(SlotRead):
    """A slot of the doctor's own grid: its state, apart from whether a patient may book it now (`available`)."""

    state = fields.String(validate=validate.OneOf(SLOT_STATES), metadata={"enum": list(SLOT_STATES)})
    blocked = fields.Boolean()
    appointment_id = fields.Integer(allow_none=True)


class AvailabilityDay(Schema):
    date = fields.Date()
    windows = fields.List(fields.Nested(WindowRead))
    slots = fields.List(fields.Nested(DoctorSlotRead))
    on_leave = fields.Boolean(metadata={"description": "the doctor is on leave: no slot is offered"})


class AvailabilityRead(Schema):
    days = fields.List(fields.Nested(AvailabilityDay))
    cancelled = fields.List(fields.Integer(), metadata={"description": "ids of appointments cancelled by this change"})


class SlotsArgs(Schema):
    date = Date(required=True)
    # A patient moving one of their visits: that visit does not count against the slots it could move to.
    moving = Id(
        load_default=None,
        metadata={
            "description": "the id of the calling patient's appointment being rescheduled: its own day "
            "and time are not reported as conflicts"
        },
    )


class PatientSlotRead(SlotRead):
    conflict = fields.String(
        allow_none=True,
        metadata={
            "description": "only with a patient's token: why this patient could not book the slot "
            "(patient_busy, already_booked_with_doctor), else null"
        },
    )


class SlotsRead(Schema):
    date = fields.Date()
    slots = fields.List(fields.Nested(PatientSlotRead))


class SummaryArgs(Schema):
    date_from = Date(required=True, data_key="from")
    date_to = Date(required=True, data_key="to")

    @validates_schema
    def _range(self, data, **_kwargs):
        if data["date_to"] < data["date_from"]:
            raise ValidationError({"to": ["The end of the range must not be before its start."]})
        if (data["date_to"] - data["date_from"]).days >= 62:
            raise ValidationError({"to": ["Ask for at most 62 days at a time."]})


class SummaryDay(Schema):
    date = fields.Date()
    free = fields.Integer(metadata={"description": "slots a patient may book now"})
    slots = fields.Integer(metadata={"description": "slots in the doctor's windows"})


class SummaryRead(Schema):
    doctor_id = fields.Integer()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    days = fields.List(fields.Nested(SummaryDay))


# ---- appointments --------------------------------------------------------------------------------------------


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


# ---- dashboards ----------------------------------------------------------------------------------------------


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


# ---- waitlist ------------------------------------------------------------------------------------------------


class WaitlistCreate(Schema):
    doctor_id = Id(required=True, strict=True)
    date = Date(required=True)


class WaitlistRead(Schema):
    id = fields.Integer()
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    date = fields.Date()
    status = fields.String()
    created_at = Timestamp()
    notified_at = Timestamp(allow_none=True)


class WaitlistArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("waiting", "notified", "cancelled")))


# ---- calendars -----------------------------------------------------------------------------------------------


class CalendarRead(Schema):
    url = fields.String(allow_none=True)


class LeaveCreate(Schema):
    start_date = Date(required=True)
    end_date = Date(required=True)
    reason = Line(300, allow_none=True, metadata={"example": "Conference"})


class LeaveRead(Schema):
    id = fields.Integer()
    doctor_id = fields.Integer()
    doctor_name = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    reason = fields.String(allow_none=True)
    created_at = Timestamp()


class LeaveToday(LeaveRead):
    department_name = fields.String(allow_none=True)


class LeaveRecorded(LeaveRead):
    appointments_told = fields.List(
        fields.Integer(), metadata={"description": "booked visits whose patients were told"}
    )
    waitlist_closed = fields.Integer()


class OfferedSlot(Schema):
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    date = fields.Date()
    start = fields.String(metadata={"example": "09:30"})


class LeaveNotice(Schema):
    appointment_id = fields.Integer()
    date = fields.Date()
    start_time = fields.String()
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    leave_start = fields.Date()
    leave_end = fields.Date()
    offered = fields.List(fields.Nested(OfferedSlot))


class FollowUpProposal(Schema):
    in_days = Int(min=1, max=365, strict=True, metadata={"description": "days after the visit (weeks: 7, 14, ...)"})
    on = Date(metadata={"description": "or a date"})


class FollowUpProposed(Schema):
    appointment_id = fields.Integer()
    proposed = fields.Date()
    nearest_free = fields.Date(allow_none=True, metadata={"description": "first day a patient could book from then"})
    book_url = fields.String()


class FollowUpBooking(Schema):
    date = Date(required=True)
    start_time = hhmm(required=True)


class SeriesCreate(Schema):
    patient_id = Id(required=True, strict=True)
    doctor_id = Id(required=True, strict=True)
    first_date = Date(required=True)
    start_time = hhmm(required=True)
    every_days = Int(min=1, max=31, load_default=7, strict=True)
    count = Int(min=1, max=12, required=True, strict=True)
    reason = Text(1000, allow_none=True)
