"""Scheduling rules (SPEC §4): availability, slots, booking, reschedule, cancel, status, waitlist and calendars.

Every write runs in one unit of work (`hms.common.uow.unit_of_work`: BEGIN IMMEDIATE on SQLite, a patient row
lock on PostgreSQL), so two requests of one patient cannot both pass the overlap checks; the one-appointment-per-
slot rule is the partial unique index `uq_appointment_active_slot`. Slot caches are invalidated after the commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, date, time, timedelta
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, case, delete, exists, extract, func, select
from sqlalchemy.orm import joinedload

from hms.common.auth import get_or_404
from hms.common.cache import get_or_set, invalidate, slots_namespace
from hms.common.clock import local_datetime, now_utc, today_local, utcnow_naive
from hms.common.db import is_sqlite
from hms.common.errors import Conflict, Forbidden, NotFound, PatientBusy, SlotTaken, TooManyBookings, ValidationFailed
from hms.common.names import doctor_display_name
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AvailabilityWindow,
    BlockedSlot,
    Doctor,
    Patient,
    Role,
    Treatment,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from hms.notifications import service as notifications
from hms.scheduling import rules

BOOKED = AppointmentStatus.BOOKED.value
COMPLETED = AppointmentStatus.COMPLETED.value
CANCELLED = AppointmentStatus.CANCELLED.value
NO_SHOW = AppointmentStatus.NO_SHOW.value
WAITLIST_NOTIFY_COUNT = 3
AVAILABILITY_CHANGED = "Doctor's availability changed"


# ---- small helpers -------------------------------------------------------------------------------------------


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _hhmm(at: time) -> str:
    return at.strftime("%H:%M")


def _horizon() -> int:
    """The patients' booking horizon (rules.booking_horizon_days)."""
    return rules.booking_horizon_days(Role.PATIENT.value)


def _lock_doctors(*doctor_ids: int, exclusive: bool = False) -> None:
    """PostgreSQL: availability changes (exclusive) and bookings (shared) of one doctor serialise on its row."""
    if is_sqlite() or not doctor_ids:
        return
    statement = select(Doctor.id).where(Doctor.id.in_(sorted(set(doctor_ids)))).order_by(Doctor.id)
    db.session.execute(statement.with_for_update(read=not exclusive)).all()


# ---- day state and slots -------------------------------------------------------------------------------------


def cut_slots(windows: Iterable[tuple[int, int]], slot_minutes: int) -> list[tuple[int, int]]:
    """Windows (in minutes of the day) cut into slots; a trailing partial slot is dropped."""
    slots = []
    for start, end in sorted(windows):
        moment = start
        while moment + slot_minutes <= end:
            slots.append((moment, moment + slot_minutes))
            moment += slot_minutes
    return slots


def _empty_state(doctor: Doctor | None = None, *, active: bool = False, slot_minutes: int = 30) -> dict[str, Any]:
    return {"active": active, "slot_minutes": slot_minutes, "windows": [], "taken": [], "blocked": []}


def _load_states(*, doctor_ids: list[int] | None, date_from: date, date_to: date) -> dict[tuple[int, date], dict]:
    """The raw (time-independent) state of doctors' days in four queries: doctors, windows, appointments, blocks.

    With doctor_ids None, every active doctor with a window in the range is loaded.
    """
    window_query = select(
        AvailabilityWindow.doctor_id,
        AvailabilityWindow.date,
        AvailabilityWindow.start_time,
        AvailabilityWindow.end_time,
    ).where(AvailabilityWindow.date.between(date_from, date_to))
    if doctor_ids is not None:
        window_query = window_query.where(AvailabilityWindow.doctor_id.in_(doctor_ids))
    windows = db.session.execute(window_query).all()
    ids = sorted(set(doctor_ids if doctor_ids is not None else [row.doctor_id for row in windows]))
    if not ids:
        return {}
    doctors = db.session.execute(
        select(Doctor.id, Doctor.slot_minutes, rules.active_doctor_condition().label("active"))
        .join(User, User.id == Doctor.user_id)
        .where(Doctor.id.in_(ids))
    ).all()
    states: dict[tuple[int, date], dict] = {}
    info = {row.id: (bool(row.active), row.slot_minutes) for row in doctors}
    day = date_from
    while day <= date_to:
        for doctor_id, (active, slot_minutes) in info.items():
            states[(doctor_id, day)] = _empty_state(active=active, slot_minutes=slot_minutes)
        day += timedelta(days=1)
    for row in windows:
        if (row.doctor_id, row.date) in states:
            states[(row.doctor_id, row.date)]["windows"].append([_minutes(row.start_time), _minutes(row.end_time)])
    appointments = db.session.execute(
        select(
            Appointment.id, Appointment.doctor_id, Appointment.date, Appointment.start_time, Appointment.end_time
        ).where(
            Appointment.doctor_id.in_(ids),
            Appointment.date.between(date_from, date_to),
            Appointment.status.in_(ACTIVE_STATUSES),
        )
    ).all()
    for taken in appointments:
        states[(taken.doctor_id, taken.date)]["taken"].append(
            [_minutes(taken.start_time), _minutes(taken.end_time), taken.id]
        )
    blocked = db.session.execute(
        select(BlockedSlot.doctor_id, BlockedSlot.date, BlockedSlot.start_time).where(
            BlockedSlot.doctor_id.in_(ids), BlockedSlot.date.between(date_from, date_to)
        )
    ).all()
    for block in blocked:
        states[(block.doctor_id, block.date)]["blocked"].append(_minutes(block.start_time))
    for state in states.values():
        state["windows"].sort()
    return states


def _day_state(doctor_id: int, day: date) -> dict[str, Any]:
    return _load_states(doctor_ids=[doctor_id], date_from=day, date_to=day).get((doctor_id, day)) or _empty_state()


def _slots(state: dict[str, Any], *, day: date, horizon_days: int, detail: bool = False) -> list[dict[str, Any]]:
    """Slots of a day's state, with availability decided against the current time (never cached)."""
    if not state["active"]:
        return []
    now = rules.local_now()
    bookable_day = now.date() <= day <= now.date() + timedelta(days=horizon_days)
    blocked = set(state["blocked"])
    slots = []
    for start, end in cut_slots(state["windows"], state["slot_minutes"]):
        appointment_id = next(
            (a_id for a_start, a_end, a_id in state["taken"] if a_start < end and a_end > start), None
        )
        is_blocked = start in blocked
        started = rules.has_started(day, _time(start), now=now)
        slot: dict[str, Any] = {
            "start": _time(start),
            "end": _time(end),
            "available": bookable_day and not started and not is_blocked and appointment_id is None,
        }
        if detail:
            state_name = "booked" if appointment_id else "blocked" if is_blocked else "past" if started else "free"
            slot.update(state=state_name, blocked=is_blocked, appointment_id=appointment_id)
        slots.append(slot)
    return slots


def _patient_conflicts(
    slots: list[dict[str, Any]], *, patient_id: int, doctor_id: int, day: date, moving: int | None = None
) -> None:
    """Mark the slots this patient could not take: busy elsewhere then, or already seeing this doctor that day.

    The visit being moved (`moving`) is left out, as reschedule() leaves it out: it gives its slot up.
    """
    query = select(Appointment.doctor_id, Appointment.start_time, Appointment.end_time).where(
        Appointment.patient_id == patient_id,
        Appointment.date == day,
        Appointment.status.in_(ACTIVE_STATUSES),
    )
    if moving is not None:
        query = query.where(Appointment.id != moving)
    mine = db.session.execute(query).all()
    same_doctor = any(row.doctor_id == doctor_id for row in mine)
    for slot in slots:
        conflict = None
        if same_doctor:
            conflict = "already_booked_with_doctor"
        elif any(row.start_time < slot["end"] and row.end_time > slot["start"] for row in mine):
            conflict = "patient_busy"
        slot["conflict"] = conflict


def get_slots(
    *, doctor_id: int, day: date, patient_id: int | None = None, moving: int | None = None
) -> dict[str, Any]:
    """Public slots of a doctor's day; the raw day is cached, the time-dependent part is applied on every read.

    For a signed-in patient each slot also says whether the booking rules would refuse it for them (`conflict`).
    """
    if db.session.get(Doctor, doctor_id) is None:
        raise NotFound(f"Doctor {doctor_id} was not found.")
    state = get_or_set(slots_namespace(doctor_id, day), "state", lambda: _day_state(doctor_id, day))
    slots = _slots(state, day=day, horizon_days=_horizon())
    if patient_id is not None:
        _patient_conflicts(slots, patient_id=patient_id, doctor_id=doctor_id, day=day, moving=moving)
    return {"date": day, "slots": slots}


SUMMARY_MAX_DAYS = 62


def availability_summary(*, doctor_id: int, date_from: date, date_to: date) -> dict[str, Any]:
    """Free-slot counts per day for the booking calendar, from the same per-day cache as the slots.

    Days missing from the cache are loaded together (four queries for the range), then cached one by one.
    """
    if db.session.get(Doctor, doctor_id) is None:
        raise NotFound(f"Doctor {doctor_id} was not found.")
    loaded: dict[tuple[int, date], dict] = {}

    def load(day: date) -> dict[str, Any]:
        if not loaded:
            loaded.update(_load_states(doctor_ids=[doctor_id], date_from=date_from, date_to=date_to))
        return loaded.get((doctor_id, day)) or _empty_state()

    horizon = _horizon()
    days = []
    day = date_from
    while day <= date_to:
        state: dict[str, Any] = get_or_set(slots_namespace(doctor_id, day), "state", partial(load, day))
        slots = _slots(state, day=day, horizon_days=horizon)
        days.append({"date": day, "free": sum(1 for slot in slots if slot["available"]), "slots": len(slots)})
        day += timedelta(days=1)
    return {"doctor_id": doctor_id, "from": date_from, "to": date_to, "days": days}


def doctor_ids_available_on(*, day: date) -> set[int]:
    """Ids of active doctors with at least one bookable slot on a day (the directory's "free on date" filter)."""
    today = today_local()
    if not today <= day <= today + timedelta(days=_horizon()):
        return set()
    states = _load_states(doctor_ids=None, date_from=day, date_to=day)
    return {
        doctor_id
        for (doctor_id, _day), state in states.items()
        if any(slot["available"] for slot in _slots(state, day=day, horizon_days=_horizon()))
    }


def _invalidate_days(pairs: Iterable[tuple[int, date]]) -> None:
    invalidate(*sorted({slots_namespace(doctor_id, day) for doctor_id, day in pairs}))


# ---- serialising appointments --------------------------------------------------------------------------------


def appointment_dict(appointment: Appointment, *, has_treatment: bool | None = None) -> dict[str, Any]:
    """The API's Appointment shape, from an appointment loaded with its patient, doctor and department."""
    doctor = appointment.doctor
    department = doctor.department if doctor else None
    if has_treatment is None:
        has_treatment = appointment.treatment is not None
    return {
        "id": appointment.id,
        "patient_id": appointment.patient_id,
        "patient_name": appointment.patient.full_name if appointment.patient else None,
        "doctor_id": appointment.doctor_id,
        "doctor_name": doctor.display_name if doctor else None,
        "department_id": doctor.department_id if doctor else None,
        "department_name": department.name if department else None,
        "date": appointment.date,
        "start_time": appointment.start_time,
        "end_time": appointment.end_time,
        "status": appointment.status,
        "reason": appointment.reason,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
        "cancelled_by": appointment.cancelled_by,
        "cancel_reason": appointment.cancel_reason,
        "cancelled_at": appointment.cancelled_at,
        "rescheduled_from": appointment.rescheduled_from,
        "has_treatment": has_treatment,
        **rules.time_fields(appointment),
    }


def appointment_query() -> Select:
    """Appointments with their people and department in one query, plus whether a treatment exists."""
    has_treatment = exists().where(Treatment.appointment_id == Appointment.id).label("has_treatment")
    return select(Appointment, has_treatment).options(
        joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department)
    )


def page_of_appointments(statement: Select, *, page: int, per_page: int) -> dict[str, Any]:
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    result["items"] = [appointment_dict(row[0], has_treatment=bool(row[1])) for row in result["items"]]
    return result


def _list(statement: Select) -> list[dict[str, Any]]:
    return [appointment_dict(row[0], has_treatment=bool(row[1])) for row in db.session.execute(statement)]


def _load(appointment_id: int, *conditions: Any) -> Appointment:
    """One appointment (with people) matching conditions, else 404: another user's appointment is not revealed."""
    appointment = db.session.execute(
        select(Appointment)
        .options(joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department))
        .where(Appointment.id == appointment_id, *conditions)
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment {appointment_id} was not found.")
    return appointment


def _when(appointment: Appointment) -> str:
    return f"{appointment.date:%A %d %B %Y} at {appointment.start_time:%H:%M}"


def _notify(user: User, kind: str, subject: str, body: str, appointment: Appointment, **data: Any) -> None:
    notifications.queue(
        user=user,
        kind=kind,
        subject=subject,
        body=body,
        appointment_id=appointment.id,
        data={"appointment_id": appointment.id, "date": appointment.date.isoformat(), **data},
    )


# ---- booking -------------------------------------------------------------------------------------------------


def _check_time(day: date, start: time, horizon_days: int) -> None:
    now = rules.local_now()
    if rules.has_started(day, start, now=now):
        raise Conflict("This slot has already started or is in the past.", code="slot_in_past")
    if day > now.date() + timedelta(days=horizon_days):
        raise ValidationFailed(
            f"Appointments can be booked up to {horizon_days} days ahead.",
            code="beyond_horizon",
            fields={"date": [f"Choose a date within {horizon_days} days."]},
        )


def _place(
    *,
    patient: Patient,
    doctor: Doctor,
    day: date,
    start: time,
    reason: str | None,
    horizon_days: int,
    rescheduled_from: int | None = None,
) -> Appointment:
    """Check every booking rule inside the caller's write transaction and insert the appointment."""
    if not rules.doctor_is_active(doctor):
        raise Conflict("This doctor is not taking appointments.", code="doctor_unavailable")
    _check_time(day, start, horizon_days)
    state = _day_state(doctor.id, day)
    begin = _minutes(start)
    slot = next((s for s in cut_slots(state["windows"], doctor.slot_minutes) if s[0] == begin), None)
    if slot is None or begin in state["blocked"]:
        raise Conflict("The doctor does not offer this slot.", code="slot_unavailable")
    if any(a_start < slot[1] and a_end > slot[0] for a_start, a_end, _id in state["taken"]):
        raise SlotTaken()
    end = _time(slot[1])
    mine = db.session.execute(
        select(Appointment.doctor_id, Appointment.start_time, Appointment.end_time).where(
            Appointment.patient_id == patient.id,
            Appointment.date == day,
            Appointment.status.in_(ACTIVE_STATUSES),
        )
    ).all()
    if any(row.doctor_id == doctor.id for row in mine):
        raise Conflict(
            "You already have an appointment with this doctor on that day.", code="already_booked_with_doctor"
        )
    if any(row.start_time < end and row.end_time > start for row in mine):
        raise PatientBusy("You already have another appointment at this time.")
    appointment = Appointment(
        patient_id=patient.id,
        doctor_id=doctor.id,
        date=day,
        start_time=start,
        end_time=end,
        status=BOOKED,
        reason=reason,
        rescheduled_from=rescheduled_from,
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def _check_booking_cap(patient_id: int) -> None:
    """A patient holds at most HMS_MAX_ACTIVE_BOOKINGS upcoming bookings, so no one account hoards a doctor's day."""
    cap = int(current_app.config["HMS"].max_active_bookings)
    held = db.session.execute(
        select(func.count(Appointment.id)).where(
            Appointment.patient_id == patient_id,
            rules.upcoming_condition(),
        )
    ).scalar_one()
    if held >= cap:
        raise TooManyBookings(
            f"You already have {held} upcoming appointments, the most one patient may hold. "
            "Cancel one or wait until after a visit to book another."
        )


def book(
    *, patient_id: int, doctor_id: int, day: date, start: time, reason: str | None, by_admin: bool = False
) -> dict[str, Any]:
    """Book an available slot for a patient; exactly one of many racing requests wins it.

    A patient's own booking obeys the booking cap and horizon; an admin booking for a patient may exceed the cap.
    """

    def run() -> Appointment:
        patient = db.session.get(Patient, patient_id)
        if patient is None or patient.archived_at is not None:
            raise NotFound(f"Patient {patient_id} was not found.")
        doctor = db.session.get(Doctor, doctor_id)
        if doctor is None or doctor.archived_at is not None:
            raise NotFound(f"Doctor {doctor_id} was not found.")
        if not by_admin:
            _check_booking_cap(patient_id)
        _lock_doctors(doctor.id)
        appointment = _place(
            patient=patient,
            doctor=doctor,
            day=day,
            start=start,
            reason=reason,
            horizon_days=rules.booking_horizon_days(Role.ADMIN.value if by_admin else Role.PATIENT.value),
        )
        _notify(
            patient.user,
            "booking_confirmed",
            f"Appointment confirmed: {_when(appointment)}",
            f"Your appointment with {doctor.display_name} on {_when(appointment)} is confirmed.",
            appointment,
        )
        return appointment

    with unit_of_work(lock_patient_id=patient_id):
        appointment = run()
    _invalidate_days([(doctor_id, day)])
    return appointment_dict(_load(appointment.id))


def _cancel(appointment: Appointment, *, role: str, user: User | None, reason: str | None) -> None:
    appointment.status = CANCELLED
    appointment.cancelled_by = role
    appointment.cancelled_by_user_id = user.id if user else None
    appointment.cancelled_at = utcnow_naive()
    appointment.cancel_reason = reason


def _notify_waitlist(doctor_id: int, day: date) -> list[int]:
    """When a doctor's day has a bookable slot again, tell the first waiting patients (inside the transaction)."""
    db.session.flush()
    state = _day_state(doctor_id, day)
    if not any(slot["available"] for slot in _slots(state, day=day, horizon_days=_horizon())):
        return []
    entries = (
        db.session.execute(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.doctor_id == doctor_id,
                WaitlistEntry.date == day,
                WaitlistEntry.status == WaitlistStatus.WAITING.value,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .limit(WAITLIST_NOTIFY_COUNT)
        )
        .scalars()
        .all()
    )
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


# ---- reschedule and cancel -----------------------------------------------------------------------------------


def _own_patient_id(actor: User) -> int:
    if actor.patient is None:
        raise Forbidden("Only patients may do this.")
    return actor.patient.id


def _owner_condition(role: str, actor: User) -> tuple[Any, ...]:
    if role == "patient":
        return (Appointment.patient_id == _own_patient_id(actor),)
    if role == "doctor":
        if actor.doctor is None:
            raise Forbidden("Only doctors may do this.")
        return (Appointment.doctor_id == actor.doctor.id,)
    return ()


def reschedule(*, actor: User, appointment_id: int, day: date, start: time) -> dict[str, Any]:
    """Move a booked appointment to another slot atomically: if the new slot cannot be had, the old one stays."""
    role = actor.role
    if role == "patient":
        patient_id = _own_patient_id(actor)
    else:
        found = db.session.execute(select(Appointment.patient_id).where(Appointment.id == appointment_id)).scalar()
        if found is None:
            raise NotFound(f"Appointment {appointment_id} was not found.")
        patient_id = found
    moved: dict[str, Any] = {}

    def run() -> Appointment:
        old = _load(appointment_id, *_owner_condition(role, actor))
        if old.status != BOOKED:
            raise Conflict(
                f"A {old.status.replace('_', ' ')} appointment cannot be rescheduled.", code="invalid_transition"
            )
        if rules.has_started(old.date, old.start_time):
            raise Conflict("This appointment has already started.", code="already_started")
        if (old.date, old.start_time) == (day, start):
            raise Conflict("The appointment is already at this time.", code="same_slot")
        _lock_doctors(old.doctor_id)
        moved.update(doctor_id=old.doctor_id, old_day=old.date)
        _cancel(old, role=role, user=actor, reason=rules.RESCHEDULED_REASON)
        db.session.flush()
        new = _place(
            patient=old.patient,
            doctor=old.doctor,
            day=day,
            start=start,
            reason=old.reason,
            horizon_days=rules.booking_horizon_days(role),
            rescheduled_from=old.id,
        )
        _notify(
            old.patient.user,
            "appointment_rescheduled",
            f"Appointment moved to {_when(new)}",
            f"Your appointment with {old.doctor.display_name} on {_when(old)} has moved to {_when(new)}.",
            new,
            previous_appointment_id=old.id,
        )
        _notify_waitlist(old.doctor_id, old.date)
        if role == "admin":
            from hms.audit.service import record

            record(
                action="appointment.reschedule",
                entity="appointment",
                entity_id=old.id,
                patient_id=old.patient_id,
                details={"from": f"{old.date} {old.start_time:%H:%M}", "to": f"{day} {start:%H:%M}", "new_id": new.id},
            )
        return new

    with unit_of_work(lock_patient_id=patient_id):
        new = run()
    _invalidate_days([(moved["doctor_id"], moved["old_day"]), (moved["doctor_id"], day)])
    return appointment_dict(_load(new.id))


def cancel(*, actor: User, appointment_id: int, reason: str | None) -> dict[str, Any]:
    """Cancel a booked appointment (patient: own, before it starts; doctor: own; admin: any) and free its slot."""
    role = actor.role
    freed: dict[str, Any] = {}

    def run() -> Appointment:
        appointment = _load(appointment_id, *_owner_condition(role, actor))
        if appointment.status != BOOKED:
            raise Conflict(
                f"A {appointment.status.replace('_', ' ')} appointment cannot be cancelled.", code="invalid_transition"
            )
        if role == "patient" and rules.has_started(appointment.date, appointment.start_time):
            raise Conflict(
                "This appointment has already started; it can no longer be cancelled.", code="already_started"
            )
        _cancel(appointment, role=role, user=actor, reason=reason)
        by = {"patient": "you", "doctor": appointment.doctor.display_name, "admin": "the hospital"}[role]
        tail = f" Reason: {reason}" if reason else ""
        _notify(
            appointment.patient.user,
            "appointment_cancelled",
            f"Appointment cancelled: {_when(appointment)}",
            f"Your appointment with {appointment.doctor.display_name} on {_when(appointment)} "
            f"was cancelled by {by}.{tail}",
            appointment,
            cancelled_by=role,
        )
        if role in ("patient", "admin"):
            _notify(
                appointment.doctor.user,
                "appointment_cancelled",
                f"Appointment cancelled: {appointment.patient.full_name}, {_when(appointment)}",
                f"{appointment.patient.full_name}'s appointment on {_when(appointment)} was cancelled.{tail}",
                appointment,
                cancelled_by=role,
            )
        _notify_waitlist(appointment.doctor_id, appointment.date)
        if role == "admin":
            from hms.audit.service import record

            record(
                action="appointment.cancel",
                entity="appointment",
                entity_id=appointment.id,
                patient_id=appointment.patient_id,
                details={"reason": reason},
            )
        freed.update(doctor_id=appointment.doctor_id, day=appointment.date)
        return appointment

    with unit_of_work(lock_patient_id=_own_patient_id(actor) if role == "patient" else None):
        appointment = run()
    _invalidate_days([(freed["doctor_id"], freed["day"])])
    return appointment_dict(_load(appointment.id))


def set_status(*, doctor: Doctor, appointment_id: int, status: str) -> dict[str, Any]:
    """Complete or mark no-show: only the appointment's doctor, only a booked one, not before its start."""

    def run() -> Appointment:
        appointment = _load(appointment_id, Appointment.doctor_id == doctor.id)
        if appointment.status != BOOKED:
            raise Conflict(
                f"A {appointment.status.replace('_', ' ')} appointment cannot change its status.",
                code="invalid_transition",
            )
        if not rules.has_started(appointment.date, appointment.start_time):
            raise Conflict("The appointment has not started yet.", code="too_early")
        if status == COMPLETED:
            treatment = db.session.execute(
                select(Treatment).where(Treatment.appointment_id == appointment.id)
            ).scalar_one_or_none()
            diagnosis = treatment.diagnosis if treatment else None
            if not (diagnosis or "").strip():
                raise Conflict(
                    "Record the treatment with a diagnosis before completing this visit.", code="treatment_required"
                )
            appointment.status = status
            appointment.completed_at = utcnow_naive()
            # Clinical text never leaves through e-mail, SMS or webhooks: the message points to the portal.
            portal = current_app.config["HMS"].public_url.rstrip("/") + "/patient/history"
            _notify(
                appointment.patient.user,
                "visit_summary",
                "Your visit summary is ready",
                f"Thank you for visiting {doctor.display_name} on {_when(appointment)}. "
                f"Your visit summary is ready in the portal: {portal}",
                appointment,
            )
        else:
            appointment.status = status
        return appointment

    with unit_of_work():
        appointment = run()
    # Completed still occupies the slot; a no-show's time has passed. The cached state holds statuses: refresh it.
    _invalidate_days([(appointment.doctor_id, appointment.date)])
    return appointment_dict(_load(appointment.id))


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
    from hms.audit.service import record

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


# ---- lists and dashboards ------------------------------------------------------------------------------------


def list_patient_appointments(
    *,
    patient_id: int,
    page: int,
    per_page: int,
    status: str | None = None,
    upcoming: bool | None = None,
    phase: str | None = None,
) -> dict[str, Any]:
    """A patient's own appointments by phase (rules.py): upcoming soonest first, the others newest first.

    `upcoming=false` (the older spelling) is everything that is not upcoming.
    """
    statement = appointment_query().where(Appointment.patient_id == patient_id)
    if status:
        statement = statement.where(Appointment.status == status)
    if phase is None and upcoming is not None:
        phase = rules.Phase.UPCOMING if upcoming else None
        if not upcoming:
            statement = statement.where(~rules.upcoming_condition())
    if phase is not None:
        statement = statement.where(rules.phase_condition(phase))
    if phase == rules.Phase.UPCOMING:
        statement = statement.order_by(Appointment.date, Appointment.start_time, Appointment.id)
    else:
        statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    return page_of_appointments(statement, page=page, per_page=per_page)


def get_patient_appointment(*, patient_id: int, appointment_id: int) -> dict[str, Any]:
    """One of the patient's own appointments."""
    return appointment_dict(_load(appointment_id, Appointment.patient_id == patient_id))


def _date_filters(
    statement: Select, *, status: str | None, date_from: date | None, date_to: date | None, day: date | None = None
) -> Select:
    if status:
        statement = statement.where(Appointment.status == status)
    if day:
        statement = statement.where(Appointment.date == day)
    if date_from:
        statement = statement.where(Appointment.date >= date_from)
    if date_to:
        statement = statement.where(Appointment.date <= date_to)
    return statement


def list_doctor_appointments(
    *,
    doctor_id: int,
    page: int,
    per_page: int,
    date: date | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """The doctor's own appointments in schedule order."""
    statement = _date_filters(
        appointment_query().where(Appointment.doctor_id == doctor_id),
        status=status,
        date_from=date_from,
        date_to=date_to,
        day=date,
    ).order_by(Appointment.date, Appointment.start_time, Appointment.id)
    return page_of_appointments(statement, page=page, per_page=per_page)


def list_all_appointments(
    *,
    page: int,
    per_page: int,
    status: str | None = None,
    doctor_id: int | None = None,
    patient_id: int | None = None,
    department_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    order: str = "newest",
) -> dict[str, Any]:
    """Every appointment for the admin, filtered, newest first (or soonest first for today and upcoming)."""
    statement = _date_filters(appointment_query(), status=status, date_from=date_from, date_to=date_to)
    if doctor_id is not None:
        statement = statement.where(Appointment.doctor_id == doctor_id)
    if patient_id is not None:
        statement = statement.where(Appointment.patient_id == patient_id)
    if department_id is not None:
        statement = statement.where(
            Appointment.doctor_id.in_(select(Doctor.id).where(Doctor.department_id == department_id))
        )
    if order == "soonest":
        statement = statement.order_by(Appointment.date, Appointment.start_time, Appointment.id)
    else:
        statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    return page_of_appointments(statement, page=page, per_page=per_page)


def doctor_appointment_history(
    *, doctor_id: int, page: int, per_page: int, status: str | None = None, date_from=None, date_to=None
) -> dict[str, Any]:
    """The admin's view of one doctor's appointment history (audited as an admin read)."""
    from hms.audit.service import record

    with unit_of_work():
        if db.session.get(Doctor, doctor_id) is None:
            raise NotFound(f"Doctor {doctor_id} was not found.")
        result = list_all_appointments(
            page=page, per_page=per_page, status=status, doctor_id=doctor_id, date_from=date_from, date_to=date_to
        )
        record(action="appointments.read", entity="doctor", entity_id=doctor_id, details={"page": page})
    return result


def _month_keys(count: int) -> list[str]:
    today = today_local()
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def _month_start(months_back: int) -> date:
    key = _month_keys(months_back + 1)[0]
    return date(int(key[:4]), int(key[5:]), 1)


def doctor_dashboard(*, doctor_id: int) -> dict[str, Any]:
    """Today, the next 7 days, counts and six months of outcomes, from aggregate queries."""
    today = today_local()
    mine = Appointment.doctor_id == doctor_id
    today_list = _list(
        appointment_query()
        .where(mine, Appointment.date == today, Appointment.status != CANCELLED)
        .order_by(Appointment.start_time)
    )
    upcoming_list = _list(
        appointment_query()
        .where(mine, rules.upcoming_condition())
        .where(Appointment.date <= today + timedelta(days=7))
        .order_by(Appointment.date, Appointment.start_time)
    )
    month_start = today.replace(day=1)
    counts = db.session.execute(
        select(
            func.count(case((and_(Appointment.date == today, Appointment.status != CANCELLED), 1))),
            func.count(
                case(
                    (
                        and_(rules.upcoming_condition(), Appointment.date <= today + timedelta(days=7)),
                        1,
                    )
                )
            ),
            func.count(case((and_(Appointment.status == COMPLETED, Appointment.date >= month_start), 1))),
            func.count(func.distinct(case((Appointment.status != CANCELLED, Appointment.patient_id)))),
        ).where(mine)
    ).one()
    first = _month_start(5)
    year, month = extract("year", Appointment.date), extract("month", Appointment.date)
    rows = db.session.execute(
        select(year, month, Appointment.status, func.count())
        .where(mine, Appointment.date >= first, Appointment.date <= today)
        .group_by(year, month, Appointment.status)
    ).all()
    monthly = {key: {"month": key, "completed": 0, "cancelled": 0, "no_show": 0} for key in _month_keys(6)}
    for y, m, status, count in rows:
        key = f"{int(y):04d}-{int(m):02d}"
        if key in monthly and status in monthly[key]:
            monthly[key][status] = count
    return {
        "today": today_list,
        "upcoming": upcoming_list,
        "counts": {
            "today": counts[0],
            "upcoming": counts[1],
            "completed_this_month": counts[2],
            "patients": counts[3],
        },
        "monthly": list(monthly.values()),
    }


def patient_dashboard(*, patient_id: int) -> dict[str, Any]:
    """Upcoming visits, counts and a year of completed visits per month."""
    mine = Appointment.patient_id == patient_id
    upcoming = _list(
        appointment_query()
        .where(mine, rules.upcoming_condition())
        .order_by(Appointment.date, Appointment.start_time)
        .limit(10)
    )
    counts = db.session.execute(
        select(
            func.count(case((rules.upcoming_condition(), 1))),
            func.count(case((Appointment.status == COMPLETED, 1))),
        ).where(mine)
    ).one()
    year, month = extract("year", Appointment.date), extract("month", Appointment.date)
    rows = db.session.execute(
        select(year, month, func.count())
        .where(mine, Appointment.status == COMPLETED, Appointment.date >= _month_start(11))
        .group_by(year, month)
    ).all()
    per_month = dict.fromkeys(_month_keys(12), 0)
    for y, m, count in rows:
        key = f"{int(y):04d}-{int(m):02d}"
        if key in per_month:
            per_month[key] = count
    return {
        "upcoming": upcoming,
        "visits_per_month": [{"month": key, "count": count} for key, count in per_month.items()],
        "counts": {"upcoming": counts[0], "completed": counts[1]},
    }


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
    appointment = _load(appointment_id, Appointment.patient_id == patient_id)
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
    from hms.audit.service import record

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
