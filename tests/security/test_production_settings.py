"""Findings 7 and 10: production refuses weak settings, hides the API docs, and malformed tokens get 401."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
from sqlalchemy import select

from hms import create_app
from hms.accounts.passwords import hash_password
from hms.config import Settings
from hms.models import User
from tests.conftest import fetch_all, fresh, make_settings
from tests.factories import UserFactory

STRONG = "s" * 48
# Production refuses the cheap argon2 of the test settings.
PRODUCTION_ARGON2 = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4}
# And the test settings' zero response floors (tests/conftest.py).
PRODUCTION_FLOORS = {"password_reset_floor_seconds": 0.5, "register_floor_seconds": 0.6}


def production_app_settings(app, tmp_path, **overrides) -> Settings:
    """Settings of a production app on the test database."""
    values = {"database_url": app.config["HMS"].database_url, "env": "production", "jwt_secret": STRONG}
    values.update(PRODUCTION_ARGON2, **PRODUCTION_FLOORS, **overrides)
    return make_settings(tmp_path, **values)


def production(tmp_path, **overrides) -> Settings:
    values = {"instance_path": tmp_path / "instance", "env": "production", "jwt_secret": STRONG, **PRODUCTION_ARGON2}
    values.update(overrides)
    return Settings.from_env(**values)


def test_finding_7_production_refuses_a_short_signing_key(tmp_path):
    with pytest.raises(RuntimeError, match="HMS_JWT_SECRET must be at least 32 bytes"):
        production(tmp_path, jwt_secret="x")
    assert production(tmp_path).jwt_secret == STRONG


def test_finding_7_production_refuses_demo_data(tmp_path):
    with pytest.raises(RuntimeError, match="HMS_DEMO_DATA must be off"):
        production(tmp_path, demo_data=True)


def test_production_refuses_plain_smtp_to_a_remote_host_unless_allowed(tmp_path):
    with pytest.raises(RuntimeError, match="plain SMTP"):
        production(tmp_path, smtp_host="smtp.example.org", smtp_tls=False)
    assert production(tmp_path, smtp_host="smtp.example.org", smtp_tls=False, smtp_allow_plain=True).smtp_tls is False
    assert production(tmp_path, smtp_host="127.0.0.1", smtp_tls=False).smtp_host == "127.0.0.1"


def test_finding_7_production_refuses_to_start_while_a_staff_or_demo_account_has_a_demo_password(app, tmp_path):
    UserFactory(username="somebody", role="doctor", password_hash=hash_password("patient123"))
    UserFactory(username="patient7", password_hash=hash_password("doctor123"))
    settings = production_app_settings(app, tmp_path)
    with pytest.raises(RuntimeError, match="demo passwords on the accounts somebody, patient7"):
        create_app(settings)


def test_finding_7_in_production_a_patient_signing_in_with_a_demo_password_must_change_it(app, tmp_path):
    UserFactory(username="somebody", password_hash=hash_password("patient123"))
    settings = production_app_settings(app, tmp_path)
    client = create_app(settings).test_client()
    signed_in = client.post("/api/auth/login", json={"username": "somebody", "password": "patient123"}).get_json()
    assert signed_in["user"]["username"] == "somebody"
    headers = {"Authorization": f"Bearer {signed_in['access_token']}"}
    refused = client.get("/api/patient/appointments", headers=headers).get_json()
    assert refused["error"]["code"] == "password_change_required"
    body = {"current_password": "patient123", "new_password": "admin123"}
    weak = client.post("/api/auth/change-password", json=body, headers=headers)
    assert weak.status_code == 422


def test_production_starts_when_no_account_has_a_demo_password(app, tmp_path):
    UserFactory(username="somebody")
    settings = production_app_settings(app, tmp_path)
    assert create_app(settings).config["HMS"].is_production


def test_finding_7_api_docs_are_off_in_production_unless_asked(app, tmp_path):
    hidden = create_app(production_app_settings(app, tmp_path))
    shown = create_app(production_app_settings(app, tmp_path, api_docs=True))
    assert hidden.test_client().get("/api/docs").status_code == 404
    assert hidden.test_client().get("/api/openapi.json").status_code == 404
    assert shown.test_client().get("/api/openapi.json").status_code == 200
    assert app.test_client().get("/api/docs").status_code == 200


def test_the_first_start_admin_must_change_the_password_at_first_sign_in(app, client, monkeypatch):
    from hms.accounts.service import ensure_admin

    monkeypatch.setattr(app.config["HMS"], "admin_password", "from-the-environment-1")
    with app.app_context():
        ensure_admin()
    signed_in = client.post("/api/auth/login", json={"username": "admin", "password": "from-the-environment-1"})
    assert signed_in.get_json()["user"]["username"] == "admin"
    headers = {"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    refused = client.get("/api/admin/stats", headers=headers)
    assert refused.get_json()["error"]["code"] == "password_change_required"


def forged(app, **claims) -> dict[str, str]:
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def test_finding_10_a_token_with_a_non_numeric_subject_gets_401(app, client):
    now = int(time.time())
    headers = forged(app, sub="admin", iat=now, nbf=now, exp=now + 600, jti="a", type="access", fresh=False)
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_revoked"


def test_finding_10_a_token_without_exp_or_iat_gets_401(app, client):
    user = UserFactory()
    now = int(time.time())
    no_exp = forged(app, sub=str(user.id), iat=now, nbf=now, jti="b", type="access", fresh=False)
    no_iat = forged(app, sub=str(user.id), nbf=now, exp=now + 600, jti="c", type="access", fresh=False)
    with fresh() as session:  # access tokens also name a live session (issue 14)
        from hms.accounts import sessions

        sid = sessions.start(session.get(User, user.id))["session"]["id"]
    good = forged(app, sub=str(user.id), iat=now, nbf=now, exp=now + 600, jti="d", type="access", fresh=False, sid=sid)
    assert client.get("/api/auth/me", headers=no_exp).status_code == 401
    assert client.get("/api/auth/me", headers=no_iat).status_code == 401
    assert client.get("/api/auth/me", headers=good).status_code == 200


def test_a_token_without_an_id_gets_401(app, client):
    user = UserFactory()
    now = int(time.time())
    headers = forged(app, sub=str(user.id), iat=now, nbf=now, exp=now + 600, type="access", fresh=False)
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_demo_data_is_never_loaded_in_production(app, monkeypatch):
    from hms.demo.loader import load_demo_data

    monkeypatch.setattr(app.config["HMS"], "env", "production")
    with app.app_context(), pytest.raises(RuntimeError, match="never loaded"):
        load_demo_data()
    assert fetch_all(select(User)) == []
