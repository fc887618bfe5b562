"""Endpoints of follow-ups and series (hms/scheduling/followups.py): the doctor's proposal and booking
of a follow-up visit, and the admin's booking of a recurring series."""

from __future__ import annotations

from flask_jwt_extended import current_user

from hms.common.auth import current_doctor, roles_required
from hms.scheduling import followups
from hms.scheduling.schemas.appointments import AppointmentRead
from hms.scheduling.schemas.followups import FollowUpBooking, FollowUpProposal, FollowUpProposed, SeriesCreate
from hms.scheduling.views.blueprint import blp


@blp.route("/doctor/appointments/<int:appointment_id>/follow-up/proposal", methods=["POST"])
@roles_required("doctor")
@blp.arguments(FollowUpProposal)
@blp.response(200, FollowUpProposed)
def propose_follow_up(data, appointment_id: int):
    """Propose a follow-up: the patient gets a link to the booking wizard at the nearest free day."""
    return followups.propose_follow_up(doctor=current_doctor(), appointment_id=appointment_id, **data)


@blp.route("/doctor/appointments/<int:appointment_id>/follow-up", methods=["POST"])
@roles_required("doctor")
@blp.arguments(FollowUpBooking)
@blp.response(201, AppointmentRead)
def book_follow_up(data, appointment_id: int):
    """Book the follow-up for my visit's patient (same rules as any booking)."""
    return followups.book_follow_up(
        doctor=current_doctor(), appointment_id=appointment_id, day=data["date"], start=data["start_time"]
    )


@blp.route("/admin/appointments/series", methods=["POST"])
@roles_required("admin")
@blp.arguments(SeriesCreate)
@blp.response(201, AppointmentRead(many=True))
def book_series(data):
    """Book a recurring series (e.g. every 7 days, 6 times): all of it or nothing (audited)."""
    return followups.book_series(
        actor=current_user,
        patient_id=data["patient_id"],
        doctor_id=data["doctor_id"],
        first=data["first_date"],
        start=data["start_time"],
        every_days=data["every_days"],
        count=data["count"],
        reason=data.get("reason"),
    )
