"""Password reset by e-mail (issue 14): no enumeration, a single-use 30-minute link that is never stored,
the usual password rules, every session ended, the owner told, throttled per account and client address."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from hms.config import PASSWORD_RESET_FLOOR_SECONDS, REGISTER_FLOOR_SECONDS, Settings
from hms.models import AccountToken, AuditEvent, Notification, User
from tests.conftest import fetch, fetch_all, fresh
from tests.factories import PASSWORD, UserFactory

NEW = "a-brand-new-secret-9"


def ask(client, email: str, ip: str = "127.0.0.1"):
    return client.post("/api/auth/password-reset", json={"email": email}, environ_base={"REMOTE_ADDR": ip})


def confirm(client, token: str, password: str = NEW):
    return client.post("/api/auth/password-reset/confirm", json={"token": token, "new_password": password})


def mails(kind: str, user_id: int | None = None) -> list[Notification]:
    statement = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    if user_id is not None:
        statement = statement.where(Notification.user_id == user_id)
    return fetch_all(statement)


def rendered(row: Notification):
    from hms.notifications.messages import render

    with fresh() as session:
        return render(session.get(Notification, row.id))


def token_from(row: Notification) -> str:
    """The token of the link in the mail as the user receives it (rendered at sending time)."""
    message = rendered(row)
    match = re.search(r"/reset-password#token=([\w.-]+)", message.text)
    assert match, message.text
    assert match.group(0) in message.html
    return match.group(1)


def sign_in(client, user, password: str):
    return client.post("/api/auth/login", json={"username": user.username, "password": password})


# ---- asking ------------------------------------------------------------------------------------------------


# The suite runs with no floor (tests/conftest.py); these set one. A small one is enough to prove that every answer
# waits for it; the timing test below uses the production value, which is what hides the difference.
SMALL_FLOOR = 0.05


def test_production_keeps_the_response_floors_and_refuses_shorter_ones(tmp_path):
    production = Settings.from_env(env="production", jwt_secret="p" * 48, audit_key="a" * 48, instance_path=tmp_path)
    assert (production.password_reset_floor_seconds, production.register_floor_seconds) == (0.5, 0.6)
    assert (PASSWORD_RESET_FLOOR_SECONDS, REGISTER_FLOOR_SECONDS) == (0.5, 0.6)
    for setting in ("password_reset_floor_seconds", "register_floor_seconds"):
        with pytest.raises(RuntimeError, match="FLOOR_SECONDS must be at least"):
            Settings.from_env(
                env="production", jwt_secret="p" * 48, audit_key="a" * 48, instance_path=tmp_path, **{setting: 0.1}
            )


def test_a_known_and_an_unknown_address_get_the_same_answer_after_the_same_minimum_time(client, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "password_reset_floor_seconds", SMALL_FLOOR)
    user = UserFactory(email="asha@example.org")
    answers, durations = [], []
    for email in ("asha@example.org", "nobody@example.org", "ASHA@example.org", "ghost@example.org"):
        started = time.monotonic()
        response = ask(client, email)
        durations.append(time.monotonic() - started)
        answers.append((response.status_code, response.get_json()))
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert answers[0][0] == 202
    assert all(duration >= SMALL_FLOOR for duration in durations)
    sent = mails("password_reset")
    assert [(row.user_id, row.channel, row.recipient) for row in sent] == [(user.id, "email", "asha@example.org")] * 2


def test_the_mail_links_to_the_spa_and_neither_the_outbox_nor_the_table_holds_the_token(client):
    user = UserFactory(email="asha@example.org")
    ask(client, "asha@example.org")
    (row,) = mails("password_reset")
    token = token_from(row)
    assert rendered(row).text.count("30 minutes") >= 1
    assert token not in json.dumps(row.payload) and token not in (row.subject or "")
    stored = fetch_all(select(AccountToken).where(AccountToken.user_id == user.id))
    assert len(stored) == 1 and stored[0].token_hash != token and token not in stored[0].token_hash
    # an admin reading the outbox sees no link either
    assert "token" not in json.dumps(row.payload).lower().replace("account_token_id", "")


def test_a_blocked_account_gets_the_same_answer_and_no_mail(client):
    UserFactory(email="blocked@example.org", is_active=False)
    response = ask(client, "blocked@example.org")
    assert response.status_code == 202
    assert mails("password_reset") == []


# ---- using the link ----------------------------------------------------------------------------------------


def test_the_link_sets_a_new_password_ends_every_session_and_tells_the_owner(client, auth):
    user = UserFactory(email="asha@example.org")
    thief = auth(user)
    assert client.get("/api/auth/me", headers=thief).status_code == 200
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])

    response = confirm(client, token)
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/auth/me", headers=thief).status_code == 401
    assert sign_in(client, user, PASSWORD).status_code == 401
    assert sign_in(client, user, NEW).status_code == 200
    (notice,) = mails("password_changed", user.id)
    assert notice.channel == "email" and "changed" in rendered(notice).text
    actions = [e.action for e in fetch_all(select(AuditEvent).where(AuditEvent.entity_id == str(user.id)))]
    assert "password_reset_requested" in actions and "password_reset" in actions


def test_the_link_works_once(client):
    UserFactory(email="asha@example.org")
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])
    assert confirm(client, token).status_code == 200
    again = confirm(client, token, "yet-another-secret-7")
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "reset_link_invalid"


def test_the_link_expires_after_thirty_minutes(client, frozen_clock):
    UserFactory(email="asha@example.org")
    frozen_clock("2026-11-24 10:00")
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])
    frozen_clock("2026-11-24 10:30:01")
    assert confirm(client, token).status_code == 400
    frozen_clock("2026-11-24 10:29:59")
    assert confirm(client, token).status_code == 200


def test_a_newer_link_replaces_the_older_one(client):
    UserFactory(email="asha@example.org")
    ask(client, "asha@example.org")
    ask(client, "asha@example.org")
    first, second = (token_from(row) for row in mails("password_reset"))
    assert confirm(client, first).status_code == 400
    assert confirm(client, second).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "1.AAAA", "99999.abc", "1", "../../etc/passwd", "1." + "A" * 43],
)
def test_made_up_tokens_are_refused(client, token):
    UserFactory(email="asha@example.org")
    ask(client, "asha@example.org")
    response = confirm(client, token)
    assert response.status_code in (400, 422)
    assert sign_in(client, fetch_all(select(User))[0], PASSWORD).status_code == 200


def test_the_new_password_follows_the_usual_rules_and_a_refusal_keeps_the_link(client):
    user = UserFactory(username="ashak", email="asha@example.org")
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])
    for weak in ("short", "my-ashak-pass", "asha@example.org1", PASSWORD):
        response = confirm(client, token, weak)
        assert response.status_code == 422, weak
        assert "new_password" in response.get_json()["error"]["fields"]
    assert confirm(client, token).status_code == 200
    assert fetch(User, user.id).must_change_password is False


def test_a_reset_lifts_the_sign_in_locks_of_the_account(client):
    user = UserFactory(email="asha@example.org")
    for _ in range(5):
        sign_in(client, user, "wrong-password")
    assert sign_in(client, user, PASSWORD).status_code == 429
    ask(client, "asha@example.org")
    assert confirm(client, token_from(mails("password_reset")[0])).status_code == 200
    assert sign_in(client, user, NEW).status_code == 200


# ---- throttles ---------------------------------------------------------------------------------------------


def test_an_account_gets_at_most_three_mails_an_hour_with_the_same_answer(client, frozen_clock):
    UserFactory(email="asha@example.org")
    frozen_clock("2026-11-24 10:00")
    answers = [ask(client, "asha@example.org", ip=f"10.0.0.{n}").get_json() for n in range(5)]
    assert all(answer == answers[0] for answer in answers)
    assert len(mails("password_reset")) == 3
    frozen_clock("2026-11-24 11:01")
    ask(client, "asha@example.org", ip="10.0.0.9")
    assert len(mails("password_reset")) == 4


def test_a_client_address_is_rate_limited(client, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "rate_limit_password_reset", "2 per hour")
    assert [ask(client, f"x{n}@example.org", ip="10.7.7.7").status_code for n in range(2)] == [202, 202]
    refused = ask(client, "x3@example.org", ip="10.7.7.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert ask(client, "x4@example.org", ip="10.7.7.8").status_code == 202


def test_timing_of_known_and_unknown_addresses_is_alike(client, app, monkeypatch):
    """Median durations of 5 requests each differ by less than a fifth (the production floor dominates both)."""
    monkeypatch.setattr(app.config["HMS"], "password_reset_floor_seconds", PASSWORD_RESET_FLOOR_SECONDS)
    UserFactory(email="asha@example.org")

    def median(email: str) -> float:
        samples = []
        for n in range(5):
            started = time.monotonic()
            ask(client, email, ip=f"10.1.1.{n}")
            samples.append(time.monotonic() - started)
        return sorted(samples)[2]

    known, unknown = median("asha@example.org"), median("nobody@example.org")
    print(f"password reset: median known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms")
    assert abs(known - unknown) < 0.2 * max(known, unknown)


def test_expired_tokens_are_refused_even_a_second_after_expiry(client, frozen_clock):
    UserFactory(email="asha@example.org")
    start = frozen_clock("2026-11-24 10:00")
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])
    frozen_clock(start + timedelta(minutes=30))
    assert confirm(client, token).status_code == 400


def test_reset_mails_go_by_e_mail_only_never_to_the_shared_chat_or_sms(client, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "webhook_url", "http://127.0.0.1:9/hook")
    monkeypatch.setattr(app.config["HMS"], "sms_enabled", True)
    monkeypatch.setattr(app.config["HMS"], "sms_url", "http://127.0.0.1:9/sms")
    UserFactory(email="asha@example.org")
    ask(client, "asha@example.org")
    token = token_from(mails("password_reset")[0])
    assert confirm(client, token).status_code == 200
    assert {row.channel for row in fetch_all(select(Notification))} == {"email"}
