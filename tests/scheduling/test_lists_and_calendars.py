"""Lists, dashboards, ownership and calendars of appointments."""

from __future__ import annotations

from datetime import date, time

from icalendar import Calendar

from tests.conftest import bearer
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.scheduling.helpers import DAY_S, NOW, book, doctor_with_day


def test_patient_lists_own_appointments_upcoming_and_past(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    AppointmentFactory(patient=patient, doctor=doctor, date=date(2026, 11, 2), status="completed")
    upcoming = book(client, bearer(patient.user), doctor.id).get_json()
    AppointmentFactory(date=date(2026, 11, 26))  # someone else's
    headers = bearer(patient.user)
    everything = client.get("/api/patient/appointments", headers=headers).get_json()
    assert everything["total"] == 2 and everything["page"] == 1
    assert [
        a["id"] for a in client.get("/api/patient/appointments?upcoming=true", headers=headers).get_json()["items"]
    ] == [upcoming["id"]]
    past = client.get("/api/patient/appointments?upcoming=false", headers=headers).get_json()["items"]
    assert [a["status"] for a in past] == ["completed"]
    assert client.get("/api/patient/appointments?status=nope", headers=headers).status_code == 422
    assert client.get(f"/api/patient/appointments/{upcoming['id']}", headers=headers).get_json()["id"] == upcoming["id"]


def test_doctor_and_admin_lists_filter(client, frozen_clock):
    frozen_clock(NOW)
    doctor, other = DoctorFactory(), DoctorFactory()
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 25))
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 26), status="cancelled")
    AppointmentFactory(doctor=other, date=date(2026, 11, 25))
    mine = client.get("/api/doctor/appointments?date=2026-11-25", headers=bearer(doctor.user)).get_json()
    assert mine["total"] == 1 and mine["items"][0]["doctor_id"] == doctor.id
    admin = bearer(AdminFactory())
    assert client.get("/api/admin/appointments", headers=admin).get_json()["total"] == 3
    assert client.get("/api/admin/appointments?status=cancelled", headers=admin).get_json()["total"] == 1
    by_department = client.get(f"/api/admin/appointments?department_id={other.department_id}", headers=admin)
    assert by_department.get_json()["total"] == 1
    ranged = client.get("/api/admin/appointments?date_from=2026-11-26&date_to=2026-11-30", headers=admin).get_json()
    assert ranged["total"] == 1
    history = client.get(f"/api/admin/doctors/{doctor.id}/appointments", headers=admin).get_json()
    assert history["total"] == 2
    assert client.get("/api/admin/appointments", headers=bearer(doctor.user)).status_code == 403


def test_dashboards_count_with_aggregates(client, frozen_clock):
    frozen_clock("2026-11-25 08:00")
    doctor = DoctorFactory()
    patient = PatientFactory()
    AppointmentFactory(
        doctor=doctor, patient=patient, date=date(2026, 11, 25), start_time=time(9), end_time=time(9, 30)
    )
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 27))
    AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 3), status="completed")
    AppointmentFactory(doctor=doctor, date=date(2026, 10, 3), status="no_show")
    dashboard = client.get("/api/doctor/dashboard", headers=bearer(doctor.user)).get_json()
    # "upcoming" is the phase of rules.py (booked, not ended) within 7 days: today's 09:00 visit is in it too
    assert len(dashboard["today"]) == 1 and len(dashboard["upcoming"]) == 2
    assert dashboard["counts"] == {"today": 1, "upcoming": 2, "completed_this_month": 1, "patients": 3}
    months = {m["month"]: m for m in dashboard["monthly"]}
    assert len(months) == 6 and months["2026-11"]["completed"] == 1 and months["2026-10"]["no_show"] == 1
    mine = client.get("/api/patient/dashboard", headers=bearer(patient.user)).get_json()
    assert mine["counts"] == {"upcoming": 1, "completed": 1}
    assert {m["month"]: m["count"] for m in mine["visits_per_month"]}["2026-11"] == 1


def test_ownership_matrix_for_appointments(client, frozen_clock):
    frozen_clock(NOW)
    doctor, stranger_doctor = doctor_with_day(), DoctorFactory()
    owner, stranger = PatientFactory(), PatientFactory()
    appointment = book(client, bearer(owner.user), doctor.id).get_json()
    url = f"/api/patient/appointments/{appointment['id']}"
    them = bearer(stranger.user)
    assert client.get(url, headers=them).status_code == 404
    assert client.put(url, json={"date": DAY_S, "start_time": "10:00"}, headers=them).status_code == 404
    assert client.post(f"{url}/cancel", json={}, headers=them).status_code == 404
    assert client.get(f"{url}/ics", headers=them).status_code == 404
    other = bearer(stranger_doctor.user)
    for action in ("complete", "no-show", "cancel"):
        response = client.post(f"/api/doctor/appointments/{appointment['id']}/{action}", json={}, headers=other)
        assert response.status_code == 404, action
    assert client.get(f"/api/doctor/appointments/{appointment['id']}/treatment", headers=other).status_code == 404
    assert (
        client.put(
            f"/api/doctor/appointments/{appointment['id']}/treatment", json={"diagnosis": "x"}, headers=other
        ).status_code
        == 404
    )
    assert client.get(f"/api/doctor/patients/{owner.id}/history", headers=other).status_code == 404
    assert client.get(url, headers=bearer(owner.user)).status_code == 200


def test_patient_downloads_an_ics_of_own_appointment(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    appointment = book(client, bearer(patient.user), doctor.id, start="09:30").get_json()
    response = client.get(f"/api/patient/appointments/{appointment['id']}/ics", headers=bearer(patient.user))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = next(c for c in Calendar.from_ical(response.data).walk("VEVENT"))
    start = event.decoded("dtstart")
    assert start.isoformat() == "2026-11-25T04:00:00+00:00"  # 09:30 in Kolkata
    assert doctor.full_name in str(event.get("summary"))


def test_doctor_calendar_feed_can_be_issued_rotated_and_revoked(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory(full_name="Meera Iyer")
    book(client, bearer(patient.user), doctor.id, reason="Follow-up")
    headers = bearer(doctor.user)
    assert client.get("/api/doctor/calendar", headers=headers).get_json() == {"url": None}
    first = client.post("/api/doctor/calendar", headers=headers).get_json()["url"]
    path = first.split("://", 1)[1].split("/", 1)[1]
    feed = client.get(f"/{path}")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    summaries = [str(e.get("summary")) for e in Calendar.from_ical(feed.data).walk("VEVENT")]
    assert summaries == ["Appointment"]  # neutral by default (HMS_CALENDAR_FEED_DETAILS shows more)
    second = client.post("/api/doctor/calendar", headers=headers).get_json()["url"]
    assert second != first and client.get(f"/{path}").status_code == 404
    assert client.delete("/api/doctor/calendar", headers=headers).get_json() == {"url": None}
    assert client.get("/" + second.split("://", 1)[1].split("/", 1)[1]).status_code == 404
    assert client.get("/api/calendar/unknown.ics").status_code == 404


def test_treatment_factory_marks_has_treatment(client, frozen_clock):
    frozen_clock(NOW)
    treatment = TreatmentFactory()
    patient = treatment.appointment.patient
    items = client.get("/api/patient/appointments", headers=bearer(patient.user)).get_json()["items"]
    assert items[0]["has_treatment"] is True


def test_the_doctor_feed_holds_the_last_30_and_next_90_days_of_visits_that_take_place(client, frozen_clock):
    """The feed a doctor subscribes to: visits from today - 30 to today + 90 (both ends included) that are booked or
    completed; a cancelled visit, and visits just outside the window, are not in the doctor's calendar."""
    from datetime import timedelta

    frozen_clock("2026-11-24 10:00")
    today = date(2026, 11, 24)
    doctor = DoctorFactory()
    for offset, status in [(-31, "completed"), (-30, "completed"), (5, "cancelled"), (90, "booked"), (91, "booked")]:
        AppointmentFactory(doctor=doctor, date=today + timedelta(days=offset), status=status)
    url = client.post("/api/doctor/calendar", headers=bearer(doctor.user)).get_json()["url"]
    feed = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    days = sorted(e.decoded("dtstart").date() for e in Calendar.from_ical(feed.data).walk("VEVENT"))
    assert days == [today - timedelta(days=30), today + timedelta(days=90)]
