"""Test data helpers: factories that commit real rows, each through its own short-lived session.

A factory never shares a session with a request: it opens a session on the test engine, commits, loads the
row's columns and closes, so the object it returns is detached, with every column readable, and stale the
moment a request changes the row: read results back through `fresh()` or the API.
"""

from __future__ import annotations

from datetime import date, datetime, time

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

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
# The same cheap argon2 parameters as the test settings (tests/conftest.py make_settings).
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
_engine: Engine | None = None


def bind(engine: Engine) -> None:
    """Point the factories at the test database (called once by the app fixture)."""
    global _engine
    _engine = engine


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Commit the row in a session of its own, then detach it with its columns loaded."""
        if _engine is None:
            raise RuntimeError("factories are not bound to the test database")
        with Session(_engine, expire_on_commit=False) as session:
            obj = model_class(*args, **kwargs)
            session.add(obj)
            session.commit()
            state = inspect(obj)
            unloaded = [attr.key for attr in state.mapper.column_attrs if attr.key in state.unloaded]
            if unloaded:
                session.refresh(obj, attribute_names=unloaded)
            return obj


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password_hash = _PASSWORD_HASH
    role = "patient"
    is_active = True
    must_change_password = False
    # an established account: its address was verified (tests of unverified addresses pass None)
    email_verified_at = factory.LazyFunction(lambda: datetime(2026, 1, 1))


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
