"""Verified e-mail addresses (issue 14) and a registration that answers alike (issue 19, finding 2).

- Registration mails a link to the address; until it is opened the account cannot sign in, and the answer to
  the registration is "check your e-mail" whether or not the address already had an account (after the same
  minimum time; the owner of a taken address is told that someone tried). So registration cannot be used to
  learn who is a patient here.
- Until an address is verified no clinical content is mailed to it: every e-mail to an unverified address is
  rendered as "verify your address" instead (hms.notifications.messages, `mail_may_carry_details`).
  Booking and everything else keep working.
- Changing the address (by the patient, or by an admin) makes it unverified again and mails a link to the new
  one. Staff addresses are issued by the hospital and count as verified when the account is created.
- Opening a password-reset link also proves the address (same mailbox).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from hms.accounts import tokens
from hms.accounts.passwords import hash_password
from hms.audit.service import record
from hms.common import clock
from hms.common.errors import BadRequest
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Channel, Notification, Role, User
from hms.notifications.service import queue

TTL = timedelta(hours=24)
REGISTERED = (
    "Check your e-mail: we have sent a link to confirm your address. Open it within 24 hours, then sign in. "
    "If you already have an account with this address, the e-mail tells you what to do instead."
)


def is_verified(user: User) -> bool:
    return user.email_verified_at is not None


# ---- sending links -----------------------------------------------------------------------------------------


def send_link(user: User) -> None:
    """Mail a verification link to the user's current address (joins the caller's unit of work)."""
    tokens.retire_all(user_id=user.id, purpose=tokens.VERIFY)
    row = tokens.mint(user=user, purpose=tokens.VERIFY, ttl=TTL, email=user.email)
    queue(
        user=user,
        kind="verify_email",
        subject="Please confirm your e-mail address",
        body="Please confirm that this e-mail address is yours.",
        data={"account_token_id": row.id, "link_purpose": tokens.VERIFY},
        channels=[Channel.EMAIL.value],
    )


def on_created(user: User) -> None:
    """A new account made by an admin (or the CLI): staff addresses count as verified, patients get a link."""
    if user.role == Role.PATIENT.value:
        db.session.flush()
        send_link(user)
    else:
        user.email_verified_at = clock.utcnow_naive()


def set_email(*, user: User, email: str) -> None:
    """Change a user's address (uniqueness checked); a new address is unverified until its link is opened."""
    from hms.accounts.service import check_unique

    check_unique(email=email, exclude_user_id=user.id)
    new = email.strip().lower()
    if new == user.email.lower():
        return
    user.email = new
    user.email_verified_at = None
    db.session.flush()
    send_link(user)
    record(action="email_changed", entity="user", entity_id=user.id, details={"verified": False})


def resend(*, user: User) -> dict[str, Any]:
    """Another link for the signed-in user (at most HMS_PASSWORD_RESET_PER_HOUR an hour, like reset mails)."""
    if is_verified(user):
        return {"message": "Your e-mail address is already confirmed."}
    limit = current_app.config["HMS"].password_reset_per_hour
    with unit_of_work():
        since = clock.utcnow_naive() - timedelta(hours=1)
        if tokens.recent_count(user_id=user.id, purpose=tokens.VERIFY, since=since) < limit:
            send_link(db.session.get(User, user.id))  # type: ignore[arg-type]
    return {"message": f"We have sent a new link to {user.email}. It works for 24 hours."}


def _invalid() -> BadRequest:
    return BadRequest(
        "This confirmation link is not valid any more: it was used, replaced by a newer one, or is older than "
        "24 hours. Sign in and ask for a new one.",
        code="verification_link_invalid",
    )


def confirm(*, token: str) -> dict[str, Any]:
    """Open a verification link: the address it was sent to is the user's, if it still is their address."""
    now = clock.utcnow_naive()
    with unit_of_work():
        row = tokens.find(token, tokens.VERIFY, lock=True)
        user = db.session.get(User, row.user_id) if row is not None else None
        if row is None or user is None or not tokens.usable(row, now):
            raise _invalid()
        if (row.email or "").lower() != user.email.lower():  # sent to an address the user no longer has
            raise _invalid()
        tokens.retire_all(user_id=user.id, purpose=tokens.VERIFY)
        mark_verified(user)
        record(action="email_verified", entity="user", entity_id=user.id, actor=user)
    return {"message": "Thank you: your e-mail address is confirmed. You can sign in."}


def mark_verified(user: User) -> None:
    user.email_verified_at = clock.utcnow_naive()
    user.awaiting_verification = False


# ---- registration ------------------------------------------------------------------------------------------


def register(*, data: dict[str, Any], create_profile: Callable[[User], None]) -> dict[str, Any]:
    """Self-registration: the same answer, after the same minimum time, for a new and a taken address.

    `create_profile` (the directory's) adds the person's record to a new login, in the same unit of work; it is
    not called when the address has an account already.
    """
    from hms.accounts.service import check_password, check_unique

    floor = current_app.config["HMS"].register_floor_seconds  # HMS_REGISTER_FLOOR_SECONDS
    started = time.monotonic()
    try:
        username, email = data["username"].strip(), data["email"].strip().lower()
        check_unique(username=username)  # usernames are chosen, not personal data: a taken one is said so
        check_password(password=data["password"], username=username, email=email)
        password_hash = hash_password(data["password"])  # both branches pay for the hash
        with unit_of_work():
            owner = db.session.execute(
                select(User).where(func.lower(User.email) == email).limit(1)
            ).scalar_one_or_none()
            if owner is not None:
                _tell_owner(owner)
            else:
                user = _create(username=username, email=email, password_hash=password_hash)
                create_profile(user)
                send_link(user)
    finally:
        remaining = floor - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
    return {"message": REGISTERED}


def _create(*, username: str, email: str, password_hash: str) -> User:
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=Role.PATIENT.value,
        is_active=True,
        awaiting_verification=True,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _tell_owner(owner: User) -> None:
    """Someone registered with an address that has an account: its owner hears of it (at most once an hour)."""
    since = clock.utcnow_naive() - timedelta(hours=1)
    told = db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == owner.id,
            Notification.kind == "registration_attempt",
            Notification.created_at >= since,
        )
    ).scalar_one()
    record(action="registration_with_taken_email", entity="user", entity_id=owner.id)
    if told:
        return
    queue(
        user=owner,
        kind="registration_attempt",
        subject="Someone tried to register with your e-mail address",
        body="Someone tried to create a new account with this e-mail address, which already has one.",
        channels=[Channel.EMAIL.value],
    )
