"""The SMTP gateway is down when a booking is confirmed: a real worker records the failure and keeps the message
pending; once the gateway is back and the backoff has passed, the sweep delivers it, once."""

from __future__ import annotations

import re
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from hms.celery_app import send_task_safely
from hms.common.clock import today_local, utcnow_naive
from hms.extensions import db
from hms.models import Notification
from tests.conftest import bearer
from tests.factories import AvailabilityFactory, DoctorFactory, PatientFactory
from tests.faults.conftest import fault_app, wait_for
from tests.notifications.conftest import SmtpServer
from tests.processes import Worker


def _row(application) -> Notification:
    with application.app_context():
        row = db.session.execute(db.select(Notification)).scalar_one()
        db.session.expunge(row)
        return row


def test_a_confirmation_waits_out_an_smtp_outage_and_is_delivered_once(
    app, tmp_path: Path, redis_server, workers, smtp_server: SmtpServer
):
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port}
    with fault_app(app, tmp_path, redis_url=redis_server.url, **overrides) as application:
        day = today_local() + timedelta(days=1)
        with application.app_context():
            doctor = DoctorFactory()
            AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=clock_time(9), end_time=clock_time(10))
            patient = PatientFactory()
            doctor_id, headers, email = doctor.id, bearer(patient.user), patient.user.email
        worker = Worker(
            application, tmp_path / "worker.log", HMS_SMTP_HOST="127.0.0.1", HMS_SMTP_PORT=str(smtp_server.port)
        )
        workers.append(worker)
        worker.start()

        booked = application.test_client().post(
            "/api/patient/appointments",
            json={"doctor_id": doctor_id, "date": day.isoformat(), "start_time": "09:00", "reason": "Check-up"},
            headers=headers,
        )
        assert booked.status_code == 201, booked.get_json()
        row = wait_for(
            lambda: (r := _row(application)).attempts == 1 and r,
            timeout=60,
            what="the first, failed attempt",
            log=worker.log_path,
        )
        assert (row.status, row.sent_at) == ("pending", None)
        assert "ConnectionRefusedError" in row.error and row.next_attempt_at > utcnow_naive()

        smtp_server.start()
        with application.app_context():  # the backoff has passed
            db.session.execute(update(Notification).values(next_attempt_at=utcnow_naive() - timedelta(seconds=1)))
            db.session.commit()
            assert send_task_safely("hms.notifications.sweep_outbox", flask_app=application)
        row = wait_for(
            lambda: (r := _row(application)).status == "sent" and r, timeout=60, what="delivery", log=worker.log_path
        )
        assert (row.attempts, row.error) == (2, None)
        [(recipients, message)] = smtp_server.inbox.messages
        assert recipients == [email]
        assert re.search(r"hms-(\d+)@", message["Message-ID"]).group(1) == str(row.id)
