"""Endpoints of appointments: booking, rescheduling, cancelling, complete/no-show by patient, doctor and admin,
the lists of each role and the doctor's and patient's dashboards."""

from __future__ import annotations

from flask_jwt_extended import current_user

from hms.common.auth import current_doctor, current_patient, roles_required
from hms.common.pagination import page_of
from hms.scheduling import booking, queries
from hms.scheduling.schemas.appointments import (
    AdminAppointmentArgs,
    AdminAppointmentCreate,
    AdminCancelCreate,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    CancelCreate,
    DoctorAppointmentArgs,
    DoctorAppointmentsArgs,
    DoctorDashboard,
    PatientAppointmentArgs,
    PatientDashboard,
)
from hms.scheduling.views.blueprint import ADMIN, DOCTOR, PATIENT, blp


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
