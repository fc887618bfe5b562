"""Every timestamp the API sends says its zone, so a browser anywhere reads the same moment (SPEC §11)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import bearer
from tests.factories import PASSWORD, AdminFactory, PatientFactory
from tests.scheduling.helpers import DAY_S, NOW, book, doctor_with_day

ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NOW_UTC = "2026-11-24T02:30:00Z"  # NOW, 08:00 in Kolkata


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_zoned(body: dict, *names: str, expected: str | None = NOW_UTC) -> None:
    for name in names:
        value = body[name]
        assert value is not None and ZONED.match(value), (name, value)
        if expected is not None:
            assert value == expected, name


def test_users_doctors_and_patients_carry_zoned_timestamps(client, frozen_clock):
    frozen_clock(NOW)
    admin = AdminFactory()
    doctor = doctor_with_day()
    patient = PatientFactory()
    assert client.post("/api/auth/login", json={"username": patient.user.username, "password": PASSWORD}).status_code
    me = client.get("/api/auth/me", headers=bearer(patient.user)).get_json()
    assert_zoned(me, "created_at", "last_login_at")
    assert_zoned(me["patient"], "created_at")
    assert_zoned(client.get(f"/api/admin/patients/{patient.id}", headers=bearer(admin)).get_json(), "created_at")
    doctor_body = client.get(f"/api/admin/doctors/{doctor.id}", headers=bearer(admin)).get_json()
    assert_zoned(doctor_body, "created_at")


def test_appointments_waitlist_treatments_audit_and_exports_carry_zoned_timestamps(app, client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient, rival = PatientFactory(), PatientFactory()
    headers = bearer(patient.user)
    appointment = book(client, headers, doctor.id).get_json()
    assert_zoned(appointment, "created_at", "updated_at")
    for start in ("09:30", "10:00", "10:30"):
        book(client, bearer(PatientFactory().user), doctor.id, start=start)
    joined = client.post(
        "/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=bearer(rival.user)
    )
    assert joined.status_code == 201, joined.get_json()
    assert_zoned(joined.get_json(), "created_at")
    cancelled = client.post(f"/api/patient/appointments/{appointment['id']}/cancel", json={}, headers=headers)
    assert_zoned(cancelled.get_json(), "cancelled_at")
    waiting = client.get("/api/patient/waitlist", headers=bearer(rival.user)).get_json()["items"][0]
    assert_zoned(waiting, "created_at", "notified_at")

    frozen_clock("2026-11-25 09:10")
    second = book(client, headers, doctor.id, start="09:00")
    assert second.status_code == 409  # started: a fresh visit for the treatment below comes from another slot
    visit = client.get("/api/doctor/appointments", headers=bearer(doctor.user)).get_json()["items"][1]
    saved = client.put(
        f"/api/doctor/appointments/{visit['id']}/treatment", json={"diagnosis": "Flu"}, headers=bearer(doctor.user)
    ).get_json()
    assert_zoned(saved, "created_at", "updated_at", expected="2026-11-25T03:40:00Z")

    admin = AdminFactory()
    event = client.get("/api/admin/audit", headers=bearer(admin)).get_json()["items"][0]
    assert_zoned(event, "at", expected=None)
    job = client.post("/api/admin/exports", json={"kind": "appointments"}, headers=bearer(admin)).get_json()
    assert_zoned(job, "created_at", expected="2026-11-25T03:40:00Z")
    assert _moment(event["at"]).tzinfo == UTC
