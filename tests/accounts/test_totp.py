"""Two-factor sign-in (issue 14): enrolment, codes with a fixed clock (valid, reused, wrong window), recovery codes
used once, the sign-in throttle counting wrong codes, disabling, audit and the administrators' policy."""

from __future__ import annotations

from datetime import datetime

import pyotp
import pytest
from sqlalchemy import select

from hms.models import AuditEvent, AuthSession, TotpRecoveryCode, User
from tests.conftest import bearer, fetch, fetch_all
from tests.factories import PASSWORD, AdminFactory, DoctorFactory, UserFactory

T0 = "2026-11-24 10:00:00"


def login(client, username: str, password: str = PASSWORD, ip: str = "10.1.2.3"):
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def login_code(client, challenge: str, code: str, ip: str = "10.1.2.3"):
    return client.post(
        "/api/auth/login/totp", json={"challenge": challenge, "code": code}, environ_base={"REMOTE_ADDR": ip}
    )


def code_at(secret: str, moment: datetime, shift: int = 0) -> str:
    """The code of `moment` shifted by `shift` seconds."""
    return pyotp.TOTP(secret).at(int(moment.timestamp()) + shift)


def enrol(client, user, frozen_clock) -> tuple[str, list[str]]:
    """Turn TOTP on for `user` at T0 through the API; its secret and recovery codes."""
    moment = frozen_clock(T0)
    headers = bearer(user)
    started = client.post("/api/auth/totp/enrol", headers=headers)
    assert started.status_code == 200, started.get_json()
    secret = started.get_json()["secret"]
    confirmed = client.post("/api/auth/totp/confirm", json={"code": code_at(secret, moment)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()["recovery_codes"]


def actions(user_id: int) -> list[str]:
    return [e.action for e in fetch_all(select(AuditEvent).where(AuditEvent.entity_id == str(user_id)))]


def test_enrolment_returns_secret_uri_and_a_local_qr_and_keeps_the_secret_encrypted(client, frozen_clock):
    frozen_clock(T0)
    user = UserFactory(username="asha")
    answer = client.post("/api/auth/totp/enrol", headers=bearer(user))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["otpauth_uri"].startswith("otpauth://totp/") and body["secret"] in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and "http" not in body["qr_svg"].replace("http://www.w3.org", "")
    stored = fetch(User, user.id).totp_secret
    assert stored and body["secret"] not in stored
    # Not on until a code confirms it: the password alone still signs in.
    assert login(client, "asha").get_json().get("access_token")
    assert client.get("/api/auth/totp", headers=bearer(user)).get_json()["pending"] is True


def test_confirm_needs_a_valid_code_and_gives_ten_hashed_recovery_codes(client, frozen_clock):
    moment = frozen_clock(T0)
    user = UserFactory()
    headers = bearer(user)
    secret = client.post("/api/auth/totp/enrol", headers=headers).get_json()["secret"]
    wrong = client.post("/api/auth/totp/confirm", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 422
    assert fetch(User, user.id).totp_enabled_at is None
    ok = client.post("/api/auth/totp/confirm", json={"code": code_at(secret, moment)}, headers=headers)
    assert ok.status_code == 200
    codes = ok.get_json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = fetch_all(select(TotpRecoveryCode.code_hash).where(TotpRecoveryCode.user_id == user.id))
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    assert fetch(User, user.id).totp_enabled_at is not None
    assert "totp_enabled" in actions(user.id)
    assert client.post("/api/auth/totp/enrol", headers=headers).status_code == 409


def test_sign_in_asks_for_a_code_and_finishes_like_a_login(client, frozen_clock):
    user = UserFactory(username="ravi")
    secret, _ = enrol(client, user, frozen_clock)
    later = frozen_clock("2026-11-24 10:05:00")
    sessions = select(AuthSession.id).where(AuthSession.user_id == user.id)
    before = len(fetch_all(sessions))
    first = login(client, "ravi")
    assert first.status_code == 200
    body = first.get_json()
    assert body["totp_required"] is True and "access_token" not in body and body["challenge"]
    assert "hms_refresh" not in first.headers.get("Set-Cookie", "")
    assert len(fetch_all(sessions)) == before  # no session before the code
    done = login_code(client, body["challenge"], code_at(secret, later))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["access_token"] and "hms_refresh" in done.headers.get("Set-Cookie", "")
    assert done.get_json()["user"]["totp_enabled"] is True


def test_a_code_of_the_neighbouring_step_works_but_not_two_steps_away(client, frozen_clock):
    user = UserFactory(username="drift")
    secret, _ = enrol(client, user, frozen_clock)
    now = frozen_clock("2026-11-24 10:10:00")
    challenge = login(client, "drift").get_json()["challenge"]
    assert login_code(client, challenge, code_at(secret, now, -61)).status_code == 401
    assert login_code(client, challenge, code_at(secret, now, +61)).status_code == 401
    assert login_code(client, challenge, code_at(secret, now, -30)).status_code == 200


def test_a_used_code_is_refused_in_the_same_window(client, frozen_clock):
    user = UserFactory(username="replay")
    secret, _ = enrol(client, user, frozen_clock)
    now = frozen_clock("2026-11-24 10:20:00")
    code = code_at(secret, now)
    assert login_code(client, login(client, "replay").get_json()["challenge"], code).status_code == 200
    again = login_code(client, login(client, "replay").get_json()["challenge"], code)
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "invalid_code"


def test_a_recovery_code_works_once_and_is_audited(client, frozen_clock):
    user = UserFactory(username="lost")
    _, codes = enrol(client, user, frozen_clock)
    frozen_clock("2026-11-24 11:00:00")
    assert login_code(client, login(client, "lost").get_json()["challenge"], codes[0].upper()).status_code == 200
    assert login_code(client, login(client, "lost").get_json()["challenge"], codes[0]).status_code == 401
    assert "totp_recovery_code_used" in actions(user.id)
    assert login_code(client, login(client, "lost").get_json()["challenge"], codes[1]).status_code == 200


def test_wrong_codes_are_throttled_like_passwords_and_a_correct_password_does_not_reset_them(client, frozen_clock):
    user = UserFactory(username="guessed")
    enrol(client, user, frozen_clock)
    frozen_clock("2026-11-24 12:00:00")
    answers = []
    for _ in range(5):
        challenge = login(client, "guessed").get_json()["challenge"]  # the password is known to the attacker
        answers.append(login_code(client, challenge, "000000").status_code)
    assert answers == [401, 401, 401, 401, 429]
    assert login(client, "guessed").status_code == 429


def test_a_forged_or_expired_challenge_is_refused(client, frozen_clock):
    user = UserFactory(username="slow")
    secret, _ = enrol(client, user, frozen_clock)
    frozen_clock("2026-11-24 13:00:00")
    challenge = login(client, "slow").get_json()["challenge"]
    assert login_code(client, challenge + "x", "123456").get_json()["error"]["code"] == "challenge_invalid"
    late = frozen_clock("2026-11-24 13:05:01")
    expired = login_code(client, challenge, code_at(secret, late))
    assert expired.status_code == 401 and expired.get_json()["error"]["code"] == "challenge_invalid"


def test_disabling_needs_password_and_code_and_is_audited(client, frozen_clock):
    user = UserFactory(username="off")
    secret, _ = enrol(client, user, frozen_clock)
    now = frozen_clock("2026-11-24 14:00:00")
    headers = bearer(user)
    wrong_password = {"password": "nope-nope", "code": code_at(secret, now)}
    assert client.post("/api/auth/totp/disable", json=wrong_password, headers=headers).status_code == 422
    wrong_code = {"password": PASSWORD, "code": "000000"}
    assert client.post("/api/auth/totp/disable", json=wrong_code, headers=headers).status_code == 422
    assert fetch(User, user.id).totp_enabled_at is not None
    ok = client.post(
        "/api/auth/totp/disable", json={"password": PASSWORD, "code": code_at(secret, now)}, headers=headers
    )
    assert ok.status_code == 200
    assert fetch(User, user.id).totp_enabled_at is None and fetch(User, user.id).totp_secret is None
    assert fetch_all(select(TotpRecoveryCode.id).where(TotpRecoveryCode.user_id == user.id)) == []
    assert "totp_disabled" in actions(user.id)
    assert login(client, "off").get_json().get("access_token")


@pytest.fixture
def admin_totp_required(app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "admin_totp_required", True)


def test_an_admin_without_totp_is_sent_to_enrolment_first_when_required(client, frozen_clock, admin_totp_required):
    admin = AdminFactory()
    headers = bearer(admin)
    blocked = client.get("/api/admin/users/1/sign-in-locks", headers=headers)
    assert blocked.status_code == 403 and blocked.get_json()["error"]["code"] == "totp_enrolment_required"
    me = client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["totp_required"] is True
    enrol(client, admin, frozen_clock)
    assert client.get(f"/api/admin/users/{admin.id}/sign-in-locks", headers=headers).status_code == 200
    frozen_clock("2026-11-24 15:00:00")
    body = {"password": PASSWORD, "code": "000000"}
    refused = client.post("/api/auth/totp/disable", json=body, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "totp_required"


def test_the_policy_is_off_by_default_outside_production(client):
    admin = AdminFactory()
    assert client.get(f"/api/admin/users/{admin.id}/sign-in-locks", headers=bearer(admin)).status_code == 200


def test_doctors_must_enrol_only_when_the_flag_says_so(client, app, frozen_clock, monkeypatch):
    doctor = DoctorFactory()
    headers = bearer(doctor.user)
    assert client.get("/api/doctor/appointments", headers=headers).status_code == 200
    monkeypatch.setattr(app.config["HMS"], "doctor_totp_required", True)
    blocked = client.get("/api/doctor/appointments", headers=headers)
    assert blocked.status_code == 403 and blocked.get_json()["error"]["code"] == "totp_enrolment_required"
    enrol(client, doctor.user, frozen_clock)
    assert client.get("/api/doctor/appointments", headers=headers).status_code == 200
