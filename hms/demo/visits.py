"""The demo's visits: past and future appointments in the slots of the working days around today,
today's queue at the desk, and the treatments recorded for completed visits."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from hms.common import clock
from hms.demo.data import CLINICAL, PAST_DAYS, SLOT_MINUTES, WINDOWS
from hms.extensions import db
from hms.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Patient,
    QueueKind,
    QueueState,
    QueueToken,
    Treatment,
    User,
)


def _age(born: date | None, today: date) -> int:
    if born is None:
        return 0
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _slots() -> list[time]:
    starts = []
    for start, end in WINDOWS:
        moment = datetime.combine(date.min, start)
        while (moment + timedelta(minutes=SLOT_MINUTES)).time() <= end:
            starts.append(moment.time())
            moment += timedelta(minutes=SLOT_MINUTES)
    return starts


def _end(start: time) -> time:
    return (datetime.combine(date.min, start) + timedelta(minutes=SLOT_MINUTES)).time()


def _working_days(today: date, first: int, last: int) -> list[date]:
    """Mon-Sat dates from today+first to today+last inclusive."""
    days = (today + timedelta(days=n) for n in range(first, last + 1))
    return [day for day in days if day.weekday() < 6]


def _appointments(
    rng: random.Random, *, today: date, now: datetime, doctors: list[Doctor], patients: list[Patient]
) -> tuple[list[Appointment], list[Treatment]]:
    """~150 past visits (completed, cancelled, no-show) and ~40 booked ones, honouring the unique indexes."""
    slots = _slots()
    department_of = {d.id: d.department.name if d.department else "General Medicine" for d in doctors}
    # Stricter than the indexes (no status shares a slot), so the demo never looks double-booked.
    taken_slots: set[tuple[int, date, time]] = set()
    patient_doctor_day: set[tuple[int, int, date]] = set()
    patient_slot: set[tuple[int, date, time]] = set()  # a patient is never in two rooms at once
    appointments: list[Appointment] = []
    treatments: list[Treatment] = []
    cases: dict[int, dict[str, Any]] = {}

    ages = {patient.id: _age(patient.date_of_birth, today) for patient in patients}

    def place(days: list[date], status: str, starts: list[time] = slots) -> Appointment | None:
        for _attempt in range(50):
            doctor = rng.choice(doctors)
            case = rng.choice(CLINICAL[department_of[doctor.id]])
            low, high = case["ages"]
            fitting = [p for p in patients if low <= ages[p.id] <= high]
            if not fitting:
                continue
            patient, day, start = rng.choice(fitting), rng.choice(days), rng.choice(starts)
            if (
                (doctor.id, day, start) in taken_slots
                or (patient.id, doctor.id, day) in patient_doctor_day
                or (patient.id, day, start) in patient_slot
            ):
                continue
            taken_slots.add((doctor.id, day, start))
            patient_doctor_day.add((patient.id, doctor.id, day))
            patient_slot.add((patient.id, day, start))
            created = datetime.combine(day, start) - timedelta(days=rng.randint(1, 6), hours=rng.randint(1, 8))
            appointment = Appointment(
                patient_id=patient.id,
                doctor_id=doctor.id,
                date=day,
                start_time=start,
                end_time=_end(start),
                status=status,
                reason=case["reason"],
                created_at=min(created, now),
                updated_at=min(created, now),
            )
            appointments.append(appointment)
            cases[id(appointment)] = case
            return appointment
        return None

    past = _working_days(today, -PAST_DAYS, -1)
    upcoming = _working_days(today, 1, 7)
    for status, count in (("completed", 112), ("cancelled", 20), ("no_show", 18)):
        for _ in range(count):
            appointment = place(past, status)
            if appointment is None:
                continue
            visit_end = datetime.combine(appointment.date, appointment.end_time)
            appointment.updated_at = visit_end
            if status == "completed":
                appointment.completed_at = visit_end
                treatments.append(_treatment(rng, appointment, case=cases[id(appointment)]))
            elif status == "cancelled":
                appointment.cancelled_by = rng.choice(["patient", "patient", "doctor"])
                appointment.cancelled_at = appointment.created_at + timedelta(hours=6)
                appointment.updated_at = appointment.cancelled_at
                appointment.cancel_reason = rng.choice(["Travelling", "Feeling better", "Doctor unavailable"])
    working_today = today.weekday() < 6
    now_time = clock.now_local().time()
    later_today = [start for start in slots if start > now_time] if working_today else []
    # Patients in the waiting room: visits of today that have started and are still booked, so a doctor trying
    # the demo can write a treatment and complete a visit at once.
    started_today = [start for start in slots if start <= now_time] if working_today else []
    for index in range(40):
        if index < 6 and later_today:  # a few visits still to come today, for the doctors' dashboards
            place([today], "booked", later_today)
        elif index < 9 and started_today:
            place([today], "booked", started_today)
        else:
            place(upcoming, "booked")
    db.session.add_all(appointments)
    db.session.add_all(treatments)
    db.session.flush()
    return appointments, treatments


def _queue_today(*, appointments: list[Appointment], patients: list[Patient], admin: User, today: date) -> None:
    """The front desk's morning: today's started visits checked in with tokens, and one emergency on top."""
    started = [a for a in appointments if a.date == today and a.status == AppointmentStatus.BOOKED.value]
    started = sorted(started, key=lambda a: (a.doctor_id, a.start_time))[:3]
    numbers: dict[int, int] = {}
    for appointment in started:
        numbers[appointment.doctor_id] = numbers.get(appointment.doctor_id, 0) + 1
        db.session.add(
            QueueToken(
                doctor_id=appointment.doctor_id,
                date=today,
                number=numbers[appointment.doctor_id],
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
                kind=QueueKind.APPOINTMENT.value,
                state=QueueState.CHECKED_IN.value,
                reason=appointment.reason,
                created_by_user_id=admin.id,
            )
        )
    if started:
        doctor_id = started[0].doctor_id
        numbers[doctor_id] += 1
        db.session.add(
            QueueToken(
                doctor_id=doctor_id,
                date=today,
                number=numbers[doctor_id],
                patient_id=patients[-1].id,
                appointment_id=None,
                kind=QueueKind.EMERGENCY.value,
                state=QueueState.CHECKED_IN.value,
                reason="Severe breathlessness",
                created_by_user_id=admin.id,
            )
        )
    db.session.flush()


def _treatment(rng: random.Random, appointment: Appointment, *, case: dict[str, Any]) -> Treatment:
    """The record of the case the visit was booked for: its diagnosis, tests and medicines."""
    visit_end = datetime.combine(appointment.date, appointment.end_time)
    treatment = Treatment(
        diagnosis=case["diagnosis"],
        prescription=case["prescription"],
        notes=f"Presented with: {case['reason'].lower()}. Vitals stable.",
        visit_type=rng.choice(["in_person", "in_person", "in_person", "follow_up", "tele"]),
        tests_ordered=case["tests"],
        precautions=case["precautions"],
        follow_up_date=appointment.date + timedelta(days=rng.choice([14, 30, 60])) if rng.random() < 0.5 else None,
        medicines=[
            {"name": name, "dose": dose, "frequency": frequency, "duration_days": days, "instructions": notes}
            for name, dose, frequency, days, notes in case["medicines"]
        ],
        created_at=visit_end,
        updated_at=visit_end,
    )
    treatment.appointment = appointment
    return treatment
