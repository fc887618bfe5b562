"""Endpoints of doctor leave (hms/scheduling/leave.py): a doctor's own and the admin's record of leave,
today's absences, and the notices of patients whose visits it cancelled."""

from __future__ import annotations

from flask_jwt_extended import current_user

from hms.common.auth import current_doctor, current_patient, roles_required
from hms.scheduling import leave
from hms.scheduling.schemas.leave import LeaveCreate, LeaveNotice, LeaveRead, LeaveRecorded, LeaveToday
from hms.scheduling.views.blueprint import blp


@blp.route("/doctor/leave", methods=["GET"])
@roles_required("doctor")
@blp.response(200, LeaveRead(many=True))
def my_leave():
    """My leave that has not ended, soonest first."""
    return leave.list_leave(doctor_id=current_doctor().id)


@blp.route("/doctor/leave", methods=["POST"])
@roles_required("doctor")
@blp.arguments(LeaveCreate)
@blp.response(201, LeaveRecorded)
def record_my_leave(data):
    """Record leave: its slots vanish, its waitlist closes, booked patients are told and offered other times."""
    return leave.record_leave(actor=current_user, doctor_id=current_doctor().id, **data)


@blp.route("/admin/doctors/<int:doctor_id>/leave", methods=["GET"])
@roles_required("admin")
@blp.response(200, LeaveRead(many=True))
def doctor_leave(doctor_id: int):
    """A doctor's leave that has not ended."""
    return leave.list_leave(doctor_id=doctor_id)


@blp.route("/admin/doctors/<int:doctor_id>/leave", methods=["POST"])
@roles_required("admin")
@blp.arguments(LeaveCreate)
@blp.response(201, LeaveRecorded)
def record_doctor_leave(data, doctor_id: int):
    """Record leave for a doctor (audited), as the doctor could."""
    return leave.record_leave(actor=current_user, doctor_id=doctor_id, **data)


@blp.route("/admin/leave/today", methods=["GET"])
@roles_required("admin")
@blp.response(200, LeaveToday(many=True))
def leave_today():
    """Doctors on leave today."""
    return leave.on_leave_today()


@blp.route("/patient/leave-notices", methods=["GET"])
@roles_required("patient")
@blp.response(200, LeaveNotice(many=True))
def my_leave_notices():
    """My booked visits that fall on the doctor's leave, with the first free times offered."""
    return leave.leave_notices(patient_id=current_patient().id)
