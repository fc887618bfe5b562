"""Finding 14: a burst of 200 messages through a REAL worker (4 processes) on the SQLite default, while the web side
keeps writing, reaches a loopback SMTP server exactly 200 times and every row ends marked as sent."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, update

from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Notification, User
from hms.notifications.service import queue
from tests.factories import PatientFactory
from tests.notifications.conftest import SmtpServer
from tests.processes import Worker, worker_app

pytestmark = pytest.mark.slow

BURST = 200
TIMEOUT = 240


def busy_writer(producer, user_id: int, stop: threading.Event) -> None:
    """The web side keeps committing small writes, as a busy hospital does, while the worker marks rows sent."""
    with producer.app_context():
        while not stop.is_set():
            try:
                db.session.execute(update(User).where(User.id == user_id).values(failed_login_count=User.id))
                db.session.commit()
            except Exception:
                db.session.rollback()
            time.sleep(0.002)
        db.session.remove()


def test_finding_14_a_burst_of_200_messages_is_delivered_exactly_once_each(app, tmp_path):
    smtp = SmtpServer()
    smtp.start()
    queue_name = f"hms-burst-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    stop = threading.Event()
    with worker_app(app, tmp_path, redis_url=None, queue=queue_name) as producer, producer.app_context():
        patient = PatientFactory()
        user_id = patient.user_id
        worker = Worker(producer, log_path, concurrency=4, HMS_SMTP_HOST="127.0.0.1", HMS_SMTP_PORT=str(smtp.port))
        worker.start()
        writer = threading.Thread(target=busy_writer, args=(producer, user_id, stop), daemon=True)
        try:
            writer.start()
            ids = []
            with unit_of_work():  # as every writing request does on SQLite: queue behind the busy writer
                for n in range(BURST):
                    [row_id] = queue(
                        user=patient.user, kind="burst", subject=f"Message {n}", body="Hello", channels=["email"]
                    )
                    ids.append(row_id)
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                db.session.rollback()
                settled = db.session.execute(
                    select(func.count()).select_from(Notification).where(Notification.status != "pending")
                ).scalar_one()
                if settled == BURST and len(smtp.inbox.messages) >= BURST:
                    break
                time.sleep(0.1)
            time.sleep(3)  # a duplicate would arrive after the last row settled
        finally:
            stop.set()
            writer.join(timeout=10)
            worker.stop()
            smtp.stop()
        db.session.rollback()
        statuses = dict(
            db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
        )
    message_ids = [message["Message-ID"] for _recipients, message in smtp.inbox.messages]
    log = log_path.read_text()
    assert statuses == {"sent": BURST}, log[-3000:]
    assert len(smtp.inbox.messages) == BURST, log[-3000:]
    assert len(set(message_ids)) == BURST
    assert sorted(message["Subject"] for _r, message in smtp.inbox.messages) == sorted(
        f"Message {n}" for n in range(BURST)
    )
