"""Shapes of the audit log view (docs/api-contract.md: Audit)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validates_schema

from hms.common.fields import Date, Id, Line, PageArgs, Timestamp


class AuditArgs(PageArgs):
    class Meta:
        unknown = RAISE

    actor_id = Id()
    action = Line(64)
    entity = Line(48)
    patient_id = Id()
    date_from = Date()
    date_to = Date()

    @pre_load
    def _drop_blank(self, data: Any, **_kwargs: Any) -> Any:
        """A cleared filter box sends `?action=`: treat it as no filter, not as an error."""
        if hasattr(data, "items"):
            return {key: value for key, value in data.items() if value not in ("", None)}
        return data

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("The end date must not be before the start date.", field_name="date_to")


class AuditRead(Schema):
    id = fields.Integer()
    at = Timestamp(metadata={"description": "UTC"})
    actor_id = fields.Integer(allow_none=True)
    actor_username = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String(allow_none=True)
    patient_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    details = fields.Dict()
