"""Shapes of the admin's outbox view: what was sent, what waits, what failed and why."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from hms.common.fields import Timestamp
from hms.common.pagination import PageArgs
from hms.models import Channel, NotificationStatus


class NotificationArgs(PageArgs):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf([s.value for s in NotificationStatus]))
    channel = fields.String(validate=validate.OneOf([c.value for c in Channel]))


class NotificationRead(Schema):
    id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    appointment_id = fields.Integer(allow_none=True)
    channel = fields.String()
    kind = fields.String()
    recipient = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    created_at = Timestamp()
    sent_at = Timestamp(allow_none=True)
    error = fields.String(allow_none=True)
