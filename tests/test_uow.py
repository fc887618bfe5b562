"""unit_of_work(): commits once, rolls back on any error, names a lost race, never commits its caller's work."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from hms.common.errors import Duplicate, SlotTaken
from hms.common.uow import UncommittedCallerWork, remember_principal, unit_of_work
from hms.extensions import db
from hms.models import Appointment, Department
from tests.conftest import fetch, fetch_all, fresh
from tests.factories import AppointmentFactory, DepartmentFactory, PatientFactory


def _names() -> list[str]:
    return sorted(d.name for d in fetch_all(select(Department)))


def test_the_work_commits_once_at_the_end():
    with fresh() as session, unit_of_work():
        session.add(Department(name="Cardiology"))
        session.flush()
        assert _names() == []  # another session sees nothing before the end
    assert _names() == ["Cardiology"]


def test_any_error_rolls_everything_back():
    with fresh() as session, pytest.raises(RuntimeError), unit_of_work():
        session.add(Department(name="Cardiology"))
        session.flush()
        raise RuntimeError("a rule failed after the write")
    assert _names() == []


def test_it_refuses_to_commit_changes_its_caller_made_before_it():
    department = DepartmentFactory(name="Cardiology")
    with fresh() as session:
        session.get(Department, department.id).name = "Renamed outside any unit of work"
        with pytest.raises(UncommittedCallerWork), unit_of_work():
            session.add(Department(name="Neurology"))
    assert _names() == ["Cardiology"]


def test_an_inner_unit_joins_the_outer_one_and_fails_with_it():
    with fresh() as session, pytest.raises(RuntimeError), unit_of_work():
        with unit_of_work():
            session.add(Department(name="Cardiology"))
        assert _names() == []  # the inner block did not commit
        raise RuntimeError("the outer operation fails")
    assert _names() == []


def test_a_unique_index_won_by_someone_else_becomes_the_domain_error():
    DepartmentFactory(name="Cardiology")
    with fresh() as session, pytest.raises(Duplicate), unit_of_work():
        session.add(Department(name="Cardiology"))
    taken = AppointmentFactory(start_time=time(9), end_time=time(9, 30))
    other_patient = PatientFactory()
    with fresh() as session, pytest.raises(SlotTaken), unit_of_work():
        session.add(
            Appointment(
                patient_id=other_patient.id,
                doctor_id=taken.doctor_id,
                date=taken.date,
                start_time=time(9),
                end_time=time(9, 30),
                status="booked",
            )
        )
    assert fetch(Appointment, taken.id).status == "booked"
    assert len(fetch_all(select(Appointment))) == 1


def fresh_dialect() -> str:
    with fresh():
        return db.engine.dialect.name


def test_a_write_reads_what_others_committed_since_its_caller_read_and_keeps_only_the_callers_own_rows():
    if fresh_dialect() != "sqlite":
        pytest.skip("PostgreSQL's write transaction never ends the request's reads: nothing is expired there")
    ward = DepartmentFactory(name="Cardiology")
    other = DepartmentFactory(name="Neurology")
    with fresh() as session:
        callers_own = session.get(Department, ward.id)  # stands for the signed-in user's rows from the token check
        read_earlier = session.get(Department, other.id)
        remember_principal(session, callers_own)
        with fresh() as elsewhere, unit_of_work():  # another request commits after this one read
            elsewhere.get(Department, other.id).name = "Neurology and Stroke"
        with unit_of_work():
            latest = session.execute(select(Department.name).where(Department.id == other.id)).scalar_one()
            assert latest == "Neurology and Stroke"  # the write transaction began after that commit
            assert "name" not in read_earlier.__dict__  # what the caller read before is expired: read again
            assert read_earlier.name == "Neurology and Stroke"
            assert callers_own.__dict__["name"] == "Cardiology"  # the caller's own rows are kept as read
            session.add(Department(name="Oncology"))
    assert _names() == ["Cardiology", "Neurology and Stroke", "Oncology"]
