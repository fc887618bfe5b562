"""Follow-ups and recurring series: the proposal's link, the doctor's direct booking under the same rules, and a
series booked all or nothing, also when another booking races it for one of its slots."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, time, timedelta

from sqlalchemy import select

from hms.models import Appointment, AuditEvent, Treatment
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.scheduling.helpers import NOW, notifications

MONDAY = date(2026, 11, 30)


def _weekly_doctor(weeks: int = 6):
    doctor = DoctorFactory()
    for n in range(weeks):
        AvailabilityFactory(
            doctor_id=doctor.id, date=MONDAY + timedelta(days=7 * n), start_time=time(9, 0), end_time=time(10, 0)
        )
    return doctor


def _series(client, admin, patient_id, doctor_id, count=6, start="09:00"):
    return client.post(
        "/api/admin/appointments/series",
        json={
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "first_date": MONDAY.isoformat(),
            "start_time": start,
            "every_days": 7,
            "count": count,
            "reason": "Physiotherapy",
        },
        headers=admin,
    )


def test_a_weekly_series_books_every_occurrence_and_is_audited(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = _weekly_doctor(), PatientFactory()
    response = _series(client, bearer(AdminFactory()), patient.id, doctor.id)
    assert response.status_code == 201, response.get_json()
    assert [a["date"] for a in response.get_json()] == [(MONDAY + timedelta(days=7 * n)).isoformat() for n in range(6)]
    assert len(fetch_all(select(Appointment).where(Appointment.status == "booked"))) == 6
    assert fetch_all(select(AuditEvent.action).where(AuditEvent.action == "appointment.series")) == [
        "appointment.series"
    ]


def test_a_series_with_one_taken_slot_books_nothing(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = _weekly_doctor(), PatientFactory()
    AppointmentFactory(doctor=doctor, date=MONDAY + timedelta(days=21), start_time=time(9, 0), end_time=time(9, 30))
    response = _series(client, bearer(AdminFactory()), patient.id, doctor.id)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "slot_taken")
    assert response.get_json()["error"]["fields"] == {"date": [(MONDAY + timedelta(days=21)).isoformat()]}
    assert fetch_all(select(Appointment).where(Appointment.patient_id == patient.id)) == []


def test_two_series_racing_for_the_same_slots_one_wins_whole_and_the_other_books_nothing(app, frozen_clock):
    frozen_clock(NOW)
    doctor = _weekly_doctor()
    first, second = PatientFactory(), PatientFactory()
    admin = bearer(AdminFactory())
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(index: int, patient_id: int) -> None:
        client = app.test_client()
        barrier.wait()
        results[index] = _series(client, admin, patient_id, doctor.id).status_code

    threads = [threading.Thread(target=worker, args=(i, p.id)) for i, p in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(results) == Counter({201: 1, 409: 1}), results
    booked = fetch_all(select(Appointment).where(Appointment.status == "booked"))
    assert len(booked) == 6 and len({a.patient_id for a in booked}) == 1


def test_a_doctor_proposes_a_follow_up_and_the_patient_gets_a_link_to_the_wizard(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    visit = AppointmentFactory(
        doctor=doctor, date=date(2026, 11, 24), start_time=time(9, 0), end_time=time(9, 30), status="completed"
    )
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 28), start_time=time(9, 0), end_time=time(10, 0))
    response = client.post(
        f"/api/doctor/appointments/{visit.id}/follow-up/proposal", json={"in_days": 3}, headers=bearer(doctor.user)
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["proposed"], body["nearest_free"]) == ("2026-11-27", "2026-11-28")
    assert body["book_url"].endswith(f"/patient/book?doctor_id={doctor.id}&date=2026-11-28")
    sent = notifications("follow_up_proposed", visit.patient.user.id)
    assert sent and sent[0].payload["book_url"] == body["book_url"]
    assert fetch_all(select(Treatment.follow_up_date)) == [date(2026, 11, 27)]


def test_a_doctor_books_the_follow_up_under_the_same_rules(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    visit = AppointmentFactory(
        doctor=doctor, date=date(2026, 11, 24), start_time=time(9, 0), end_time=time(9, 30), status="completed"
    )
    later = date(2026, 12, 15)  # beyond the patients' 7-day horizon: the doctor plans further
    AvailabilityFactory(doctor_id=doctor.id, date=later, start_time=time(9, 0), end_time=time(10, 0))
    AppointmentFactory(doctor=doctor, date=later, start_time=time(9, 30), end_time=time(10, 0))
    headers = bearer(doctor.user)
    url = f"/api/doctor/appointments/{visit.id}/follow-up"
    taken = client.post(url, json={"date": later.isoformat(), "start_time": "09:30"}, headers=headers)
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "slot_taken")
    booked = client.post(url, json={"date": later.isoformat(), "start_time": "09:00"}, headers=headers)
    assert booked.status_code == 201 and booked.get_json()["patient_id"] == visit.patient_id
    other = client.post(
        url, json={"date": later.isoformat(), "start_time": "09:00"}, headers=bearer(DoctorFactory().user)
    )
    assert other.status_code == 404


def _series_against_a_booking_of_its_fourth_slot(app) -> tuple[dict[str, int], int]:
    """A series and a single booking of its fourth week, released together; (statuses, visits the series holds)."""
    doctor = _weekly_doctor()
    series_patient, rival = PatientFactory(), PatientFactory()
    admin = bearer(AdminFactory())
    fourth = MONDAY + timedelta(days=21)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def run_series() -> None:
        client = app.test_client()
        barrier.wait()
        results["series"] = _series(client, admin, series_patient.id, doctor.id).status_code

    def run_single() -> None:
        client = app.test_client()
        barrier.wait()
        body = {"patient_id": rival.id, "doctor_id": doctor.id, "date": fourth.isoformat(), "start_time": "09:00"}
        results["single"] = client.post("/api/admin/appointments", json=body, headers=admin).status_code

    threads = [threading.Thread(target=run_series), threading.Thread(target=run_single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, len(fetch_all(select(Appointment).where(Appointment.patient_id == series_patient.id)))


def test_a_booking_racing_a_series_for_its_fourth_slot_never_leaves_part_of_the_series(app, frozen_clock):
    frozen_clock(NOW)
    for _round in range(3):
        results, held = _series_against_a_booking_of_its_fourth_slot(app)
        # whichever wins, the series is whole or absent: never the weeks before the lost slot
        if results["series"] == 201:
            assert (held, results["single"]) == (6, 409), results
        else:
            assert (held, results["single"]) == (0, 201), results
