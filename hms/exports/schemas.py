"""Export job shapes (docs/api-contract.md "Export job") and the admin export request."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from hms.common.fields import Date, Timestamp
from hms.models import ExportJob

ADMIN_KINDS = ("appointments", "treatments")
PATIENT_KIND = "patient_history"


class AdminExportCreate(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(ADMIN_KINDS))
    date_from = Date(load_default=None)
    date_to = Date(load_default=None)

    @validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("The end date must not be before the start date.", field_name="date_to")


def download_url(job: ExportJob) -> str | None:
    """Where the owner fetches the file, once there is one."""
    if job.status != "done" or not job.file:
        return None
    area = "patient" if job.kind == PATIENT_KIND else "admin"
    return f"/api/{area}/exports/{job.id}/download"


class ExportJobRead(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"enum": ["pending", "running", "done", "failed"]})
    params = fields.Dict()
    row_count = fields.Integer(allow_none=True)
    created_at = Timestamp()
    started_at = Timestamp(allow_none=True)
    finished_at = Timestamp(allow_none=True)
    error = fields.String(allow_none=True)
    download_url = fields.Function(download_url, allow_none=True)
