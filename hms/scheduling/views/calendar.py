"""Endpoints of calendars: the doctor's private .ics feed (and its token: show, create, revoke)
and a patient's appointment as an .ics file."""

from __future__ import annotations

from hms.common.auth import current_doctor, current_patient, roles_required
from hms.scheduling import calendar
from hms.scheduling.schemas.calendar import CalendarRead
from hms.scheduling.views.blueprint import DOCTOR, PATIENT, _ics, blp


@blp.route("/calendar/<token>.ics", methods=["GET"])
@blp.doc(security=[], responses={"200": {"description": "iCalendar feed", "content": {"text/calendar": {}}}})
def calendar_feed(token: str):
    """A doctor's private calendar feed (the token is the secret)."""
    return _ics(calendar.doctor_feed(token=token), "appointments.ics")


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


@blp.route("/patient/appointments/<int:appointment_id>/ics", methods=["GET"])
@roles_required(PATIENT)
@blp.doc(responses={"200": {"description": "iCalendar file", "content": {"text/calendar": {}}}})
def patient_ics(appointment_id: int):
    """My appointment as an .ics file."""
    content = calendar.appointment_ics(patient_id=current_patient().id, appointment_id=appointment_id)
    return _ics(content, f"appointment-{appointment_id}.ics")
