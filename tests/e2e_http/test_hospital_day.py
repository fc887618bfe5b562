"""A day at the hospital over real HTTP: gunicorn (one process, threads: without Redis the
cache is per process) serves the app on a loopback port; requests walks the portals."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import requests

from hms.common.clock import today_local
from tests.factories import PASSWORD, AvailabilityFactory, DoctorFactory, PatientFactory

pytestmark = pytest.mark.slow


def _login(base: str, username: str) -> dict[str, str]:
    response = requests.post(f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_patient_books_a_doctor_treats_and_the_slot_frees_on_cancel(server):
    tomorrow = today_local() + timedelta(days=1)
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=tomorrow, start_time=time(9), end_time=time(10))
    patient, other = PatientFactory(), PatientFactory()
    patient_headers, doctor_headers = _login(server, patient.user.username), _login(server, doctor.user.username)
    slots_url = f"{server}/api/doctors/{doctor.id}/slots?date={tomorrow}"

    assert [s["available"] for s in requests.get(slots_url, timeout=10).json()["slots"]] == [True, True]
    booked = requests.post(
        f"{server}/api/patient/appointments",
        json={"doctor_id": doctor.id, "date": tomorrow.isoformat(), "start_time": "09:00", "reason": "Fever"},
        headers=patient_headers,
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    # without Redis the cache lives in the one web process (threads share it): the booking invalidated it
    for _ in range(4):
        assert [s["available"] for s in requests.get(slots_url, timeout=10).json()["slots"]] == [False, True]
    taken = requests.post(
        f"{server}/api/patient/appointments",
        json={"doctor_id": doctor.id, "date": tomorrow.isoformat(), "start_time": "09:00"},
        headers=_login(server, other.user.username),
        timeout=10,
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "slot_taken"

    listed = requests.get(f"{server}/api/doctor/appointments?date={tomorrow}", headers=doctor_headers, timeout=10)
    assert [a["id"] for a in listed.json()["items"]] == [appointment["id"]]
    treatment = requests.put(
        f"{server}/api/doctor/appointments/{appointment['id']}/treatment",
        json={"diagnosis": "Viral fever", "medicines": [{"name": "Paracetamol", "duration_days": 3}]},
        headers=doctor_headers,
        timeout=10,
    )
    assert treatment.status_code == 200, treatment.text
    stored = requests.get(
        f"{server}/api/doctor/appointments/{appointment['id']}/treatment", headers=doctor_headers, timeout=10
    )
    assert stored.status_code == 200
    assert stored.json()["diagnosis"] == "Viral fever"  # read back by the next request: the write was committed
    assert [m["name"] for m in stored.json()["medicines"]] == ["Paracetamol"]

    ics = requests.get(
        f"{server}/api/patient/appointments/{appointment['id']}/ics", headers=patient_headers, timeout=10
    )
    assert ics.headers["Content-Type"].startswith("text/calendar") and b"BEGIN:VEVENT" in ics.content
    cancelled = requests.post(
        f"{server}/api/patient/appointments/{appointment['id']}/cancel", json={}, headers=patient_headers, timeout=10
    )
    assert cancelled.status_code == 200
    for _ in range(4):
        assert [s["available"] for s in requests.get(slots_url, timeout=10).json()["slots"]] == [True, True]
