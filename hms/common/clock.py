"""The one source of "now": services ask here, and tests move time by setting it (the product never does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

_override: Callable[[], datetime] | None = None


def set_now(moment: datetime | None) -> None:
    """Pin the clock to an aware moment (tests only); None returns to real time."""
    global _override
    if moment is None:
        _override = None
        return
    if moment.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    _override = lambda: moment  # noqa: E731


def hospital_tz() -> ZoneInfo:
    if has_app_context():
        return current_app.config["HMS"].tz
    return ZoneInfo("Asia/Kolkata")


def now_utc() -> datetime:
    """Aware UTC now."""
    return (_override() if _override else datetime.now(UTC)).astimezone(UTC)


def utcnow_naive() -> datetime:
    """UTC now without tzinfo: the form timestamps are stored in, identical on SQLite and PostgreSQL."""
    return now_utc().replace(tzinfo=None)


def now_local() -> datetime:
    """Aware now in the hospital's time zone (HMS_TIMEZONE)."""
    return now_utc().astimezone(hospital_tz())


def today_local() -> date:
    return now_local().date()


def local_datetime(day: date, at: time) -> datetime:
    """An aware moment for a hospital-local date and wall-clock time."""
    return datetime.combine(day, at, tzinfo=hospital_tz())


def has_started(day: date, at: time) -> bool:
    """True once the hospital-local moment day+at is not in the future."""
    return local_datetime(day, at) <= now_local()
