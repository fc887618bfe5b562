"""The one place for input bounds: every request schema builds its fields from these types.

PostgreSQL refuses what SQLite tolerates (integers past 2**31 - 1 in an INTEGER column, NUL in text, years
outside a sane range in arithmetic), so every value is bounded here, before a query sees it, and the same
bounds are written into the OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal as _Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

MAX_ID = 2**31 - 1
MAX_INT = 2**31 - 1
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)

# NUL, and lone surrogates (valid in a JSON escape, not encodable as UTF-8): no database can store them.
_NUL = re.compile("[\x00\ud800-\udfff]")
# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators: none belongs on one line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class _Refuses(validate.Validator):
    """Refuses text in which `pattern` finds a character; a plain validator, so the OpenAPI pattern stays ECMA."""

    def __init__(self, pattern: re.Pattern[str], error: str) -> None:
        self.pattern, self.message = pattern, error

    def __call__(self, value: str) -> str:
        if isinstance(value, str) and self.pattern.search(value):
            raise ValidationError(self.message)
        return value


no_nul = _Refuses(_NUL, "Text must not contain NUL characters or lone surrogates.")
single_line = _Refuses(_CONTROL, "Use a single line of text without control characters.")
# The same rules for clients, in the document's (ECMA) regular-expression dialect.
NO_NUL_PATTERN = "^[^\\u0000]*$"
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


def _documented(pattern: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Publish the character rule as a pattern unless the field has a stricter Regexp of its own."""
    rules = kwargs.get("validate") or []
    if not any(isinstance(rule, validate.Regexp) for rule in rules):
        kwargs["metadata"] = {"pattern": pattern, **(kwargs.get("metadata") or {})}
    return kwargs


def _with(rule: validate.Validator, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Put `rule` before the caller's validators, so a bad character is reported before anything else."""
    extra = kwargs.pop("validate", None)
    if extra is None:
        extra = []
    elif callable(extra):
        extra = [extra]
    kwargs["validate"] = [rule, *extra]
    return kwargs


class Text(fields.String):
    """Free text (may span lines); refuses NUL, which PostgreSQL cannot store; bounded in length."""

    def __init__(self, max_length: int, *, min_length: int | None = None, **kwargs: Any) -> None:
        kwargs = _with(validate.Length(min=min_length, max=max_length), kwargs)
        super().__init__(**_documented(NO_NUL_PATTERN, _with(no_nul, kwargs)))


class Line(fields.String):
    """Single-line text (names, phones, usernames, subjects, searches): no control characters at all."""

    def __init__(self, max_length: int, *, min_length: int | None = None, **kwargs: Any) -> None:
        kwargs = _with(validate.Length(min=min_length, max=max_length), kwargs)
        super().__init__(**_documented(SINGLE_LINE_PATTERN, _with(single_line, kwargs)))


class Email(fields.Email):
    """An e-mail address on one line, at most 255 characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(single_line, _with(validate.Length(max=255), kwargs)))


class Id(fields.Integer):
    """A row id: 1..2**31-1, the range of the database's INTEGER primary keys."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_with(validate.Range(min=1, max=MAX_ID), kwargs))


class Int(fields.Integer):
    """An integer with explicit bounds (both required, so no number reaches the database unbounded)."""

    def __init__(self, *, min: int, max: int, **kwargs: Any) -> None:
        super().__init__(**_with(validate.Range(min=min, max=max), kwargs))


class Number(fields.Decimal):
    """A bounded decimal; its bounds and values are JSON numbers in the OpenAPI document, not strings."""

    def __init__(self, *, min: float, max: float, **kwargs: Any) -> None:
        super().__init__(**_with(validate.Range(min=min, max=max), kwargs))

    def _serialize(  # type: ignore[override]  # a JSON number on purpose, where Decimal gives a string
        self, value: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> float | None:
        if value is None:
            return None
        return float(value) if isinstance(value, _Decimal | int | float) else value


class Date(fields.Date):
    """A calendar date within 1900-01-01..2200-12-31; anything else is a typo or an attack."""

    def __init__(self, **kwargs: Any) -> None:
        rule = validate.Range(min=MIN_DATE, max=MAX_DATE, error="Use a date between 1900-01-01 and 2200-12-31.")
        super().__init__(**_with(rule, kwargs))


def zoned(value: datetime | None) -> str | None:
    """Stored timestamps are naive UTC; say so with a `Z` (an aware value is converted to UTC first)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Timestamp(fields.DateTime):
    """A moment in time, always with its zone: stored naive UTC, spoken as ISO 8601 with `Z` (RFC 3339)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return zoned(value)


class HourMinute(fields.Time):
    """A wall-clock time spoken as HH:MM (24-hour), in the hospital's zone."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "hh:mm", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:30"}
        super().__init__(format="%H:%M", metadata={**metadata, **(kwargs.pop("metadata", None) or {})}, **kwargs)


class PageArgs(Schema):
    """`?page=&per_page=`: the one pagination input, bounded."""

    page = Int(min=1, max=MAX_PAGE, load_default=1)
    per_page = Int(min=1, max=MAX_PER_PAGE, load_default=20)


class StrippedSchema(Schema):
    """Trims surrounding spaces of every string, so ' Cardiology ' and 'Cardiology' are one name; a stray
    control character is refused by the field, not silently trimmed. Passwords are never altered: the exact
    password chosen is the one that signs in."""

    @pre_load
    def _strip(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip(" ") if isinstance(v, str) and "password" not in k else v for k, v in data.items()}
        return data
