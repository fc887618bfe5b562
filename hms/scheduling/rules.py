"""The rules of appointment time, defined once: phases, "has started", booking horizons, "active doctor".

Every list, dashboard, check and the SPA (through the API's `phase` and `/api/settings`) uses these; nothing
recomputes them with its own clock, zone or limits. Times are the hospital's local ones (SPEC §4).

Phases of an appointment at a moment `now`:
  upcoming     booked and not yet ended (in progress while started and not ended: `in_progress`)
  past         ended while booked, or completed, or a no-show
  cancelled    cancelled (a rescheduled original is cancelled and `moved`)
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, or_
from sqlalchemy.sql.elements import ColumnElement

from hms.common.clock import now_local
from hms.models import Appointment, AppointmentStatus, Doctor, Role, User

BOOKED = AppointmentStatus.BOOKED.value
COMPLETED = AppointmentStatus.COMPLETED.value
CANCELLED = AppointmentStatus.CANCELLED.value
NO_SHOW = AppointmentStatus.NO_SHOW.value
# The reason the original of a rescheduled appointment is cancelled with: the patient sees it as "moved".
RESCHEDULED_REASON = "Rescheduled"
# Admins place appointments up to this far ahead; patients up to HMS_BOOKING_HORIZON_DAYS (SPEC §4).
ADMIN_HORIZON_DAYS = 90


class Phase(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"
    CANCELLED = "cancelled"


def local_now() -> datetime:
    """Hospital-local now without tzinfo: the form appointment dates and times are stored in."""
    return now_local().replace(tzinfo=None)


# ---- one appointment (Python) ----------------------------------------------------------------------------------


def has_started(day: date, start: time, *, now: datetime | None = None) -> bool:
    """True from the exact start minute on."""
    return datetime.combine(day, start) <= (now or local_now())


def has_ended(day: date, end: time, *, now: datetime | None = None) -> bool:
    """True from the exact end minute on."""
    return datetime.combine(day, end) <= (now or local_now())


def phase(appointment: Appointment, *, now: datetime | None = None) -> Phase:
    now = now or local_now()
    if appointment.status == CANCELLED:
        return Phase.CANCELLED
    if appointment.status == BOOKED and not has_ended(appointment.date, appointment.end_time, now=now):
        return Phase.UPCOMING
    return Phase.PAST


def in_progress(appointment: Appointment, *, now: datetime | None = None) -> bool:
    now = now or local_now()
    return (
        appointment.status == BOOKED
        and has_started(appointment.date, appointment.start_time, now=now)
        and not has_ended(appointment.date, appointment.end_time, now=now)
    )


def is_moved(appointment: Appointment) -> bool:
    """The cancelled original of a rescheduled appointment."""
    return appointment.status == CANCELLED and appointment.cancel_reason == RESCHEDULED_REASON


def time_fields(appointment: Appointment, *, now: datetime | None = None) -> dict[str, Any]:
    """What the API says about an appointment's time, so no client computes it with its own clock."""
    now = now or local_now()
    return {
        "phase": phase(appointment, now=now).value,
        "in_progress": in_progress(appointment, now=now),
        "has_started": has_started(appointment.date, appointment.start_time, now=now),
        "moved": is_moved(appointment),
    }


# ---- the same rules as SQL conditions ----------------------------------------------------------------------------


def _not_ended(day: Any, clock: Any) -> ColumnElement[bool]:
    return or_(Appointment.date > day, and_(Appointment.date == day, Appointment.end_time > clock))


def has_started_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """The SQL form of has_started: the start minute has come."""
    now = now or local_now()
    return or_(
        Appointment.date < now.date(), and_(Appointment.date == now.date(), Appointment.start_time <= now.time())
    )


def upcoming_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """Booked and not yet ended (in progress included)."""
    now = now or local_now()
    return and_(Appointment.status == BOOKED, _not_ended(now.date(), now.time()))


def upcoming_condition_at_bound_moment() -> ColumnElement[bool]:
    """upcoming_condition with the moment left as parameters (`moment_parameters()` gives them), for a statement
    built once and run with the time of each request."""
    return and_(Appointment.status == BOOKED, _not_ended(bindparam("now_date"), bindparam("now_time")))


def moment_parameters(now: datetime | None = None) -> dict[str, Any]:
    now = now or local_now()
    return {"now_date": now.date(), "now_time": now.time()}


def past_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """Completed, no-show, or booked and ended."""
    now = now or local_now()
    return or_(
        Appointment.status.in_((COMPLETED, NO_SHOW)),
        and_(Appointment.status == BOOKED, ~_not_ended(now.date(), now.time())),
    )


def cancelled_condition() -> ColumnElement[bool]:
    return Appointment.status == CANCELLED


def phase_condition(value: str, now: datetime | None = None) -> ColumnElement[bool]:
    """The SQL condition of one phase."""
    if value == Phase.UPCOMING:
        return upcoming_condition(now)
    if value == Phase.PAST:
        return past_condition(now)
    if value == Phase.CANCELLED:
        return cancelled_condition()
    raise ValueError(f"unknown phase {value!r}")


# ---- horizons and doctors ----------------------------------------------------------------------------------------


def booking_horizon_days(role: str) -> int:
    """How many days ahead a role may place an appointment (booking or rescheduling)."""
    if role == Role.ADMIN.value:
        return ADMIN_HORIZON_DAYS
    return int(current_app.config["HMS"].booking_horizon_days)


def doctor_is_active(doctor: Doctor) -> bool:
    """A doctor offers slots and can be booked only while not archived and their account is not blocked."""
    return doctor.archived_at is None and doctor.user is not None and bool(doctor.user.is_active)


def active_doctor_condition() -> ColumnElement[bool]:
    """The same as SQL; the statement must join User on Doctor.user_id."""
    return and_(Doctor.archived_at.is_(None), User.is_active.is_(True))


def public_settings(now: datetime | None = None) -> dict[str, Any]:
    """What the SPA needs to show dates and limits the way the server decides them: the one source of
    GET /api/settings and GET /api/hospital (hms.health.service.hospital_clock builds on it)."""
    settings = current_app.config["HMS"]
    now = now or now_local()
    offset = now.strftime("%z")
    return {
        "timezone": settings.timezone,
        "today": now.date(),
        "now": now.isoformat(timespec="seconds"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
        "phone_region": settings.phone_region,
        "booking_horizon_days": {
            Role.PATIENT.value: booking_horizon_days(Role.PATIENT.value),
            Role.ADMIN.value: booking_horizon_days(Role.ADMIN.value),
        },
        "slot_minutes_default": 30,
    }
