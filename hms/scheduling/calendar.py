"""Calendars: a patient's .ics file for one appointment and the doctor's private feed (its token and URL).
Read-only over appointments; the feed authenticates by token, not by session.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.auth import get_or_404
from hms.common.clock import local_datetime, now_utc, today_local
from hms.common.errors import NotFound
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    ACTIVE_STATUSES,
    Appointment,
    Doctor,
)
from hms.scheduling import rules
from hms.scheduling.appointments import _load
from hms.scheduling.slots import CANCELLED, NO_SHOW

# ---- calendars -----------------------------------------------------------------------------------------------


def _calendar(events: Iterable[tuple[Appointment, str, str]]) -> bytes:
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Hospital Management System//hms//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    stamp = now_utc()
    for appointment, summary, description in events:
        event = Event()
        event.add("uid", f"appointment-{appointment.id}@hms")
        event.add("dtstamp", stamp)
        event.add("dtstart", local_datetime(appointment.date, appointment.start_time).astimezone(UTC))
        event.add("dtend", local_datetime(appointment.date, appointment.end_time).astimezone(UTC))
        event.add("summary", summary)
        event.add("description", description)
        department = appointment.doctor.department if appointment.doctor else None
        if department:
            event.add("location", department.name)
        event.add("status", "CANCELLED" if appointment.status in (CANCELLED, NO_SHOW) else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


def appointment_ics(*, patient_id: int, appointment_id: int) -> bytes:
    """An .ics file of one of the patient's own appointments (times in UTC, so every calendar places it right)."""
    appointment = _load(appointment_id, patient_id=patient_id)
    doctor = appointment.doctor
    summary = f"Appointment with {doctor.display_name}"
    description = f"Reason: {appointment.reason or '-'}"
    return _calendar([(appointment, summary, description)])


def _feed_url(token: str | None) -> str | None:
    if not token:
        return None
    return f"{current_app.config['HMS'].public_url.rstrip('/')}/api/calendar/{token}.ics"


def calendar_url(*, doctor_id: int) -> dict[str, Any]:
    """The doctor's private feed URL, or null when none is issued."""
    return {"url": _feed_url(get_or_404(Doctor, doctor_id).calendar_token)}


def new_calendar_token(*, doctor_id: int) -> dict[str, Any]:
    """Issue a new secret feed URL; the previous URL stops working."""
    token = secrets.token_urlsafe(32)
    with unit_of_work():
        get_or_404(Doctor, doctor_id).calendar_token = token
    return {"url": _feed_url(token)}


def revoke_calendar_token(*, doctor_id: int) -> dict[str, Any]:
    """Revoke the feed URL."""
    with unit_of_work():
        get_or_404(Doctor, doctor_id).calendar_token = None
    return {"url": None}


def doctor_feed(*, token: str) -> bytes:
    """The doctor's feed: booked and completed visits of the last 30 and next 90 days, first names only."""
    doctor = (
        db.session.execute(select(Doctor).where(Doctor.calendar_token == token)).scalar_one_or_none() if token else None
    )
    if doctor is None or not rules.doctor_is_active(doctor):
        raise NotFound("This calendar does not exist.")
    details = bool(current_app.config["HMS"].calendar_feed_details)
    with unit_of_work():
        record(action="calendar_feed.read", entity="doctor", entity_id=doctor.id, details={"details": details})
    today = today_local()
    appointments = (
        db.session.execute(
            select(Appointment)
            .options(joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department))
            .where(
                Appointment.doctor_id == doctor.id,
                Appointment.status.in_(ACTIVE_STATUSES),
                Appointment.date.between(today - timedelta(days=30), today + timedelta(days=90)),
            )
            .order_by(Appointment.date, Appointment.start_time)
        )
        .scalars()
        .all()
    )
    events = []
    for appointment in appointments:
        title = "Appointment"  # a neutral title by default: a feed URL leaks easily (HMS_CALENDAR_FEED_DETAILS)
        if details:
            first_name = (appointment.patient.full_name or "Patient").split()[0]
            title = f"{first_name}: {appointment.reason or 'appointment'}"
        events.append((appointment, title, "Booked via HMS"))
    return _calendar(events)
