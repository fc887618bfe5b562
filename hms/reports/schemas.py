"""Query arguments of the monthly report endpoints."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Use the form YYYY-MM, e.g. 2026-01.")


class MonthlyReportArgs(Schema):
    class Meta:
        unknown = RAISE

    month = fields.String(required=True, validate=MONTH, metadata={"example": "2026-01"})
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "pdf"]))


class AdminMonthlyReportArgs(MonthlyReportArgs):
    doctor_id = fields.Integer(required=True, validate=validate.Range(min=1))
