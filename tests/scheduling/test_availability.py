"""The doctor's availability editor: windows per date, weekly template, toggling one slot (SPEC §4, §6)."""

from __future__ import annotations

from datetime import time

from hms.extensions import db
from hms.models import Appointment, AvailabilityWindow
from tests.conftest import bearer, fetch, fetch_value
from tests.factories import DoctorFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, error_code, notifications, slots


def _put(client, doctor, days, **extra):
    return client.put("/api/doctor/availability", json={"days": days, **extra}, headers=bearer(doctor.user))


def test_put_sets_windows_and_get_shows_the_grid(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory()
    response = _put(
        client,
        doctor,
        [{"date": DAY_S, "windows": [{"start": "17:00", "end": "18:00"}, {"start": "09:00", "end": "10:00"}]}],
    )
    assert response.status_code == 200, response.get_json()
    grid = client.get(f"/api/doctor/availability?date_from={DAY_S}&days=2", headers=bearer(doctor.user)).get_json()
    assert [d["date"] for d in grid["days"]] == [DAY_S, "2026-11-26"]
    first = grid["days"][0]
    assert first["windows"] == [{"start": "09:00", "end": "10:00"}, {"start": "17:00", "end": "18:00"}]
    assert [s["start"] for s in first["slots"]] == ["09:00", "09:30", "17:00", "17:30"]
    assert first["slots"][0] == {
        "start": "09:00",
        "end": "09:30",
        "available": True,
        "state": "free",
        "blocked": False,
        "appointment_id": None,
    }
    assert grid["days"][1]["slots"] == []
    assert slots(client, doctor.id)["17:30"] is True


def test_invalid_windows_are_422(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory()
    bad = [
        [{"date": DAY_S, "windows": [{"start": "10:00", "end": "09:00"}]}],
        [{"date": DAY_S, "windows": [{"start": "09:00", "end": "11:00"}, {"start": "10:30", "end": "12:00"}]}],
        [{"date": DAY_S, "windows": [{"start": "9h", "end": "11:00"}]}],
        [{"date": "2026-11-20", "windows": []}],
    ]
    for days in bad:
        response = _put(client, doctor, days)
        assert response.status_code == 422, days
    assert client.get("/api/doctor/availability?days=61", headers=bearer(doctor.user)).status_code == 422


def test_removing_hours_under_a_booking_is_409_listing_it(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    appointment = book(client, bearer(PatientFactory().user), doctor.id, start="10:30").get_json()
    response = _put(client, doctor, [{"date": DAY_S, "windows": [{"start": "09:00", "end": "10:00"}]}])
    assert (response.status_code, error_code(response)) == (409, "has_appointments")
    assert [a["id"] for a in response.get_json()["error"]["fields"]["appointments"]] == [appointment["id"]]
    assert response.get_json()["error"]["message"].startswith("1 booked appointment would fall outside")
    assert fetch_value(db.select(AvailabilityWindow.end_time).filter_by(doctor_id=doctor.id)) == time(11)
    book(client, bearer(PatientFactory().user), doctor.id, start="10:00")
    two = _put(client, doctor, [{"date": DAY_S, "windows": [{"start": "09:00", "end": "10:00"}]}])
    assert two.get_json()["error"]["message"].startswith("2 booked appointments would fall outside")
    shrink_ok = _put(client, doctor, [{"date": DAY_S, "windows": [{"start": "10:00", "end": "12:00"}]}])
    assert shrink_ok.status_code == 200  # the booking still fits


def test_cancel_booked_cancels_and_notifies_each_patient(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patients = [PatientFactory(), PatientFactory()]
    ids = [
        book(client, bearer(p.user), doctor.id, start=s).get_json()["id"]
        for p, s in zip(patients, ("09:00", "10:30"), strict=True)
    ]
    response = _put(client, doctor, [{"date": DAY_S, "windows": []}], cancel_booked=True)
    assert response.status_code == 200
    assert sorted(response.get_json()["cancelled"]) == sorted(ids)
    for appointment_id in ids:
        stored = fetch(Appointment, appointment_id)
        assert (stored.status, stored.cancelled_by, stored.cancel_reason) == (
            "cancelled",
            "doctor",
            "Doctor's availability changed",
        )
    for patient in patients:
        assert len(notifications("appointment_cancelled", patient.user_id)) == 1
    assert slots(client, doctor.id) == {}


def test_a_weekly_template_replaces_windows_on_matching_dates(client, frozen_clock):
    frozen_clock(NOW)  # Tuesday 24 November 2026
    doctor = doctor_with_day()  # Wednesday 09:00-11:00
    response = client.post(
        "/api/doctor/availability/template",
        json={
            "weekdays": [0, 2],
            "windows": [{"start": "14:00", "end": "15:00"}],
            "date_from": "2026-11-24",
            "date_to": "2026-12-07",
        },
        headers=bearer(doctor.user),
    )
    assert response.status_code == 200, response.get_json()
    assert [d["date"] for d in response.get_json()["days"]] == ["2026-11-25", "2026-11-30", "2026-12-02", "2026-12-07"]
    assert slots(client, doctor.id) == {"14:00": True, "14:30": True}
    too_long = client.post(
        "/api/doctor/availability/template",
        json={"weekdays": [0], "windows": [], "date_from": "2026-11-24", "date_to": "2027-03-01"},
        headers=bearer(doctor.user),
    )
    assert too_long.status_code == 422


def test_toggle_blocks_and_unblocks_a_slot_and_refuses_a_booked_one(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(doctor.user)
    blocked = client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "09:30"}, headers=headers)
    assert blocked.get_json() == {"date": DAY_S, "start": "09:30", "blocked": True}
    assert slots(client, doctor.id)["09:30"] is False
    assert book(client, bearer(PatientFactory().user), doctor.id, start="09:30").status_code == 409
    unblocked = client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "09:30"}, headers=headers)
    assert unblocked.get_json()["blocked"] is False
    assert slots(client, doctor.id)["09:30"] is True
    book(client, bearer(PatientFactory().user), doctor.id, start="10:00")
    busy = client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "10:00"}, headers=headers)
    assert busy.status_code == 409
    for neighbour in ("09:30", "10:30"):  # the slots just before and just after the booked one stay the doctor's
        beside = client.post(
            "/api/doctor/availability/toggle", json={"date": DAY_S, "start": neighbour}, headers=headers
        )
        assert (beside.status_code, beside.get_json()["blocked"]) == (200, True), neighbour
    off_grid = client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "10:15"}, headers=headers)
    assert off_grid.status_code == 422


def test_adding_availability_tells_the_waitlist(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(start=time(9), end=time(9, 30))
    book(client, bearer(PatientFactory().user), doctor.id)
    waiting = PatientFactory()
    client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=bearer(waiting.user))
    _put(client, doctor, [{"date": DAY_S, "windows": [{"start": "09:00", "end": "10:00"}]}])
    assert [n.user_id for n in notifications("waitlist_slot_open")] == [waiting.user_id]


def test_only_doctors_edit_availability(client, frozen_clock):
    frozen_clock(NOW)
    patient = PatientFactory()
    assert client.get("/api/doctor/availability", headers=bearer(patient.user)).status_code == 403
    assert client.put("/api/doctor/availability", json={"days": []}).status_code == 401
    _ = DAY
