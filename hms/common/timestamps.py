"""The one place a stored timestamp becomes API text: always ISO 8601 with its zone, so no client guesses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields


def zoned(value: datetime | None) -> str | None:
    """Stored timestamps are naive UTC; say so with a `Z` (an aware value is converted to UTC first)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Timestamp(fields.DateTime):
    """A moment in time as the API sends it: `2026-12-01T09:47:18Z`, never a zone-less local-looking string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("description", "ISO 8601 in UTC, ending in Z")
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return zoned(value)
