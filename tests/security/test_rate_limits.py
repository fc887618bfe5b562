"""Findings 2 and 5: sign-up, refresh, change-password and exports are limited; 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.factories import PASSWORD, PatientFactory, UserFactory


@pytest.fixture
def limits(app, monkeypatch):
    settings = app.config["HMS"]
    for name in ("rate_limit_register", "rate_limit_refresh", "rate_limit_change_password", "rate_limit_exports"):
        monkeypatch.setattr(settings, name, "3 per hour")
    return settings


def assert_limited(response) -> None:
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def register(client, n: int, ip: str):
    return client.post(
        "/api/auth/register",
        json={"username": f"new{n}", "email": f"new{n}@example.org", "password": "long-enough-1", "full_name": "N"},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_finding_5_sign_up_is_limited_per_address(client, limits):
    assert [register(client, n, "10.8.8.8").status_code for n in range(3)] == [202, 202, 202]
    refused = register(client, 3, "10.8.8.8")
    assert_limited(refused)
    assert client.post("/api/auth/login", json={"username": "new3", "password": "long-enough-1"}).status_code == 401
    assert register(client, 4, "10.9.9.9").status_code == 202


def test_sign_up_default_limit_is_ten_an_hour(client):
    answers = [register(client, n, "10.8.8.1").status_code for n in range(11)]
    assert answers == [202] * 10 + [429]


def test_refresh_is_limited(client, limits):
    user = UserFactory()
    assert client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD}).status_code == 200
    assert [client.post("/api/auth/refresh").status_code for _ in range(3)] == [200, 200, 200]  # cookie rotates
    assert_limited(client.post("/api/auth/refresh"))


def test_change_password_is_limited(client, limits):
    user = UserFactory()
    body = {"current_password": PASSWORD, "new_password": "short"}
    answers = [client.post("/api/auth/change-password", json=body, headers=bearer(user)).status_code for _ in range(3)]
    assert answers == [422, 422, 422]
    assert_limited(client.post("/api/auth/change-password", json=body, headers=bearer(user)))


def test_exports_share_one_limit(client, limits):
    patient = PatientFactory()
    headers = bearer(patient.user)
    assert client.get("/api/patient/history/export.csv", headers=headers).status_code == 200
    assert client.post("/api/patient/exports", headers=headers).status_code == 202
    assert client.get("/api/patient/history/export.csv", headers=headers).status_code == 200
    assert_limited(client.post("/api/patient/exports", headers=headers))
