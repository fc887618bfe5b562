"""The waitlist: joining, listing and leaving it, and telling the first waiting patients when a day frees a slot.
Called by booking and availability whenever a slot may have opened.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from hms.common.auth import get_or_404
from hms.common.clock import today_local, utcnow_naive
from hms.common.errors import Conflict, NotFound, ValidationFailed
from hms.common.names import doctor_display_name
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Doctor,
    Patient,
    WaitlistEntry,
    WaitlistStatus,
)
from hms.notifications import service as notifications
from hms.scheduling import rules
from hms.scheduling.day_state import _day_state
from hms.scheduling.slots import _horizon, _slots, cut_slots

WAITLIST_NOTIFY_COUNT = 3


# ---- waitlist ------------------------------------------------------------------------------------------------


def _waitlist_dict(entry: WaitlistEntry, doctor_name: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "doctor_id": entry.doctor_id,
        "doctor_name": doctor_name,
        "date": entry.date,
        "status": entry.status,
        "created_at": entry.created_at,
        "notified_at": entry.notified_at,
    }


def join_waitlist(*, patient_id: int, doctor_id: int, day: date) -> dict[str, Any]:
    """Wait for a slot of a doctor's day; told (with the first few others) when one frees."""

    def run() -> tuple[WaitlistEntry, str]:
        doctor = db.session.get(Doctor, doctor_id)
        if doctor is None or not rules.doctor_is_active(doctor):
            raise NotFound(f"Doctor {doctor_id} was not found.")
        today = today_local()
        if day < today:
            raise ValidationFailed("That date is in the past.", fields={"date": ["Choose today or a later date."]})
        if day > today + timedelta(days=_horizon()):
            raise ValidationFailed(
                f"You can wait for dates up to {_horizon()} days ahead.",
                code="beyond_horizon",
                fields={"date": [f"Choose a date within {_horizon()} days."]},
            )
        state = _day_state(doctor_id, day)
        if state.get("on_leave"):
            raise Conflict(
                f"{doctor.display_name} is on leave on {day:%A %d %B %Y}; the waitlist for that day is closed.",
                code="doctor_on_leave",
                fields={"date": ["The doctor is on leave on this day."]},
            )
        if not cut_slots(state["windows"], doctor.slot_minutes):
            raise Conflict(
                f"{doctor.display_name} does not see patients on {day:%A %d %B %Y}, so no slot can open that day. "
                "Choose a day on which the doctor works.",
                code="no_availability",
                fields={"date": ["The doctor does not work on this day."]},
            )
        duplicate = db.session.execute(
            select(WaitlistEntry.id).where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.doctor_id == doctor_id,
                WaitlistEntry.date == day,
                WaitlistEntry.status == WaitlistStatus.WAITING.value,
            )
        ).first()
        if duplicate is not None:
            raise Conflict("You are already on the waitlist for this doctor and date.", code="already_waiting")
        entry = WaitlistEntry(patient_id=patient_id, doctor_id=doctor_id, date=day, status=WaitlistStatus.WAITING.value)
        db.session.add(entry)
        db.session.flush()
        return entry, doctor.display_name

    with unit_of_work(lock_patient_id=patient_id):
        entry, name = run()
    return _waitlist_dict(entry, name)


def list_waitlist(*, patient_id: int, page: int, per_page: int, status: str | None = None) -> dict[str, Any]:
    """The patient's waitlist entries, soonest date first."""
    statement = (
        select(WaitlistEntry, Doctor.full_name)
        .join(Doctor, Doctor.id == WaitlistEntry.doctor_id)
        .where(WaitlistEntry.patient_id == patient_id)
    )
    if status:
        statement = statement.where(WaitlistEntry.status == status)
    else:
        statement = statement.where(WaitlistEntry.status != WaitlistStatus.CANCELLED.value)
    statement = statement.order_by(WaitlistEntry.date, WaitlistEntry.created_at, WaitlistEntry.id)
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    result["items"] = [_waitlist_dict(entry, doctor_display_name(name) or "") for entry, name in result["items"]]
    return result


def leave_waitlist(*, patient_id: int, entry_id: int) -> None:
    """Leave the waitlist (own entries only)."""
    with unit_of_work(lock_patient_id=patient_id):
        entry = db.session.execute(
            select(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.patient_id == patient_id)
        ).scalar_one_or_none()
        if entry is None or entry.status == WaitlistStatus.CANCELLED.value:
            raise NotFound(f"Waitlist entry {entry_id} was not found.")
        entry.status = WaitlistStatus.CANCELLED.value


def _notify_waitlist(doctor_id: int, day: date) -> list[int]:
    """When a doctor's day has a bookable slot again, tell the first waiting patients (inside the transaction).

    The waitlist is read first: most days have nobody waiting, and then the day's state is never loaded.
    """
    db.session.flush()
    waiting = db.session.execute(_first_waiting_statement(), {"doctor_id": doctor_id, "day": day}).scalars().all()
    if not waiting:
        return []
    entries = (
        db.session.execute(
            select(WaitlistEntry)
            .where(WaitlistEntry.id.in_(waiting))
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
        .scalars()
        .all()
    )
    state = _day_state(doctor_id, day)
    if not any(slot["available"] for slot in _slots(state, day=day, horizon_days=_horizon())):
        return []
    doctor = get_or_404(Doctor, doctor_id)
    for entry in entries:
        patient = get_or_404(Patient, entry.patient_id)
        notifications.queue(
            user=patient.user,
            kind="waitlist_slot_open",
            subject=f"A slot opened with {doctor.display_name} on {day:%d %b %Y}",
            body=f"A slot with {doctor.display_name} on {day:%A %d %B %Y} has become free. "
            "Book it before someone else does.",
            data={"doctor_id": doctor_id, "date": day.isoformat(), "waitlist_entry_id": entry.id},
        )
        entry.status = WaitlistStatus.NOTIFIED.value
        entry.notified_at = utcnow_naive()
    return [entry.id for entry in entries]


@cache
def _first_waiting_statement() -> Select:
    """The ids of the first patients waiting for a doctor's day, built once: every cancel asks, and on most days
    nobody waits, so building the query was most of the answer's cost."""
    return (
        select(WaitlistEntry.id)
        .where(
            WaitlistEntry.doctor_id == bindparam("doctor_id"),
            WaitlistEntry.date == bindparam("day"),
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .limit(WAITLIST_NOTIFY_COUNT)
    )
