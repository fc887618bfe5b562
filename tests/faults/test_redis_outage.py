"""A real Redis (our own redis-server) is stopped and started, or frozen, while patients book, cancel and read.
A real Celery worker runs against it and an SMTP server on loopback receives what it sends."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

from hms.celery_app import send_task_safely
from hms.common.clock import today_local
from hms.common.redis_guard import breaker_of
from hms.extensions import db
from hms.models import Appointment, Notification
from tests.factories import PASSWORD, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.faults.conftest import fault_app, wait_for
from tests.notifications.conftest import SmtpServer
from tests.processes import Worker

DELIVERY_TIMEOUT = 60


def _login(client, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _slots(client, doctor_id: int, day) -> dict[str, bool]:
    response = client.get(f"/api/doctors/{doctor_id}/slots?date={day}")
    assert response.status_code == 200, response.get_json()
    return {slot["start"]: slot["available"] for slot in response.get_json()["slots"]}


def _one_line(header: str) -> str:
    """A long Subject is folded on the wire; compare it unfolded."""
    return " ".join(str(header).split())


def _book(client, headers, doctor_id: int, day, start: str):
    return client.post(
        "/api/patient/appointments",
        json={"doctor_id": doctor_id, "date": day.isoformat(), "start_time": start, "reason": "Check-up"},
        headers=headers,
    )


def _outbox(application) -> list[Notification]:
    with application.app_context():
        rows = db.session.execute(db.select(Notification).order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_booking_cancelling_and_reading_ride_through_a_redis_restart_and_each_message_is_sent_once(
    app, tmp_path: Path, redis_server, workers, smtp_server: SmtpServer
):
    smtp_server.start()
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port}
    with fault_app(app, tmp_path, redis_url=redis_server.url, **overrides) as application:
        day = today_local() + timedelta(days=1)
        with application.app_context():
            doctor = DoctorFactory()
            AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=clock_time(9), end_time=clock_time(11))
            patients = [PatientFactory() for _ in range(3)]
            doctor_id, patient_ids = doctor.id, [p.id for p in patients]
            usernames = [p.user.username for p in patients]
        worker = Worker(
            application, tmp_path / "worker.log", HMS_SMTP_HOST="127.0.0.1", HMS_SMTP_PORT=str(smtp_server.port)
        )
        workers.append(worker)
        worker.start()
        client = application.test_client()
        headers = [_login(client, username) for username in usernames]

        first = _book(client, headers[0], doctor_id, day, "09:00")
        assert first.status_code == 201, first.get_json()
        wait_for(
            lambda: [row.status for row in _outbox(application)] == ["sent"],
            timeout=DELIVERY_TIMEOUT,
            what="the first confirmation, before the outage",
            log=worker.log_path,
        )
        # This answer is now cached in Redis, which keeps it on disk across the restart.
        assert _slots(client, doctor_id, day) == {"09:00": False, "09:30": True, "10:00": True, "10:30": True}

        redis_server.stop()
        during = [
            _book(client, headers[1], doctor_id, day, "09:30"),
            _book(client, headers[2], doctor_id, day, "10:00"),
            client.post(f"/api/patient/appointments/{first.get_json()['id']}/cancel", json={}, headers=headers[0]),
            client.get("/api/patient/appointments", headers=headers[1]),
            client.get("/api/auth/me", headers=headers[2]),
            client.get(f"/api/doctors/{doctor_id}"),
            client.get("/api/departments"),
        ]
        assert [r.status_code for r in during] == [201, 201, 200, 200, 200, 200, 200]
        assert _slots(client, doctor_id, day) == {"09:00": True, "09:30": False, "10:00": False, "10:30": True}
        assert client.get("/api/health").get_json()["failing"] == ["cache", "broker"]
        assert [row.status for row in _outbox(application)] == ["sent", "pending", "pending", "pending", "pending"]

        redis_server.start()
        time.sleep(application.config["HMS"].redis_retry_seconds + 0.1)
        # Back through Redis (the breaker closes), and the answer cached before the outage does not come back.
        assert _slots(client, doctor_id, day) == {"09:00": True, "09:30": False, "10:00": False, "10:30": True}
        assert not breaker_of(application).is_open
        assert _slots(client, doctor_id, day) == {"09:00": True, "09:30": False, "10:00": False, "10:30": True}
        assert client.get("/api/health").get_json()["status"] == "ok"

        with application.app_context():
            assert send_task_safely("hms.notifications.sweep_outbox", flask_app=application)
        rows = wait_for(
            lambda: (rows := _outbox(application)) and all(row.status == "sent" for row in rows) and rows,
            timeout=DELIVERY_TIMEOUT,
            what="every message after Redis returned",
            log=worker.log_path,
        )
        with application.app_context():
            appointments = db.session.execute(db.select(Appointment.patient_id, Appointment.status)).all()

    # No appointment lost or doubled: exactly the three bookings, the first one cancelled.
    assert sorted(appointments) == sorted(
        [(patient_ids[0], "cancelled"), (patient_ids[1], "booked"), (patient_ids[2], "booked")]
    )
    sent = [(row.kind, row.recipient, _one_line(row.subject), row.attempts) for row in rows]
    assert Counter(kind for kind, *_ in sent) == {"booking_confirmed": 3, "appointment_cancelled": 2}
    assert all(attempts == 1 for *_, attempts in sent)
    # Each outbox row reached the SMTP server exactly once, at its recipient (the Message-ID names the row).
    received = Counter(
        (int(re.search(r"hms-(\d+)@", message["Message-ID"]).group(1)), rcpt[0], _one_line(message["Subject"]))
        for rcpt, message in smtp_server.inbox.messages
    )
    assert received == Counter((row.id, row.recipient, _one_line(row.subject)) for row in rows)


def test_a_frozen_redis_holds_no_request_for_long(app, tmp_path: Path, redis_server):
    """SIGSTOP: connections are accepted and never answered; read timeouts and the breaker keep requests short."""
    # A cooldown longer than the test: after the first timeout, no request of this process touches Redis.
    with fault_app(app, tmp_path, redis_url=redis_server.url, redis_retry_seconds=30) as application:
        day = today_local() + timedelta(days=1)
        with application.app_context():
            doctor = DoctorFactory()
            AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=clock_time(9), end_time=clock_time(10))
            doctor_id, username = doctor.id, PatientFactory().user.username
        client = application.test_client()
        headers = _login(client, username)
        assert _slots(client, doctor_id, day) == {"09:00": True, "09:30": True}

        redis_server.pause()
        outcomes: list[int] = []
        timings: dict[str, float] = {}

        def use_the_system() -> None:
            started = time.monotonic()
            outcomes.append(_book(client, headers, doctor_id, day, "09:00").status_code)
            timings["booking"] = time.monotonic() - started
            started = time.monotonic()
            for _ in range(10):
                outcomes.append(client.get(f"/api/doctors/{doctor_id}/slots?date={day}").status_code)
            timings["reads"] = time.monotonic() - started
            outcomes.append(client.get("/api/patient/appointments", headers=headers).status_code)

        thread = threading.Thread(target=use_the_system, daemon=True)
        thread.start()
        thread.join(timeout=30)
        redis_server.resume()

        assert not thread.is_alive(), "requests hung on a frozen Redis"
        assert outcomes == [201] + [200] * 11
        # The booking paid the bounded timeouts that opened the breaker; the reads after it skip Redis, where each
        # would otherwise wait out a 0.5 s read timeout (10 reads >= 5 s).
        assert timings["booking"] < 8, timings
        assert timings["reads"] < 2.5, timings

        assert client.get("/api/health").get_json()["status"] == "ok"  # the health probe closes the breaker
        assert not breaker_of(application).is_open
        assert _slots(client, doctor_id, day) == {"09:00": False, "09:30": True}
