"""Test data helpers: factories that commit real rows, with one precomputed password hash (argon2 is slow)."""

from __future__ import annotations

from datetime import date, time

import factory
from factory.alchemy import SQLAlchemyModelFactory

from hms.accounts.passwords import hash_password
from hms.extensions import db
from hms.models import (
    Appointment,
    AvailabilityWindow,
    Department,
    Doctor,
    Patient,
    Treatment,
    User,
)

PASSWORD = "password123"
_PASSWORD_HASH = hash_password(PASSWORD)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password_hash = _PASSWORD_HASH
    role = "patient"
    is_active = True
    must_change_password = False


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = "admin"


class DepartmentFactory(_Base):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    description = "Care of a part of the body."


class DoctorFactory(_Base):
    class Meta:
        model = Doctor

    user = factory.SubFactory(UserFactory, role="doctor", username=factory.Sequence(lambda n: f"doctor{n}"))
    full_name = factory.Sequence(lambda n: f"Asha Rao {n}")
    department = factory.SubFactory(DepartmentFactory)
    specialization = "Cardiologist"
    qualifications = "MBBS, MD"
    experience_years = 10
    consultation_fee = 500
    slot_minutes = 30


class PatientFactory(_Base):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory, role="patient", username=factory.Sequence(lambda n: f"patient{n}"))
    full_name = factory.Sequence(lambda n: f"Ravi Kumar {n}")
    date_of_birth = date(1990, 5, 17)
    gender = "male"
    phone = factory.Sequence(lambda n: f"+9198{n:08d}")


class AvailabilityFactory(_Base):
    class Meta:
        model = AvailabilityWindow

    doctor_id = factory.LazyFunction(lambda: DoctorFactory().id)
    date = date(2026, 11, 25)
    start_time = time(9, 0)
    end_time = time(13, 0)


class AppointmentFactory(_Base):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory)
    date = date(2026, 11, 25)
    start_time = time(9, 0)
    end_time = time(9, 30)
    status = "booked"
    reason = "Chest pain on exertion"


class TreatmentFactory(_Base):
    class Meta:
        model = Treatment

    appointment = factory.SubFactory(AppointmentFactory, status="completed")
    diagnosis = "Stable angina"
    prescription = "Aspirin 75 mg"
    visit_type = "in_person"
    medicines = factory.LazyFunction(
        lambda: [
            {
                "name": "Aspirin",
                "dose": "75 mg",
                "frequency": "once daily",
                "duration_days": 30,
                "instructions": "after food",
            }
        ]
    )
