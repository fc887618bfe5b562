"""The demo hospital's loader (`load_demo_data`): departments, doctors and their windows, patients, logins,
all dates relative to today, inserted in bulk in seconds from data.py; passwords from accounts.passwords."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select

from hms.accounts.passwords import hash_password
from hms.audit.service import record
from hms.common import clock
from hms.common.cache import invalidate
from hms.common.uow import unit_of_work
from hms.demo.data import (
    CHILDREN,
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
from hms.demo.invoices import _invoices
from hms.demo.visits import _appointments, _queue_today, _working_days
from hms.extensions import db
from hms.models import AvailabilityWindow, Department, Doctor, Patient, Role, User
from hms.scheduling.leave import record_leave


def _demo_admin_exists() -> bool:
    return db.session.execute(select(User.id).where(User.username == DEMO_ADMIN[0])).first() is not None


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
