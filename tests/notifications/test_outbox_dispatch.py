"""The outbox hand-off: ids go to the worker only after commit; a broker failure never breaks the caller."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from hms.common import clock
from hms.models import Notification
from hms.notifications.service import due_for_dispatch, queue
from tests.conftest import fetch, fetch_all, fresh
from tests.factories import PatientFactory, UserFactory

DELIVER = "hms.notifications.deliver_notification"


@pytest.fixture
def published(app, monkeypatch):
    """Record what is published to the broker (the test broker is in-memory; nothing consumes it)."""
    sent: list[tuple] = []
    task = app.extensions["celery"].tasks[DELIVER]
    original = task.apply_async

    def record(args=None, **kwargs):
        sent.append(tuple(args))
        return original(args=args, **kwargs)

    monkeypatch.setattr(task, "apply_async", record)
    return sent


def test_notifications_are_published_only_after_the_transaction_commits(published):
    user = PatientFactory().user
    with fresh() as session:
        rows = queue(user=user, kind="booking_confirmed", subject="Booked", body="Booked.")
        row_id = rows[0]
        assert published == []
        session.commit()
    assert published == [(row_id,)]


def test_a_rolled_back_transaction_publishes_nothing(published):
    user = UserFactory()
    with fresh() as session:
        queue(user=user, kind="booking_confirmed", subject="Booked", body="Booked.")
        session.rollback()
        session.commit()
    assert published == []
    assert fetch_all(select(Notification)) == []


def test_a_broker_failure_is_logged_and_the_commit_still_succeeds(app, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app.extensions["celery"].tasks[DELIVER], "apply_async", broken)
    # Alembic's logging set-up disables loggers that existed before the test migration ran.
    monkeypatch.setattr(logging.getLogger("hms.celery_app"), "disabled", False)
    user = UserFactory()
    with fresh() as session:
        [row_id] = queue(user=user, kind="booking_confirmed", subject="Booked", body="Booked.")
        session.commit()

    assert fetch(Notification, row_id).status == "pending"
    assert "the outbox sweep will retry it" in caplog.text


def _due() -> list[int]:
    with fresh():
        return due_for_dispatch()


def test_the_sweep_resends_messages_that_never_reached_a_worker_and_retries_that_are_due(app, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    user = UserFactory()
    with fresh() as session:
        [new_id] = queue(user=user, kind="booking_confirmed", subject="Booked", body="Booked.", channels=["email"])
        [retry_id] = queue(user=user, kind="booking_confirmed", subject="Booked", body="Booked.", channels=["email"])
        session.get(Notification, retry_id).next_attempt_at = clock.utcnow_naive() + timedelta(minutes=4)
        session.commit()
    assert _due() == []  # just created / not yet due

    frozen_clock("2026-11-24 10:05")
    assert _due() == [new_id, retry_id]
    with fresh() as session:
        session.get(Notification, new_id).status = "sent"
        session.commit()
    assert _due() == [retry_id]


def test_sweep_task_publishes_what_is_due(app, frozen_clock, published):
    frozen_clock("2026-11-24 10:00")
    user = UserFactory()
    with fresh() as session:
        [row_id] = queue(user=user, kind="booking_confirmed", subject="Booked", body="x", channels=["email"])
        session.commit()
    published.clear()
    frozen_clock("2026-11-24 10:02")
    assert app.extensions["celery"].tasks["hms.notifications.sweep_outbox"]() == 1
    assert published == [(row_id,)]
