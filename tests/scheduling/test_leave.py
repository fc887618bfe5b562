"""Doctor leave: slots vanish everywhere, booked patients are told and offered other times, the waitlist closes,
no leave in the past, overlapping leave merges, the admin sees who is on leave today."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from hms.models import AuditEvent, DoctorLeave, WaitlistEntry
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AvailabilityFactory, PatientFactory
from tests.scheduling.helpers import DAY_S, NOW, book, doctor_with_day, error_code, notifications, slots

NEXT = date(2026, 11, 26)
NEXT_S = "2026-11-26"


def _leave(client, doctor, start=DAY_S, end=DAY_S, reason=None, headers=None):
    body = {"start_date": start, "end_date": end}
    if reason:
        body["reason"] = reason
    return client.post("/api/doctor/leave", json=body, headers=headers or bearer(doctor.user))


def test_leave_makes_the_days_slots_vanish_from_every_listing_and_booking(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    assert any(slots(client, doctor.id).values())
    response = _leave(client, doctor, reason="Conference")
    assert response.status_code == 201, response.get_json()
    assert slots(client, doctor.id) == {}
    summary = client.get(f"/api/doctors/{doctor.id}/availability-summary?from={DAY_S}&to={DAY_S}")
    assert summary.get_json()["days"][0]["free"] == 0
    refused = book(client, bearer(PatientFactory().user), doctor.id)
    assert (refused.status_code, error_code(refused)) == (409, "doctor_on_leave")
    grid = client.get(f"/api/doctor/availability?date_from={DAY_S}&days=1", headers=bearer(doctor.user)).get_json()
    assert grid["days"][0]["on_leave"] is True and grid["days"][0]["slots"] == []


def test_booked_patients_are_told_with_free_slots_and_a_reschedule_link(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    AvailabilityFactory(doctor_id=doctor.id, date=NEXT, start_time=time(10, 0), end_time=time(11, 0))
    patient = PatientFactory()
    appointment = book(client, bearer(patient.user), doctor.id, "09:30").get_json()
    response = _leave(client, doctor)
    assert response.get_json()["appointments_told"] == [appointment["id"]]
    sent = notifications("doctor_on_leave", patient.user.id)
    assert len(sent) >= 1
    payload = sent[0].payload
    assert payload["reschedule_url"].endswith(f"/patient/appointments?reschedule={appointment['id']}")
    assert [(s["date"], s["start"]) for s in payload["offered"]] == [(NEXT_S, "10:00"), (NEXT_S, "10:30")]
    notices = client.get("/api/patient/leave-notices", headers=bearer(patient.user)).get_json()
    assert [n["appointment_id"] for n in notices] == [appointment["id"]]
    assert notices[0]["offered"][0] == {
        "doctor_id": doctor.id,
        "doctor_name": doctor.display_name,
        "date": NEXT_S,
        "start": "10:00",
    }
    moved = client.put(
        f"/api/patient/appointments/{appointment['id']}",
        json={"date": NEXT_S, "start_time": "10:00"},
        headers=bearer(patient.user),
    )
    assert moved.status_code == 200, moved.get_json()
    assert client.get("/api/patient/leave-notices", headers=bearer(patient.user)).get_json() == []


def test_the_waitlist_of_leave_days_is_closed(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(end=time(9, 30))
    book(client, bearer(PatientFactory().user), doctor.id, "09:00")
    waiting = PatientFactory()
    joined = client.post(
        "/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=bearer(waiting.user)
    )
    assert joined.status_code == 201, joined.get_json()
    _leave(client, doctor)
    assert [e.status for e in fetch_all(select(WaitlistEntry))] == ["cancelled"]
    assert len(notifications("waitlist_closed", waiting.user.id)) >= 1
    again = client.post(
        "/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=bearer(waiting.user)
    )
    assert (again.status_code, error_code(again)) == (409, "doctor_on_leave")


def test_leave_cannot_start_in_the_past(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    response = _leave(client, doctor, start="2026-11-23", end=DAY_S)
    assert response.status_code == 422 and "start_date" in response.get_json()["error"]["fields"]
    assert fetch_all(select(DoctorLeave)) == []


def test_overlapping_and_touching_leave_merges_into_one(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    _leave(client, doctor, start="2026-11-25", end="2026-11-27", reason="Conference")
    _leave(client, doctor, start="2026-11-27", end="2026-11-29")
    _leave(client, doctor, start="2026-11-30", end="2026-12-01", reason="Family")
    _leave(client, doctor, start="2026-12-05", end="2026-12-05")
    _leave(client, doctor, start="2026-12-03", end="2026-12-04")  # touches the next day's leave from before
    rows = sorted((r.start_date, r.end_date, r.reason) for r in fetch_all(select(DoctorLeave)))
    assert rows == [
        (date(2026, 11, 25), date(2026, 12, 1), "Conference; Family"),
        (date(2026, 12, 3), date(2026, 12, 5), None),
    ]
    listed = client.get("/api/doctor/leave", headers=bearer(doctor.user)).get_json()
    assert [(x["start_date"], x["end_date"]) for x in listed] == [
        ("2026-11-25", "2026-12-01"),
        ("2026-12-03", "2026-12-05"),
    ]


def test_an_admin_records_leave_for_a_doctor_audited_and_sees_who_is_on_leave_today(client, frozen_clock):
    frozen_clock(NOW)
    doctor, other = doctor_with_day(), doctor_with_day()
    admin = bearer(AdminFactory())
    recorded = client.post(
        f"/api/admin/doctors/{doctor.id}/leave", json={"start_date": "2026-11-24", "end_date": DAY_S}, headers=admin
    )
    assert recorded.status_code == 201, recorded.get_json()
    client.post(f"/api/admin/doctors/{other.id}/leave", json={"start_date": DAY_S, "end_date": DAY_S}, headers=admin)
    today = client.get("/api/admin/leave/today", headers=admin).get_json()
    assert [x["doctor_id"] for x in today] == [doctor.id]
    actions = fetch_all(select(AuditEvent.action).where(AuditEvent.action == "doctor.leave"))
    assert len(actions) == 2


def test_leave_routes_keep_to_their_roles(client):
    patient = bearer(PatientFactory().user)
    assert client.post("/api/doctor/leave", json={}).status_code == 401
    assert (
        client.post("/api/doctor/leave", json={"start_date": DAY_S, "end_date": DAY_S}, headers=patient).status_code
        == 403
    )
    assert client.get("/api/admin/leave/today", headers=patient).status_code == 403
    assert client.get("/api/patient/leave-notices", headers=bearer(AdminFactory())).status_code == 403
