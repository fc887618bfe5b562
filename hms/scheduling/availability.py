"""A doctor's availability: windows by date, the weekly template, toggling one slot, the slot grid (FHIR) and what
happens to the bookings of a doctor who stops seeing patients.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.auth import get_or_404
from hms.common.clock import today_local
from hms.common.errors import Conflict, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    AvailabilityWindow,
    BlockedSlot,
    Doctor,
    Patient,
    User,
)
from hms.scheduling import rules
from hms.scheduling.appointments import _cancel, _notify, _when
from hms.scheduling.day_state import _day_state, _empty_state, _load_states, _minutes
from hms.scheduling.slots import BOOKED, _hhmm, _horizon, _invalidate_days, _lock_doctors, _slots, _time, cut_slots
from hms.scheduling.waitlist import _notify_waitlist

AVAILABILITY_CHANGED = "Doctor's availability changed"


# ---- a doctor who stops seeing patients ----------------------------------------------------------------------

DOCTOR_UNAVAILABLE = "The doctor is not available"
BOOKING_CHOICES = ("cancel", "keep")


def future_bookings(*, doctor_id: int) -> list[Appointment]:
    """The doctor's booked visits that have not started: the ones a block or deactivation strands."""
    now = rules.local_now()
    return list(
        db.session.execute(
            select(Appointment)
            .options(joinedload(Appointment.patient).joinedload(Patient.user))
            .where(
                Appointment.doctor_id == doctor_id,
                Appointment.status == BOOKED,
                ~rules.has_started_condition(now),
            )
            .order_by(Appointment.date, Appointment.start_time, Appointment.id)
        )
        .scalars()
        .all()
    )


def booking_summary(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "date": appointment.date.isoformat(),
        "start_time": _hhmm(appointment.start_time),
        "end_time": _hhmm(appointment.end_time),
        "patient_name": appointment.patient.full_name,
    }


def settle_bookings_of_unavailable_doctor(
    *, doctor: Doctor, actor: User | None, bookings: str | None, action: str
) -> list[int]:
    """Inside the caller's transaction: cancel or keep the doctor's future visits, telling each patient either way.

    With visits ahead and no choice made, refuse with the list so the admin decides knowingly.
    """
    ahead = future_bookings(doctor_id=doctor.id)
    if not ahead:
        return []
    if bookings not in BOOKING_CHOICES:
        count = len(ahead)
        raise Conflict(
            f"{doctor.display_name} has {count} booked {'visit' if count == 1 else 'visits'} ahead. "
            f"Choose whether to cancel them or keep them before you {action} the doctor; "
            "the patients are told either way.",
            code="doctor_has_bookings",
            fields={"appointments": [booking_summary(a) for a in ahead]},
        )
    for appointment in ahead:
        if bookings == "cancel":
            _cancel(appointment, role="admin", user=actor, reason=DOCTOR_UNAVAILABLE)
            _notify(
                appointment.patient.user,
                "appointment_cancelled",
                f"Appointment cancelled: {_when(appointment)}",
                f"Your appointment with {doctor.display_name} on {_when(appointment)} was cancelled by the hospital "
                "because the doctor is not available. Please book another time or another doctor.",
                appointment,
                cancelled_by="admin",
            )
        else:
            _notify(
                appointment.patient.user,
                "doctor_unavailable",
                f"About your appointment on {_when(appointment)}",
                f"{doctor.display_name} is not available at the moment. Your appointment on {_when(appointment)} "
                "is kept for now; the hospital will contact you if it has to move.",
                appointment,
            )
    record(
        action=f"doctor_bookings_{'cancelled' if bookings == 'cancel' else 'kept'}",
        entity="doctor",
        entity_id=doctor.id,
        actor=actor,
        details={"appointments": [a.id for a in ahead]},
    )
    return [a.id for a in ahead]


# ---- availability --------------------------------------------------------------------------------------------


def _inside(appointment: Appointment, windows: list[tuple[time, time]]) -> bool:
    return any(start <= appointment.start_time and appointment.end_time <= end for start, end in windows)


def _replace_windows(*, doctor: Doctor, by_date: dict[date, list[tuple[time, time]]], cancel_booked: bool) -> list[int]:
    """Set the windows of each date; booked appointments left outside every window refuse it unless cancelled."""
    dates = sorted(by_date)
    booked = (
        db.session.execute(
            select(Appointment)
            .options(joinedload(Appointment.patient))
            .where(Appointment.doctor_id == doctor.id, Appointment.date.in_(dates), Appointment.status == BOOKED)
            .order_by(Appointment.date, Appointment.start_time)
        )
        .scalars()
        .all()
    )
    outside = [a for a in booked if not _inside(a, by_date[a.date])]
    if outside and not cancel_booked:
        raise Conflict(
            f"{len(outside)} booked {'appointment' if len(outside) == 1 else 'appointments'} would fall outside "
            "your availability. Cancel them (each patient is told) or keep those hours.",
            code="has_appointments",
            fields={
                "appointments": [
                    {
                        "id": a.id,
                        "date": a.date.isoformat(),
                        "start_time": _hhmm(a.start_time),
                        "end_time": _hhmm(a.end_time),
                        "patient_name": a.patient.full_name,
                    }
                    for a in outside
                ]
            },
        )
    for appointment in outside:
        _cancel(appointment, role="doctor", user=doctor.user, reason=AVAILABILITY_CHANGED)
        _notify(
            appointment.patient.user,
            "appointment_cancelled",
            f"Appointment cancelled: {_when(appointment)}",
            f"Your appointment with {doctor.display_name} on {_when(appointment)} was cancelled because the doctor's "
            "availability changed. Please book another time.",
            appointment,
            cancelled_by="doctor",
        )
    db.session.execute(
        delete(AvailabilityWindow).where(AvailabilityWindow.doctor_id == doctor.id, AvailabilityWindow.date.in_(dates))
    )
    for day in dates:
        for start, end in by_date[day]:
            db.session.add(AvailabilityWindow(doctor_id=doctor.id, date=day, start_time=start, end_time=end))
    db.session.flush()
    for day in dates:
        if by_date[day]:
            _notify_waitlist(doctor.id, day)
    return [a.id for a in outside]


def _apply_windows(*, doctor_id: int, by_date: dict[date, list[tuple[time, time]]], cancel_booked: bool) -> dict:
    def run() -> list[int]:
        doctor = get_or_404(Doctor, doctor_id)
        _lock_doctors(doctor_id, exclusive=True)
        return _replace_windows(doctor=doctor, by_date=by_date, cancel_booked=cancel_booked)

    cancelled: list[int] = []
    if by_date:
        with unit_of_work():
            cancelled = run()
    _invalidate_days((doctor_id, day) for day in by_date)
    result = {"days": [], "cancelled": cancelled}
    if by_date:
        first, last = min(by_date), max(by_date)
        view = availability(doctor_id=doctor_id, date_from=first, days=(last - first).days + 1)
        result["days"] = [day for day in view["days"] if day["date"] in by_date]
    return result


def _future_only(days: Iterable[date]) -> None:
    today = today_local()
    past = sorted(day for day in days if day < today)
    if past:
        raise ValidationFailed(
            "Availability can only be changed for today and later.",
            fields={"days": [f"{day.isoformat()} is in the past." for day in past]},
        )


def set_availability(*, doctor_id: int, days: list[dict[str, Any]], cancel_booked: bool = False) -> dict[str, Any]:
    """Replace the windows of the given dates (an empty list clears a day)."""
    _future_only(day["date"] for day in days)
    by_date = {day["date"]: [(w["start"], w["end"]) for w in day["windows"]] for day in days}
    return _apply_windows(doctor_id=doctor_id, by_date=by_date, cancel_booked=cancel_booked)


def apply_template(
    *,
    doctor_id: int,
    weekdays: list[int],
    windows: list[dict[str, Any]],
    date_from: date,
    date_to: date,
    cancel_booked: bool = False,
) -> dict[str, Any]:
    """A weekly template ("Mon-Fri 09:00-13:00") replaces the windows of matching dates from today onwards."""
    start = max(date_from, today_local())
    pairs = [(w["start"], w["end"]) for w in windows]
    by_date = {}
    day = start
    while day <= date_to:
        if day.weekday() in set(weekdays):
            by_date[day] = list(pairs)
        day += timedelta(days=1)
    return _apply_windows(doctor_id=doctor_id, by_date=by_date, cancel_booked=cancel_booked)


def availability(*, doctor_id: int, date_from: date | None = None, days: int = 7) -> dict[str, Any]:
    """The doctor's own grid: windows and every slot with its state, in four queries for the whole range."""
    date_from = date_from or today_local()
    date_to = date_from + timedelta(days=days - 1)
    states = _load_states(doctor_ids=[doctor_id], date_from=date_from, date_to=date_to)
    horizon = _horizon()
    result = []
    for n in range(days):
        day = date_from + timedelta(days=n)
        state = states.get((doctor_id, day)) or _empty_state()
        state = {**state, "active": True}  # a blocked doctor still sees (and may edit) the grid
        result.append(
            {
                "date": day,
                "windows": [{"start": _time(s), "end": _time(e)} for s, e in state["windows"]],
                "slots": _slots(state, day=day, horizon_days=horizon, detail=True),
                "on_leave": bool(state.get("on_leave")),
            }
        )
    return {"days": result}


def slot_grid(*, doctor_ids: list[int], date_from: date, date_to: date) -> dict[tuple[int, date], list[dict]]:
    """Every slot (with its state) of several doctors' days, in four queries whatever the number of doctors."""
    states = _load_states(doctor_ids=doctor_ids, date_from=date_from, date_to=date_to)
    horizon = _horizon()
    return {
        (doctor_id, day): _slots(state, day=day, horizon_days=horizon, detail=True)
        for (doctor_id, day), state in states.items()
    }


def toggle_slot(*, doctor_id: int, day: date, start: time) -> dict[str, Any]:
    """Block one free slot, or unblock a blocked one (then waiting patients hear of it)."""

    def run() -> bool:
        doctor = get_or_404(Doctor, doctor_id)
        _lock_doctors(doctor_id, exclusive=True)
        state = _day_state(doctor_id, day)
        begin = _minutes(start)
        slot = next((s for s in cut_slots(state["windows"], doctor.slot_minutes) if s[0] == begin), None)
        if slot is None:
            raise ValidationFailed(
                "This is not the start of a slot in your availability.",
                code="not_a_slot",
                fields={"start": ["Choose the start of a slot inside one of your windows."]},
            )
        if rules.has_started(day, start):
            raise Conflict("This slot has already started.", code="slot_in_past")
        existing = db.session.execute(
            select(BlockedSlot).where(
                BlockedSlot.doctor_id == doctor_id, BlockedSlot.date == day, BlockedSlot.start_time == start
            )
        ).scalar_one_or_none()
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
            _notify_waitlist(doctor_id, day)
            return False
        if any(a_start < slot[1] and a_end > slot[0] for a_start, a_end, _id in state["taken"]):
            raise Conflict("This slot is booked; cancel the appointment first.", code="slot_booked")
        db.session.add(BlockedSlot(doctor_id=doctor_id, date=day, start_time=start))
        db.session.flush()
        return True

    with unit_of_work():
        blocked = run()
    _invalidate_days([(doctor_id, day)])
    return {"date": day, "start": start, "blocked": blocked}
