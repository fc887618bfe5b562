"""The audit chain: every record is hashed with its predecessor, so edits and deletions are found by
`flask audit-verify`; concurrent audited writers never fork the chain nor fail."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from hms.audit.service import record, verify_chain
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import AuditEvent, Department, User
from tests.conftest import fetch_all, fetch_value, fresh
from tests.factories import AdminFactory, PatientFactory


def _chain(count: int) -> list[int]:
    """`count` audit records, each committed by its own unit of work, as requests would."""
    admin = AdminFactory()
    events = []
    for index in range(count):
        with fresh(), unit_of_work():
            events.append(record(action=f"doctor.update.{index}", entity="doctor", entity_id=index, actor=admin).id)
    return events


def _verify() -> tuple[int, int | None]:
    """verify_chain() in a fresh session: the number checked and the id of the first broken record."""
    with fresh():
        checked, broken = verify_chain()
        return checked, None if broken is None else broken.id


def test_untouched_chain_verifies(runner):
    _chain(3)
    assert _verify() == (3, None)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0
    assert result.output.strip() == "OK: 3 records"


def test_empty_chain_verifies(runner):
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and result.output.strip() == "OK: 0 records"


def test_editing_a_record_with_raw_sql_is_reported_at_that_record(runner):
    events = _chain(4)
    tampered = events[1]
    with fresh() as session:
        session.execute(text(f'UPDATE audit_events SET details = \'{{"reason": "forged"}}\' WHERE id = {tampered}'))
        session.commit()

    assert _verify() == (1, tampered)

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert result.output.startswith(f"BROKEN at record #{tampered} (doctor.update.1, ")


def test_deleting_a_record_breaks_the_chain_at_its_successor(runner):
    events = _chain(3)
    with fresh() as session:
        session.execute(text(f"DELETE FROM audit_events WHERE id = {events[1]}"))
        session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"#{events[2]} " in result.output


def test_details_of_any_type_are_stored_as_json_and_still_verify():
    patient = PatientFactory()
    with fresh(), unit_of_work():
        record(
            action="treatment.update",
            entity="treatment",
            entity_id=7,
            patient_id=patient.id,
            details={"follow_up_date": date(2026, 12, 1), "fee": Decimal("500.00"), "fields": ["diagnosis"]},
        )
    stored = fetch_value(select(AuditEvent))
    assert stored.details == {"follow_up_date": "2026-12-01", "fee": "500.00", "fields": ["diagnosis"]}
    assert stored.entity_id == "7" and stored.patient_id == patient.id
    assert _verify() == (1, None)


def test_a_rolled_back_record_leaves_no_gap_in_the_chain():
    _chain(1)
    with fresh(), pytest.raises(RuntimeError, match="the caller fails"), unit_of_work():
        record(action="doomed", entity="x")
        raise RuntimeError("the caller fails after auditing")
    _chain(1)
    assert _verify() == (2, None)


def test_ten_concurrent_audited_writers_neither_fork_nor_fail(app):
    """Half read first and then audit (an audited read), half open a write and audit it (a service's write)."""
    admin_id = AdminFactory().id
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def audited_read(index: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, admin_id)  # a deferred read transaction is now open
                barrier.wait(timeout=30)
                with unit_of_work():
                    record(action="history.read", entity="patient", entity_id=index, actor=actor)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    def audited_write(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with unit_of_work():
                    db.session.add(Department(name=f"Ward {index}"))
                    db.session.flush()
                    record(action="department.create", entity="department", entity_id=index)
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
    assert _verify() == (10, None)
    with fresh() as session:
        prev_hashes = session.execute(select(AuditEvent.prev_hash)).scalars().all()
    assert len(set(prev_hashes)) == 10


def test_a_new_actor_in_the_same_transaction_is_recorded_with_its_id():
    with fresh() as session, unit_of_work():
        user = User(username="newcomer", email="newcomer@example.org", password_hash="x", role="patient")
        session.add(user)
        record(action="account_registered", entity="user", actor=user)
    event = fetch_value(select(AuditEvent))
    assert event.actor_id == fetch_value(select(User.id).filter_by(username="newcomer"))
    assert event.actor_username == "newcomer"
    assert _verify() == (1, None)


def test_a_record_commits_or_rolls_back_with_the_change_it_describes():
    admin = AdminFactory()
    with fresh() as session, pytest.raises(RuntimeError, match="fails"), unit_of_work():
        session.execute(text(f"UPDATE users SET email = 'changed@example.org' WHERE id = {admin.id}"))
        record(action="doctor.update", entity="doctor")
        raise RuntimeError("the caller fails after auditing")  # both the change and its record vanish
    assert fetch_value(select(User.email).where(User.id == admin.id)) == admin.email
    assert fetch_all(select(AuditEvent)) == []


def test_a_record_outside_a_unit_of_work_is_refused_and_commits_nothing():
    admin = AdminFactory()
    with fresh() as session:
        session.execute(text(f"UPDATE users SET email = 'changed@example.org' WHERE id = {admin.id}"))
        with pytest.raises(RuntimeError, match="unit of work"):
            record(action="doctor.update", entity="doctor")
    assert fetch_value(select(User.email).where(User.id == admin.id)) == admin.email
    assert fetch_all(select(AuditEvent)) == []
