"""Password hashing: production keeps strong argon2id parameters; only the tests lower them (a setting)."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from hms import create_app
from hms.accounts.passwords import hash_password, verify_password
from hms.config import Settings
from tests.conftest import fresh


def test_production_settings_keep_strong_argon2_parameters(tmp_path, monkeypatch):
    for name in ("HMS_ENV", "HMS_JWT_SECRET", "HMS_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(env="production", jwt_secret="p" * 48, instance_path=tmp_path)
    strong = create_app(settings)
    with strong.app_context():
        parameters = extract_parameters(hash_password("a long passphrase"))
    assert (parameters.type.name, parameters.time_cost, parameters.memory_cost) == ("ID", 3, 65536)
    assert parameters.parallelism == 4


def test_production_refuses_weak_argon2_parameters(tmp_path):
    with pytest.raises(RuntimeError, match="argon2"):
        Settings.from_env(env="production", jwt_secret="p" * 48, instance_path=tmp_path, argon2_time_cost=1)


def test_the_test_settings_hash_cheaply_and_still_verify():
    with fresh():
        password_hash = hash_password("a long passphrase")
        assert verify_password(password_hash, "a long passphrase") is True
        assert verify_password(password_hash, "another passphrase") is False
        assert verify_password(None, "a long passphrase") is False
    assert extract_parameters(password_hash).time_cost == 1


def test_a_hash_made_with_strong_parameters_still_verifies_under_cheap_ones():
    strong_hash = hash_password("a long passphrase")  # outside an app: the strong defaults
    assert extract_parameters(strong_hash).memory_cost == 65536
    with fresh():
        assert verify_password(strong_hash, "a long passphrase") is True


def test_the_most_common_passwords_are_refused_from_a_bundled_list():
    from hms.accounts.passwords import COMMON_LIMIT, common_passwords, password_problems

    assert len(common_passwords()) == COMMON_LIMIT
    for weak in ("password", "Password1", "qwertyuiop", "iloveyou", "password123", "12345678"):
        assert any("most common" in p for p in password_problems(weak)), weak
    assert password_problems("correct-horse-battery-9") == []


def test_a_password_containing_the_username_or_email_is_refused():
    from hms.accounts.passwords import password_problems

    assert any("username" in p for p in password_problems("xx-meera.k-2026", username="Meera.K"))
    assert any("e-mail" in p for p in password_problems("meera.k@example.org!", email="meera.k@example.org"))
    assert any("e-mail" in p for p in password_problems("my-meerak-secret", email="meerak@example.org"))
    assert password_problems("a-quite-unrelated-9", username="meera", email="meera@example.org") == []
