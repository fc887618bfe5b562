"""Sign-up, sign-in, tokens, sign-out and password changes, as a client of the API sees them."""

from __future__ import annotations

from sqlalchemy import select

from hms.models import Patient, User
from tests.conftest import fetch, fresh
from tests.factories import PASSWORD, AdminFactory, DoctorFactory, PatientFactory, UserFactory


def login(client, username: str, password: str = PASSWORD, **kwargs):
    return client.post("/api/auth/login", json={"username": username, "password": password}, **kwargs)


def test_register_creates_a_patient_who_signs_in_once_the_address_is_confirmed(client):
    response = client.post(
        "/api/auth/register",
        json={
            "username": "sita",
            "email": "Sita@Example.org",
            "password": "long-enough-1",
            "full_name": "Sita Devi",
            "date_of_birth": "1988-02-03",
            "blood_group": "O+",
        },
    )
    assert response.status_code == 202
    assert "Check your e-mail" in response.get_json()["message"]
    assert login(client, "sita", "long-enough-1").status_code == 401  # not before the link is opened
    confirm_latest_link(client, "sita@example.org")
    body = login(client, "sita", "long-enough-1").get_json()
    assert body["user"]["role"] == "patient"
    assert body["user"]["email"] == "sita@example.org"
    assert body["user"]["email_verified"] is True
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert me["patient"]["full_name"] == "Sita Devi"
    assert me["patient"]["date_of_birth"] == "1988-02-03"
    assert me["doctor"] is None


def confirm_latest_link(client, email: str) -> None:
    from tests.accounts.test_verification import link_token

    assert client.post("/api/auth/verify-email", json={"token": link_token(email)}).status_code == 200


def test_register_refuses_a_taken_username_ignoring_case_whatever_the_email(client):
    UserFactory(username="ravi", email="ravi@example.org")
    for email in ("Ravi@example.org", "someone.new@example.org"):
        response = client.post(
            "/api/auth/register",
            json={"username": "RAVI", "email": email, "password": "long-enough-1", "full_name": "R"},
        )
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["code"] == "duplicate"
        assert set(error["fields"]) == {"username"}


def test_register_refuses_short_password_and_password_equal_to_username(client):
    short = client.post(
        "/api/auth/register", json={"username": "anil", "email": "a@x.org", "password": "short", "full_name": "A"}
    )
    assert short.status_code == 422
    assert "password" in short.get_json()["error"]["fields"]
    same = client.post(
        "/api/auth/register",
        json={"username": "anilkumar", "email": "a@x.org", "password": "AnilKumar", "full_name": "A"},
    )
    assert same.status_code == 422
    assert "username" in same.get_json()["error"]["fields"]["password"][0]


def test_register_reports_wrong_types_and_unknown_fields_per_field(client):
    response = client.post(
        "/api/auth/register",
        json={"username": 5, "email": "not-an-email", "password": "long-enough-1", "full_name": "A", "colour": "red"},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"username", "email", "colour"} <= set(fields)


def test_malformed_json_is_a_400_in_the_error_format(client):
    response = client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_login_by_username_or_email_in_any_case_returns_tokens_and_records_last_login(client):
    user = UserFactory(username="meera", email="meera@example.org")
    for identifier in ("meera", "MEERA", "Meera@Example.org"):
        response = login(client, identifier)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["access_token"] and "refresh_token" not in body  # the refresh token is only in its cookie
        assert body["user"] == {**body["user"], "id": user.id, "username": "meera", "role": "patient"}
    assert fetch(User, user.id).last_login_at is not None


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    UserFactory(username="meera")
    wrong = login(client, "meera", "wrong-password")
    unknown = login(client, "nobody", "wrong-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_blocked_user_cannot_log_in(client):
    UserFactory(username="blocked", is_active=False)
    response = login(client, "blocked")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_blocked"


def test_me_requires_a_token(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_shows_a_doctor_profile_with_department(client, auth):
    doctor = DoctorFactory(full_name="Dr. Kavya Iyer")
    me = client.get("/api/auth/me", headers=auth(doctor.user)).get_json()
    assert me["role"] == "doctor"
    assert me["doctor"]["display_name"] == "Dr. Kavya Iyer"
    assert me["doctor"]["department_name"] == doctor.department.name
    assert me["patient"] is None


def test_the_refresh_cookie_gives_a_new_access_token_and_a_bearer_token_cannot_refresh(client):
    user = UserFactory()
    tokens = login(client, user.username).get_json()
    refreshed = client.post("/api/auth/refresh")
    assert refreshed.status_code == 200
    new_access = refreshed.get_json()["access_token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {new_access}"}).status_code == 200
    client.delete_cookie("hms_refresh", path="/api/auth/refresh")
    wrong_kind = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert wrong_kind.status_code == 401


def test_logout_revokes_the_access_token_and_ends_the_session_of_its_refresh_cookie(client):
    user = UserFactory()
    tokens = login(client, user.username).get_json()
    cookie = client.get_cookie("hms_refresh", path="/api/auth/refresh").value
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = client.post("/api/auth/logout", headers=access)
    assert response.status_code == 200
    assert client.get_cookie("hms_refresh", path="/api/auth/refresh") is None  # cleared
    again = client.get("/api/auth/me", headers=access)
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "token_revoked"
    client.set_cookie("hms_refresh", cookie, path="/api/auth/refresh")
    assert client.post("/api/auth/refresh").status_code == 401


def test_logout_ends_only_its_own_session(client, auth):
    user = UserFactory()
    mine, other = auth(user), auth(user)
    assert client.post("/api/auth/logout", headers=mine).status_code == 200
    assert client.get("/api/auth/me", headers=mine).status_code == 401
    assert client.get("/api/auth/me", headers=other).status_code == 200


def test_change_password_keeps_this_session_and_ends_the_others(client, auth):
    user = UserFactory(username="ravi")
    other_session = auth(user)
    response = client.post(
        "/api/auth/change-password",
        headers=auth(user),
        json={"current_password": PASSWORD, "new_password": "a-brand-new-one"},
    )
    assert response.status_code == 200
    fresh = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert client.get("/api/auth/me", headers=other_session).status_code == 401
    assert login(client, "ravi", PASSWORD).status_code == 401
    assert login(client, "ravi", "a-brand-new-one").status_code == 200


def test_change_password_checks_the_current_password_and_the_rules(client, auth):
    user = UserFactory(username="ravikumar")
    wrong = client.post(
        "/api/auth/change-password", headers=auth(user), json={"current_password": "nope", "new_password": "x" * 10}
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.get_json()["error"]["fields"]
    weak = client.post(
        "/api/auth/change-password",
        headers=auth(user),
        json={"current_password": PASSWORD, "new_password": "ravikumar"},
    )
    assert weak.status_code == 422
    assert "new_password" in weak.get_json()["error"]["fields"]


def test_new_doctor_must_change_password_before_anything_else(client, auth):
    admin = AdminFactory()
    department = DoctorFactory().department
    created = client.post(
        "/api/admin/doctors",
        headers=auth(admin),
        json={
            "username": "dr.new",
            "email": "dr.new@hospital.local",
            "password": "temporary-1",
            "full_name": "Dr. New",
            "department_id": department.id,
            "specialization": "Cardiologist",
        },
    )
    assert created.status_code == 201
    tokens = login(client, "dr.new", "temporary-1").get_json()
    assert tokens["user"]["must_change_password"] is True
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    blocked = client.get("/api/admin/departments", headers=headers)
    assert blocked.status_code == 403
    assert blocked.get_json()["error"]["code"] == "password_change_required"
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    changed = client.post(
        "/api/auth/change-password",
        headers=headers,
        json={"current_password": "temporary-1", "new_password": "my-own-secret"},
    )
    assert changed.status_code == 200
    assert changed.get_json()["user"]["must_change_password"] is False
    new_headers = {"Authorization": f"Bearer {changed.get_json()['access_token']}"}
    assert client.get("/api/auth/me", headers=new_headers).get_json()["must_change_password"] is False


def test_blocked_patients_old_token_is_refused_at_once_and_after_unblock(client, auth):
    admin = AdminFactory()
    patient = PatientFactory()
    old = auth(patient.user)
    assert client.get("/api/auth/me", headers=old).status_code == 200
    assert client.post(f"/api/admin/patients/{patient.id}/block", headers=auth(admin)).status_code == 200
    refused = client.get("/api/auth/me", headers=old)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    assert login(client, patient.user.username).status_code == 403
    assert client.post(f"/api/admin/patients/{patient.id}/unblock", headers=auth(admin)).status_code == 200
    assert client.get("/api/auth/me", headers=old).status_code == 401
    assert login(client, patient.user.username).status_code == 200


def test_register_stores_patient_in_the_database(client):
    client.post(
        "/api/auth/register",
        json={"username": "gita", "email": "gita@example.org", "password": "long-enough-1", "full_name": "Gita"},
    )
    with fresh() as session:
        patient = session.execute(select(Patient)).scalar_one()
        assert patient.user.username == "gita"
        assert patient.user.password_hash != "long-enough-1"
