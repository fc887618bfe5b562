"""Shapes of the patient's waitlist: joining for a doctor's day,
an entry as read, and the list's filter."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hms.common.fields import Date, Id, PageArgs, Timestamp


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
