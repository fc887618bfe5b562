"""Doctor leave: a date range on which a doctor sees no patients.

Recording leave (the doctor, or an admin for them) merges it with overlapping or touching leave, makes the days'
slots vanish from every listing (the day state carries `on_leave`, so the slot view, booking and the waitlist all
refuse those days), closes the waitlist of those days and tells each booked patient, offering the doctor's first
free slots after the leave (or the department's) with a one-click reschedule link to the SPA. The bookings stay
until the patient reschedules or cancels, so nobody loses a visit silently.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.auth import get_or_404
from hms.common.clock import today_local
from hms.common.errors import ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, Doctor, DoctorLeave, Patient, User, WaitlistEntry, WaitlistStatus
from hms.notifications import service as notifications
from hms.scheduling import rules
from hms.scheduling import slots as daystate
from hms.scheduling.appointments import _notify, _when

MAX_LEAVE_DAYS = 366
OFFERED_SLOTS = 3
SEARCH_DAYS = 14


def leave_dict(leave: DoctorLeave) -> dict[str, Any]:
    return {
        "id": leave.id,
        "doctor_id": leave.doctor_id,
        "doctor_name": leave.doctor.display_name if leave.doctor else None,
        "start_date": leave.start_date,
        "end_date": leave.end_date,
        "reason": leave.reason,
        "created_at": leave.created_at,
    }


def first_free_slots(*, doctor: Doctor, after: date, count: int = OFFERED_SLOTS) -> list[dict[str, Any]]:
    """The first free slots of the doctor after a date, else of the doctor's department colleagues."""
    start = max(after + timedelta(days=1), today_local())
    end = min(start + timedelta(days=SEARCH_DAYS), today_local() + timedelta(days=daystate._horizon()))
    if end < start:
        return []
    horizon = daystate._horizon()

    def search(doctor_ids: list[int]) -> list[dict[str, Any]]:
        names = {row.id: row for row in db.session.execute(select(Doctor).where(Doctor.id.in_(doctor_ids))).scalars()}
        states = daystate._load_states(doctor_ids=doctor_ids, date_from=start, date_to=end)
        found = []
        for (doctor_id, day), state in sorted(states.items(), key=lambda item: (item[0][1], item[0][0])):
            for slot in daystate._slots(state, day=day, horizon_days=horizon):
                if slot["available"]:
                    found.append(
                        {
                            "doctor_id": doctor_id,
                            "doctor_name": names[doctor_id].display_name,
                            "date": day,
                            "start": daystate._hhmm(slot["start"]),
                        }
                    )
        return sorted(found, key=lambda s: (s["date"], s["start"], s["doctor_id"]))[:count]

    offered = search([doctor.id])
    if not offered and doctor.department_id is not None:
        colleagues = db.session.execute(
            select(Doctor.id).where(Doctor.department_id == doctor.department_id, Doctor.id != doctor.id)
        ).scalars()
        ids = list(colleagues)
        offered = search(ids) if ids else []
    return offered


def _reschedule_link(appointment_id: int) -> str:
    base = current_app.config["HMS"].public_url.rstrip("/")
    return f"{base}/patient/appointments?reschedule={appointment_id}"


def record_leave(
    *, actor: User, doctor_id: int, start_date: date, end_date: date, reason: str | None = None
) -> dict[str, Any]:
    """Record leave (merged with overlapping or touching leave), close its days and tell the booked patients."""
    today = today_local()
    if start_date < today:
        raise ValidationFailed("Leave cannot start in the past.", fields={"start_date": ["Choose today or later."]})
    if end_date < start_date:
        raise ValidationFailed(fields={"end_date": ["The last day must not be before the first."]})
    if (end_date - start_date).days >= MAX_LEAVE_DAYS:
        raise ValidationFailed(fields={"end_date": [f"Record at most {MAX_LEAVE_DAYS} days at a time."]})
    told: list[int] = []
    with unit_of_work():
        doctor = get_or_404(Doctor, doctor_id, f"Doctor {doctor_id} was not found.")
        daystate._lock_doctors(doctor_id, exclusive=True)  # bookings of this doctor wait until the leave is in place
        touching = (
            db.session.execute(
                select(DoctorLeave).where(
                    DoctorLeave.doctor_id == doctor_id,
                    DoctorLeave.start_date <= end_date + timedelta(days=1),
                    DoctorLeave.end_date >= start_date - timedelta(days=1),
                )
            )
            .scalars()
            .all()
        )
        first = min([start_date, *(leave.start_date for leave in touching)])
        last = max([end_date, *(leave.end_date for leave in touching)])
        reasons = [leave.reason for leave in touching if leave.reason] + ([reason] if reason else [])
        for leave in touching:
            db.session.delete(leave)
        merged = DoctorLeave(
            doctor_id=doctor_id,
            start_date=first,
            end_date=last,
            reason="; ".join(dict.fromkeys(reasons)) or None,
            created_by_user_id=actor.id,
        )
        db.session.add(merged)
        db.session.flush()
        closed = (
            db.session.execute(
                select(WaitlistEntry).where(
                    WaitlistEntry.doctor_id == doctor_id,
                    WaitlistEntry.date.between(start_date, end_date),
                    WaitlistEntry.status == WaitlistStatus.WAITING.value,
                )
            )
            .scalars()
            .all()
        )
        for entry in closed:
            entry.status = WaitlistStatus.CANCELLED.value
            patient = get_or_404(Patient, entry.patient_id)
            notifications.queue(
                user=patient.user,
                kind="waitlist_closed",
                subject=f"{doctor.display_name} is on leave on {entry.date:%d %b %Y}",
                body=f"{doctor.display_name} is on leave on {entry.date:%A %d %B %Y}, so the waitlist for that day "
                "is closed. Please choose another day or doctor.",
                data={"doctor_id": doctor_id, "date": entry.date.isoformat(), "waitlist_entry_id": entry.id},
            )
        booked = (
            db.session.execute(
                select(Appointment)
                .options(joinedload(Appointment.patient).joinedload(Patient.user))
                .where(
                    Appointment.doctor_id == doctor_id,
                    Appointment.status == daystate.BOOKED,
                    Appointment.date.between(start_date, end_date),
                    ~rules.has_started_condition(rules.local_now()),
                )
                .order_by(Appointment.date, Appointment.start_time)
            )
            .scalars()
            .all()
        )
        offered = first_free_slots(doctor=doctor, after=last) if booked else []
        choices = "; ".join(f"{s['doctor_name']} on {s['date']:%a %d %b} at {s['start']}" for s in offered)
        for appointment in booked:
            link = _reschedule_link(appointment.id)
            _notify(
                appointment.patient.user,
                "doctor_on_leave",
                f"{doctor.display_name} is on leave: please move your appointment of {_when(appointment)}",
                f"{doctor.display_name} is on leave from {first:%d %b %Y} to {last:%d %b %Y}, so your appointment on "
                f"{_when(appointment)} cannot take place. "
                + (f"The first free times: {choices}. " if offered else "")
                + f"Reschedule in one click: {link} (or cancel it there).",
                appointment,
                reschedule_url=link,
                offered=[{**s, "date": s["date"].isoformat()} for s in offered],
            )
            told.append(appointment.id)
        record(
            action="doctor.leave",
            entity="doctor",
            entity_id=doctor_id,
            actor=actor,
            details={
                "leave_id": merged.id,
                "start_date": first.isoformat(),
                "end_date": last.isoformat(),
                "merged": [leave.id for leave in touching],
                "appointments_told": told,
                "waitlist_closed": [entry.id for entry in closed],
            },
        )
        leave_id = merged.id
    day = start_date
    days = []
    while day <= end_date:
        days.append((doctor_id, day))
        day += timedelta(days=1)
    daystate._invalidate_days(days)
    leave = db.session.execute(
        select(DoctorLeave).options(joinedload(DoctorLeave.doctor)).where(DoctorLeave.id == leave_id)
    ).scalar_one()
    return {**leave_dict(leave), "appointments_told": told, "waitlist_closed": len(closed)}


def list_leave(*, doctor_id: int) -> list[dict[str, Any]]:
    """The doctor's leave that has not ended, soonest first."""
    rows = db.session.execute(
        select(DoctorLeave)
        .options(joinedload(DoctorLeave.doctor))
        .where(DoctorLeave.doctor_id == doctor_id, DoctorLeave.end_date >= today_local())
        .order_by(DoctorLeave.start_date)
    ).scalars()
    return [leave_dict(leave) for leave in rows]


def on_leave_today() -> list[dict[str, Any]]:
    """Who is on leave today (the admin's dashboard)."""
    today = today_local()
    rows = db.session.execute(
        select(DoctorLeave)
        .options(joinedload(DoctorLeave.doctor).joinedload(Doctor.department))
        .where(DoctorLeave.start_date <= today, DoctorLeave.end_date >= today)
        .order_by(DoctorLeave.end_date, DoctorLeave.doctor_id)
    ).scalars()
    return [
        {**leave_dict(leave), "department_name": leave.doctor.department.name if leave.doctor.department else None}
        for leave in rows
    ]


def leave_notices(*, patient_id: int) -> list[dict[str, Any]]:
    """The patient's booked visits that fall on their doctor's leave, with the first free slots offered."""
    rows = db.session.execute(
        select(Appointment, DoctorLeave)
        .join(
            DoctorLeave,
            (DoctorLeave.doctor_id == Appointment.doctor_id)
            & (DoctorLeave.start_date <= Appointment.date)
            & (DoctorLeave.end_date >= Appointment.date),
        )
        .options(joinedload(Appointment.doctor))
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == daystate.BOOKED,
            ~rules.has_started_condition(rules.local_now()),
        )
        .order_by(Appointment.date, Appointment.start_time)
    ).all()
    return [
        {
            "appointment_id": appointment.id,
            "date": appointment.date,
            "start_time": daystate._hhmm(appointment.start_time),
            "doctor_id": appointment.doctor_id,
            "doctor_name": appointment.doctor.display_name,
            "leave_start": leave.start_date,
            "leave_end": leave.end_date,
            "offered": first_free_slots(doctor=appointment.doctor, after=leave.end_date),
        }
        for appointment, leave in rows
    ]
