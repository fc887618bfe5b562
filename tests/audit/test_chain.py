"""The audit chain: every record is hashed with its predecessor, so edits and deletions are found by
`flask audit-verify`; concurrent audited writers never fork the chain nor fail."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import select, text

from hms.audit.service import record, verify_chain
from hms.common.db import begin_write
from hms.extensions import db
from hms.models import AuditEvent, Department, User
from tests.factories import AdminFactory, PatientFactory


def _chain(count: int) -> list[AuditEvent]:
    admin = AdminFactory()
    events = []
    for index in range(count):
        events.append(record(action=f"doctor.update.{index}", entity="doctor", entity_id=index, actor=admin))
        db.session.commit()
    return events


def test_untouched_chain_verifies(runner):
    _chain(3)
    assert verify_chain()[0] == 3 and verify_chain()[1] is None
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0
    assert result.output.strip() == "OK: 3 records"


def test_empty_chain_verifies(runner):
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and result.output.strip() == "OK: 0 records"


def test_editing_a_record_with_raw_sql_is_reported_at_that_record(runner):
    events = _chain(4)
    tampered = events[1]
    db.session.execute(text(f'UPDATE audit_events SET details = \'{{"reason": "forged"}}\' WHERE id = {tampered.id}'))
    db.session.commit()

    checked, broken = verify_chain()
    assert checked == 1 and broken is not None and broken.id == tampered.id

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert result.output.startswith(f"BROKEN at record #{tampered.id} (doctor.update.1, ")


def test_deleting_a_record_breaks_the_chain_at_its_successor(runner):
    events = _chain(3)
    db.session.execute(text(f"DELETE FROM audit_events WHERE id = {events[1].id}"))
    db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"#{events[2].id} " in result.output


def test_details_of_any_type_are_stored_as_json_and_still_verify():
    patient = PatientFactory()
    record(
        action="treatment.update",
        entity="treatment",
        entity_id=7,
        patient_id=patient.id,
        details={"follow_up_date": date(2026, 12, 1), "fee": Decimal("500.00"), "fields": ["diagnosis"]},
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.execute(select(AuditEvent)).scalar_one()
    assert stored.details == {"follow_up_date": "2026-12-01", "fee": "500.00", "fields": ["diagnosis"]}
    assert stored.entity_id == "7" and stored.patient_id == patient.id
    assert verify_chain() == (1, None)


def test_a_rolled_back_record_leaves_no_gap_in_the_chain():
    _chain(1)
    record(action="doomed", entity="x")
    db.session.rollback()
    _chain(1)
    assert verify_chain() == (2, None)


def test_ten_concurrent_audited_writers_neither_fork_nor_fail(app):
    """Half read first and then audit (an audited read), half open a write and audit it (a service's write)."""
    admin_id = AdminFactory().id
    db.session.commit()
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def audited_read(index: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, admin_id)  # a deferred read transaction is now open
                barrier.wait(timeout=30)
                record(action="history.read", entity="patient", entity_id=index, actor=actor)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    def audited_write(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                begin_write()
                db.session.add(Department(name=f"Ward {index}"))
                db.session.flush()
                record(action="department.create", entity="department", entity_id=index)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=audited_read if n % 2 else audited_write, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert verify_chain() == (10, None)
    prev_hashes = db.session.execute(select(AuditEvent.prev_hash)).scalars().all()
    assert len(set(prev_hashes)) == 10


def test_a_new_actor_in_the_same_transaction_is_recorded_with_its_id():
    user = User(username="newcomer", email="newcomer@example.org", password_hash="x", role="patient")
    db.session.add(user)
    event = record(action="account_registered", entity="user", actor=user)
    db.session.commit()
    assert event.actor_id == user.id is not None and event.actor_username == "newcomer"
    assert verify_chain() == (1, None)


def test_record_never_commits_the_callers_unfinished_work():
    admin = AdminFactory()
    db.session.commit()
    db.session.execute(text(f"UPDATE users SET email = 'changed@example.org' WHERE id = {admin.id}"))
    record(action="doctor.update", entity="doctor")
    db.session.rollback()  # the caller fails after auditing: both the change and its record vanish
    assert db.session.execute(select(User.email).where(User.id == admin.id)).scalar_one() != "changed@example.org"
    assert db.session.execute(select(AuditEvent)).first() is None
