"""Admin management of departments, doctors and patients."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hms.models import AuditEvent, AvailabilityWindow, Doctor, User
from tests.conftest import fetch, fetch_all
from tests.factories import (
    PASSWORD,
    AdminFactory,
    AppointmentFactory,
    AvailabilityFactory,
    DepartmentFactory,
    DoctorFactory,
    PatientFactory,
    UserFactory,
)


@pytest.fixture
def admin_headers(auth):
    return auth(AdminFactory())


def doctor_payload(department_id: int, **overrides):
    return {
        "username": "dr.kavya",
        "email": "kavya@hospital.local",
        "password": "temporary-1",
        "full_name": "Dr. Kavya Iyer",
        "department_id": department_id,
        "specialization": "Sports Medicine",
        "experience_years": 7,
        "consultation_fee": "650.50",
        "slot_minutes": 20,
        **overrides,
    }


def actions() -> list[str]:
    return [event.action for event in fetch_all(select(AuditEvent).order_by(AuditEvent.id))]


# ---- departments -------------------------------------------------------------------------------------------


def test_admin_creates_renames_and_deletes_a_department_with_audit(client, admin_headers):
    created = client.post(
        "/api/admin/departments", headers=admin_headers, json={"name": " Oncology ", "description": "x"}
    )
    assert created.status_code == 201
    department = created.get_json()
    assert department["name"] == "Oncology" and department["doctor_count"] == 0
    renamed = client.put(f"/api/admin/departments/{department['id']}", headers=admin_headers, json={"name": "Cancer"})
    assert renamed.get_json()["name"] == "Cancer"
    deleted = client.delete(f"/api/admin/departments/{department['id']}", headers=admin_headers)
    assert deleted.status_code == 200 and deleted.get_json()["deleted"] is True
    assert actions() == ["department_created", "department_updated", "department_deleted"]


def test_department_names_are_unique_ignoring_case(client, admin_headers):
    DepartmentFactory(name="Cardiology")
    other = DepartmentFactory(name="ENT")
    response = client.post("/api/admin/departments", headers=admin_headers, json={"name": "cardiology"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"
    assert "name" in response.get_json()["error"]["fields"]
    rename = client.put(f"/api/admin/departments/{other.id}", headers=admin_headers, json={"name": "CARDIOLOGY"})
    assert rename.status_code == 409


def test_department_with_doctors_cannot_be_deleted(client, admin_headers):
    doctor = DoctorFactory()
    response = client.delete(f"/api/admin/departments/{doctor.department_id}", headers=admin_headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "has_doctors"


def test_department_validation_errors(client, admin_headers):
    empty = client.post("/api/admin/departments", headers=admin_headers, json={"name": ""})
    assert empty.status_code == 422 and "name" in empty.get_json()["error"]["fields"]
    wrong = client.post("/api/admin/departments", headers=admin_headers, json={"name": ["x"]})
    assert wrong.status_code == 422
    bad_json = client.post("/api/admin/departments", headers=admin_headers, data="{", content_type="application/json")
    assert bad_json.status_code == 400
    assert client.put("/api/admin/departments/999", headers=admin_headers, json={"name": "x"}).status_code == 404


def test_admin_department_list_searches(client, admin_headers):
    DepartmentFactory(name="Cardiology")
    DepartmentFactory(name="Neurology")
    body = client.get("/api/admin/departments", headers=admin_headers, query_string={"q": "neuro"}).get_json()
    assert [d["name"] for d in body["items"]] == ["Neurology"]


# ---- doctors -----------------------------------------------------------------------------------------------


def test_admin_creates_a_doctor_account_that_must_change_password(client, admin_headers):
    department = DepartmentFactory()
    response = client.post("/api/admin/doctors", headers=admin_headers, json=doctor_payload(department.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["username"] == "dr.kavya" and body["email"] == "kavya@hospital.local"
    assert body["department_name"] == department.name
    assert body["consultation_fee"] == 650.5 and body["slot_minutes"] == 20
    assert body["must_change_password"] is True
    user = fetch(User, body["user_id"])
    assert user.role == "doctor" and user.password_hash != "temporary-1"
    assert "doctor_created" in actions()


def test_doctor_username_and_email_duplicates_are_409_with_fields(client, admin_headers):
    department = DepartmentFactory()
    UserFactory(username="dr.kavya", email="kavya@hospital.local")
    response = client.post("/api/admin/doctors", headers=admin_headers, json=doctor_payload(department.id))
    assert response.status_code == 409
    assert set(response.get_json()["error"]["fields"]) == {"username", "email"}


def test_doctor_create_validates_fields_and_department(client, admin_headers):
    response = client.post(
        "/api/admin/doctors",
        headers=admin_headers,
        json=doctor_payload(999, experience_years="many", slot_minutes=1, gender="robot"),
    )
    assert response.status_code == 422
    assert {"experience_years", "slot_minutes", "gender"} <= set(response.get_json()["error"]["fields"])
    missing_department = client.post("/api/admin/doctors", headers=admin_headers, json=doctor_payload(999))
    assert missing_department.status_code == 422
    assert "department_id" in missing_department.get_json()["error"]["fields"]
    missing = client.post("/api/admin/doctors", headers=admin_headers, json={"username": "x"})
    assert {"email", "password", "full_name"} <= set(missing.get_json()["error"]["fields"])


def test_admin_edits_a_doctor_and_sees_account_fields(client, admin_headers):
    doctor = DoctorFactory()
    other = DoctorFactory()
    response = client.put(
        f"/api/admin/doctors/{doctor.id}",
        headers=admin_headers,
        json={"full_name": "Dr. Renamed", "email": "new@hospital.local", "about": None, "department_id": None},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["full_name"], body["display_name"]) == ("Renamed", "Dr. Renamed")  # the title is shown once
    assert (body["email"], body["department_id"]) == ("new@hospital.local", None)
    taken = client.put(f"/api/admin/doctors/{doctor.id}", headers=admin_headers, json={"email": other.user.email})
    assert taken.status_code == 409 and "email" in taken.get_json()["error"]["fields"]
    null_name = client.put(f"/api/admin/doctors/{doctor.id}", headers=admin_headers, json={"full_name": None})
    assert null_name.status_code == 422
    one = client.get(f"/api/admin/doctors/{doctor.id}", headers=admin_headers).get_json()
    assert one["username"] == doctor.user.username


def test_admin_doctor_list_searches_and_shows_archived_on_request(client, admin_headers):
    heart = DepartmentFactory(name="Cardiology")
    DoctorFactory(full_name="Dr. Asha Rao", specialization="Cardiologist", department=heart)
    DoctorFactory(full_name="Dr. Priya Menon", specialization="Dermatologist")
    blocked = DoctorFactory(full_name="Dr. Blocked", user=UserFactory(role="doctor", is_active=False))
    archived = DoctorFactory(full_name="Dr. Archived")
    AppointmentFactory(doctor=archived)
    client.delete(f"/api/admin/doctors/{archived.id}", headers=admin_headers)

    def names(**params):
        page = client.get("/api/admin/doctors", headers=admin_headers, query_string=params).get_json()
        return [d["display_name"] for d in page["items"]]

    assert names() == ["Dr. Asha Rao", blocked.display_name, "Dr. Priya Menon"]
    assert names(q="rao") == ["Dr. Asha Rao"]
    assert names(specialization="dermat") == ["Dr. Priya Menon"]
    assert names(department_id=heart.id) == ["Dr. Asha Rao"]
    assert "Dr. Archived" in names(include_archived="true")


def test_deleting_a_doctor_with_appointments_deactivates_and_archives(client, admin_headers, auth):
    doctor = DoctorFactory()
    AppointmentFactory(doctor=doctor, status="completed")
    headers = auth(doctor.user)
    response = client.delete(f"/api/admin/doctors/{doctor.id}", headers=admin_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["deleted"] is False and body["deactivated"] is True and body["message"]
    kept = fetch(Doctor, doctor.id)
    assert kept.archived_at is not None and fetch(User, kept.user_id).is_active is False
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.get(f"/api/doctors/{doctor.id}").status_code == 404


def test_deleting_a_doctor_without_history_removes_account_and_availability(client, admin_headers):
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id)
    user_id = doctor.user_id
    response = client.delete(f"/api/admin/doctors/{doctor.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["deleted"] is True
    assert fetch(Doctor, doctor.id) is None
    assert fetch(User, user_id) is None
    assert fetch_all(select(AvailabilityWindow)) == []
    assert client.delete(f"/api/admin/doctors/{doctor.id}", headers=admin_headers).status_code == 404


def test_blocking_a_doctor_ends_sessions_and_unblocking_restores_sign_in(client, admin_headers, auth):
    doctor = DoctorFactory()
    old = auth(doctor.user)
    blocked = client.post(f"/api/admin/doctors/{doctor.id}/block", headers=admin_headers)
    assert blocked.get_json()["is_active"] is False
    assert client.get("/api/auth/me", headers=old).status_code == 401
    unblocked = client.post(f"/api/admin/doctors/{doctor.id}/unblock", headers=admin_headers)
    assert unblocked.get_json()["is_active"] is True
    assert {"doctor_blocked", "doctor_unblocked"} <= set(actions())


# ---- patients ----------------------------------------------------------------------------------------------


def test_blocking_a_patient_ends_sessions_and_sign_in_until_unblocked(client, admin_headers, auth):
    patient = PatientFactory()
    old = auth(patient.user)
    credentials = {"username": patient.user.username, "password": PASSWORD}
    blocked = client.post(f"/api/admin/patients/{patient.id}/block", headers=admin_headers)
    assert blocked.status_code == 200 and blocked.get_json()["is_active"] is False
    assert client.get("/api/auth/me", headers=old).status_code == 401
    refused = client.post("/api/auth/login", json=credentials)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "account_blocked")
    assert client.get(f"/api/admin/patients/{patient.id}", headers=admin_headers).get_json()["is_active"] is False
    assert client.post(f"/api/admin/patients/{patient.id}/unblock", headers=admin_headers).status_code == 200
    assert client.post("/api/auth/login", json=credentials).status_code == 200
    assert {"patient_blocked", "patient_unblocked"} <= set(actions())


def test_admin_creates_searches_and_edits_patients(client, admin_headers):
    created = client.post(
        "/api/admin/patients",
        headers=admin_headers,
        json={
            "username": "sunita",
            "email": "sunita@example.org",
            "password": "long-enough-1",
            "full_name": "Sunita Rao",
            "phone": "+91 98450 12345",
            "height_cm": 160.5,
        },
    )
    assert created.status_code == 201, created.get_json()
    patient = created.get_json()
    assert patient["height_cm"] == 160.5 and patient["is_active"] is True
    PatientFactory(full_name="Someone Else")
    for q in ("sunita", "SUNITA@EXAMPLE", "12345"):
        page = client.get("/api/admin/patients", headers=admin_headers, query_string={"q": q}).get_json()
        assert [p["full_name"] for p in page["items"]] == ["Sunita Rao"]
    updated = client.put(
        f"/api/admin/patients/{patient['id']}",
        headers=admin_headers,
        json={"blood_group": "B+", "allergies": None, "email": "sunita.rao@example.org"},
    )
    assert updated.status_code == 200
    assert (updated.get_json()["blood_group"], updated.get_json()["email"]) == ("B+", "sunita.rao@example.org")
    bad = client.put(f"/api/admin/patients/{patient['id']}", headers=admin_headers, json={"blood_group": "Z"})
    assert bad.status_code == 422 and "blood_group" in bad.get_json()["error"]["fields"]
    assert {"patient_created", "patient_updated"} <= set(actions())


def test_patient_search_matches_each_field_once_in_name_order_and_archived_on_request(client, admin_headers):
    from datetime import datetime

    PatientFactory(full_name="Meera Nair", user=UserFactory(username="zz-meera", email="meera@example.org"))
    PatientFactory(full_name="Anil Nair", user=UserFactory(username="anil", email="a.n@example.org"))  # name
    PatientFactory(full_name="Kiran Das", user=UserFactory(username="kiran", email="nair.family@example.org"))
    PatientFactory(full_name="Bala Menon", user=UserFactory(username="nairb", email="bala@example.org"))
    PatientFactory(full_name="Old Nair", archived_at=datetime(2026, 11, 1))
    PatientFactory(full_name="Someone Else", phone="+919845012345")

    def search(**params):
        page = client.get("/api/admin/patients", headers=admin_headers, query_string=params).get_json()
        return page["total"], [p["full_name"] for p in page["items"]]

    # name, e-mail and username each match; "Meera Nair" matches by name and e-mail yet is listed once
    assert search(q="NAIR") == (4, ["Anil Nair", "Bala Menon", "Kiran Das", "Meera Nair"])
    assert search(q="nair", include_archived="true") == (
        5,
        ["Anil Nair", "Bala Menon", "Kiran Das", "Meera Nair", "Old Nair"],
    )
    assert search(q="nair", per_page=3, page=2) == (4, ["Meera Nair"])
    assert search(q="45012") == (1, ["Someone Else"])  # phone
    assert search(q="n_ir") == (0, [])  # LIKE wildcards are taken literally


def test_patient_duplicates_are_409(client, admin_headers):
    existing = PatientFactory()
    response = client.post(
        "/api/admin/patients",
        headers=admin_headers,
        json={
            "username": existing.user.username,
            "email": "x@example.org",
            "password": "long-enough-1",
            "full_name": "X",
        },
    )
    assert response.status_code == 409
    assert set(response.get_json()["error"]["fields"]) == {"username"}


def test_deleting_a_patient_with_appointments_deactivates(client, admin_headers):
    patient = PatientFactory()
    AppointmentFactory(patient=patient, status="cancelled")
    body = client.delete(f"/api/admin/patients/{patient.id}", headers=admin_headers).get_json()
    assert body["deleted"] is False and body["deactivated"] is True
    assert fetch(User, patient.user_id).is_active is False
    listed = client.get("/api/admin/patients", headers=admin_headers).get_json()["items"]
    assert listed == []
    assert client.get(f"/api/admin/patients/{patient.id}", headers=admin_headers).get_json()["archived_at"]


def test_deleting_a_patient_without_history_removes_the_account(client, admin_headers):
    patient = PatientFactory()
    user_id = patient.user_id
    body = client.delete(f"/api/admin/patients/{patient.id}", headers=admin_headers).get_json()
    assert body["deleted"] is True
    assert fetch(User, user_id) is None
    assert "patient_deleted" in actions()


def test_unknown_ids_are_404(client, admin_headers):
    for path in ("/api/admin/patients/999", "/api/admin/doctors/999"):
        assert client.get(path, headers=admin_headers).status_code == 404
        assert client.put(path, headers=admin_headers, json={}).status_code == 404
        assert client.delete(path, headers=admin_headers).status_code == 404
        assert client.post(path + "/block", headers=admin_headers).status_code == 404
