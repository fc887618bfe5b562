"""Batched delivery (the embedded broker's messages): each row of a batch is claimed only if pending and due,
sent once over real SMTP on loopback, and recorded exactly as a single delivery would record it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms.celery_app import DELIVER_BATCH_TASK, DELIVER_TASK, PUBLISH_BATCH_LIMIT, coalesced
from hms.common import clock
from hms.models import Notification
from hms.notifications import batch
from hms.notifications.service import due_for_dispatch
from tests.conftest import fetch, fresh
from tests.factories import AppointmentFactory
from tests.notifications.test_delivery import booking_confirmation


def deliver_batch(app, ids: list[int]) -> dict[str, int]:
    """Run the batch task's body in this process, as a worker would."""
    return app.extensions["celery"].tasks[DELIVER_BATCH_TASK](ids)


def counts(**nonzero: int) -> dict[str, int]:
    """What the batch task answers: how many rows it sent, failed, left pending, skipped and handed back."""
    return {"sent": 0, "failed": 0, "pending": 0, "skipped": 0, "handed_back": 0} | nonzero


def test_a_batch_sends_each_pending_row_once_and_records_it_sent(app, smtp_server, smtp_settings):
    smtp_server.start()
    rows = [booking_confirmation(AppointmentFactory()) for _ in range(3)]

    answer = deliver_batch(app, [row.id for row in rows] + [rows[0].id])

    assert answer == counts(sent=3)
    assert sorted(recipients[0] for recipients, _ in smtp_server.inbox.messages) == sorted(
        row.recipient for row in rows
    )
    for row in rows:
        stored = fetch(Notification, row.id)
        assert (stored.status, stored.attempts, stored.error) == ("sent", 1, None)
        assert stored.sent_at is not None and stored.next_attempt_at is None
    # Delivered again (a duplicate message): nothing is sent twice.
    assert deliver_batch(app, [row.id for row in rows]) == counts(skipped=3)
    assert len(smtp_server.inbox.messages) == 3


def test_a_batch_leaves_rows_that_are_not_due_or_leased_alone(app, smtp_server, smtp_settings):
    smtp_server.start()
    due, waiting = (booking_confirmation(AppointmentFactory()) for _ in range(2))

    with fresh() as session:
        session.get(Notification, waiting.id).next_attempt_at = clock.utcnow_naive() + timedelta(minutes=10)
        session.commit()

    assert deliver_batch(app, [due.id, waiting.id]) == counts(sent=1, skipped=1)
    assert fetch(Notification, waiting.id).status == "pending"
    assert [recipients for recipients, _ in smtp_server.inbox.messages] == [[due.recipient]]


def test_a_failed_send_in_a_batch_is_kept_for_a_retry_with_backoff_and_then_delivered(app, smtp_server, smtp_settings):
    row = booking_confirmation(AppointmentFactory())  # the SMTP server is not started yet

    assert deliver_batch(app, [row.id]) == counts(pending=1)
    stored = fetch(Notification, row.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert "Connection refused" in stored.error or "ConnectionRefusedError" in stored.error
    assert stored.next_attempt_at > clock.utcnow_naive() + timedelta(seconds=30)

    smtp_server.start()
    clock.set_now(clock.now_utc() + timedelta(minutes=5))
    assert deliver_batch(app, [row.id])["sent"] == 1
    assert fetch(Notification, row.id).attempts == 2
    assert len(smtp_server.inbox.messages) == 1


def test_a_row_without_an_address_fails_for_good_in_a_batch(app, smtp_server, smtp_settings):
    smtp_server.start()
    row = booking_confirmation(AppointmentFactory())

    with fresh() as session:
        session.get(Notification, row.id).recipient = None
        session.commit()

    assert deliver_batch(app, [row.id])["failed"] == 1
    stored = fetch(Notification, row.id)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", 1, None)
    assert smtp_server.inbox.messages == []


def test_one_batch_records_a_sent_a_failed_and_a_retried_row_each_as_it_went(app, smtp_server, smtp_settings):
    smtp_server.start()
    sent, no_address, refused = (booking_confirmation(AppointmentFactory()) for _ in range(3))
    with fresh() as session:
        session.get(Notification, no_address.id).recipient = None
        session.get(Notification, refused.id).recipient = "nobody@refused.test"
        session.commit()
    smtp_server.refuse("nobody@refused.test", code=450)  # "mailbox busy": worth a retry

    assert deliver_batch(app, [sent.id, no_address.id, refused.id]) == counts(sent=1, failed=1, pending=1)
    stored = {row.id: fetch(Notification, row.id) for row in (sent, no_address, refused)}
    assert (stored[sent.id].status, stored[sent.id].attempts, stored[sent.id].error) == ("sent", 1, None)
    assert stored[sent.id].sent_at is not None
    assert (stored[no_address.id].status, stored[no_address.id].attempts) == ("failed", 1)
    assert stored[no_address.id].next_attempt_at is None and "no email address" in stored[no_address.id].error
    assert (stored[refused.id].status, stored[refused.id].attempts) == ("pending", 1)
    assert "450" in stored[refused.id].error and stored[refused.id].next_attempt_at > clock.utcnow_naive()


def test_outcomes_are_written_every_ten_rows_so_a_worker_killed_mid_batch_sends_few_again(app, monkeypatch):
    rows = [booking_confirmation(AppointmentFactory()) for _ in range(batch.RECORD_EVERY + 3)]
    from hms.notifications import senders

    sent: list[int] = []

    def send_until_killed(row, _message):
        if len(sent) == batch.RECORD_EVERY + 2:
            raise SystemExit("worker killed")  # not an Exception: nothing after it runs, as with SIGKILL
        sent.append(row.id)

    monkeypatch.setattr(senders, "send", send_until_killed)
    with pytest.raises(SystemExit):
        deliver_batch(app, [row.id for row in rows])

    statuses = [fetch(Notification, row.id).status for row in sorted(rows, key=lambda row: row.id)]
    assert statuses == ["sent"] * batch.RECORD_EVERY + ["pending"] * 3
    # The two sent after the last write, and the one never tried, stay leased: the sweep sends them after the lease.
    assert all(fetch(Notification, row_id).next_attempt_at > clock.utcnow_naive() for row_id in sent[-2:])


def test_rows_not_tried_within_the_time_budget_go_back_to_the_sweep_untouched(app, monkeypatch):
    rows = [booking_confirmation(AppointmentFactory()) for _ in range(3)]
    monkeypatch.setattr(batch, "SEND_BUDGET_SECONDS", -1.0)  # already spent: nothing is tried

    assert deliver_batch(app, [row.id for row in rows])["handed_back"] == 3

    for row in rows:
        stored = fetch(Notification, row.id)
        assert (stored.status, stored.attempts) == ("pending", 0)
        assert stored.next_attempt_at <= clock.utcnow_naive()
    clock.set_now(clock.now_utc() + timedelta(seconds=1))
    with fresh():
        assert set(due_for_dispatch()) == {row.id for row in rows}


def test_the_publisher_sends_the_outbox_ids_of_many_commits_as_batches_and_other_tasks_as_they_came(app):
    ids = list(range(1, PUBLISH_BATCH_LIMIT + 6))
    items = [(app, DELIVER_TASK, (notification_id,)) for notification_id in ids]
    items.insert(3, (app, "hms.exports.run_export", (7,)))
    items.append((app, DELIVER_TASK, (1,)))  # the same row twice (a resend) goes out once

    sent = coalesced(items)

    batches = [args[0] for _app, name, args in sent if name == DELIVER_BATCH_TASK]
    assert [len(batch) for batch in batches] == [PUBLISH_BATCH_LIMIT, 5]
    assert [i for batch in batches for i in batch] == ids
    assert [(name, args) for _app, name, args in sent if name != DELIVER_BATCH_TASK] == [
        ("hms.exports.run_export", (7,))
    ]
