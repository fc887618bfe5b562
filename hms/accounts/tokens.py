"""One-time links mailed to users (password reset, e-mail verification).

The token in a link is ``<row id>.<HMAC-SHA256(key, purpose:id)>`` with a key derived from the signing key, which
lives outside the database. So the database holds no usable token: the ``account_tokens`` row keeps only the
token's SHA-256 (for the lookup), and the outbox row that mails the link keeps only the row id; the link is
made when the message is rendered for sending (``hms.notifications.messages``). A reader of the database, or
an admin browsing the outbox, cannot use a pending link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from hms.common import clock
from hms.extensions import db
from hms.models import AccountToken, User

RESET = "reset"
VERIFY = "verify"
# Where each kind of link opens the SPA; the token travels in the fragment, which browsers never send to a
# server (no access log, no Referer), and the page removes it from the address bar at once.
PATHS = {RESET: "/reset-password", VERIFY: "/verify-email"}


def _key() -> bytes:
    secret = current_app.config["HMS"].jwt_secret.encode()
    return hmac.new(secret, b"hms-account-links", hashlib.sha256).digest()


def _token(purpose: str, row_id: int) -> str:
    mac = hmac.new(_key(), f"{purpose}:{row_id}".encode(), hashlib.sha256).digest()
    return f"{row_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(*, user: User, purpose: str, ttl: timedelta, email: str | None = None, ip: str | None = None) -> AccountToken:
    """A new link for `user` (the caller's unit of work commits it)."""
    now = clock.utcnow_naive()
    row = AccountToken(
        user_id=user.id, purpose=purpose, email=email, token_hash="", created_at=now, expires_at=now + ttl, ip=ip
    )
    db.session.add(row)
    db.session.flush()
    row.token_hash = _digest(_token(purpose, row.id))
    return row


def link(row_id: int, purpose: str) -> str:
    """The URL mailed to the user (made only when the message is rendered)."""
    base = current_app.config["HMS"].public_url.rstrip("/")
    return f"{base}{PATHS[purpose]}#token={_token(purpose, row_id)}"


def find(token: str, purpose: str, *, lock: bool = False) -> AccountToken | None:
    """The row of a token we issued for this purpose, used or not; None for anything else."""
    row_id, _, mac = token.partition(".")
    if not (row_id.isascii() and row_id.isdigit() and len(row_id) <= 18 and mac):
        return None
    statement = select(AccountToken).where(AccountToken.id == int(row_id))
    if lock:
        statement = statement.with_for_update()
    row = db.session.execute(statement).scalar_one_or_none()
    if row is None or row.purpose != purpose:
        return None
    if not hmac.compare_digest(_digest(token), row.token_hash):
        return None
    return row


def usable(row: AccountToken | None, now: datetime) -> bool:
    return row is not None and row.used_at is None and now < row.expires_at


def retire_all(*, user_id: int, purpose: str) -> None:
    """Use up every open link of this purpose (a newer one supersedes them, or the job is done)."""
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=clock.utcnow_naive())
    )


def recent_count(*, user_id: int, purpose: str, since: datetime) -> int:
    from sqlalchemy import func

    return int(
        db.session.execute(
            select(func.count(AccountToken.id)).where(
                AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.created_at >= since
            )
        ).scalar_one()
    )
