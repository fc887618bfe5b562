"""The front desk: walk-ins into today's next free slot, emergencies on top without a slot (audited, never a
doubled slot), checking booked patients in, token numbers and the states of the queue."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, time

from sqlalchemy import select

from hms.models import Appointment, AuditEvent, Patient, QueueToken
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory

TODAY = date(2026, 11, 24)
NOW = "2026-11-24 09:10"


def _doctor(end: time = time(10, 0)):
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=TODAY, start_time=time(9, 0), end_time=end)
    return doctor


def _walk_in(client, admin, doctor_id: int, **fields):
    body = {"doctor_id": doctor_id, "full_name": "Kiran Rao", "phone": "+919876543210", **fields}
    return client.post("/api/admin/walk-ins", json=body, headers=admin)


def test_a_walk_in_with_minimal_fields_gets_todays_next_free_slot_and_token_one(client, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor()
    admin = bearer(AdminFactory())
    response = _walk_in(client, admin, doctor.id, reason="Fever")
    assert response.status_code == 201, response.get_json()
    token = response.get_json()
    assert (token["number"], token["kind"], token["state"], token["start_time"]) == (
        1,
        "walk_in",
        "checked_in",
        "09:30",
    )
    appointment = fetch_all(select(Appointment))[0]
    assert (appointment.date, appointment.start_time, appointment.status) == (TODAY, time(9, 30), "booked")
    assert fetch_all(select(Patient.full_name)) == ["Kiran Rao"]


def test_a_walk_in_when_the_day_is_full_is_refused_and_nothing_is_doubled(client, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor(end=time(10, 0))
    AppointmentFactory(doctor=doctor, date=TODAY, start_time=time(9, 30), end_time=time(10, 0))
    admin = bearer(AdminFactory())
    response = _walk_in(client, admin, doctor.id)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "no_free_slot")
    assert fetch_all(select(QueueToken)) == []
    assert len(fetch_all(select(Patient))) == 1  # the walk-in's new record rolled back with the refusal


def test_an_emergency_overbooks_on_top_of_the_queue_without_a_slot_and_is_audited(client, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor(end=time(10, 0))
    booked = AppointmentFactory(doctor=doctor, date=TODAY, start_time=time(9, 30), end_time=time(10, 0))
    admin = bearer(AdminFactory())
    checked = client.post("/api/admin/queue/check-in", json={"appointment_id": booked.id}, headers=admin)
    assert checked.status_code == 201 and checked.get_json()["number"] == 1
    emergency = _walk_in(client, admin, doctor.id, emergency=True, reason="Chest pain")
    assert emergency.status_code == 201, emergency.get_json()
    assert (emergency.get_json()["number"], emergency.get_json()["appointment_id"]) == (2, None)
    queue = client.get("/api/doctor/queue", headers=bearer(doctor.user)).get_json()
    assert [(t["kind"], t["number"]) for t in queue] == [("emergency", 2), ("appointment", 1)]
    assert len(fetch_all(select(Appointment))) == 1  # no second appointment in the taken slot
    actions = fetch_all(select(AuditEvent.action).where(AuditEvent.entity == "queue_token").order_by(AuditEvent.id))
    assert actions == ["queue.check_in", "queue.emergency"]


def test_a_token_moves_checked_in_with_doctor_done_and_no_further(client, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor()
    admin = bearer(AdminFactory())
    token = _walk_in(client, admin, doctor.id).get_json()
    doctor_headers = bearer(doctor.user)
    states = [
        client.post(f"/api/doctor/queue/{token['id']}/advance", headers=doctor_headers).get_json()["state"]
        for _ in range(2)
    ]
    assert states == ["with_doctor", "done"]
    again = client.post(f"/api/doctor/queue/{token['id']}/advance", headers=doctor_headers)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "invalid_transition")
    other = client.post(f"/api/doctor/queue/{token['id']}/advance", headers=bearer(DoctorFactory().user))
    assert other.status_code == 404


def test_a_visit_is_checked_in_once_and_only_on_its_day(client, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor()
    admin = bearer(AdminFactory())
    today = AppointmentFactory(doctor=doctor, date=TODAY, start_time=time(9, 30), end_time=time(10, 0))
    later = AppointmentFactory(doctor=doctor, date=date(2026, 11, 25))
    assert client.post("/api/admin/queue/check-in", json={"appointment_id": today.id}, headers=admin).status_code == 201
    twice = client.post("/api/admin/queue/check-in", json={"appointment_id": today.id}, headers=admin)
    assert twice.get_json()["error"]["code"] == "already_checked_in"
    early = client.post("/api/admin/queue/check-in", json={"appointment_id": later.id}, headers=admin)
    assert early.get_json()["error"]["code"] == "not_today"


def test_walk_ins_racing_for_one_doctor_get_distinct_tokens_and_slots(app, frozen_clock):
    frozen_clock(NOW)
    doctor = _doctor(end=time(12, 0))
    admin = bearer(AdminFactory())
    barrier = threading.Barrier(5)
    results: list = []

    def worker(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/admin/walk-ins", json={"doctor_id": doctor.id, "full_name": f"Walker {index}"}, headers=admin
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(results) == Counter({201: 5}), results
    tokens = fetch_all(select(QueueToken))
    assert sorted(t.number for t in tokens) == [1, 2, 3, 4, 5]
    starts = [a.start_time for a in fetch_all(select(Appointment))]
    assert len(set(starts)) == 5


def test_the_desk_is_for_admins(client):
    patient = bearer(PatientFactory().user)
    assert client.post("/api/admin/walk-ins", json={}).status_code == 401
    assert (
        client.post("/api/admin/walk-ins", json={"doctor_id": 1, "full_name": "X"}, headers=patient).status_code == 403
    )
    assert client.get("/api/admin/queue", headers=patient).status_code == 403
    assert client.get("/api/doctor/queue", headers=patient).status_code == 403


def test_the_demo_morning_has_checked_in_visits_and_an_emergency_on_top(client, frozen_clock):
    from hms.demo.loader import load_demo_data
    from hms.models import DoctorLeave, User
    from tests.conftest import fetch_value, fresh

    frozen_clock("2026-11-24 09:30")
    with fresh():
        load_demo_data()
    admin = bearer(fetch_value(select(User).where(User.username == "admin")))
    queue = client.get("/api/admin/queue", headers=admin).get_json()
    assert queue[0]["kind"] == "emergency" and queue[0]["appointment_id"] is None
    assert {t["kind"] for t in queue[1:]} == {"appointment"}
    assert len(fetch_all(select(DoctorLeave))) == 1
