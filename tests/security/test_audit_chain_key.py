"""Finding 15: the audit chain is keyed (HMAC with a key outside the database); deleting, editing or re-hashing a
row with database access alone is found by `flask audit-verify`."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import delete, select, text, update

from hms.audit.service import record
from hms.common.uow import unit_of_work
from hms.config import Settings
from hms.models import AuditEvent, User
from tests.conftest import fetch, fresh
from tests.factories import AdminFactory


@pytest.fixture
def chain() -> list[int]:
    admin = AdminFactory()
    ids = []
    for index in range(4):
        with fresh() as session:
            with unit_of_work():
                actor = session.get(User, admin.id)
                event = record(action=f"doctor.update.{index}", entity="doctor", entity_id=index, actor=actor)
            ids.append(event.id)
    return ids


def plain_sha256(row: AuditEvent) -> str:
    """What someone with write access to the table but without the key can compute (the old chain)."""
    body = json.dumps(
        {
            "id": row.id,
            "at": row.at.isoformat(timespec="microseconds"),
            "actor_id": row.actor_id,
            "actor_username": row.actor_username,
            "actor_role": row.actor_role,
            "action": row.action,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "patient_id": row.patient_id,
            "ip": row.ip,
            "details": row.details,
            "prev_hash": row.prev_hash,
        },
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def rehash_everything() -> None:
    """An attacker re-links and re-hashes every remaining row without the key."""
    with fresh() as session:
        previous = ""
        for row in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
            row.prev_hash = previous
            row.hash = plain_sha256(row)
            previous = row.hash
        session.commit()


def tamper(statement, params=None) -> None:
    with fresh() as session:
        session.execute(statement, params or {})
        session.commit()


def verify(runner) -> str:
    result = runner.invoke(args=["audit-verify"])
    return f"{result.exit_code} {result.output.strip()}"


def test_an_untouched_keyed_chain_verifies(runner, chain):
    assert verify(runner) == "0 OK: 4 records"


def test_finding_15_a_deleted_and_rehashed_row_is_found(runner, chain):
    tamper(delete(AuditEvent).where(AuditEvent.id == chain[1]))
    rehash_everything()
    assert verify(runner).startswith(f"1 BROKEN at record #{chain[0]} ")


def test_finding_15_an_edited_row_is_found(runner, chain):
    tamper(update(AuditEvent).where(AuditEvent.id == chain[2]).values(action="nothing.happened"))
    assert verify(runner).startswith(f"1 BROKEN at record #{chain[2]} ")


def test_finding_15_an_edited_and_rehashed_row_is_found(runner, chain):
    tamper(update(AuditEvent).where(AuditEvent.id == chain[3]).values(actor_username="someone-else"))
    row = fetch(AuditEvent, chain[3])
    tamper(text("UPDATE audit_events SET hash = :h WHERE id = :id"), {"h": plain_sha256(row), "id": row.id})
    assert verify(runner).startswith(f"1 BROKEN at record #{chain[3]} ")


def test_the_audit_key_lives_in_the_instance_folder_when_not_set(tmp_path):
    first = Settings.from_env(instance_path=tmp_path, jwt_secret="k" * 40)
    again = Settings.from_env(instance_path=tmp_path, jwt_secret="k" * 40)
    assert len(first.audit_key) >= 32
    assert first.audit_key == again.audit_key == (tmp_path / "audit_key").read_text().strip()
    assert Settings.from_env(instance_path=tmp_path, jwt_secret="k" * 40, audit_key="x" * 40).audit_key == "x" * 40
