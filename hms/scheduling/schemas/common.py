"""Pieces the scheduling schemas share: the appointment statuses a filter accepts,
the HH:MM field and the check that a range's start is not after its end."""

from __future__ import annotations

from marshmallow import ValidationError

from hms.common.fields import HourMinute

STATUSES = ("booked", "completed", "cancelled", "no_show")


def hhmm(**kwargs) -> HourMinute:
    """A wall-clock time spoken as HH:MM (24-hour)."""
    return HourMinute(**kwargs)


def _check_range(data: dict, start: str, end: str, message: str) -> None:
    if data.get(start) is not None and data.get(end) is not None and data[start] > data[end]:
        raise ValidationError({end: [message]})
