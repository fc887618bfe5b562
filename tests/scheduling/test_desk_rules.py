"""Rules met at the desk: doctors plan beyond the patients' horizon, the waitlist needs a working day, the booking
calendar shows free-slot counts, and a patient sees which times the booking rules would refuse them."""

from __future__ import annotations

from datetime import date, time, timedelta

from tests.conftest import bearer
from tests.factories import AdminFactory, AvailabilityFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, error_code

FAR = DAY + timedelta(days=21)  # three weeks ahead: beyond the default 7-day booking horizon
FAR_S = FAR.isoformat()


def _grid(client, doctor, day: str) -> list[dict]:
    response = client.get(f"/api/doctor/availability?date_from={day}&days=1", headers=bearer(doctor.user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["days"][0]["slots"]


def test_a_doctor_sees_free_slots_beyond_the_horizon_and_blocks_one_three_weeks_ahead(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(day=FAR)
    slots = _grid(client, doctor, FAR_S)
    assert [(s["start"], s["state"], s["available"]) for s in slots[:2]] == [
        ("09:00", "free", False),  # free in the doctor's grid, though no patient may book it yet
        ("09:30", "free", False),
    ]
    toggled = client.post(
        "/api/doctor/availability/toggle", json={"date": FAR_S, "start": "09:30"}, headers=bearer(doctor.user)
    )
    assert toggled.status_code == 200 and toggled.get_json()["blocked"] is True
    assert [s["state"] for s in _grid(client, doctor, FAR_S)[:2]] == ["free", "blocked"]


def test_slot_states_tell_booked_blocked_and_past_apart(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    book(client, bearer(PatientFactory().user), doctor.id, start="09:00")
    client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "09:30"}, headers=bearer(doctor.user))
    frozen_clock("2026-11-25 10:05")
    states = {s["start"]: s["state"] for s in _grid(client, doctor, DAY_S)}
    assert states == {"09:00": "booked", "09:30": "blocked", "10:00": "past", "10:30": "free"}


def test_the_waitlist_refuses_a_day_the_doctor_does_not_work_and_stores_nothing(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(PatientFactory().user)
    sunday = date(2026, 11, 29)
    response = client.post(
        "/api/patient/waitlist", json={"doctor_id": doctor.id, "date": sunday.isoformat()}, headers=headers
    )
    assert (response.status_code, error_code(response)) == (409, "no_availability")
    assert "does not see patients" in response.get_json()["error"]["message"]
    assert client.get("/api/patient/waitlist", headers=headers).get_json()["total"] == 0
    working_day = client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=headers)
    assert working_day.status_code == 201


def test_availability_summary_counts_free_slots_per_day_and_follows_bookings(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()  # 09:00-11:00 on DAY: four slots
    AvailabilityFactory(doctor_id=doctor.id, date=DAY + timedelta(days=1), start_time=time(9), end_time=time(10))
    url = f"/api/doctors/{doctor.id}/availability-summary?from=2026-11-24&to=2026-11-26"

    def counts() -> list[tuple[str, int]]:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        return [(d["date"], d["free"]) for d in response.get_json()["days"]]

    assert counts() == [("2026-11-24", 0), ("2026-11-25", 4), ("2026-11-26", 2)]
    book(client, bearer(PatientFactory().user), doctor.id, start="09:30")
    assert counts() == [("2026-11-24", 0), ("2026-11-25", 3), ("2026-11-26", 2)]  # the cached day was refreshed


def test_availability_summary_counts_nothing_beyond_the_horizon_and_bounds_its_range(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(day=FAR)
    body = client.get(f"/api/doctors/{doctor.id}/availability-summary?from={FAR_S}&to={FAR_S}").get_json()
    assert body["days"] == [{"date": FAR_S, "free": 0, "slots": 4}]
    too_long = client.get(f"/api/doctors/{doctor.id}/availability-summary?from=2026-11-24&to=2027-03-01")
    backwards = client.get(f"/api/doctors/{doctor.id}/availability-summary?from=2026-11-24&to=2026-11-20")
    for response in (too_long, backwards):
        assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["to"]
    assert client.get("/api/doctors/999/availability-summary?from=2026-11-24&to=2026-11-24").status_code == 404


def test_slots_mark_times_the_signed_in_patient_cannot_take(client, frozen_clock):
    frozen_clock(NOW)
    heart, skin = doctor_with_day(), doctor_with_day()
    patient = PatientFactory()
    headers = bearer(patient.user)
    assert book(client, headers, heart.id, start="09:00").status_code == 201

    def conflicts(doctor) -> dict[str, str | None]:
        slots = client.get(f"/api/doctors/{doctor.id}/slots?date={DAY_S}", headers=headers).get_json()["slots"]
        return {s["start"]: s["conflict"] for s in slots}

    assert conflicts(skin) == {"09:00": "patient_busy", "09:30": None, "10:00": None, "10:30": None}
    assert set(conflicts(heart).values()) == {"already_booked_with_doctor"}
    anonymous = client.get(f"/api/doctors/{skin.id}/slots?date={DAY_S}").get_json()["slots"]
    assert "conflict" not in anonymous[0]
    assert book(client, headers, skin.id, start="09:00").status_code == 409  # what the mark foretold


def test_a_patient_moving_a_visit_sees_the_doctors_other_slots_that_day_as_free_and_can_take_one(client, frozen_clock):
    """The reschedule dialog asks for the slots with `moving`: the visit being moved must not make every other slot
    of its own doctor that day look refused (it gives its slot up), while a visit the patient keeps still does."""
    frozen_clock(NOW)
    heart, skin = doctor_with_day(), doctor_with_day()
    patient = PatientFactory()
    headers = bearer(patient.user)
    visit = book(client, headers, heart.id, start="09:00").get_json()
    assert book(client, headers, skin.id, start="10:00").status_code == 201

    def slots(moving: int) -> dict[str, tuple[bool, str | None]]:
        response = client.get(f"/api/doctors/{heart.id}/slots?date={DAY_S}&moving={moving}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {s["start"]: (s["available"], s["conflict"]) for s in response.get_json()["slots"]}

    assert slots(visit["id"]) == {
        "09:00": (False, None),  # its own slot is taken until the move frees it
        "09:30": (True, None),
        "10:00": (True, "patient_busy"),  # the visit with the other doctor stays in the way
        "10:30": (True, None),
    }
    other = PatientFactory()
    someone_elses = book(client, bearer(other.user), heart.id, start="10:30").get_json()
    assert {v[1] for v in slots(someone_elses["id"]).values()} == {"already_booked_with_doctor"}
    moved = client.put(
        f"/api/patient/appointments/{visit['id']}", json={"date": DAY_S, "start_time": "09:30"}, headers=headers
    )
    assert moved.status_code == 200, moved.get_json()  # what the free mark foretold
    bad = client.get(f"/api/doctors/{heart.id}/slots?date={DAY_S}&moving=0", headers=headers)
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["moving"]


def test_admin_list_of_today_and_upcoming_starts_with_today(client, frozen_clock):
    frozen_clock("2026-11-25 08:00")
    doctor = doctor_with_day()
    AvailabilityFactory(doctor_id=doctor.id, date=DAY + timedelta(days=2), start_time=time(9), end_time=time(10))
    book(client, bearer(PatientFactory().user), doctor.id, start="09:00", day="2026-11-27")
    book(client, bearer(PatientFactory().user), doctor.id, start="10:00")
    headers = bearer(AdminFactory())
    soonest = client.get("/api/admin/appointments?date_from=2026-11-25&order=soonest", headers=headers).get_json()
    newest = client.get("/api/admin/appointments?date_from=2026-11-25", headers=headers).get_json()
    assert [a["date"] for a in soonest["items"]] == ["2026-11-25", "2026-11-27"]
    assert [a["date"] for a in newest["items"]] == ["2026-11-27", "2026-11-25"]
