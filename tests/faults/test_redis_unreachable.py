"""With REDIS_URL pointing at a Redis that does not answer (nothing listens on the port), signed-in users go on
working: the cache is bypassed, revocation is enforced from the database, messages wait in the outbox."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from flask import Flask

from hms.common.clock import today_local
from hms.common.redis_guard import breaker_of
from hms.extensions import db
from hms.models import Appointment, Notification
from tests.factories import PASSWORD, AdminFactory, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.faults.conftest import fault_app
from tests.processes import free_port


@pytest.fixture
def no_redis_app(app: Flask, tmp_path: Path):
    with fault_app(app, tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0") as application:
        yield application


def _login(client, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _slots(client, doctor_id: int, day) -> dict[str, bool]:
    response = client.get(f"/api/doctors/{doctor_id}/slots?date={day}")
    assert response.status_code == 200, response.get_json()
    return {slot["start"]: slot["available"] for slot in response.get_json()["slots"]}


def test_a_patient_signs_in_books_reads_and_cancels_while_redis_is_unreachable(no_redis_app):
    day = today_local() + timedelta(days=1)
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=time(9), end_time=time(10))
    patient = PatientFactory()
    client = no_redis_app.test_client()

    headers = _login(client, patient.user.username)
    assert _slots(client, doctor.id, day) == {"09:00": True, "09:30": True}
    booked = client.post(
        "/api/patient/appointments",
        json={"doctor_id": doctor.id, "date": day.isoformat(), "start_time": "09:30", "reason": "Cough"},
        headers=headers,
    )
    assert booked.status_code == 201, booked.get_json()
    assert _slots(client, doctor.id, day) == {"09:00": True, "09:30": False}
    mine = client.get("/api/patient/appointments", headers=headers)
    assert [a["id"] for a in mine.get_json()["items"]] == [booked.get_json()["id"]]

    cancelled = client.post(f"/api/patient/appointments/{booked.get_json()['id']}/cancel", json={}, headers=headers)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert _slots(client, doctor.id, day) == {"09:00": True, "09:30": True}

    with no_redis_app.app_context():
        statuses = db.session.execute(db.select(Appointment.status)).scalars().all()
        outbox = db.session.execute(
            db.select(Notification.kind, Notification.user_id, Notification.status, Notification.attempts)
        ).all()
    assert statuses == ["cancelled"]
    # Nothing could be published: both messages wait, untried, for the sweep.
    assert sorted(outbox) == sorted(
        [
            ("booking_confirmed", patient.user_id, "pending", 0),
            ("appointment_cancelled", patient.user_id, "pending", 0),
            ("appointment_cancelled", doctor.user_id, "pending", 0),
        ]
    )

    health = client.get("/api/health").get_json()
    assert (health["status"], health["failing"]) == ("degraded", ["cache", "broker"])
    assert breaker_of(no_redis_app).is_open


def test_a_logged_out_token_stays_revoked_while_redis_is_unreachable(no_redis_app):
    patient = PatientFactory()
    client = no_redis_app.test_client()
    headers = _login(client, patient.user.username)
    assert client.get("/api/auth/me", headers=headers).status_code == 200

    assert client.post("/api/auth/logout", json={}, headers=headers).status_code == 200

    again = client.get("/api/auth/me", headers=headers)
    assert (again.status_code, again.get_json()["error"]["code"]) == (401, "token_revoked")


def test_a_blocked_patient_is_shut_out_while_redis_is_unreachable(no_redis_app):
    patient, admin = PatientFactory(), AdminFactory()
    client = no_redis_app.test_client()
    patient_headers, admin_headers = _login(client, patient.user.username), _login(client, admin.username)
    assert client.get("/api/patient/appointments", headers=patient_headers).status_code == 200

    blocked = client.post(f"/api/admin/patients/{patient.id}/block", headers=admin_headers)
    assert blocked.status_code == 200, blocked.get_json()

    refused = client.get("/api/patient/appointments", headers=patient_headers)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (401, "token_revoked")
