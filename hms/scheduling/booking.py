"""Booking, rescheduling, cancelling and the doctor's complete/no-show, with their race handling: the place checks,
the per-patient cap and the integrity mapping of the one-booking-per-slot index to a 409.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import cache
from typing import Any, cast

from flask import current_app
from sqlalchemy import CompoundSelect, Insert, Select, Table, bindparam, func, insert, literal, null, select, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from hms.audit.service import record
from hms.common.clock import utcnow_naive
from hms.common.errors import Conflict, Forbidden, NotFound, PatientBusy, SlotTaken, TooManyBookings, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    Doctor,
    Patient,
    Role,
    Treatment,
    User,
)
from hms.scheduling import rules
from hms.scheduling.appointments import _cancel, _load, _notify, _when, appointment_dict
from hms.scheduling.day_state import _day_state, _minutes
from hms.scheduling.slots import (
    BOOKED,
    COMPLETED,
    _invalidate_days,
    _lock_doctors,
    _patient_conflict,
    _patients_day_statement,
    _time,
    cut_slots,
)
from hms.scheduling.waitlist import _notify_waitlist

# Every write runs in one unit of work (`hms.common.uow.unit_of_work`: BEGIN IMMEDIATE on SQLite, a patient row
# lock on PostgreSQL), so two requests of one patient cannot both pass the overlap checks; the one-appointment-per-
# slot rule is the partial unique index `uq_appointment_active_slot`. Slot caches are invalidated after the commit.


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
    cap: int | None = None,
) -> Appointment:
    """Check every booking rule inside the caller's write transaction and insert the appointment.

    Whether the doctor takes appointments and how long their slots are come from the day's state, read here
    under the write lock: `doctor` may have been loaded before it, and only names the people in the answer.
    `cap`: the most upcoming bookings the patient may hold (a patient's own booking; None: no cap).
    """
    mine, held = _patients_day_and_holdings(patient.id, day)
    if cap is not None and held >= cap:
        raise TooManyBookings(
            f"You already have {held} upcoming appointments, the most one patient may hold. "
            "Cancel one or wait until after a visit to book another."
        )
    state = _day_state(doctor.id, day)
    if not state["active"]:
        raise Conflict("This doctor is not taking appointments.", code="doctor_unavailable")
    _check_time(day, start, horizon_days)
    if state.get("on_leave"):
        raise Conflict(f"{doctor.display_name} is on leave that day.", code="doctor_on_leave")
    begin = _minutes(start)
    slot = next((s for s in cut_slots(state["windows"], state["slot_minutes"]) if s[0] == begin), None)
    if slot is None or begin in state["blocked"]:
        raise Conflict("The doctor does not offer this slot.", code="slot_unavailable")
    if any(a_start < slot[1] and a_end > slot[0] for a_start, a_end, _id in state["taken"]):
        raise SlotTaken()
    end = _time(slot[1])
    conflict = _patient_conflict(mine, doctor_id=doctor.id, start=start, end=end)
    if conflict == "already_booked_with_doctor":
        raise Conflict(
            "You already have an appointment with this doctor on that day.", code="already_booked_with_doctor"
        )
    if conflict == "patient_busy":
        raise PatientBusy("You already have another appointment at this time.")
    now = utcnow_naive()
    values = {
        "patient_id": patient.id,
        "doctor_id": doctor.id,
        "date": day,
        "start_time": start,
        "end_time": end,
        "status": BOOKED,
        "reason": reason,
        "rescheduled_from": rescheduled_from,
        "created_at": now,
        "updated_at": now,
    }
    # A Core insert (the unique indexes still decide a race): an ORM add and flush cost more CPU than the rest of
    # the write. The object answers and names the messages; it stays out of the session (nothing to flush again).
    appointment = Appointment(id=db.session.execute(_insert_statement(), values).scalar_one(), **values)
    set_committed_value(appointment, "patient", patient)
    set_committed_value(appointment, "doctor", doctor)
    return appointment


@cache
def _insert_statement() -> Insert:
    table = cast(Table, Appointment.__table__)
    return insert(table).returning(table.c.id)


def _patients_day_and_holdings(patient_id: int, day: date) -> tuple[list[Any], int]:
    """The patient's active appointments that day (one visit a doctor a day, no overlap) and how many upcoming
    bookings they hold (the cap), in one statement inside the write transaction: the booking's checks read the
    patient once."""
    rows = db.session.execute(
        _patients_day_and_holdings_statement(), {"patient_id": patient_id, "day": day, **rules.moment_parameters()}
    ).all()
    return [row for row in rows if row.kind == "day"], next(row.id for row in rows if row.kind == "held")


@cache
def _patients_day_and_holdings_statement() -> CompoundSelect:
    """`_patients_day_statement` with one more row: the count of upcoming bookings, in the id column. Built once
    (the patient, day and moment are parameters); the day's rows come first, so the times read back typed."""
    held = select(func.count(Appointment.id), null(), null(), null(), literal("held").label("kind")).where(
        Appointment.patient_id == bindparam("patient_id"), rules.upcoming_condition_at_bound_moment()
    )
    return union_all(_patients_day_statement().add_columns(literal("day").label("kind")), held)


@cache
def _doctor_statement() -> Select:
    """The doctor to book, with the login (is the doctor active?) and the department (the answer names it)."""
    return (
        select(Doctor)
        .options(joinedload(Doctor.user), joinedload(Doctor.department))
        .where(Doctor.id == bindparam("doctor_id"))
    )


def book(
    *, patient_id: int, doctor_id: int, day: date, start: time, reason: str | None, by_admin: bool = False
) -> dict[str, Any]:
    """Book an available slot for a patient; exactly one of many racing requests wins it.

    A patient's own booking obeys the booking cap and horizon; an admin booking for a patient may exceed the cap.
    """

    # The doctor's names, read before the write lock (it never waits for them): whether they take appointments
    # is decided under the lock by `_place`, from the day's state. A statement built once, run with the id, skips
    # what session.get pays on every call to build its query from the options.
    doctor = db.session.execute(_doctor_statement(), {"doctor_id": doctor_id}).scalar_one_or_none()
    if doctor is None or doctor.archived_at is not None:
        raise NotFound(f"Doctor {doctor_id} was not found.")

    def run() -> dict[str, Any]:
        # session.get, not a statement built once: when the patient books for themself, their profile is still in
        # the session from the token check (hms.common.uow.remember_principal) and no statement runs at all.
        patient = db.session.get(Patient, patient_id, options=[joinedload(Patient.user)])
        if patient is None or patient.archived_at is not None:
            raise NotFound(f"Patient {patient_id} was not found.")
        _lock_doctors(doctor.id)
        appointment = _place(
            patient=patient,
            doctor=doctor,
            day=day,
            start=start,
            reason=reason,
            horizon_days=rules.booking_horizon_days(Role.ADMIN.value if by_admin else Role.PATIENT.value),
            cap=None if by_admin else int(current_app.config["HMS"].max_active_bookings),
        )
        _notify(
            patient.user,
            "booking_confirmed",
            f"Appointment confirmed: {_when(appointment)}",
            f"Your appointment with {doctor.display_name} on {_when(appointment)} is confirmed.",
            appointment,
        )
        # The answer comes from the rows at hand (no reload after the commit): a new booking has no treatment.
        return appointment_dict(appointment, has_treatment=False)

    with unit_of_work(lock_patient_id=patient_id, keep=(doctor, doctor.user, doctor.department)):
        result = run()
    _invalidate_days([(doctor_id, day)])
    return result


# ---- reschedule and cancel -----------------------------------------------------------------------------------


def _own_patient_id(actor: User) -> int:
    if actor.patient is None:
        raise Forbidden("Only patients may do this.")
    return actor.patient.id


def _owner(role: str, actor: User) -> tuple[int | None, int | None]:
    """Whose appointments this actor may touch, as `_load`'s (patient_id, doctor_id): a patient their own, a doctor
    theirs, an admin any."""
    if role == "patient":
        return _own_patient_id(actor), None
    if role == "doctor":
        if actor.doctor is None:
            raise Forbidden("Only doctors may do this.")
        return None, actor.doctor.id
    return None, None


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
        owner_patient_id, owner_doctor_id = _owner(role, actor)
        old = _load(appointment_id, patient_id=owner_patient_id, doctor_id=owner_doctor_id)
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
    # Before the write transaction, from the rows the token check loaded; the appointment's load below brings both
    # people's logins.
    owner_patient_id, owner_doctor_id = _owner(role, actor)

    def run() -> dict[str, Any]:
        appointment = _load(appointment_id, patient_id=owner_patient_id, doctor_id=owner_doctor_id, for_notices=True)
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
            record(
                action="appointment.cancel",
                entity="appointment",
                entity_id=appointment.id,
                patient_id=appointment.patient_id,
                details={"reason": reason},
            )
        freed.update(doctor_id=appointment.doctor_id, day=appointment.date)
        db.session.flush()
        return appointment_dict(appointment)  # from the row at hand, as flushed: no reload after the commit

    with unit_of_work(lock_patient_id=_own_patient_id(actor) if role == "patient" else None):
        result = run()
    _invalidate_days([(freed["doctor_id"], freed["day"])])
    return result


def set_status(*, doctor: Doctor, appointment_id: int, status: str) -> dict[str, Any]:
    """Complete or mark no-show: only the appointment's doctor, only a booked one, not before its start."""

    def run() -> Appointment:
        appointment = _load(appointment_id, doctor_id=doctor.id)
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
