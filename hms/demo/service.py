"""A believable demo hospital, all dates relative to today, inserted in bulk in a few seconds.
The data it inserts is data.py; the published passwords come from accounts.passwords.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select

from hms.accounts.passwords import hash_password
from hms.audit.service import record
from hms.billing.invoices import issue_invoice, status_for
from hms.common import clock
from hms.common.cache import invalidate
from hms.common.uow import unit_of_work
from hms.demo.data import (
    CHILDREN,
    CLINICAL,
    DEMO_ADMIN,
    DEPARTMENTS,
    DOCTOR_PASSWORD,
    DOCTORS,
    FIRST_NAMES,
    FUTURE_DAYS,
    LAST_NAMES,
    PAST_DAYS,
    PATIENT_PASSWORD,
    SLOT_MINUTES,
    STREETS,
    WINDOWS,
)
from hms.extensions import db
from hms.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityWindow,
    Department,
    Doctor,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Patient,
    QueueKind,
    QueueState,
    QueueToken,
    Role,
    Treatment,
    User,
)
from hms.scheduling.leave import record_leave


def _age(born: date | None, today: date) -> int:
    if born is None:
        return 0
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _demo_admin_exists() -> bool:
    return db.session.execute(select(User.id).where(User.username == DEMO_ADMIN[0])).first() is not None


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


def load_demo_data(*, seed: int = 42) -> dict[str, Any]:
    """Create the demo hospital unless the demo admin already exists; returns counts and a message."""
    if current_app.config["HMS"].is_production:
        raise RuntimeError("The demo hospital (published passwords) is never loaded with HMS_ENV=production.")
    with unit_of_work():
        if _demo_admin_exists():
            return {"created": False, "message": "Demo data already present (user 'admin' exists): nothing to do."}
        rng = random.Random(seed)
        today = clock.today_local()
        now = clock.utcnow_naive()
        settings = current_app.config["HMS"]

        admin_password = settings.admin_password or DEMO_ADMIN[1]
        hashes = {
            "admin": hash_password(admin_password),
            "doctor": hash_password(DOCTOR_PASSWORD),
            "patient": hash_password(PATIENT_PASSWORD),
        }
        admin = User(
            username="admin",
            email="admin@hospital.local",
            password_hash=hashes["admin"],
            role=Role.ADMIN.value,
            email_verified_at=clock.utcnow_naive(),  # the demo's addresses count as verified (their mail stays local)
        )
        db.session.add(admin)

        departments = {name: Department(name=name, description=text) for name, text in DEPARTMENTS}
        db.session.add_all(departments.values())

        doctors: list[Doctor] = []
        for index, (handle, full_name, gender, specialization, qualifications, years, fee) in enumerate(DOCTORS):
            department = departments[DEPARTMENTS[index // 2][0]]
            user = User(
                username=f"dr.{handle}",
                email=f"dr.{handle}@hospital.local",
                password_hash=hashes["doctor"],
                role=Role.DOCTOR.value,
                email_verified_at=clock.utcnow_naive(),
                created_at=now - timedelta(days=200),
            )
            doctors.append(
                Doctor(
                    user=user,
                    full_name=full_name,
                    department=department,
                    specialization=specialization,
                    qualifications=qualifications,
                    experience_years=years,
                    consultation_fee=fee,
                    phone=f"+91804000{1000 + index:04d}",
                    gender=gender,
                    about=f"Dr. {full_name} has {years} years of experience in {department.name}.",
                    slot_minutes=SLOT_MINUTES,
                    created_at=now - timedelta(days=200),
                )
            )
        db.session.add_all(doctors)

        patients: list[Patient] = []
        for number in range(1, 46):
            first = FIRST_NAMES[number - 1]
            last = LAST_NAMES[number % len(LAST_NAMES)]
            joined = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
            user = User(
                username=f"patient{number}",
                email=f"patient{number}@example.org",
                password_hash=hashes["patient"],
                role=Role.PATIENT.value,
                email_verified_at=clock.utcnow_naive(),
                created_at=joined,
            )
            patients.append(
                Patient(
                    user=user,
                    full_name=f"{first} {last}",
                    date_of_birth=today
                    - timedelta(
                        days=rng.randint(365, 13 * 365) if number <= CHILDREN else rng.randint(18 * 365, 82 * 365)
                    ),
                    gender="female" if number % 2 == 0 else "male",
                    phone=f"+9198{rng.randint(10000000, 99999999)}",
                    address=f"{rng.randint(1, 300)}, {rng.choice(STREETS)}",
                    blood_group=rng.choice(["A+", "A-", "B+", "B-", "AB+", "O+", "O-"]),
                    height_cm=rng.randint(75, 150) if number <= CHILDREN else rng.randint(150, 185),
                    weight_kg=rng.randint(9, 40) if number <= CHILDREN else rng.randint(50, 90),
                    allergies=rng.choice([None, None, "Penicillin", "Dust", "Peanuts"]),
                    emergency_contact=f"{rng.choice(FIRST_NAMES)} {last}, +91 97{rng.randint(10000000, 99999999)}",
                    created_at=joined,
                )
            )
        db.session.add_all(patients)
        db.session.flush()

        windows = [
            {"doctor_id": doctor.id, "date": day, "start_time": start, "end_time": end}
            for doctor in doctors
            for day in _working_days(today, -PAST_DAYS, FUTURE_DAYS)
            for start, end in WINDOWS
        ]
        db.session.execute(insert(AvailabilityWindow), windows)

        appointments, treatments = _appointments(rng, today=today, now=now, doctors=doctors, patients=patients)
        invoices = _invoices(rng, appointments=appointments, admin=admin)
        _queue_today(appointments=appointments, patients=patients, admin=admin, today=today)
        # A doctor away at a conference later this week: its patients see the notice and reschedule.
        record_leave(
            actor=admin,
            doctor_id=doctors[-1].id,
            start_date=today + timedelta(days=3),
            end_date=today + timedelta(days=4),
            reason="Medical conference",
        )
        record(action="demo_data_loaded", entity="system", details={"appointments": len(appointments)}, actor=admin)
    invalidate("directory")
    return {
        "created": True,
        "departments": len(departments),
        "doctors": len(doctors),
        "patients": len(patients),
        "availability_windows": len(windows),
        "appointments": len(appointments),
        "treatments": len(treatments),
        "invoices": len(invoices),
        "message": (
            f"Demo data loaded: {len(departments)} departments, {len(doctors)} doctors, {len(patients)} patients, "
            f"{len(appointments)} appointments, {len(treatments)} treatments, {len(invoices)} invoices."
        ),
    }


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


EXTRA_LINES = (
    {"kind": "test", "description": "ECG", "unit_minor": 35000},
    {"kind": "test", "description": "Complete blood count", "unit_minor": 45000},
    {"kind": "procedure", "description": "Wound dressing", "unit_minor": 25000},
)


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


def _invoices(rng: random.Random, *, appointments: list[Appointment], admin: User) -> list[Invoice]:
    """Most completed visits billed on their day, in date order (so numbers follow dates): most paid in full,
    some partly, some not yet, one refunded and voided, so every status and the receivables have figures."""
    completed = sorted(
        (a for a in appointments if a.status == AppointmentStatus.COMPLETED.value),
        key=lambda a: (a.date, a.start_time, a.doctor_id),
    )
    invoices: list[Invoice] = []
    for index, appointment in enumerate(completed):
        if rng.random() < 0.15:
            continue  # still to be billed: the front desk's list has work
        lines = [dict(rng.choice(EXTRA_LINES))] if rng.random() < 0.3 else []
        invoice = issue_invoice(appointment=appointment, lines=lines, issued_on=appointment.date, user_id=admin.id)
        invoice.created_at = datetime.combine(appointment.date, appointment.end_time)
        roll = rng.random()
        paid = invoice.total_minor if roll < 0.7 else (invoice.total_minor // 2 if roll < 0.85 else 0)
        if paid:
            method = rng.choice(["cash", "card", "upi", "upi", "insurance"])
            invoice.payments.append(
                InvoicePayment(
                    kind="payment",
                    method=method,
                    amount_minor=paid,
                    reference=f"CLM-{10000 + index}" if method == "insurance" else None,
                    received_on=appointment.date,
                    recorded_at=invoice.created_at,
                )
            )
            invoice.paid_minor = paid
        if index == 3 and paid:  # billed twice by mistake: refunded and voided, kept for the record
            invoice.payments.append(
                InvoicePayment(
                    kind="refund",
                    method=invoice.payments[0].method,
                    amount_minor=paid,
                    reference=invoice.payments[0].reference,
                    received_on=appointment.date,
                    recorded_at=invoice.created_at,
                )
            )
            invoice.paid_minor = 0
            invoice.status = InvoiceStatus.VOID.value
            invoice.voided_at = invoice.created_at
            invoice.void_reason = "Billed to the wrong patient file"
        invoice.status = status_for(invoice)
        invoices.append(invoice)
    db.session.flush()
    return invoices


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
