"""The production guard of the demo hospital: refuse to start while a staff or demo account keeps a published
password. Lives with the demo because only the demo knows which accounts it created.
"""

from __future__ import annotations

from sqlalchemy import inspect, or_, select

from hms.accounts.passwords import KNOWN_DEMO_PASSWORDS, verify_password
from hms.demo.data import demo_usernames
from hms.extensions import db
from hms.models import Role, User


def refuse_demo_passwords() -> None:
    """Production refuses to start while a staff or demo account still has a password of the demo hospital.

    Patients are too many to verify at start (argon2 is slow on purpose): their sign-in with such a password
    forces a change instead (see hms.accounts.service.login).
    """
    if not inspect(db.engine).has_table(User.__tablename__):
        return  # not migrated yet (flask db upgrade runs first)
    # Every staff account and every account the demo creates; each distinct hash is verified once (argon2 is slow).
    candidates = db.session.execute(
        select(User.username, User.password_hash)
        .where(or_(User.role != Role.PATIENT.value, User.username.in_(demo_usernames())))
        .order_by(User.id)
    ).all()
    verdicts: dict[str, bool] = {}
    weak = []
    for username, password_hash in candidates:
        if password_hash not in verdicts:
            verdicts[password_hash] = any(verify_password(password_hash, known) for known in KNOWN_DEMO_PASSWORDS)
        if verdicts[password_hash]:
            weak.append(username)
    db.session.remove()
    if weak:
        shown = ", ".join(weak[:10]) + (" …" if len(weak) > 10 else "")
        raise RuntimeError(f"Refusing to start with HMS_ENV=production: demo passwords on the accounts {shown}.")
