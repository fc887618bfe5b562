"""Password reset by e-mail (OWASP ASVS 2.5): a single-use, 30-minute link; the same answer whether or not
the address belongs to anyone.

Why it is built this way:
- No account enumeration: the request always gets the same status and body, and takes at least
  HMS_PASSWORD_RESET_FLOOR_SECONDS (0.5 s; production refuses less), so neither the answer nor its timing says
  whether a mail went out. Throttled, blocked and unknown addresses get that same answer too.
- Throttles: per client address (the rate limit on the view, HMS_RATE_LIMIT_PASSWORD_RESET) and per account
  (at most HMS_PASSWORD_RESET_PER_HOUR mails an hour, so nobody can flood a patient's inbox).
- The link's token is never stored (see hms.accounts.tokens); it works once, for 30 minutes, and a newer
  request supersedes it.
- Using it sets a password under the usual rules, ends every session (a thief who had one is out), lifts
  sign-in locks (the owner proved control of the mailbox) and tells the owner by e-mail.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from hms.accounts import tokens, verification
from hms.accounts.passwords import hash_password, verify_password
from hms.audit.service import record
from hms.common import clock
from hms.common.errors import BadRequest, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Channel, User
from hms.notifications.service import queue

TTL = timedelta(minutes=30)
REQUESTED = (
    "If an account uses this e-mail address, we have sent it a link to choose a new password. "
    "The link works once, for 30 minutes."
)


def _user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower()).limit(1)
    ).scalar_one_or_none()


def request_reset(*, email: str, ip: str | None) -> dict[str, Any]:
    """Mail a reset link when the address is an active account's and its hourly allowance is not spent.

    The answer is the same in every case, after the same minimum time.
    """
    floor = current_app.config["HMS"].password_reset_floor_seconds
    started = time.monotonic()
    try:
        _request(email=email, ip=ip)
    finally:
        remaining = floor - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
    return {"message": REQUESTED}


def _request(*, email: str, ip: str | None) -> None:
    settings = current_app.config["HMS"]
    with unit_of_work():
        user = _user_by_email(email)
        if user is None or not user.is_active:
            return
        since = clock.utcnow_naive() - timedelta(hours=1)
        if tokens.recent_count(user_id=user.id, purpose=tokens.RESET, since=since) >= settings.password_reset_per_hour:
            record(action="password_reset_throttled", entity="user", entity_id=user.id)
            return
        tokens.retire_all(user_id=user.id, purpose=tokens.RESET)
        row = tokens.mint(user=user, purpose=tokens.RESET, ttl=TTL, ip=ip, email=user.email)
        queue(
            user=user,
            kind="password_reset",
            subject="Reset your password",
            body="Someone (we hope you) asked to reset the password of your account.",
            data={"account_token_id": row.id, "link_purpose": tokens.RESET},
            channels=[Channel.EMAIL.value],  # never the shared chat webhook or SMS
        )
        record(action="password_reset_requested", entity="user", entity_id=user.id)


def _invalid() -> BadRequest:
    return BadRequest(
        "This reset link is not valid any more: it was used, replaced by a newer one, or is older than 30 minutes. "
        "Ask for a new one.",
        code="reset_link_invalid",
    )


def confirm_reset(*, token: str, new_password: str) -> dict[str, Any]:
    """Set the new password with a valid link: every session ends and the owner is told by e-mail."""
    from hms.accounts.service import check_password, clear_sign_in_locks, end_sessions

    now = clock.utcnow_naive()
    with unit_of_work():
        row = tokens.find(token, tokens.RESET, lock=True)
        user = db.session.get(User, row.user_id) if row is not None else None
        if not tokens.usable(row, now) or user is None or not user.is_active:
            raise _invalid()
        check_password(password=new_password, username=user.username, email=user.email, field="new_password")
        if verify_password(user.password_hash, new_password):
            raise ValidationFailed(
                "Choose a password different from the current one.",
                fields={"new_password": ["The new password must differ from the current one."]},
            )
        tokens.retire_all(user_id=user.id, purpose=tokens.RESET)
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        end_sessions(user, reason="password_reset")
        clear_sign_in_locks(user_id=user.id)
        if (row.email or "").lower() == user.email.lower():  # type: ignore[union-attr]
            verification.mark_verified(user)  # the link reached this mailbox: the address is the owner's
        record(action="password_reset", entity="user", entity_id=user.id, actor=user)
        queue_password_changed(user)
    return {"message": "Your password has been changed. Sign in with the new one."}


def queue_password_changed(user: User) -> None:
    """Tell the owner: if it was not them, they know at once (and whom to call)."""
    queue(
        user=user,
        kind="password_changed",
        subject="Your password was changed",
        body="The password of your account was just changed, and every device signed in to it was signed out.",
        channels=[Channel.EMAIL.value],
    )
