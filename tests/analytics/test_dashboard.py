"""Admin dashboard figures: what an admin reads on the dashboard, in hospital time, zeros included."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from hms.analytics.service import doctor_figures
from hms.common.cache import invalidate
from tests.conftest import fresh
from tests.factories import (
    AdminFactory,
    AppointmentFactory,
    DepartmentFactory,
    DoctorFactory,
    PatientFactory,
    UserFactory,
)


@pytest.fixture
def admin_headers(auth):
    return auth(AdminFactory())


def _appointment(doctor, day: date, status: str = "booked", hour: int = 9, patient=None):
    return AppointmentFactory(
        doctor=doctor,
        patient=patient or PatientFactory(),
        date=day,
        start_time=time(hour, 0),
        end_time=time(hour, 30),
        status=status,
    )


def test_stats_count_active_people_and_appointments_in_hospital_time(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    cardiology = DepartmentFactory(name="Cardiology")
    DepartmentFactory(name="Neurology")
    doctor = DoctorFactory(department=cardiology)
    DoctorFactory(department=cardiology, user=UserFactory(role="doctor", is_active=False))
    DoctorFactory(department=cardiology, archived_at=datetime(2026, 11, 1))
    PatientFactory(user=UserFactory(role="patient", is_active=False))
    PatientFactory(archived_at=datetime(2026, 11, 1))
    _appointment(doctor, date(2026, 11, 24), "booked", 9)
    _appointment(doctor, date(2026, 11, 24), "completed", 10)
    _appointment(doctor, date(2026, 11, 24), "cancelled", 11)
    _appointment(doctor, date(2026, 11, 25), "booked", 9)
    _appointment(doctor, date(2026, 12, 2), "booked", 9)
    _appointment(doctor, date(2026, 11, 3), "completed", 9)
    _appointment(doctor, date(2026, 11, 4), "no_show", 9)
    _appointment(doctor, date(2026, 10, 30), "completed", 9)

    response = client.get("/api/admin/stats", headers=admin_headers)

    assert response.status_code == 200
    # 8 active patients were created with the appointments; the blocked and the archived ones do not count.
    assert response.get_json() == {
        "doctors": 1,
        "patients": 8,
        "departments": 2,
        "appointments_today": 2,
        "appointments_upcoming": 2,
        "appointments_this_month": 5,
    }


def test_today_follows_the_hospital_time_zone_not_utc(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-25 01:00")  # still 24 November in UTC
    doctor = DoctorFactory()
    _appointment(doctor, date(2026, 11, 25))
    assert client.get("/api/admin/stats", headers=admin_headers).get_json()["appointments_today"] == 1


def test_stats_are_admin_only(client, auth):
    assert client.get("/api/admin/stats").status_code == 401
    doctor = DoctorFactory()
    patient = PatientFactory()
    assert client.get("/api/admin/stats", headers=auth(doctor.user)).status_code == 403
    response = client.get("/api/admin/analytics", headers=auth(patient.user))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_stats_are_cached_briefly_and_a_new_day_reads_fresh_figures(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    DepartmentFactory()
    assert client.get("/api/admin/stats", headers=admin_headers).get_json()["departments"] == 1
    DepartmentFactory()
    assert client.get("/api/admin/stats", headers=admin_headers).get_json()["departments"] == 1
    frozen_clock("2026-11-25 10:00")
    assert client.get("/api/admin/stats", headers=admin_headers).get_json()["departments"] == 2
    DepartmentFactory()
    with fresh():
        invalidate("stats")
    assert client.get("/api/admin/stats", headers=admin_headers).get_json()["departments"] == 3


def test_per_day_covers_thirty_days_ending_today_with_zero_days(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    _appointment(doctor, date(2026, 11, 24), "booked", 9)
    _appointment(doctor, date(2026, 11, 24), "completed", 10)
    _appointment(doctor, date(2026, 11, 24), "cancelled", 11)
    _appointment(doctor, date(2026, 10, 26), "completed", 9)
    _appointment(doctor, date(2026, 10, 25), "completed", 9)  # 31 days ago: outside the chart
    _appointment(doctor, date(2026, 11, 25), "booked", 9)  # tomorrow: outside the chart

    per_day = client.get("/api/admin/analytics", headers=admin_headers).get_json()["per_day"]

    assert len(per_day) == 30
    assert per_day[0] == {"date": "2026-10-26", "count": 1}
    assert per_day[-1] == {"date": "2026-11-24", "count": 2}
    assert sum(item["count"] for item in per_day) == 3
    assert per_day[10] == {"date": "2026-11-05", "count": 0}


def test_by_department_and_status_list_every_bucket_even_empty(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    cardiology = DepartmentFactory(name="Cardiology")
    DepartmentFactory(name="Dermatology")
    heart = DoctorFactory(department=cardiology)
    loose = DoctorFactory(department=None)
    _appointment(heart, date(2026, 11, 20), "completed", 9)
    _appointment(heart, date(2026, 11, 21), "completed", 9)
    _appointment(heart, date(2026, 11, 22), "cancelled", 9)
    _appointment(loose, date(2026, 11, 22), "booked", 9)

    body = client.get("/api/admin/analytics", headers=admin_headers).get_json()

    assert body["by_department"] == [
        {"department": "Cardiology", "count": 3},
        {"department": "Unassigned", "count": 1},
        {"department": "Dermatology", "count": 0},
    ]
    assert body["by_status"] == [
        {"status": "booked", "count": 1},
        {"status": "completed", "count": 2},
        {"status": "cancelled", "count": 1},
        {"status": "no_show", "count": 0},
    ]


def test_no_unassigned_bucket_when_every_doctor_has_a_department(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    _appointment(DoctorFactory(department=DepartmentFactory(name="ENT")), date(2026, 11, 20))
    body = client.get("/api/admin/analytics", headers=admin_headers).get_json()
    assert body["by_department"] == [{"department": "ENT", "count": 1}]


def test_new_patients_are_counted_per_local_week_for_twelve_weeks(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-25 10:00")  # a Wednesday; the week started Monday 23 November
    PatientFactory(created_at=datetime(2026, 11, 22, 19, 0))  # Monday 23rd 00:30 in Kolkata
    PatientFactory(created_at=datetime(2026, 11, 22, 18, 0))  # Sunday 22nd 23:30 in Kolkata
    PatientFactory(created_at=datetime(2026, 9, 6, 18, 30))  # Monday 7 September 00:00 in Kolkata: first week
    PatientFactory(created_at=datetime(2026, 9, 6, 18, 29))  # Sunday 6 September 23:59: older than twelve weeks

    weeks = client.get("/api/admin/analytics", headers=admin_headers).get_json()["new_patients_per_week"]

    assert len(weeks) == 12
    assert weeks[-1] == {"week_start": "2026-11-23", "count": 1}
    assert weeks[-2] == {"week_start": "2026-11-16", "count": 1}
    assert weeks[0] == {"week_start": "2026-09-07", "count": 1}
    assert sum(week["count"] for week in weeks) == 3


def test_empty_hospital_gives_zero_series_not_errors(client, admin_headers, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    body = client.get("/api/admin/analytics", headers=admin_headers).get_json()
    assert [item["count"] for item in body["per_day"]] == [0] * 30
    assert body["by_department"] == []
    assert {item["count"] for item in body["by_status"]} == {0}
    assert [week["count"] for week in body["new_patients_per_week"]] == [0] * 12


def test_doctor_figures_give_counts_and_six_months_of_outcomes(frozen_clock):
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    other = DoctorFactory()
    regular = PatientFactory()
    _appointment(doctor, date(2026, 11, 24), "booked", 9, patient=regular)
    _appointment(doctor, date(2026, 11, 26), "booked", 9)
    _appointment(doctor, date(2026, 12, 10), "booked", 9)  # beyond the next 7 days
    _appointment(doctor, date(2026, 11, 3), "completed", 9, patient=regular)
    _appointment(doctor, date(2026, 9, 3), "no_show", 9)
    _appointment(doctor, date(2026, 9, 4), "cancelled", 9)
    _appointment(doctor, date(2026, 5, 4), "completed", 9)  # seven months ago: outside the series
    _appointment(other, date(2026, 11, 24), "booked", 9)

    with fresh():
        figures = doctor_figures(doctor_id=doctor.id)

    assert figures["counts"] == {"today": 1, "upcoming": 1, "completed_this_month": 1, "patients": 5}
    assert [item["month"] for item in figures["monthly"]] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert figures["monthly"][3] == {"month": "2026-09", "completed": 0, "cancelled": 1, "no_show": 1}
    assert figures["monthly"][5] == {"month": "2026-11", "completed": 1, "cancelled": 0, "no_show": 0}


def test_the_dashboard_counts_a_doctor_or_patient_the_admin_just_added_or_blocked(client, admin_headers, frozen_clock):
    """Appointment figures may be a minute old; who is on staff and on the books is right at once."""
    frozen_clock("2026-11-24 10:00")
    department = DepartmentFactory()

    def stats() -> dict:
        return client.get("/api/admin/stats", headers=admin_headers).get_json()

    before = stats()
    doctor = client.post(
        "/api/admin/doctors",
        headers=admin_headers,
        json={
            "username": "dr.kavya",
            "email": "kavya@hospital.local",
            "password": "temporary-1",
            "full_name": "Dr. Kavya Iyer",
            "department_id": department.id,
            "specialization": "Sports Medicine",
        },
    )
    assert doctor.status_code == 201, doctor.get_json()
    assert stats()["doctors"] == before["doctors"] + 1

    registered = client.post(
        "/api/auth/register",
        json={"username": "meera", "email": "meera@example.org", "password": "long-enough-1", "full_name": "Meera"},
    )
    assert registered.status_code == 202, registered.get_json()  # "check your e-mail" (issue 14)
    assert stats()["patients"] == before["patients"] + 1

    patient_id = client.get("/api/admin/patients", headers=admin_headers).get_json()["items"][0]["id"]
    blocked = client.post(f"/api/admin/patients/{patient_id}/block", headers=admin_headers)
    assert blocked.status_code == 200, blocked.get_json()
    assert stats()["patients"] == before["patients"]
