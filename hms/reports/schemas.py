"""Query arguments of the monthly report endpoints."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from hms.common.fields import Id, Line

# Years 1900-2200, as every date of the API.
MONTH = validate.Regexp(
    r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])$", error="Use the form YYYY-MM, e.g. 2026-01."
)


class MonthlyReportArgs(Schema):
    class Meta:
        unknown = RAISE

    month = Line(7, required=True, validate=MONTH, metadata={"example": "2026-01"})
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "pdf"]))


class AdminMonthlyReportArgs(MonthlyReportArgs):
    doctor_id = Id(required=True)
