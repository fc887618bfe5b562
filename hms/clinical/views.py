"""HTTP endpoints of clinical records: treatments (doctor), histories (patient, doctor, admin)."""

from __future__ import annotations

from hms.clinical import service
from hms.clinical.schemas import (
    DoctorPatientArgs,
    DoctorPatientRead,
    HistoryArgs,
    HistoryItem,
    TreatmentUpdate,
    TreatmentWithAppointment,
)
from hms.common.api import Blueprint
from hms.common.auth import current_doctor, current_patient, roles_required
from hms.common.pagination import page_of

blp = Blueprint("clinical", __name__, url_prefix="/api", description="Treatments and patient histories")
DOCTOR, PATIENT, ADMIN = "doctor", "patient", "admin"


@blp.route("/doctor/appointments/<int:appointment_id>/treatment", methods=["GET"])
@roles_required(DOCTOR)
@blp.response(200, TreatmentWithAppointment)
def get_treatment(appointment_id: int):
    """The treatment record of my appointment (id null while none is written)."""
    return service.get_treatment(doctor_id=current_doctor().id, appointment_id=appointment_id)


@blp.route("/doctor/appointments/<int:appointment_id>/treatment", methods=["PUT"])
@roles_required(DOCTOR)
@blp.arguments(TreatmentUpdate)
@blp.response(200, TreatmentWithAppointment)
def put_treatment(data, appointment_id: int):
    """Create or update the treatment record of my booked or completed appointment."""
    return service.update_treatment(doctor_id=current_doctor().id, appointment_id=appointment_id, data=data)


@blp.route("/doctor/patients", methods=["GET"])
@roles_required(DOCTOR)
@blp.arguments(DoctorPatientArgs, location="query")
@blp.response(200, page_of(DoctorPatientRead))
def doctor_patients(args):
    """Patients I have seen or will see, with last and next visit."""
    return service.doctor_patients(doctor_id=current_doctor().id, **args)


@blp.route("/doctor/patients/<int:patient_id>/history", methods=["GET"])
@roles_required(DOCTOR)
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, page_of(HistoryItem))
def doctor_patient_history(args, patient_id: int):
    """Full history (every doctor) of one of my patients."""
    return service.doctor_patient_history(doctor_id=current_doctor().id, patient_id=patient_id, **args)


@blp.route("/patient/history", methods=["GET"])
@roles_required(PATIENT)
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, page_of(HistoryItem))
def patient_history(args):
    """My completed visits with their treatments, newest first."""
    return service.patient_history(patient_id=current_patient().id, **args)


@blp.route("/admin/patients/<int:patient_id>/history", methods=["GET"])
@roles_required(ADMIN)
@blp.arguments(HistoryArgs, location="query")
@blp.response(200, page_of(HistoryItem))
def admin_patient_history(args, patient_id: int):
    """Every appointment of a patient (clinical content is only in audited exports)."""
    return service.admin_patient_history(patient_id=patient_id, **args)


blueprints: list[Blueprint] = [blp]
