"""Shapes of doctor leave: recording it, leave as read (today's absences; the visits and waitlist entries closed),
and the notice a patient gets with the slots offered instead."""

from __future__ import annotations

from marshmallow import Schema, fields

from hms.common.fields import Date, Line, Timestamp


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
