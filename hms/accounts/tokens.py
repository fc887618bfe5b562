"""One-time links mailed to users (password reset, e-mail verification).

The token in a link is ``<row id>.<HMAC-SHA256(key, purpose:id)>`` with a key derived from the signing key, which
lives outside the database. So the database holds no usable token: the ``account_tokens`` row keeps only the
token's SHA-256 (for the lookup), and the outbox row that mails the link keeps only the row id; the link is
made when the message is rendered for sending (``hms.notifications.messages``). A reader of the database, or
an admin browsing the outbox, cannot use a pending link.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import select, update

from hms.common import clock, links
from hms.extensions import db
from hms.models import AccountToken, User

RESET, VERIFY = links.RESET, links.VERIFY
_token = links.token


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
