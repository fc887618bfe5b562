"""The account commands and the demo hospital."""

from __future__ import annotations

import time
from datetime import date
from datetime import time as dt_time

from sqlalchemy import func, select

from hms.accounts.service import ensure_admin
from hms.demo.loader import load_demo_data
from hms.models import Appointment, AvailabilityWindow, Department, Doctor, Patient, Treatment, User
from tests.conftest import fetch_all, fetch_value, fresh


def test_create_admin_command_creates_an_admin_who_can_log_in(runner, client):
    result = runner.invoke(
        args=["create-admin", "--username", "boss", "--email", "boss@x.org", "--password", "s3cret-pw"]
    )
    assert result.exit_code == 0, result.output
    assert client.post("/api/auth/login", json={"username": "boss", "password": "s3cret-pw"}).status_code == 200
    assert fetch_value(select(User.role).where(User.username == "boss")) == "admin"


def test_create_admin_command_refuses_weak_password_and_duplicates(runner):
    weak = runner.invoke(args=["create-admin", "--username", "boss", "--email", "b@x.org", "--password", "short"])
    assert weak.exit_code != 0 and "password" in weak.output
    runner.invoke(args=["create-admin", "--username", "boss", "--email", "b@x.org", "--password", "long-enough"])
    again = runner.invoke(
        args=["create-admin", "--username", "boss", "--email", "c@x.org", "--password", "long-enough"]
    )
    assert again.exit_code != 0 and "username" in again.output


def test_ensure_admin_uses_the_configured_password_once(app):
    settings = app.config["HMS"]
    settings.admin_password = "from-the-env-1"
    try:
        with fresh():
            assert ensure_admin() is not None
        with fresh():
            assert ensure_admin() is None
    finally:
        settings.admin_password = None
    assert fetch_value(select(func.count()).where(User.role == "admin")) == 1


def test_ensure_admin_does_nothing_without_a_password(app):
    with fresh():
        assert ensure_admin() is None


def test_demo_data_loads_fast_once_and_respects_the_booking_rules(client, frozen_clock):
    frozen_clock("2026-11-24 09:30")
    started = time.monotonic()
    with fresh():
        summary = load_demo_data()
    assert time.monotonic() - started < 10
    assert summary["created"] is True
    with fresh():
        assert load_demo_data()["created"] is False

    def count(model, *where):
        return fetch_value(select(func.count()).select_from(model).where(*where))

    assert count(Department) == 7 and count(Doctor) == 14 and count(Patient) == 45
    assert count(Appointment, Appointment.status == "booked") == 40
    assert count(Appointment, Appointment.status != "booked") >= 140
    assert count(Treatment) == count(Appointment, Appointment.status == "completed")
    assert count(AvailabilityWindow) > 14 * 60
    booked_dates = fetch_all(select(Appointment.date).where(Appointment.status == "booked"))
    assert all(day >= date(2026, 11, 24) for day in booked_dates)
    # today: only booked visits; at most 3 of them already started (patients waiting to be seen)
    with fresh() as session:
        today = session.execute(
            select(Appointment.start_time, Appointment.status).where(Appointment.date == date(2026, 11, 24))
        ).all()
    assert {status for _, status in today} == {"booked"}
    assert 1 <= sum(start <= dt_time(9, 30) for start, _ in today) <= 3
    medicines = fetch_value(select(Treatment.medicines).limit(1))
    assert {"name", "dose", "frequency", "duration_days", "instructions"} <= set(medicines[0])
    for username, password in (("admin", "admin123"), ("dr.asha", "doctor123"), ("patient1", "patient123")):
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, username
        assert response.get_json()["user"]["must_change_password"] is False


def test_demo_data_command(runner):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0 and "Demo data loaded" in result.output


def test_demo_data_has_started_visits_today_that_a_doctor_can_complete(client, frozen_clock):
    from tests.conftest import bearer

    frozen_clock("2026-11-24 11:10")  # a Tuesday, mid-morning
    with fresh():
        load_demo_data()
    started = fetch_all(
        select(Appointment).where(
            Appointment.status == "booked",
            Appointment.date == date(2026, 11, 24),
            Appointment.start_time <= dt_time(11, 10),
        )
    )
    assert started, "no started visit today in the demo data"
    visit = started[0]
    doctor_user = fetch_value(select(User).join(Doctor, Doctor.user_id == User.id).where(Doctor.id == visit.doctor_id))
    headers = bearer(doctor_user)
    record = client.put(
        f"/api/doctor/appointments/{visit.id}/treatment", headers=headers, json={"diagnosis": "Viral fever"}
    )
    assert record.status_code == 200, record.get_json()
    response = client.post(f"/api/doctor/appointments/{visit.id}/complete", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "completed"


def test_demo_records_make_clinical_sense_for_the_reason_and_the_age(client, frozen_clock):
    from hms.demo.data import CLINICAL
    from tests.conftest import bearer

    frozen_clock("2026-11-24 11:10")
    with fresh():
        load_demo_data()
    headers = bearer(fetch_value(select(User).where(User.username == "admin")))
    cases = {(department, case["reason"]): case for department, items in CLINICAL.items() for case in items}
    checked = 0
    for patient in fetch_all(select(Patient)):
        age = (date(2026, 11, 24) - patient.date_of_birth).days // 365
        history = client.get(f"/api/admin/appointments?patient_id={patient.id}&per_page=100", headers=headers)
        for visit in history.get_json()["items"]:
            case = cases[(visit["department_name"], visit["reason"])]  # every reason belongs to the doctor's field
            low, high = case["ages"]
            assert low <= age <= high + 1, (visit["reason"], age)
            if visit["status"] == "completed":
                checked += 1
    assert checked > 100
    with fresh() as session:
        diagnoses = session.execute(
            select(Treatment.diagnosis, Appointment.reason).join(
                Appointment, Appointment.id == Treatment.appointment_id
            )
        ).all()
    assert all(cases_by_reason_diagnosis(cases, reason) == diagnosis for diagnosis, reason in diagnoses)


def cases_by_reason_diagnosis(cases: dict, reason: str) -> str:
    return next(case["diagnosis"] for (_department, r), case in cases.items() if r == reason)
