"""Shape of the doctor's private calendar feed:
its URL, or null while none is issued."""

from __future__ import annotations

from marshmallow import Schema, fields


class CalendarRead(Schema):
    url = fields.String(allow_none=True)
