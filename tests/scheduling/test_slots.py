"""Slots are the windows cut into slot_minutes, minus booked, blocked and past slots (SPEC §4)."""

from __future__ import annotations

from datetime import date, time, timedelta

from hms import create_app
from hms.models import Doctor, User
from tests.conftest import bearer, fresh, make_settings
from tests.factories import AvailabilityFactory, DoctorFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, slots


def test_windows_are_cut_into_slots_of_the_doctors_length_and_a_partial_slot_is_dropped(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory(slot_minutes=20)
    AvailabilityFactory(doctor_id=doctor.id, date=DAY, start_time=time(9, 0), end_time=time(10, 10))
    AvailabilityFactory(doctor_id=doctor.id, date=DAY, start_time=time(17, 0), end_time=time(17, 40))
    response = client.get(f"/api/doctors/{doctor.id}/slots?date={DAY_S}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["date"] == DAY_S
    assert [(s["start"], s["end"]) for s in body["slots"]] == [
        ("09:00", "09:20"),
        ("09:20", "09:40"),
        ("09:40", "10:00"),
        ("17:00", "17:20"),
        ("17:20", "17:40"),
    ]
    assert all(s["available"] for s in body["slots"])


def test_a_day_without_windows_has_no_slots_and_an_unknown_doctor_is_404(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    assert client.get(f"/api/doctors/{doctor.id}/slots?date=2026-11-26").get_json()["slots"] == []
    missing = client.get("/api/doctors/99999/slots?date=2026-11-26")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_a_malformed_date_is_a_422_not_a_500(client):
    response = client.get("/api/doctors/1/slots?date=25-11-2026")
    assert response.status_code == 422
    assert "date" in response.get_json()["error"]["fields"]
    assert client.get("/api/doctors/1/slots").status_code == 422


def test_booked_slots_are_unavailable_at_once(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    assert slots(client, doctor.id)["09:00"] is True  # cached now
    assert book(client, bearer(patient.user), doctor.id).status_code == 201
    assert slots(client, doctor.id)["09:00"] is False
    assert slots(client, doctor.id)["09:30"] is True


def test_slots_that_started_are_unavailable_and_the_cache_does_not_freeze_time(client, frozen_clock):
    frozen_clock("2026-11-25 09:45")
    doctor = doctor_with_day()
    assert slots(client, doctor.id) == {"09:00": False, "09:30": False, "10:00": True, "10:30": True}
    frozen_clock("2026-11-25 10:00")  # the cached state is reused, the time filter is not
    assert slots(client, doctor.id) == {"09:00": False, "09:30": False, "10:00": False, "10:30": True}
    frozen_clock("2026-11-26 08:00")
    assert not any(slots(client, doctor.id).values())


def test_dates_beyond_the_booking_horizon_offer_no_available_slot(client, frozen_clock):
    frozen_clock(NOW)
    far = DAY + timedelta(days=7)  # today + 8
    doctor = doctor_with_day(day=far)
    AvailabilityFactory(doctor_id=doctor.id, date=DAY + timedelta(days=6), start_time=time(9), end_time=time(10))
    assert not any(slots(client, doctor.id, far.isoformat()).values())
    assert all(slots(client, doctor.id, (DAY + timedelta(days=6)).isoformat()).values())  # today + 7


def test_a_custom_horizon_from_settings_is_honoured(app, tmp_path, frozen_clock):
    other = create_app(
        make_settings(tmp_path, database_url=app.config["SQLALCHEMY_DATABASE_URI"], booking_horizon_days=30)
    )
    frozen_clock(NOW)
    far = date(2026, 12, 20)
    doctor = doctor_with_day(day=far)
    patient = PatientFactory()
    with other.app_context():
        client = other.test_client()
        assert all(slots(client, doctor.id, far.isoformat()).values())
        headers = bearer(patient.user)
        response = book(client, headers, doctor.id, day=far.isoformat())
        assert response.status_code == 201, response.get_json()


def test_the_hospital_time_zone_decides_which_slots_are_past(app, tmp_path, frozen_clock):
    new_york = create_app(
        make_settings(tmp_path, database_url=app.config["SQLALCHEMY_DATABASE_URI"], timezone="America/New_York")
    )
    # 20:00 in Kolkata on the 25th is 09:30 in New York on the 25th.
    frozen_clock("2026-11-25 20:00")
    doctor = doctor_with_day()
    with new_york.app_context():
        assert slots(new_york.test_client(), doctor.id) == {
            "09:00": False,
            "09:30": False,
            "10:00": True,
            "10:30": True,
        }
    assert not any(slots(app.test_client(), doctor.id).values())  # in Kolkata the whole day is over


def test_blocked_or_archived_doctors_offer_no_slots(client, frozen_clock):
    frozen_clock(NOW)
    blocked = doctor_with_day()
    archived = doctor_with_day()
    with fresh() as session:
        session.get(User, blocked.user_id).is_active = False
        session.get(Doctor, archived.id).archived_at = archived.created_at
        session.commit()
    assert client.get(f"/api/doctors/{blocked.id}/slots?date={DAY_S}").get_json()["slots"] == []
    assert client.get(f"/api/doctors/{archived.id}/slots?date={DAY_S}").get_json()["slots"] == []


def test_doctor_ids_available_on_lists_active_doctors_with_a_free_slot(app, frozen_clock):
    from hms.scheduling.slots import doctor_ids_available_on

    frozen_clock(NOW)
    free = doctor_with_day()
    full = doctor_with_day(start=time(9), end=time(9, 30))
    blocked = doctor_with_day()
    with fresh() as session:
        session.get(User, blocked.user_id).is_active = False
        session.commit()
    patient = PatientFactory()
    assert book(app.test_client(), bearer(patient.user), full.id).status_code == 201
    with fresh():
        assert doctor_ids_available_on(day=DAY) == {free.id}
        assert doctor_ids_available_on(day=DAY + timedelta(days=30)) == set()
