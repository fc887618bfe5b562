"""Shapes of availability and slots: windows (no overlaps), the weekly template, the slot toggle,
a doctor's and a patient's view of a day's slots, and the free-slot summary."""

from __future__ import annotations

import itertools

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hms.common.fields import Date, Id, Int
from hms.scheduling.schemas.common import _check_range, hhmm


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
