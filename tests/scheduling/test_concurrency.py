"""Races: many requests at once, each on its own client (own connection), released together by a barrier."""

from __future__ import annotations

import threading
from collections import Counter

import psycopg
import pytest

from hms.common.errors import Conflict
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, BlockedSlot
from hms.scheduling import appointments
from tests.conftest import bearer, fetch, fetch_all, fresh
from tests.factories import AppointmentFactory, PatientFactory
from tests.postgres import conninfo_of, on_postgresql, wait_until_a_backend_waits_on_a_lock
from tests.races import at_once
from tests.scheduling.helpers import DAY, DAY_S, NOW, doctor_with_day


def _active_at(doctor_id: int, start: str) -> int:
    return len(
        [
            a
            for a in fetch_all(db.select(Appointment).filter_by(doctor_id=doctor_id, date=DAY))
            if a.status in ("booked", "completed") and a.start_time.strftime("%H:%M") == start
        ]
    )


def test_twenty_patients_racing_for_one_slot_give_one_201_and_nineteen_slot_taken(app, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patients = [PatientFactory() for _ in range(20)]
    body = {"doctor_id": doctor.id, "date": DAY_S, "start_time": "09:00", "reason": "race"}
    requests = [("POST", "/api/patient/appointments", body, bearer(p.user)) for p in patients]
    results = at_once(app, requests)
    assert Counter(results) == Counter({(201, None): 1, (409, "slot_taken"): 19}), results
    assert _active_at(doctor.id, "09:00") == 1


def test_one_patient_booking_two_doctors_at_the_same_time_gets_one(app, frozen_clock):
    frozen_clock(NOW)
    first, second = doctor_with_day(), doctor_with_day()
    headers = bearer(PatientFactory().user)
    requests = [
        ("POST", "/api/patient/appointments", {"doctor_id": d.id, "date": DAY_S, "start_time": "09:00"}, headers)
        for d in (first, second)
    ] * 3
    results = at_once(app, requests)
    assert sorted(status for status, _code in results).count(201) == 1, results
    assert {code for status, code in results if status != 201} <= {
        "patient_busy",
        "already_booked_with_doctor",
        "slot_taken",
    }


def test_a_reschedule_racing_a_booking_onto_one_slot_never_leaves_two_appointments(app, frozen_clock):
    frozen_clock(NOW)
    for _round in range(3):
        doctor = doctor_with_day()
        mover, booker = PatientFactory(), PatientFactory()
        client = app.test_client()
        own = client.post(
            "/api/patient/appointments",
            json={"doctor_id": doctor.id, "date": DAY_S, "start_time": "09:00"},
            headers=bearer(mover.user),
        ).get_json()
        requests = [
            (
                "PUT",
                f"/api/patient/appointments/{own['id']}",
                {"date": DAY_S, "start_time": "10:30"},
                bearer(mover.user),
            ),
            (
                "POST",
                "/api/patient/appointments",
                {"doctor_id": doctor.id, "date": DAY_S, "start_time": "10:30"},
                bearer(booker.user),
            ),
        ]
        results = at_once(app, requests)
        assert sorted(status for status, _ in results) in ([200, 409], [201, 409]), results
        assert _active_at(doctor.id, "10:30") == 1
        if results[0][0] == 409:
            assert fetch(Appointment, own["id"]).status == "booked"  # the loser keeps its old slot


def test_a_doctor_blocking_a_slot_while_a_patient_books_it_never_leaves_both(app, frozen_clock):
    """Either the block or the booking wins; a blocked slot with a booked visit in it is what neither may leave.
    (On PostgreSQL the block takes the doctor's row exclusively and a booking shares it; SQLite has one writer.)"""
    frozen_clock(NOW)
    for _round in range(8):
        doctor = doctor_with_day()
        patient = PatientFactory()
        requests = [
            ("POST", "/api/doctor/availability/toggle", {"date": DAY_S, "start": "09:30"}, bearer(doctor.user)),
            (
                "POST",
                "/api/patient/appointments",
                {"doctor_id": doctor.id, "date": DAY_S, "start_time": "09:30"},
                bearer(patient.user),
            ),
        ]
        (block_status, block_code), (book_status, book_code) = at_once(app, requests)
        # the block first (the booking is refused), or the booking first (the block is refused): never both
        assert (block_status, book_status) in {(200, 409), (409, 201)}, (
            block_status,
            block_code,
            book_status,
            book_code,
        )
        blocked = fetch_all(db.select(BlockedSlot).filter_by(doctor_id=doctor.id, date=DAY))
        assert not (blocked and _active_at(doctor.id, "09:30")), "a blocked slot holds a booked visit"


def test_a_cancel_that_read_the_visit_before_a_concurrent_change_gets_409_and_changes_nothing(app):
    """The cancel's UPDATE only passes a row that is still booked: a doctor who completed the visit (or another
    cancel) between this request's read and its write wins, and this request answers 409 instead of overwriting."""
    appointment_id = AppointmentFactory().id
    with fresh() as session:  # this request reads the visit while it is still booked...
        seen = session.get(Appointment, appointment_id)
        assert seen.status == "booked"
        session.expunge(seen)
        with fresh() as other:  # ...another request completes it and commits first
            other.get(Appointment, appointment_id).status = "completed"
            other.commit()
        with pytest.raises(Conflict), unit_of_work():
            appointments._cancel(seen, role="patient", user=None, reason="Feeling better")
    row = fetch(Appointment, appointment_id)
    assert (row.status, row.cancelled_at, row.cancel_reason) == ("completed", None, None)


@on_postgresql
def test_bookings_of_one_doctor_share_its_row_and_a_change_of_availability_waits_for_them(app, frozen_clock):
    """PostgreSQL: a booking holds the doctor's row in share mode, so bookings of one doctor never wait for one
    another, while a change of the doctor's slots (exclusive) waits until the bookings in flight have committed."""
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    answers: dict[str, object] = {}

    def request(name: str, path: str, body: dict, headers: dict) -> threading.Thread:
        thread = threading.Thread(
            target=lambda: answers.update({name: app.test_client().post(path, json=body, headers=headers)})
        )
        thread.start()
        return thread

    conninfo = conninfo_of(app)
    with psycopg.connect(conninfo) as booking_in_flight:
        booking_in_flight.execute("SELECT id FROM doctors WHERE id = %s FOR SHARE", (doctor.id,))
        booking = request("booking", "/api/patient/appointments", _booking(doctor.id, "09:00"), bearer(patient.user))
        booking.join(timeout=15)
        assert not booking.is_alive(), "a booking waited for another booking of the same doctor"
        change = request(
            "toggle", "/api/doctor/availability/toggle", {"date": DAY_S, "start": "10:00"}, bearer(doctor.user)
        )
        wait_until_a_backend_waits_on_a_lock(conninfo, "the change of availability")
        assert change.is_alive()
        booking_in_flight.rollback()
    change.join(timeout=15)
    assert answers["booking"].status_code == 201, answers["booking"].get_json()
    assert answers["toggle"].status_code == 200, answers["toggle"].get_json()
    blocked = fetch_all(db.select(BlockedSlot).filter_by(doctor_id=doctor.id))
    assert [row.start_time.strftime("%H:%M") for row in blocked] == ["10:00"]


def _booking(doctor_id: int, start: str) -> dict[str, str | int]:
    return {"doctor_id": doctor_id, "date": DAY_S, "start_time": start, "reason": "shared lock"}
