"""HTTP endpoints of scheduling: public slots, the doctor's availability and appointments, the patient's bookings,
waitlist and calendars, and the admin's appointment management."""

from __future__ import annotations

import hashlib
import json

from flask import Response, current_app, request
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from hms.common.auth import current_doctor, current_patient, optional_patient_id, roles_required
from hms.common.downloads import file_response
from hms.common.pagination import page_of
from hms.scheduling import availability, booking, calendar, queries, rules, slots
from hms.scheduling import waitlist as waitlist_service
from hms.scheduling.schemas import (
    AdminAppointmentArgs,
    AdminAppointmentCreate,
    AdminCancelCreate,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    AvailabilityArgs,
    AvailabilityRead,
    AvailabilityTemplate,
    AvailabilityUpdate,
    CalendarRead,
    CancelCreate,
    DoctorAppointmentArgs,
    DoctorAppointmentsArgs,
    DoctorDashboard,
    PatientAppointmentArgs,
    PatientDashboard,
    SettingsRead,
    SlotsArgs,
    SlotsRead,
    SummaryArgs,
    SummaryRead,
    ToggleCreate,
    ToggleRead,
    WaitlistArgs,
    WaitlistCreate,
    WaitlistRead,
)

blp = Blueprint("scheduling", __name__, url_prefix="/api", description="Availability, slots and appointments")
DOCTOR, PATIENT, ADMIN = "doctor", "patient", "admin"


def _ics(content: bytes, filename: str) -> Response:
    return file_response(content, mimetype="text/calendar", filename=filename)


# ---- public --------------------------------------------------------------------------------------------------


@blp.route("/settings", methods=["GET"])
@blp.response(200, SettingsRead)
def public_settings():
    """The scheduling settings the SPA shows dates and limits with: time zone, today, booking horizon per role."""
    return rules.public_settings()


@blp.route("/doctors/<int:doctor_id>/slots", methods=["GET"])
@blp.arguments(SlotsArgs, location="query")
@blp.response(200, SlotsRead)
def doctor_slots(args, doctor_id: int):
    """A doctor's slots on a date, each marked available or not (and, for a signed-in patient, any conflict).

    Anonymous answers carry an ETag and `Cache-Control: public, max-age=SLOTS_MAX_AGE`: a browser or proxy may
    reuse one for a few seconds and then revalidates it (304 while nothing changed). A booking invalidates the
    server's cached day at once; only that short max-age can show a slot as free that was just taken, and
    booking it then answers 409 slot_taken. Answers to a signed-in patient stay personal (no-store).
    """
    patient_id = optional_patient_id()
    if patient_id is None:
        return _cacheable_json(slots.public_slots(doctor_id=doctor_id, day=args["date"]), SLOTS_MAX_AGE)
    return slots.get_slots(doctor_id=doctor_id, day=args["date"], patient_id=patient_id)


SLOTS_MAX_AGE = 5


def _cacheable_json(body: dict, max_age: int) -> Response:
    """A JSON answer with an ETag and a short public max-age, answered 304 when the client's copy is current."""
    content = json.dumps(body, separators=(",", ":")).encode()
    response = current_app.response_class(content, mimetype="application/json")
    response.set_etag(hashlib.blake2b(content, digest_size=12).hexdigest())
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    # A signed-in request (the SPA adds its token) must not be answered from this anonymous copy.
    response.headers["Vary"] = "Authorization"
    response.make_conditional(request)
    return response


@blp.route("/doctors/<int:doctor_id>/availability-summary", methods=["GET"])
@blp.arguments(SummaryArgs, location="query")
@blp.response(200, SummaryRead)
def availability_summary(args, doctor_id: int):
    """Free-slot counts per day of a range (at most 62 days), for a booking calendar."""
    return slots.availability_summary(doctor_id=doctor_id, date_from=args["date_from"], date_to=args["date_to"])


@blp.route("/calendar/<token>.ics", methods=["GET"])
@blp.doc(security=[], responses={"200": {"description": "iCalendar feed", "content": {"text/calendar": {}}}})
def calendar_feed(token: str):
    """A doctor's private calendar feed (the token is the secret)."""
    return _ics(calendar.doctor_feed(token=token), "appointments.ics")


# ---- doctor --------------------------------------------------------------------------------------------------


@blp.route("/doctor/availability", methods=["GET"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityArgs, location="query")
@blp.response(200, AvailabilityRead)
def get_availability(args):
    """My windows and slots for a range of days (default: 7 days from today)."""
    return availability.availability(doctor_id=current_doctor().id, **args)


@blp.route("/doctor/availability", methods=["PUT"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityUpdate)
@blp.response(200, AvailabilityRead)
def put_availability(data):
    """Set the windows of the given dates; 409 has_appointments unless cancel_booked."""
    return availability.set_availability(doctor_id=current_doctor().id, **data)


@blp.route("/doctor/availability/template", methods=["POST"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityTemplate)
@blp.response(200, AvailabilityRead)
def post_template(data):
    """Apply a weekly template (Mon=0 … Sun=6) to a date range."""
    return availability.apply_template(doctor_id=current_doctor().id, **data)


@blp.route("/doctor/availability/toggle", methods=["POST"])
@roles_required(DOCTOR)
@blp.arguments(ToggleCreate)
@blp.response(200, ToggleRead)
def post_toggle(data):
    """Block or unblock one slot."""
    return availability.toggle_slot(doctor_id=current_doctor().id, day=data["date"], start=data["start"])


@blp.route("/doctor/dashboard", methods=["GET"])
@roles_required(DOCTOR)
@blp.response(200, DoctorDashboard)
def doctor_dashboard():
    """Today, the next 7 days, counts and recent months."""
    return queries.doctor_dashboard(doctor_id=current_doctor().id)


@blp.route("/doctor/appointments", methods=["GET"])
@roles_required(DOCTOR)
@blp.arguments(DoctorAppointmentArgs, location="query")
@blp.response(200, page_of(AppointmentRead))
def doctor_appointments(args):
    """My appointments, filtered by date and status."""
    return queries.list_doctor_appointments(doctor_id=current_doctor().id, **args)


@blp.route("/doctor/appointments/<int:appointment_id>/complete", methods=["POST"])
@roles_required(DOCTOR)
@blp.response(200, AppointmentRead)
def complete(appointment_id: int):
    """Mark my appointment completed (not before its start)."""
    return booking.set_status(doctor=current_doctor(), appointment_id=appointment_id, status="completed")


@blp.route("/doctor/appointments/<int:appointment_id>/no-show", methods=["POST"])
@roles_required(DOCTOR)
@blp.response(200, AppointmentRead)
def no_show(appointment_id: int):
    """Mark my appointment as a no-show (not before its start)."""
    return booking.set_status(doctor=current_doctor(), appointment_id=appointment_id, status="no_show")


@blp.route("/doctor/appointments/<int:appointment_id>/cancel", methods=["POST"])
@roles_required(DOCTOR)
@blp.arguments(CancelCreate)
@blp.response(200, AppointmentRead)
def doctor_cancel(data, appointment_id: int):
    """Cancel one of my appointments; the patient is told."""
    current_doctor()
    return booking.cancel(actor=current_user, appointment_id=appointment_id, reason=data.get("reason"))


@blp.route("/doctor/calendar", methods=["GET"])
@roles_required(DOCTOR)
@blp.response(200, CalendarRead)
def get_calendar():
    """My private calendar feed URL, or null."""
    return calendar.calendar_url(doctor_id=current_doctor().id)


@blp.route("/doctor/calendar", methods=["POST"])
@roles_required(DOCTOR)
@blp.response(200, CalendarRead)
def create_calendar():
    """Issue a new feed URL (the old one stops working)."""
    return calendar.new_calendar_token(doctor_id=current_doctor().id)


@blp.route("/doctor/calendar", methods=["DELETE"])
@roles_required(DOCTOR)
@blp.response(200, CalendarRead)
def revoke_calendar():
    """Revoke the feed URL."""
    return calendar.revoke_calendar_token(doctor_id=current_doctor().id)


# ---- patient -------------------------------------------------------------------------------------------------


@blp.route("/patient/dashboard", methods=["GET"])
@roles_required(PATIENT)
@blp.response(200, PatientDashboard)
def patient_dashboard():
    """Upcoming visits, counts and visits per month."""
    return queries.patient_dashboard(patient_id=current_patient().id)


@blp.route("/patient/appointments", methods=["GET"])
@roles_required(PATIENT)
@blp.arguments(PatientAppointmentArgs, location="query")
@blp.response(200, page_of(AppointmentRead))
def patient_appointments(args):
    """My appointments (upcoming=true: soonest first; otherwise newest first)."""
    return queries.list_patient_appointments(patient_id=current_patient().id, **args)


@blp.route("/patient/appointments", methods=["POST"])
@roles_required(PATIENT)
@blp.arguments(AppointmentCreate)
@blp.response(201, AppointmentRead)
def book(data):
    """Book an available slot."""
    return booking.book(
        patient_id=current_patient().id,
        doctor_id=data["doctor_id"],
        day=data["date"],
        start=data["start_time"],
        reason=data.get("reason"),
    )


@blp.route("/patient/appointments/<int:appointment_id>", methods=["GET"])
@roles_required(PATIENT)
@blp.response(200, AppointmentRead)
def patient_appointment(appointment_id: int):
    """One of my appointments."""
    return queries.get_patient_appointment(patient_id=current_patient().id, appointment_id=appointment_id)


@blp.route("/patient/appointments/<int:appointment_id>", methods=["PUT"])
@roles_required(PATIENT)
@blp.arguments(AppointmentReschedule)
@blp.response(200, AppointmentRead)
def patient_reschedule(data, appointment_id: int):
    """Move my appointment to another slot; the new appointment is returned."""
    current_patient()
    return booking.reschedule(
        actor=current_user, appointment_id=appointment_id, day=data["date"], start=data["start_time"]
    )


@blp.route("/patient/appointments/<int:appointment_id>/cancel", methods=["POST"])
@roles_required(PATIENT)
@blp.arguments(CancelCreate)
@blp.response(200, AppointmentRead)
def patient_cancel(data, appointment_id: int):
    """Cancel my appointment before it starts."""
    current_patient()
    return booking.cancel(actor=current_user, appointment_id=appointment_id, reason=data.get("reason"))


@blp.route("/patient/appointments/<int:appointment_id>/ics", methods=["GET"])
@roles_required(PATIENT)
@blp.doc(responses={"200": {"description": "iCalendar file", "content": {"text/calendar": {}}}})
def patient_ics(appointment_id: int):
    """My appointment as an .ics file."""
    content = calendar.appointment_ics(patient_id=current_patient().id, appointment_id=appointment_id)
    return _ics(content, f"appointment-{appointment_id}.ics")


@blp.route("/patient/waitlist", methods=["GET"])
@roles_required(PATIENT)
@blp.arguments(WaitlistArgs, location="query")
@blp.response(200, page_of(WaitlistRead))
def waitlist(args):
    """My waitlist entries."""
    return waitlist_service.list_waitlist(patient_id=current_patient().id, **args)


@blp.route("/patient/waitlist", methods=["POST"])
@roles_required(PATIENT)
@blp.arguments(WaitlistCreate)
@blp.response(201, WaitlistRead)
def join_waitlist(data):
    """Wait for a slot of a doctor on a date."""
    return waitlist_service.join_waitlist(
        patient_id=current_patient().id, doctor_id=data["doctor_id"], day=data["date"]
    )


@blp.route("/patient/waitlist/<int:entry_id>", methods=["DELETE"])
@roles_required(PATIENT)
@blp.response(204)
def leave_waitlist(entry_id: int):
    """Leave the waitlist."""
    waitlist_service.leave_waitlist(patient_id=current_patient().id, entry_id=entry_id)


# ---- admin ---------------------------------------------------------------------------------------------------


@blp.route("/admin/appointments", methods=["GET"])
@roles_required(ADMIN)
@blp.arguments(AdminAppointmentArgs, location="query")
@blp.response(200, page_of(AppointmentRead))
def admin_appointments(args):
    """All appointments, filtered, newest first."""
    return queries.list_all_appointments(**args)


@blp.route("/admin/appointments", methods=["POST"])
@roles_required(ADMIN)
@blp.arguments(AdminAppointmentCreate)
@blp.response(201, AppointmentRead)
def admin_book(data):
    """Book a slot for a patient (desk or phone): up to 90 days ahead, beyond the patient's booking cap."""
    return booking.book(
        patient_id=data["patient_id"],
        doctor_id=data["doctor_id"],
        day=data["date"],
        start=data["start_time"],
        reason=data.get("reason"),
        by_admin=True,
    )


@blp.route("/admin/appointments/<int:appointment_id>", methods=["PUT"])
@roles_required(ADMIN)
@blp.arguments(AppointmentReschedule)
@blp.response(200, AppointmentRead)
def admin_reschedule(data, appointment_id: int):
    """Reschedule any booked appointment (up to 90 days ahead)."""
    return booking.reschedule(
        actor=current_user, appointment_id=appointment_id, day=data["date"], start=data["start_time"]
    )


@blp.route("/admin/appointments/<int:appointment_id>/cancel", methods=["POST"])
@roles_required(ADMIN)
@blp.arguments(AdminCancelCreate)
@blp.response(200, AppointmentRead)
def admin_cancel(data, appointment_id: int):
    """Cancel any booked appointment, with a reason."""
    return booking.cancel(actor=current_user, appointment_id=appointment_id, reason=data["reason"])


@blp.route("/admin/doctors/<int:doctor_id>/appointments", methods=["GET"])
@roles_required(ADMIN)
@blp.arguments(DoctorAppointmentsArgs, location="query")
@blp.response(200, page_of(AppointmentRead))
def admin_doctor_appointments(args, doctor_id: int):
    """One doctor's appointment history."""
    return queries.doctor_appointment_history(doctor_id=doctor_id, **args)


blueprints: list[Blueprint] = [blp]
