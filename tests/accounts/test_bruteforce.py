"""Brute-force protection (SPEC §12): per-account lock, per-address failure throttle, successes never throttled."""

from __future__ import annotations

from tests.factories import PASSWORD, UserFactory


def login(client, username: str, password: str = PASSWORD, ip: str = "10.1.2.3"):
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def test_an_address_locks_itself_out_of_an_account_after_five_failures_until_the_lock_time(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="target")
    answers = [login(client, "target", "wrong-password", ip="10.0.0.1").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    locked = login(client, "target", PASSWORD, ip="10.0.0.1")
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "rate_limited"
    frozen_clock("2026-11-24 10:14")
    assert login(client, "target", PASSWORD, ip="10.0.0.1").status_code == 429
    frozen_clock("2026-11-24 10:16")
    assert login(client, "target", PASSWORD, ip="10.0.0.1").status_code == 200


def test_successful_login_resets_the_account_failure_count(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="forgetful")
    for _ in range(4):
        assert login(client, "forgetful", "wrong-password").status_code == 401
    assert login(client, "forgetful", PASSWORD).status_code == 200
    for _ in range(4):
        assert login(client, "forgetful", "wrong-password").status_code == 401
    assert login(client, "forgetful", PASSWORD).status_code == 200


def test_thirty_staff_log_in_from_one_address_within_a_minute(client, frozen_clock):
    frozen_clock("2026-11-24 09:00")
    staff = [UserFactory(username=f"nurse{n}") for n in range(30)]
    for user in staff:
        assert login(client, user.username, ip="192.0.2.1").status_code == 200


def test_failures_from_one_address_are_throttled_for_a_minute(client, frozen_clock):
    frozen_clock("2026-11-24 10:00:05")
    UserFactory(username="real")
    for n in range(30):
        assert login(client, f"guess{n}", "wrong-password", ip="203.0.113.7").status_code == 401
    throttled = login(client, "real", PASSWORD, ip="203.0.113.7")
    assert throttled.status_code == 429
    assert throttled.get_json()["error"]["code"] == "rate_limited"
    assert login(client, "real", PASSWORD, ip="198.51.100.1").status_code == 200
    frozen_clock("2026-11-24 10:01:05")
    assert login(client, "real", PASSWORD, ip="203.0.113.7").status_code == 200


def test_an_unknown_name_gets_the_same_answers_as_a_known_account(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    UserFactory(username="known")
    known = [login(client, "known", "wrong-password") for _ in range(7)]
    ghost = [login(client, "ghost", "wrong-password") for _ in range(7)]
    assert [r.status_code for r in known] == [401, 401, 401, 401, 429, 429, 429]
    assert [(r.status_code, r.get_json()) for r in ghost] == [(r.status_code, r.get_json()) for r in known]
