"""Shapes of follow-ups and series: the proposal of a follow-up visit and its booking,
and a recurring series booked by the admin."""

from __future__ import annotations

from marshmallow import Schema, fields

from hms.common.fields import Date, Id, Int, Text
from hms.scheduling.schemas.common import hhmm


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
