"""The rules of hms/scheduling/rules.py as users meet them: phases in every list and dashboard, the exact start
minute, exactly today + horizon, the neighbour slots of a booking, and the horizon of each role."""

from __future__ import annotations

from datetime import date, time

from icalendar import Calendar
from sqlalchemy import select

from hms.models import Appointment, Notification, User
from tests.conftest import bearer, fetch, fetch_all, fresh
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, error_code, slots


def _ids(client, headers, scope: str) -> list[int]:
    response = client.get(f"/api/patient/appointments?scope={scope}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [a["id"] for a in response.get_json()["items"]]


# ---- phases ----------------------------------------------------------------------------------------------------


def test_a_visit_is_upcoming_until_it_ends_and_in_progress_while_it_runs(client, frozen_clock):
    patient = PatientFactory()
    visit = AppointmentFactory(patient=patient, date=DAY, start_time=time(15, 10), end_time=time(15, 40))
    headers = bearer(patient.user)
    expectations = [
        ("2026-11-25 15:09", "upcoming", False, False),
        ("2026-11-25 15:10", "upcoming", True, True),  # the exact start minute: started, in progress
        ("2026-11-25 15:39", "upcoming", True, True),
        ("2026-11-25 15:40", "past", False, True),  # the exact end minute: over
    ]
    for moment, phase, in_progress, started in expectations:
        frozen_clock(moment)
        body = client.get(f"/api/patient/appointments/{visit.id}", headers=headers).get_json()
        assert (body["phase"], body["in_progress"], body["has_started"]) == (phase, in_progress, started), moment
        assert _ids(client, headers, phase) == [visit.id], moment
        other = "past" if phase == "upcoming" else "upcoming"
        assert _ids(client, headers, other) == [], moment
        dashboard = client.get("/api/patient/dashboard", headers=headers).get_json()
        assert [a["id"] for a in dashboard["upcoming"]] == ([visit.id] if phase == "upcoming" else []), moment
        assert dashboard["counts"]["upcoming"] == (1 if phase == "upcoming" else 0), moment


def test_cancelled_and_moved_visits_are_only_in_the_cancelled_tab(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    headers = bearer(patient.user)
    original = book(client, headers, doctor.id).get_json()
    moved_to = client.put(
        f"/api/patient/appointments/{original['id']}", json={"date": DAY_S, "start_time": "10:00"}, headers=headers
    ).get_json()
    cancelled = AppointmentFactory(patient=patient, date=date(2026, 11, 26), status="cancelled")
    completed = AppointmentFactory(patient=patient, date=date(2026, 11, 20), status="completed")
    no_show = AppointmentFactory(patient=patient, date=date(2026, 11, 21), status="no_show")

    assert _ids(client, headers, "upcoming") == [moved_to["id"]]
    assert _ids(client, headers, "past") == [no_show.id, completed.id]
    assert sorted(_ids(client, headers, "cancelled")) == sorted([original["id"], cancelled.id])
    shown = client.get(f"/api/patient/appointments/{original['id']}", headers=headers).get_json()
    assert (shown["phase"], shown["moved"]) == ("cancelled", True)
    plain = client.get(f"/api/patient/appointments/{cancelled.id}", headers=headers).get_json()
    assert (plain["phase"], plain["moved"]) == ("cancelled", False)


def test_the_upcoming_list_leaves_out_todays_visits_that_have_ended(client, frozen_clock):
    frozen_clock("2026-11-25 12:00")
    patient = PatientFactory()
    AppointmentFactory(patient=patient, date=DAY, start_time=time(9), end_time=time(9, 30))
    later = AppointmentFactory(patient=patient, date=DAY, start_time=time(14), end_time=time(14, 30))
    assert _ids(client, bearer(patient.user), "upcoming") == [later.id]


def test_doctor_and_admin_dashboards_count_the_same_upcoming_visits_as_the_lists(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    doctor = DoctorFactory()
    running = AppointmentFactory(doctor=doctor, date=DAY, start_time=time(9), end_time=time(9, 30))
    AppointmentFactory(doctor=doctor, date=DAY, start_time=time(8), end_time=time(8, 30))  # ended
    tomorrow = AppointmentFactory(doctor=doctor, date=date(2026, 11, 26))
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 27), status="cancelled")
    dashboard = client.get("/api/doctor/dashboard", headers=bearer(doctor.user)).get_json()
    assert [a["id"] for a in dashboard["upcoming"]] == [running.id, tomorrow.id]
    assert dashboard["counts"]["upcoming"] == 2
    assert next(a for a in dashboard["today"] if a["id"] == running.id)["in_progress"] is True
    stats = client.get("/api/admin/stats", headers=bearer(AdminFactory())).get_json()
    assert stats["appointments_upcoming"] == 2


def test_the_doctors_patient_list_gives_the_next_visit_by_the_same_rule(client, frozen_clock):
    frozen_clock("2026-11-25 12:00")
    doctor = DoctorFactory()
    patient = PatientFactory()
    AppointmentFactory(doctor=doctor, patient=patient, date=DAY, start_time=time(9), end_time=time(9, 30))
    items = client.get("/api/doctor/patients", headers=bearer(doctor.user)).get_json()["items"]
    assert [(item["id"], item["next_visit"]) for item in items] == [(patient.id, None)]  # this morning's has ended


def test_settings_give_the_hospital_zone_today_and_each_roles_horizon(client, frozen_clock):
    frozen_clock("2026-11-24T19:00:00+00:00")  # 00:30 on the 25th in Kolkata
    body = client.get("/api/settings").get_json()
    assert body["timezone"] == "Asia/Kolkata"
    assert body["today"] == "2026-11-25" and body["now"].startswith("2026-11-25T00:30:00+05:30")
    assert body["booking_horizon_days"] == {"patient": 7, "admin": 90}
    assert body["slot_minutes_default"] == 30  # what the doctor's grid starts from


# ---- boundaries of booking -------------------------------------------------------------------------------------


def test_booking_at_the_exact_start_minute_is_refused_and_a_minute_before_is_fine(client, frozen_clock):
    doctor = doctor_with_day()
    frozen_clock("2026-11-25 09:30")
    late = book(client, bearer(PatientFactory().user), doctor.id, start="09:30")
    assert (late.status_code, error_code(late)) == (409, "slot_in_past")
    frozen_clock("2026-11-25 09:29")
    assert book(client, bearer(PatientFactory().user), doctor.id, start="09:30").status_code == 201


def test_exactly_today_plus_the_horizon_is_bookable_and_the_day_after_is_not(client, frozen_clock):
    frozen_clock(NOW)  # 24 Nov; horizon 7 days
    doctor = DoctorFactory()
    for day in (date(2026, 12, 1), date(2026, 12, 2)):
        AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=time(9), end_time=time(10))
    assert slots(client, doctor.id, "2026-12-01")["09:00"] is True
    assert slots(client, doctor.id, "2026-12-02")["09:00"] is False
    assert book(client, bearer(PatientFactory().user), doctor.id, day="2026-12-01").status_code == 201
    beyond = book(client, bearer(PatientFactory().user), doctor.id, day="2026-12-02")
    assert (beyond.status_code, error_code(beyond)) == (422, "beyond_horizon")


def test_the_slots_just_before_and_just_after_a_booking_stay_bookable(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()  # 09:00-11:00, 30-minute slots
    assert book(client, bearer(PatientFactory().user), doctor.id, start="09:30").status_code == 201
    assert slots(client, doctor.id) == {"09:00": True, "09:30": False, "10:00": True, "10:30": True}
    assert book(client, bearer(PatientFactory().user), doctor.id, start="09:00").status_code == 201
    assert book(client, bearer(PatientFactory().user), doctor.id, start="10:00").status_code == 201


# ---- reschedule ------------------------------------------------------------------------------------------------


def test_a_completed_cancelled_or_no_show_visit_cannot_be_rescheduled(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    for status in ("completed", "cancelled", "no_show"):
        visit = AppointmentFactory(doctor=doctor, patient=patient, date=DAY, status=status)
        response = client.put(
            f"/api/patient/appointments/{visit.id}",
            json={"date": DAY_S, "start_time": "10:30"},
            headers=bearer(patient.user),
        )
        assert (response.status_code, error_code(response)) == (409, "invalid_transition"), status
        assert fetch(Appointment, visit.id).status == status
    assert slots(client, doctor.id)["10:30"] is True


def test_a_started_visit_cannot_be_rescheduled_from_its_start_minute(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    visit = book(client, bearer(patient.user), doctor.id, start="09:00").get_json()
    frozen_clock("2026-11-25 09:00")
    for portal, headers in (("patient", bearer(patient.user)), ("admin", bearer(AdminFactory()))):
        url = f"/api/{portal}/appointments/{visit['id']}"
        response = client.put(url, json={"date": DAY_S, "start_time": "10:30"}, headers=headers)
        assert (response.status_code, error_code(response)) == (409, "already_started")
    assert fetch(Appointment, visit["id"]).start_time == time(9)


def test_a_patients_reschedule_keeps_the_patient_horizon_while_an_admin_may_go_further(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 12, 2), start_time=time(9), end_time=time(10))
    patient = PatientFactory()
    visit = book(client, bearer(patient.user), doctor.id).get_json()
    far = {"date": "2026-12-02", "start_time": "09:00"}
    refused = client.put(f"/api/patient/appointments/{visit['id']}", json=far, headers=bearer(patient.user))
    assert (refused.status_code, error_code(refused)) == (422, "beyond_horizon")
    moved = client.put(f"/api/admin/appointments/{visit['id']}", json=far, headers=bearer(AdminFactory()))
    assert moved.status_code == 200 and moved.get_json()["date"] == "2026-12-02"


# ---- cancel, waitlist --------------------------------------------------------------------------------------------


def test_an_admins_cancellation_tells_the_patient_and_the_doctor(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    visit = book(client, bearer(patient.user), doctor.id).get_json()
    response = client.post(
        f"/api/admin/appointments/{visit['id']}/cancel",
        json={"reason": "Doctor on leave"},
        headers=bearer(AdminFactory()),
    )
    assert response.status_code == 200
    told = fetch_all(select(Notification).where(Notification.kind == "appointment_cancelled"))
    assert {row.user_id for row in told} == {patient.user_id, doctor.user_id}


def test_a_patient_who_left_the_waitlist_may_join_again_and_is_told_once(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(start=time(9), end=time(9, 30))
    holder, waiting = PatientFactory(), PatientFactory()
    visit = book(client, bearer(holder.user), doctor.id).get_json()
    headers = bearer(waiting.user)
    join = {"doctor_id": doctor.id, "date": DAY_S}
    first = client.post("/api/patient/waitlist", json=join, headers=headers).get_json()
    assert client.delete(f"/api/patient/waitlist/{first['id']}", headers=headers).status_code == 204
    again = client.post("/api/patient/waitlist", json=join, headers=headers)
    assert again.status_code == 201
    client.post(f"/api/patient/appointments/{visit['id']}/cancel", json={}, headers=bearer(holder.user))
    assert book(client, bearer(holder.user), doctor.id).status_code == 201  # the slot is taken again
    second = book(client, bearer(PatientFactory().user), doctor.id)
    assert second.status_code == 409
    with fresh() as session:
        rows = session.query(Notification).filter_by(kind="waitlist_slot_open").all()
        assert [row.user_id for row in rows] == [waiting.user_id]  # the left entry was not told, the new one once
        assert rows[0].payload["waitlist_entry_id"] == again.get_json()["id"]


# ---- availability ------------------------------------------------------------------------------------------------


def test_todays_availability_can_be_edited_but_not_yesterdays(client, frozen_clock):
    frozen_clock("2026-11-25 08:00")
    doctor = DoctorFactory()
    headers = bearer(doctor.user)
    today = {"days": [{"date": "2026-11-25", "windows": [{"start": "14:00", "end": "15:00"}]}]}
    assert client.put("/api/doctor/availability", json=today, headers=headers).status_code == 200
    assert slots(client, doctor.id, "2026-11-25") == {"14:00": True, "14:30": True}
    yesterday = {"days": [{"date": "2026-11-24", "windows": [{"start": "14:00", "end": "15:00"}]}]}
    assert client.put("/api/doctor/availability", json=yesterday, headers=headers).status_code == 422


def test_a_weekly_template_never_rewrites_past_days(client, frozen_clock):
    frozen_clock("2026-11-25 08:00")  # a Wednesday
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 23), start_time=time(9), end_time=time(10))
    response = client.post(
        "/api/doctor/availability/template",
        json={
            "weekdays": [0, 1, 2, 3, 4],
            "windows": [{"start": "14:00", "end": "15:00"}],
            "date_from": "2026-11-23",
            "date_to": "2026-11-26",
        },
        headers=bearer(doctor.user),
    )
    assert response.status_code == 200, response.get_json()
    grid = client.get("/api/doctor/availability?date_from=2026-11-23&days=4", headers=bearer(doctor.user)).get_json()
    windows = {day["date"]: [(w["start"], w["end"]) for w in day["windows"]] for day in grid["days"]}
    assert windows["2026-11-23"] == [("09:00", "10:00")]  # Monday is past: kept as it was
    assert windows["2026-11-24"] == []
    assert windows["2026-11-25"] == [("14:00", "15:00")] and windows["2026-11-26"] == [("14:00", "15:00")]


def test_a_slot_cannot_be_blocked_from_its_start_minute(client, frozen_clock):
    doctor = doctor_with_day()
    headers = bearer(doctor.user)
    frozen_clock("2026-11-25 09:29")
    assert (
        client.post(
            "/api/doctor/availability/toggle", json={"date": DAY_S, "start": "09:30"}, headers=headers
        ).get_json()["blocked"]
        is True
    )
    frozen_clock("2026-11-25 09:30")
    late = client.post("/api/doctor/availability/toggle", json={"date": DAY_S, "start": "09:30"}, headers=headers)
    assert (late.status_code, error_code(late)) == (409, "slot_in_past")


def test_the_calendar_feed_leaves_out_cancelled_visits(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory()
    kept = AppointmentFactory(doctor=doctor, date=DAY)
    AppointmentFactory(doctor=doctor, date=DAY, start_time=time(10), end_time=time(10, 30), status="cancelled")
    url = client.post("/api/doctor/calendar", headers=bearer(doctor.user)).get_json()["url"]
    feed = client.get(url[url.index("/api/") :])
    assert feed.status_code == 200
    uids = [str(event["uid"]) for event in Calendar.from_ical(feed.data).walk("VEVENT")]
    assert uids == [f"appointment-{kept.id}@hms"]


# ---- accounts ------------------------------------------------------------------------------------------------------


def test_a_token_stops_working_once_its_user_is_inactive_even_without_a_new_cut_off(client):
    patient = PatientFactory()
    headers = bearer(patient.user)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    with fresh() as session:
        session.get(User, patient.user_id).is_active = False  # no tokens_valid_after: only the flag changes
        session.commit()
    assert client.get("/api/auth/me", headers=headers).status_code == 401
