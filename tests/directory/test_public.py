"""The public directory: departments and doctors anyone may browse."""

from __future__ import annotations

from datetime import date, time

from hms.models import Doctor
from tests.conftest import fresh
from tests.factories import (
    AdminFactory,
    AppointmentFactory,
    AvailabilityFactory,
    DepartmentFactory,
    DoctorFactory,
    UserFactory,
)


def test_departments_are_listed_with_their_number_of_visible_doctors(client):
    cardiology = DepartmentFactory(name="Cardiology")
    DepartmentFactory(name="Dermatology")
    DoctorFactory(department=cardiology)
    DoctorFactory(department=cardiology)
    DoctorFactory(department=cardiology, user=UserFactory(role="doctor", is_active=False))
    body = client.get("/api/departments").get_json()
    assert body["total"] == 2
    assert [(d["name"], d["doctor_count"]) for d in body["items"]] == [("Cardiology", 2), ("Dermatology", 0)]


def test_department_detail_lists_its_active_doctors_without_accounts(client):
    department = DepartmentFactory(name="Neurology")
    DoctorFactory(department=department, full_name="Dr. Neha Kulkarni")
    DoctorFactory(department=department, full_name="Dr. Hidden", user=UserFactory(role="doctor", is_active=False))
    body = client.get(f"/api/departments/{department.id}").get_json()
    assert [d["full_name"] for d in body["doctors"]] == ["Dr. Neha Kulkarni"]
    assert "email" not in body["doctors"][0] and "username" not in body["doctors"][0]


def test_unknown_department_and_doctor_are_404_json(client):
    assert client.get("/api/departments/999").get_json()["error"]["code"] == "not_found"
    assert client.get("/api/doctors/999").status_code == 404


def test_doctor_search_by_name_specialization_and_department(client):
    heart = DepartmentFactory(name="Cardiology")
    skin = DepartmentFactory(name="Dermatology")
    DoctorFactory(full_name="Dr. Asha Rao", specialization="Cardiologist", department=heart)
    DoctorFactory(full_name="Dr. Priya Menon", specialization="Dermatologist", department=skin)

    def names(**params):
        return [d["full_name"] for d in client.get("/api/doctors", query_string=params).get_json()["items"]]

    assert names(q="asha") == ["Dr. Asha Rao"]
    assert names(q="DERMAT") == ["Dr. Priya Menon"]
    assert names(q="cardiology") == ["Dr. Asha Rao"]
    assert names(department_id=skin.id) == ["Dr. Priya Menon"]
    assert names(specialization="cardio") == ["Dr. Asha Rao"]
    assert names(q="100%") == []


def test_directory_hides_blocked_and_archived_doctors_and_accounts(client):
    DoctorFactory(full_name="Dr. Visible")
    DoctorFactory(full_name="Dr. Blocked", user=UserFactory(role="doctor", is_active=False))
    archived = DoctorFactory(full_name="Dr. Archived")
    with fresh() as session:
        session.get(Doctor, archived.id).archived_at = archived.created_at
        session.commit()
    items = client.get("/api/doctors").get_json()["items"]
    assert [d["full_name"] for d in items] == ["Dr. Visible"]
    assert "email" not in items[0] and "username" not in items[0]
    assert client.get(f"/api/doctors/{archived.id}").status_code == 404


def test_doctor_profile_shows_public_details(client):
    doctor = DoctorFactory(full_name="Dr. Asha Rao", experience_years=18, consultation_fee=900, about="Heart care")
    body = client.get(f"/api/doctors/{doctor.id}").get_json()
    assert body["experience_years"] == 18
    assert body["consultation_fee"] == 900
    assert body["department_name"] == doctor.department.name
    assert "email" not in body


def test_directory_cache_is_refreshed_by_an_admin_edit(client, auth):
    admin = AdminFactory()
    doctor = DoctorFactory(full_name="Dr. Old Name")
    assert client.get("/api/doctors").get_json()["items"][0]["full_name"] == "Dr. Old Name"
    assert client.get("/api/departments").get_json()["items"][0]["doctor_count"] == 1
    client.put(f"/api/admin/doctors/{doctor.id}", headers=auth(admin), json={"full_name": "Dr. New Name"})
    assert client.get("/api/doctors").get_json()["items"][0]["full_name"] == "Dr. New Name"
    assert client.get(f"/api/doctors/{doctor.id}").get_json()["full_name"] == "Dr. New Name"
    client.post(f"/api/admin/doctors/{doctor.id}/block", headers=auth(admin))
    assert client.get("/api/doctors").get_json()["items"] == []
    assert client.get("/api/departments").get_json()["items"][0]["doctor_count"] == 0


def test_available_on_lists_only_doctors_with_a_free_slot_that_day(client, frozen_clock):
    frozen_clock("2026-11-24 08:00")
    day = date(2026, 11, 25)
    free = DoctorFactory(full_name="Dr. Free")
    full = DoctorFactory(full_name="Dr. Full")
    DoctorFactory(full_name="Dr. Off")
    AvailabilityFactory(doctor_id=free.id, date=day, start_time=time(9, 0), end_time=time(10, 0))
    AvailabilityFactory(doctor_id=full.id, date=day, start_time=time(9, 0), end_time=time(9, 30))
    AppointmentFactory(doctor=full, date=day, start_time=time(9, 0), end_time=time(9, 30))
    body = client.get("/api/doctors", query_string={"available_on": "2026-11-25"}).get_json()
    assert [d["full_name"] for d in body["items"]] == ["Dr. Free"]


def test_directory_query_errors_are_422_with_fields(client):
    response = client.get("/api/doctors", query_string={"available_on": "25/11/2026", "per_page": 500})
    assert response.status_code == 422
    assert {"available_on", "per_page"} <= set(response.get_json()["error"]["fields"])


def test_lists_are_paginated(client):
    for n in range(5):
        DoctorFactory(full_name=f"Dr. {n}")
    body = client.get("/api/doctors", query_string={"page": 2, "per_page": 2}).get_json()
    assert (body["page"], body["per_page"], body["total"], len(body["items"])) == (2, 2, 5, 2)
