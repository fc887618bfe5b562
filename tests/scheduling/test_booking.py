"""Booking, reschedule, cancel and status rules of SPEC §4, through the API."""

from __future__ import annotations

from datetime import date, time

from hms.extensions import db
from hms.models import Appointment, BlockedSlot, User
from tests.conftest import bearer, fetch, fetch_value, fresh, save
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, error_code, notifications, slots


def test_booking_a_free_slot_returns_the_appointment_and_queues_a_confirmation(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    response = book(client, bearer(patient.user), doctor.id, start="09:30", reason="Chest pain")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["date"] == DAY_S and body["start_time"] == "09:30" and body["end_time"] == "10:00"
    assert body["status"] == "booked" and body["reason"] == "Chest pain"
    assert body["doctor_name"] == doctor.display_name and body["patient_name"] == patient.full_name
    assert body["department_name"] == doctor.department.name and body["has_treatment"] is False
    assert [n.appointment_id for n in notifications("booking_confirmed", patient.user_id)] == [body["id"]]


def test_a_slot_that_has_started_cannot_be_booked(client, frozen_clock):
    frozen_clock("2026-11-25 09:31")
    doctor = doctor_with_day()
    response = book(client, bearer(PatientFactory().user), doctor.id, start="09:30")
    assert response.status_code == 409
    assert error_code(response) == "slot_in_past"


def test_a_date_beyond_the_horizon_is_refused(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(day=date(2026, 11, 30))  # today + 6 is fine, today + 8 is not
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 12, 2), start_time=time(9), end_time=time(10))
    response = book(client, bearer(PatientFactory().user), doctor.id, day="2026-12-02")
    assert response.status_code == 422
    assert error_code(response) == "beyond_horizon"
    assert book(client, bearer(PatientFactory().user), doctor.id, day="2026-11-30").status_code == 201


def test_a_time_outside_the_windows_or_off_the_grid_or_blocked_is_unavailable(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    save(BlockedSlot(doctor_id=doctor.id, date=DAY, start_time=time(10, 0)))
    headers = bearer(PatientFactory().user)
    for start in ("08:30", "09:15", "10:00", "11:00"):
        response = book(client, headers, doctor.id, start=start)
        assert (response.status_code, error_code(response)) == (409, "slot_unavailable"), start


def test_a_taken_slot_is_409_slot_taken(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    assert book(client, bearer(PatientFactory().user), doctor.id).status_code == 201
    response = book(client, bearer(PatientFactory().user), doctor.id)
    assert (response.status_code, error_code(response)) == (409, "slot_taken")


def test_a_patient_cannot_hold_overlapping_appointments_with_two_doctors(client, frozen_clock):
    frozen_clock(NOW)
    first, second = doctor_with_day(), doctor_with_day()
    headers = bearer(PatientFactory().user)
    assert book(client, headers, first.id).status_code == 201
    response = book(client, headers, second.id)
    assert (response.status_code, error_code(response)) == (409, "patient_busy")
    assert book(client, headers, second.id, start="09:30").status_code == 201


def test_a_patient_cannot_book_the_same_doctor_twice_on_one_day(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(PatientFactory().user)
    assert book(client, headers, doctor.id).status_code == 201
    response = book(client, headers, doctor.id, start="10:00")
    assert (response.status_code, error_code(response)) == (409, "already_booked_with_doctor")


def test_a_booking_follows_the_doctors_own_slot_length(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(slot_minutes=20)
    response = book(client, bearer(PatientFactory().user), doctor.id, start="09:20")
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["start_time"], response.get_json()["end_time"]) == ("09:20", "09:40")
    off_grid = book(client, bearer(PatientFactory().user), doctor.id, start="09:30")
    assert (off_grid.status_code, error_code(off_grid)) == (409, "slot_unavailable")


def test_a_blocked_doctor_cannot_be_booked_and_an_unknown_one_is_404(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    with fresh() as session:
        session.get(User, doctor.user_id).is_active = False
        session.commit()
    headers = bearer(PatientFactory().user)
    response = book(client, headers, doctor.id)
    assert (response.status_code, error_code(response)) == (409, "doctor_unavailable")
    assert book(client, headers, 99999).status_code == 404


def test_bad_booking_bodies_are_422_or_400_never_500(client, frozen_clock):
    frozen_clock(NOW)
    headers = bearer(PatientFactory().user)
    cases = [
        {"doctor_id": "x", "date": DAY_S, "start_time": "09:00"},
        {"doctor_id": 1, "date": "tomorrow", "start_time": "09:00"},
        {"doctor_id": 1, "date": DAY_S, "start_time": "9 am"},
        {"doctor_id": 1, "date": DAY_S, "start_time": "09:00", "surprise": True},
        {"date": DAY_S},
    ]
    for body in cases:
        response = client.post("/api/patient/appointments", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["fields"]
    malformed = client.post(
        "/api/patient/appointments", data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code in (400, 422)
    assert "error" in malformed.get_json()


def test_only_patients_book(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    assert book(client, {}, doctor.id).status_code == 401
    assert book(client, bearer(doctor.user), doctor.id).status_code == 403
    assert book(client, bearer(AdminFactory()), doctor.id).status_code == 403


# ---- reschedule ---------------------------------------------------------------------------------------------


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    headers = bearer(patient.user)
    old = book(client, headers, doctor.id).get_json()
    response = client.put(
        f"/api/patient/appointments/{old['id']}", json={"date": DAY_S, "start_time": "10:30"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    new = response.get_json()
    assert new["start_time"] == "10:30" and new["rescheduled_from"] == old["id"] and new["reason"] == old["reason"]
    previous = fetch(Appointment, old["id"])
    assert (previous.status, previous.cancelled_by, previous.cancel_reason) == ("cancelled", "patient", "Rescheduled")
    assert slots(client, doctor.id)["09:00"] is True and slots(client, doctor.id)["10:30"] is False
    assert len(notifications("appointment_rescheduled", patient.user_id)) == 1


def test_a_failed_reschedule_keeps_the_old_appointment_untouched(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(PatientFactory().user)
    old = book(client, headers, doctor.id).get_json()
    assert book(client, bearer(PatientFactory().user), doctor.id, start="10:00").status_code == 201
    for target, code in (("10:00", "slot_taken"), ("12:00", "slot_unavailable")):
        response = client.put(
            f"/api/patient/appointments/{old['id']}", json={"date": DAY_S, "start_time": target}, headers=headers
        )
        assert (response.status_code, error_code(response)) == (409, code)
        kept = fetch(Appointment, old["id"])
        assert (kept.status, kept.cancelled_by, kept.cancel_reason) == ("booked", None, None)
    assert slots(client, doctor.id)["09:00"] is False


def test_admin_reschedules_any_appointment_and_it_is_audited(client, frozen_clock):
    from hms.models import AuditEvent

    frozen_clock(NOW)
    doctor = doctor_with_day()
    old = book(client, bearer(PatientFactory().user), doctor.id).get_json()
    response = client.put(
        f"/api/admin/appointments/{old['id']}",
        json={"date": DAY_S, "start_time": "09:30"},
        headers=bearer(AdminFactory()),
    )
    assert response.status_code == 200
    assert fetch(Appointment, old["id"]).cancelled_by == "admin"
    assert fetch_value(db.select(AuditEvent).filter_by(action="appointment.reschedule"))


# ---- cancel -------------------------------------------------------------------------------------------------


def test_a_patient_cancels_before_the_start_and_the_slot_frees_at_once(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    headers = bearer(patient.user)
    appointment = book(client, headers, doctor.id).get_json()
    assert slots(client, doctor.id)["09:00"] is False
    response = client.post(
        f"/api/patient/appointments/{appointment['id']}/cancel", json={"reason": "Better"}, headers=headers
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["cancelled_by"], body["cancel_reason"]) == ("cancelled", "patient", "Better")
    stored = fetch(Appointment, appointment["id"])
    assert stored.cancelled_by_user_id == patient.user_id and stored.cancelled_at is not None
    assert slots(client, doctor.id)["09:00"] is True
    assert len(notifications("appointment_cancelled", patient.user_id)) == 1
    assert len(notifications("appointment_cancelled", doctor.user_id)) == 1
    again = client.post(f"/api/patient/appointments/{appointment['id']}/cancel", json={}, headers=headers)
    assert (again.status_code, error_code(again)) == (409, "invalid_transition")


def test_a_patient_cannot_cancel_after_the_start_but_the_doctor_can(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(PatientFactory().user)
    appointment = book(client, headers, doctor.id).get_json()
    frozen_clock("2026-11-25 09:05")
    late = client.post(f"/api/patient/appointments/{appointment['id']}/cancel", json={}, headers=headers)
    assert (late.status_code, error_code(late)) == (409, "already_started")
    by_doctor = client.post(
        f"/api/doctor/appointments/{appointment['id']}/cancel", json={}, headers=bearer(doctor.user)
    )
    assert by_doctor.status_code == 200 and by_doctor.get_json()["cancelled_by"] == "doctor"


def test_admin_cancel_needs_a_reason(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    appointment = book(client, bearer(PatientFactory().user), doctor.id).get_json()
    admin = bearer(AdminFactory())
    url = f"/api/admin/appointments/{appointment['id']}/cancel"
    assert client.post(url, json={}, headers=admin).status_code == 422
    response = client.post(url, json={"reason": "Doctor on leave"}, headers=admin)
    assert response.status_code == 200 and response.get_json()["cancelled_by"] == "admin"


def test_cancelling_notifies_the_first_three_waiting_patients(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day(start=time(9), end=time(9, 30))
    holder = PatientFactory()
    appointment = book(client, bearer(holder.user), doctor.id).get_json()
    waiting = [PatientFactory() for _ in range(4)]
    for patient in waiting:
        response = client.post(
            "/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=bearer(patient.user)
        )
        assert response.status_code == 201, response.get_json()
    assert notifications("waitlist_slot_open") == []
    client.post(f"/api/patient/appointments/{appointment['id']}/cancel", json={}, headers=bearer(holder.user))
    told = {n.user_id for n in notifications("waitlist_slot_open")}
    assert told == {p.user_id for p in waiting[:3]}
    listed = client.get("/api/patient/waitlist", headers=bearer(waiting[0].user)).get_json()["items"]
    assert listed[0]["status"] == "notified" and listed[0]["doctor_name"] == doctor.display_name
    assert (
        client.get("/api/patient/waitlist", headers=bearer(waiting[3].user)).get_json()["items"][0]["status"]
        == "waiting"
    )


def test_waitlist_refuses_duplicates_and_far_dates_and_can_be_left(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient, other = PatientFactory(), PatientFactory()
    headers = bearer(patient.user)
    entry = client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=headers)
    assert entry.status_code == 201
    duplicate = client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=headers)
    assert (duplicate.status_code, error_code(duplicate)) == (409, "already_waiting")
    far = client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": "2027-01-10"}, headers=headers)
    assert far.status_code == 422
    entry_id = entry.get_json()["id"]
    assert client.delete(f"/api/patient/waitlist/{entry_id}", headers=bearer(other.user)).status_code == 404
    assert client.delete(f"/api/patient/waitlist/{entry_id}", headers=headers).status_code == 204
    assert client.get("/api/patient/waitlist", headers=headers).get_json()["total"] == 0


# ---- status -------------------------------------------------------------------------------------------------


def test_complete_is_refused_before_the_start_and_then_queues_a_visit_summary(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    appointment = book(client, bearer(patient.user), doctor.id).get_json()
    url = f"/api/doctor/appointments/{appointment['id']}/complete"
    early = client.post(url, headers=bearer(doctor.user))
    assert (early.status_code, error_code(early)) == (409, "too_early")
    frozen_clock("2026-11-25 09:10")
    client.put(
        f"/api/doctor/appointments/{appointment['id']}/treatment",
        json={"diagnosis": "Seasonal flu"},
        headers=bearer(doctor.user),
    )
    done = client.post(url, headers=bearer(doctor.user))
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    summary = notifications("visit_summary", patient.user_id)
    assert summary and "Your visit summary is ready in the portal" in summary[0].payload["body"]
    assert "Seasonal flu" not in str(summary[0].payload)  # clinical text stays in the portal
    assert slots(client, doctor.id)["09:00"] is False  # a completed visit still holds its slot


def test_nothing_leaves_a_final_state(client, frozen_clock):
    frozen_clock("2026-11-25 12:00")
    doctor = doctor_with_day()
    headers = bearer(doctor.user)
    for status in ("completed", "cancelled", "no_show"):
        appointment = AppointmentFactory(doctor=doctor, status=status, start_time=time(9), end_time=time(9, 30))
        for action in ("complete", "no-show", "cancel"):
            response = client.post(f"/api/doctor/appointments/{appointment.id}/{action}", json={}, headers=headers)
            assert (response.status_code, error_code(response)) == (409, "invalid_transition"), (status, action)


def test_no_show_after_the_start(client, frozen_clock):
    frozen_clock("2026-11-25 09:40")
    doctor = doctor_with_day()
    appointment = AppointmentFactory(doctor=doctor, start_time=time(9), end_time=time(9, 30))
    response = client.post(f"/api/doctor/appointments/{appointment.id}/no-show", headers=bearer(doctor.user))
    assert response.status_code == 200 and response.get_json()["status"] == "no_show"


def test_the_waitlist_takes_today_and_the_last_day_of_the_horizon_but_not_yesterday_or_the_day_after(
    client, frozen_clock
):
    """Boundaries a patient meets: waiting for a slot today (the doctor works today) and on exactly today + 7 is
    allowed; yesterday and today + 8 are refused with the field to fix."""
    frozen_clock("2026-11-25 08:00")
    doctor = doctor_with_day(day=date(2026, 11, 25))
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 12, 2), start_time=time(9), end_time=time(10))
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 12, 3), start_time=time(9), end_time=time(10))
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 24), start_time=time(9), end_time=time(10))
    headers = bearer(PatientFactory().user)

    def join(day: str):
        return client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": day}, headers=headers)

    assert join("2026-11-25").status_code == 201
    assert join("2026-12-02").status_code == 201
    for refused in ("2026-11-24", "2026-12-03"):
        response = join(refused)
        assert (response.status_code, list(response.get_json()["error"]["fields"])) == (422, ["date"]), refused


def test_the_desk_cannot_book_for_a_patient_who_was_removed_or_never_existed(client, frozen_clock):
    """A patient removed by an admin (kept, archived, because of their history) cannot be booked again at the desk;
    neither can an id no patient has. Both are 404 and leave the slot free."""
    frozen_clock(NOW)
    doctor = doctor_with_day()
    admin = bearer(AdminFactory())
    removed = PatientFactory()
    AppointmentFactory(patient=removed, status="cancelled")  # history: the removal archives instead of deleting
    assert client.delete(f"/api/admin/patients/{removed.id}", headers=admin).get_json()["deactivated"] is True
    for patient_id in (removed.id, removed.id + 1000):
        body = {"patient_id": patient_id, "doctor_id": doctor.id, "date": DAY_S, "start_time": "09:00"}
        response = client.post("/api/admin/appointments", json=body, headers=admin)
        assert (response.status_code, error_code(response)) == (404, "not_found"), patient_id
    assert slots(client, doctor.id)["09:00"] is True


def test_a_patient_may_wait_for_two_doctors_on_the_same_day_but_not_twice_for_one(client, frozen_clock):
    frozen_clock(NOW)
    heart, skin = doctor_with_day(), doctor_with_day()
    headers = bearer(PatientFactory().user)

    def join(doctor):
        return client.post("/api/patient/waitlist", json={"doctor_id": doctor.id, "date": DAY_S}, headers=headers)

    assert join(heart).status_code == 201
    assert join(skin).status_code == 201  # another doctor's day is another wait
    again = join(heart)
    assert (again.status_code, error_code(again)) == (409, "already_waiting")
    waiting = client.get("/api/patient/waitlist", headers=headers).get_json()["items"]
    assert sorted(entry["doctor_id"] for entry in waiting) == sorted([heart.id, skin.id])
