"""Response shapes of the admin dashboard (docs/api-contract.md: Admin stats, Admin analytics)."""

from __future__ import annotations

from marshmallow import Schema, fields


class StatsRead(Schema):
    doctors = fields.Integer(metadata={"description": "Active, non-archived doctors."})
    patients = fields.Integer(metadata={"description": "Active, non-archived patients."})
    departments = fields.Integer()
    appointments_today = fields.Integer(metadata={"description": "Appointments today (hospital time), not cancelled."})
    appointments_upcoming = fields.Integer(metadata={"description": "Booked appointments on the days after today."})
    appointments_this_month = fields.Integer(
        metadata={"description": "This calendar month's appointments (hospital time), not cancelled."}
    )


class DayCount(Schema):
    date = fields.String(metadata={"example": "2026-11-24"})
    count = fields.Integer()


class DepartmentCount(Schema):
    department = fields.String()
    count = fields.Integer()


class StatusCount(Schema):
    status = fields.String()
    count = fields.Integer()


class WeekCount(Schema):
    week_start = fields.String(metadata={"description": "Monday of the week (hospital time)."})
    count = fields.Integer()


class AnalyticsRead(Schema):
    per_day = fields.List(
        fields.Nested(DayCount),
        metadata={"description": "Appointments (not cancelled) per day for the last 30 days, today included."},
    )
    by_department = fields.List(fields.Nested(DepartmentCount), metadata={"description": "All appointments."})
    by_status = fields.List(fields.Nested(StatusCount), metadata={"description": "All appointments."})
    new_patients_per_week = fields.List(fields.Nested(WeekCount), metadata={"description": "Last 12 weeks."})
