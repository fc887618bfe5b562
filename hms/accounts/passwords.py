"""Password hashing with argon2id, and the password rules of SPEC §2."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

MIN_LENGTH = 8
# How many of the most common passwords are refused: zxcvbn's bundled list (ranked by frequency in leaked
# password sets), read from the installed package, so nothing is fetched from the network.
COMMON_LIMIT = 10_000


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_LIMIT])


# The demo hospital's published passwords (README; hms.demo gives them to its accounts). Production never accepts
# them: a sign-in with one must change it, and start-up refuses staff accounts that hold one (hms.demo.guard).
DEMO_ADMIN_PASSWORD = "admin123"
DEMO_DOCTOR_PASSWORD = "doctor123"
DEMO_PATIENT_PASSWORD = "patient123"
KNOWN_DEMO_PASSWORDS = (DEMO_ADMIN_PASSWORD, DEMO_DOCTOR_PASSWORD, DEMO_PATIENT_PASSWORD)


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """A hasher with these costs and a dummy hash made with them (an unknown user's login costs the same)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash("timing-equaliser-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher of the running app's settings; the strong defaults outside an app."""
    if has_app_context():
        settings = current_app.config["HMS"]
        return _hasher_for(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    return _hasher_for(3, 65536, 4)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) still spend the same time and say no."""
    hasher, dummy_hash = _hasher()
    try:
        return hasher.verify(password_hash or dummy_hash, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, username: str | None = None, email: str | None = None) -> list[str]:
    """Human-readable reasons a password is refused; empty when it is acceptable.

    A password that contains the username or the e-mail address (or its part before the @, when that part is
    long enough to mean something) is the first thing a guesser tries.
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be at least {MIN_LENGTH} characters long.")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("This password is one of the most common ones; choose one that is harder to guess.")
    if username and username.strip() and username.strip().lower() in lowered:
        problems.append("Password must not contain the username.")
    if email and email.strip():
        address = email.strip().lower()
        local = address.split("@", 1)[0]
        if address in lowered or (len(local) >= 3 and local in lowered):
            problems.append("Password must not contain the e-mail address.")
    return problems
