"""Sessions (issue 14): the refresh token lives in an HttpOnly cookie, rotates on every use, a reused one ends
its family; access tokens die with their session (sign-out, revocation, idle timeout, absolute lifetime)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hms.accounts.sessions import REFRESH_COOKIE, REFRESH_PATH, real_now
from hms.models import AuditEvent, AuthSession, User
from tests.conftest import fetch, fetch_all, fresh
from tests.factories import PASSWORD, AdminFactory, DoctorFactory, PatientFactory, UserFactory

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def sign_in(client, user, **kwargs):
    response = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD}, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response


def cookie_value(client) -> str | None:
    cookie = client.get_cookie(REFRESH_COOKIE, path=REFRESH_PATH)
    return cookie.value if cookie is not None else None


def set_cookie(client, value: str) -> None:
    client.set_cookie(REFRESH_COOKIE, value, path=REFRESH_PATH)


def bearer_of(response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def set_cookie_header(response, name: str = REFRESH_COOKIE) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, headers
    return headers[0]


def age_session(session_id: int, **columns: timedelta) -> None:
    """Move a session's moments into the past, as if that much real time had gone by."""
    with fresh() as session:
        row = session.get(AuthSession, session_id)
        values = {name: getattr(row, name) - delta for name, delta in columns.items()}
        session.execute(update(AuthSession).where(AuthSession.id == session_id).values(**values))
        session.commit()


def only_session_id(user_id: int) -> int:
    rows = fetch_all(select(AuthSession).where(AuthSession.user_id == user_id))
    assert len(rows) == 1
    return rows[0].id


# ---- the cookie ----------------------------------------------------------------------------------------------


def test_sign_in_sets_an_httponly_strict_cookie_on_the_refresh_path_and_no_refresh_token_in_the_body(client):
    user = UserFactory()
    response = sign_in(client, user)
    assert "refresh_token" not in response.get_json()
    header = set_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Strict"
    assert attributes["path"] == f"Path={REFRESH_PATH}"
    assert "secure" not in attributes  # plain HTTP on a laptop: a Secure cookie would never come back
    assert 12 * 3600 - 5 <= int(attributes["max-age"].split("=")[1]) <= 12 * 3600
    hint = set_cookie_header(response, "hms_session")  # no secret in it, so scripts may read it
    assert hint.startswith("hms_session=1;") and "HttpOnly" not in hint and "Path=/;" in hint
    # only a hash is stored
    row = fetch(AuthSession, only_session_id(user.id))
    assert row.refresh_hash != cookie_value(client) and len(row.refresh_hash) == 64


def test_the_cookie_is_secure_over_https(client):
    user = UserFactory()
    response = sign_in(client, user, base_url="https://localhost")
    assert "; Secure" in set_cookie_header(response)


def test_change_password_sets_the_cookie_too(client, auth):
    user = UserFactory(username="sita")
    response = sign_in(client, user)
    changed = client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "another-long-2"},
        headers=bearer_of(response),
    )
    assert changed.status_code == 200
    assert "HttpOnly" in set_cookie_header(changed)


# ---- rotation and reuse --------------------------------------------------------------------------------------


def test_each_refresh_rotates_the_cookie_and_answers_with_the_user_and_session(client):
    user = UserFactory()
    sign_in(client, user)
    first = cookie_value(client)
    refreshed = client.post("/api/auth/refresh")
    assert refreshed.status_code == 200
    body = refreshed.get_json()
    assert body["user"]["id"] == user.id
    assert body["session"]["idle_seconds"] == 60 * 60  # a patient: 60 min
    second = cookie_value(client)
    assert second and second != first
    assert client.get("/api/auth/me", headers=bearer_of(refreshed)).status_code == 200
    assert fetch(AuthSession, only_session_id(user.id)).generation == 1


def test_a_reused_refresh_token_ends_the_whole_family(client, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "refresh_grace_seconds", 0)
    user = UserFactory()
    signed_in = sign_in(client, user)
    stolen = cookie_value(client)
    refreshed = client.post("/api/auth/refresh")  # the owner rotates: `stolen` is now an old generation
    assert refreshed.status_code == 200
    current = cookie_value(client)
    age_session(only_session_id(user.id), rotated_at=timedelta(seconds=1))

    set_cookie(client, stolen)  # the thief replays the old token
    replay = client.post("/api/auth/refresh")
    assert replay.status_code == 401
    assert replay.get_json()["error"]["code"] == "session_ended"
    # the family is gone: the owner's current refresh token and every access token of the session
    set_cookie(client, current)
    assert client.post("/api/auth/refresh").status_code == 401
    assert client.get("/api/auth/me", headers=bearer_of(refreshed)).status_code == 401
    assert client.get("/api/auth/me", headers=bearer_of(signed_in)).status_code == 401
    row = fetch(AuthSession, only_session_id(user.id))
    assert row.ended_at is not None and row.end_reason == "reused"
    actions = [e.action for e in fetch_all(select(AuditEvent).where(AuditEvent.actor_id == user.id))]
    assert "refresh_token_reused" in actions


def test_two_tabs_refreshing_at_once_are_not_taken_for_a_thief(client):
    user = UserFactory()
    sign_in(client, user)
    both_tabs_had = cookie_value(client)
    assert client.post("/api/auth/refresh").status_code == 200  # tab one
    rotated = cookie_value(client)
    set_cookie(client, both_tabs_had)
    second = client.post("/api/auth/refresh")  # tab two, a moment later, with the token tab one just replaced
    assert second.status_code == 200
    assert client.get_cookie(REFRESH_COOKIE, path=REFRESH_PATH).value == both_tabs_had  # no new cookie
    set_cookie(client, rotated)
    assert client.post("/api/auth/refresh").status_code == 200  # the family lives on


def test_the_grace_is_only_for_the_token_just_replaced_and_only_briefly(client):
    user = UserFactory()
    sign_in(client, user)
    old = cookie_value(client)
    assert client.post("/api/auth/refresh").status_code == 200
    age_session(only_session_id(user.id), rotated_at=timedelta(seconds=11))
    set_cookie(client, old)
    assert client.post("/api/auth/refresh").status_code == 401


@pytest.mark.parametrize("cookie", ["", "garbage", "WzEsMCwieCJd.forged-signature"])
def test_a_missing_or_forged_cookie_is_a_401_and_ends_nothing(client, cookie):
    user = UserFactory()
    sign_in(client, user)
    good = cookie_value(client)
    if cookie:
        set_cookie(client, cookie)
    else:
        client.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH)
    response = client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_ended"
    set_cookie(client, good)
    assert client.post("/api/auth/refresh").status_code == 200


# ---- idle and absolute lifetimes -----------------------------------------------------------------------------


def test_a_staff_session_idle_for_thirty_minutes_ends(client):
    doctor = DoctorFactory()
    signed_in = sign_in(client, doctor.user)
    sid = only_session_id(doctor.user_id)
    age_session(sid, last_used_at=timedelta(minutes=29))
    assert client.get("/api/auth/me", headers=bearer_of(signed_in)).status_code == 200
    age_session(sid, last_used_at=timedelta(minutes=2))  # 31 minutes without a refresh
    assert client.get("/api/auth/me", headers=bearer_of(signed_in)).status_code == 401
    response = client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert "inactivity" in response.get_json()["error"]["message"]
    assert fetch(AuthSession, sid).end_reason == "idle"


def test_a_patient_may_stay_idle_longer_than_staff(client):
    user = UserFactory()
    sign_in(client, user)
    age_session(only_session_id(user.id), last_used_at=timedelta(minutes=45))
    assert client.post("/api/auth/refresh").status_code == 200


def test_the_idle_timeout_is_a_setting(client, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "session_idle_minutes", 5)
    admin = AdminFactory()
    response = sign_in(client, admin)
    assert response.get_json()["session"]["idle_seconds"] == 300
    age_session(only_session_id(admin.id), last_used_at=timedelta(minutes=6))
    assert client.post("/api/auth/refresh").status_code == 401


def test_refreshing_keeps_an_active_session_alive_until_its_absolute_lifetime(client):
    admin = AdminFactory()
    sign_in(client, admin)
    sid = only_session_id(admin.id)
    age_session(sid, last_used_at=timedelta(minutes=20), created_at=timedelta(hours=11), expires_at=timedelta(hours=11))
    assert client.post("/api/auth/refresh").status_code == 200  # active, 1 h before the end
    age_session(sid, expires_at=timedelta(hours=1, seconds=1))
    response = client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert "maximum length" in response.get_json()["error"]["message"]


# ---- ending sessions -----------------------------------------------------------------------------------------


def test_a_user_lists_their_own_sessions_with_device_address_and_last_use(client, auth):
    user, stranger = UserFactory(), UserFactory()
    auth(stranger)
    sign_in(client, user, headers={"User-Agent": CHROME_ON_WINDOWS}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    this_one = client.post("/api/auth/refresh", headers={"User-Agent": CHROME_ON_WINDOWS})
    response = client.get("/api/auth/sessions", headers=bearer_of(this_one))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == 1
    assert items[0]["device"] == "Chrome on Windows"
    assert items[0]["ip"] == "127.0.0.1"  # the refresh came from the test client's own address
    assert items[0]["current"] is True
    assert items[0]["last_used_at"].endswith("Z")


def test_revoking_a_session_signs_that_device_out_at_once(client, auth):
    user = UserFactory()
    phone = auth(user)
    laptop = sign_in(client, user)
    items = client.get("/api/auth/sessions", headers=bearer_of(laptop)).get_json()["items"]
    assert len(items) == 2
    phone_id = next(item["id"] for item in items if not item["current"])
    assert client.delete(f"/api/auth/sessions/{phone_id}", headers=bearer_of(laptop)).status_code == 204
    assert client.get("/api/auth/me", headers=phone).status_code == 401
    assert client.get("/api/auth/me", headers=bearer_of(laptop)).status_code == 200
    assert [i["id"] for i in client.get("/api/auth/sessions", headers=bearer_of(laptop)).get_json()["items"]] != [
        phone_id
    ]
    assert client.delete(f"/api/auth/sessions/{phone_id}", headers=bearer_of(laptop)).status_code == 404
    actions = [e.action for e in fetch_all(select(AuditEvent).where(AuditEvent.actor_id == user.id))]
    assert "session_revoked" in actions


def test_nobody_revokes_another_users_session(client, auth):
    user, other = UserFactory(), UserFactory()
    auth(other)
    other_id = only_session_id(other.id)
    response = client.delete(f"/api/auth/sessions/{other_id}", headers=auth(user))
    assert response.status_code == 404
    assert fetch(AuthSession, other_id).ended_at is None


def test_changing_the_password_ends_every_other_session(client, auth):
    user = UserFactory()
    other = auth(user)
    signed_in = sign_in(client, user)
    changed = client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "another-long-2"},
        headers=bearer_of(signed_in),
    )
    assert changed.status_code == 200
    assert client.get("/api/auth/me", headers=other).status_code == 401
    assert client.post("/api/auth/refresh").status_code == 200  # the new cookie of the change
    live = fetch_all(select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)))
    assert len(live) == 1


def test_blocking_a_user_ends_their_sessions(client, auth):
    admin, patient = AdminFactory(), PatientFactory()
    user = patient.user
    sign_in(client, user)
    assert client.post(f"/api/admin/patients/{patient.id}/block", headers=auth(admin)).status_code == 200
    assert client.post("/api/auth/refresh").status_code == 401
    assert fetch(User, user.id).is_active is False
    assert all(row.ended_at is not None for row in fetch_all(select(AuthSession).where(AuthSession.user_id == user.id)))


def test_an_access_token_without_a_session_is_refused(client):
    from flask_jwt_extended import create_access_token

    user = UserFactory()
    with fresh():
        token = create_access_token(identity=user.id)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_real_time_not_the_hospital_clock_ages_a_session(client, frozen_clock):
    user = DoctorFactory().user
    signed_in = sign_in(client, user)
    frozen_clock(real_now() + timedelta(days=3))
    assert client.get("/api/auth/me", headers=bearer_of(signed_in)).status_code == 200


def test_a_background_refresh_does_not_count_as_use(client):
    """The SPA reports its user's inactivity: a refresh that a polling request needed keeps "last used"."""
    doctor = DoctorFactory()
    sign_in(client, doctor.user)
    sid = only_session_id(doctor.user_id)
    age_session(sid, last_used_at=timedelta(minutes=20))
    before = fetch(AuthSession, sid).last_used_at
    assert client.post("/api/auth/refresh", headers={"X-HMS-Idle-Seconds": str(25 * 60)}).status_code == 200
    assert fetch(AuthSession, sid).last_used_at == before  # reported older than stored: unchanged
    age_session(sid, last_used_at=timedelta(minutes=11))  # 31 min since the user last did anything
    assert client.post("/api/auth/refresh", headers={"X-HMS-Idle-Seconds": "0"}).status_code == 401  # too late


def test_an_active_user_reports_recent_activity(client):
    doctor = DoctorFactory()
    sign_in(client, doctor.user)
    sid = only_session_id(doctor.user_id)
    age_session(sid, last_used_at=timedelta(minutes=20))
    assert client.post("/api/auth/refresh", headers={"X-HMS-Idle-Seconds": "60"}).status_code == 200
    used = fetch(AuthSession, sid).last_used_at
    assert timedelta(seconds=55) <= real_now() - used <= timedelta(seconds=70)
