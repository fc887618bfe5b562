"""Findings 1, 2 (sign-in), 8 and 16: a stranger cannot lock an owner out, nor learn who has an account."""

from __future__ import annotations

from hms.extensions import db
from hms.models import LoginThrottle
from tests.conftest import bearer
from tests.factories import PASSWORD, AdminFactory, DoctorFactory, UserFactory


def login(client, username: str, password: str = PASSWORD, ip: str = "10.1.2.3", **kwargs):
    return client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        **kwargs,
    )


def test_finding_1_a_strangers_failures_never_refuse_the_owner_from_another_address(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    AdminFactory(username="chief")
    for _ in range(12):
        assert login(client, "chief", "guess", ip="198.51.100.66").status_code in {401, 429}
    assert login(client, "chief", PASSWORD, ip="198.51.100.66").status_code == 429
    owner = login(client, "chief", PASSWORD, ip="10.20.30.40")
    assert owner.status_code == 200
    assert owner.get_json()["user"]["username"] == "chief"


def test_finding_1_an_admin_sees_the_lock_and_lifts_it(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    admin, doctor = AdminFactory(), DoctorFactory()
    username = doctor.user.username
    for _ in range(5):
        login(client, username, "guess", ip="10.0.0.9")
    assert login(client, username, PASSWORD, ip="10.0.0.9").status_code == 429
    headers = bearer(admin)
    locks = client.get(f"/api/admin/users/{doctor.user_id}/sign-in-locks", headers=headers).get_json()
    assert locks["locked"] is True
    assert [(item["ip"], item["locked"]) for item in locks["items"]] == [("10.0.0.9", True)]
    lifted = client.post(f"/api/admin/users/{doctor.user_id}/unlock", headers=headers)
    assert lifted.status_code == 200
    assert lifted.get_json() == {"user_id": doctor.user_id, "locked": False, "items": []}
    assert login(client, username, PASSWORD, ip="10.0.0.9").status_code == 200
    actions = [e["action"] for e in client.get("/api/admin/audit", headers=headers).get_json()["items"]]
    assert "user_unlocked" in actions


def test_finding_1_unblocking_a_doctor_clears_the_sign_in_lock(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    admin, doctor = AdminFactory(), DoctorFactory()
    for _ in range(5):
        login(client, doctor.user.username, "guess", ip="10.0.0.9")
    headers = bearer(admin)
    assert client.post(f"/api/admin/doctors/{doctor.id}/block", headers=headers).status_code == 200
    assert client.post(f"/api/admin/doctors/{doctor.id}/unblock", headers=headers).status_code == 200
    assert login(client, doctor.user.username, PASSWORD, ip="10.0.0.9").status_code == 200


def test_finding_1_only_admins_see_or_lift_locks(client):
    doctor = DoctorFactory()
    assert client.post(f"/api/admin/users/{doctor.user_id}/unlock").status_code == 401
    assert client.post(f"/api/admin/users/{doctor.user_id}/unlock", headers=bearer(doctor.user)).status_code == 403
    assert (
        client.get(f"/api/admin/users/{doctor.user_id}/sign-in-locks", headers=bearer(doctor.user)).status_code == 403
    )


def test_finding_1_repeated_locks_of_one_address_grow_longer(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="target")
    for _ in range(5):
        login(client, "target", "guess", ip="10.0.0.5")
    frozen_clock("2026-11-24 10:16")
    for _ in range(5):
        login(client, "target", "guess", ip="10.0.0.5")
    frozen_clock("2026-11-24 10:40")
    assert login(client, "target", PASSWORD, ip="10.0.0.5").status_code == 429
    frozen_clock("2026-11-24 10:47")
    assert login(client, "target", PASSWORD, ip="10.0.0.5").status_code == 200


def test_finding_2_known_and_unknown_names_get_identical_answers_locked_or_not(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="present")
    known = [login(client, "present", "guess", ip="10.3.3.3") for _ in range(8)]
    unknown = [login(client, "absent", "guess", ip="10.3.3.3") for _ in range(8)]
    assert [r.status_code for r in known] == [401] * 4 + [429] * 4
    assert [(r.status_code, r.get_json(), r.headers.get("Retry-After")) for r in unknown] == [
        (r.status_code, r.get_json(), r.headers.get("Retry-After")) for r in known
    ]


def test_finding_8_wrong_current_passwords_on_change_password_count_as_failed_sign_ins(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    user = UserFactory(username="stolen")
    headers = bearer(user)
    answers = [
        client.post(
            "/api/auth/change-password",
            json={"current_password": f"guess-{n}", "new_password": "a-new-password-1"},
            headers=headers,
            environ_base={"REMOTE_ADDR": "10.6.6.6"},
        ).status_code
        for n in range(5)
    ]
    assert answers == [422, 422, 422, 422, 429]
    right = client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "a-new-password-1"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.6.6.6"},
    )
    assert right.status_code == 429
    assert login(client, "stolen", PASSWORD, ip="10.7.7.7").status_code == 200


def test_finding_16_behind_one_trusted_proxy_each_client_is_counted_by_its_own_address(app, tmp_path, frozen_clock):
    from hms import create_app
    from tests.conftest import make_settings

    frozen_clock("2026-11-24 10:00")
    proxied = create_app(
        make_settings(tmp_path, database_url=app.config["HMS"].database_url, trusted_proxies=1, jwt_secret="k" * 40)
    )
    UserFactory(username="nurse")
    client = proxied.test_client()
    for _ in range(6):
        login(client, "nurse", "guess", ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.50"})
    colleague = login(client, "nurse", PASSWORD, ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.51"})
    assert colleague.status_code == 200
    with proxied.app_context():
        addresses = {row.ip for row in db.session.query(LoginThrottle).all()}
        db.session.remove()
    assert addresses == {"203.0.113.50"}


def test_finding_16_without_trusted_proxies_a_forwarded_header_is_ignored(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="nurse")
    for n in range(5):
        login(client, "nurse", "guess", ip="10.0.0.1", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert (
        login(client, "nurse", PASSWORD, ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    )


def test_a_lock_says_how_long_it_lasts_ends_on_time_and_the_next_one_lasts_twice_as_long(client, frozen_clock):
    """What a locked-out user reads: Retry-After and the message give the lock's real length (15 min, then 30),
    the lock ends exactly then, and a right password afterwards signs in."""
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    username = doctor.user.username
    answers = [login(client, username, "guess", ip="10.0.0.9") for _ in range(5)]
    assert [r.status_code for r in answers] == [401, 401, 401, 401, 429]  # the fifth failure starts the lock
    assert answers[-1].headers["Retry-After"] == str(15 * 60)
    assert "Try again in 15 min." in answers[-1].get_json()["error"]["message"]
    frozen_clock("2026-11-24 10:14:30")
    still = login(client, username, PASSWORD, ip="10.0.0.9")
    assert (still.status_code, still.headers["Retry-After"]) == (429, "30")
    assert "Try again in 1 min." in still.get_json()["error"]["message"]
    frozen_clock("2026-11-24 10:15")
    answers = [login(client, username, "guess", ip="10.0.0.9") for _ in range(5)]  # the lock ran out: a new series
    assert [r.status_code for r in answers] == [401, 401, 401, 401, 429]
    assert answers[-1].headers["Retry-After"] == str(30 * 60)  # the second lock of the pair lasts twice as long
    frozen_clock("2026-11-24 10:45")
    assert login(client, username, PASSWORD, ip="10.0.0.9").status_code == 200


def test_an_address_failing_too_often_waits_for_the_next_minute(client, frozen_clock):
    """Thirty failures a minute from one address (over any names) refuse it until the minute turns."""
    frozen_clock("2026-11-24 10:00:15")
    for n in range(30):
        assert login(client, f"nobody{n}", "guess", ip="203.0.113.7").status_code == 401
    refused = login(client, "nobody-else", "guess", ip="203.0.113.7")
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "45")
    assert login(client, "nobody-else", "guess", ip="203.0.113.8").status_code == 401  # other addresses are not
