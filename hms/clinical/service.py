"""Treatment records and histories: who may read or write which clinical data, with every access audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hms.audit.service import record
from hms.common.auth import is_doctors_patient
from hms.common.errors import Conflict, NotFound, ValidationFailed
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Doctor, Patient, Treatment, VisitType
from hms.scheduling import rules
from hms.scheduling.appointments import appointment_dict, page_of_appointments
from hms.scheduling.appointments import appointment_query as _appointment_query

TREATMENT_FIELDS = (
    "diagnosis",
    "prescription",
    "notes",
    "visit_type",
    "tests_ordered",
    "precautions",
    "follow_up_date",
    "medicines",
)
MEDICINE_FIELDS = ("name", "dose", "frequency", "duration_days", "instructions")
EDITABLE_STATUSES = (AppointmentStatus.BOOKED.value, AppointmentStatus.COMPLETED.value)


def treatment_dict(treatment: Treatment | None, appointment_id: int | None = None) -> dict[str, Any] | None:
    """The API's Treatment shape; an unwritten record is all nulls (id null) when appointment_id is given."""
    if treatment is None:
        if appointment_id is None:
            return None
        empty: dict[str, Any] = dict.fromkeys(TREATMENT_FIELDS)
        empty.update(
            id=None,
            appointment_id=appointment_id,
            visit_type=VisitType.IN_PERSON.value,
            medicines=[],
            created_at=None,
            updated_at=None,
        )
        return empty
    return {
        "id": treatment.id,
        "appointment_id": treatment.appointment_id,
        **{name: getattr(treatment, name) for name in TREATMENT_FIELDS},
        "medicines": list(treatment.medicines or []),
        "created_at": treatment.created_at,
        "updated_at": treatment.updated_at,
    }


def _doctor_appointment(doctor_id: int, appointment_id: int) -> Appointment:
    """The doctor's own appointment, else 404 (another doctor's appointment is not revealed)."""
    appointment = db.session.execute(
        select(Appointment)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.doctor).joinedload(Doctor.department),
            joinedload(Appointment.treatment),
        )
        .where(Appointment.id == appointment_id, Appointment.doctor_id == doctor_id)
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment {appointment_id} was not found.")
    return appointment


def get_treatment(*, doctor_id: int, appointment_id: int) -> dict[str, Any]:
    """The treatment record of the doctor's own appointment (an empty one if none yet), with the appointment."""
    with unit_of_work():
        appointment = _doctor_appointment(doctor_id, appointment_id)
        result = treatment_dict(appointment.treatment, appointment.id) or {}
        result["appointment"] = appointment_dict(appointment)
        record(
            action="treatment.read",
            entity="treatment",
            entity_id=result["id"],
            patient_id=appointment.patient_id,
            details={"appointment_id": appointment.id},
        )
    return result


def _normalise_medicines(medicines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: medicine.get(name) for name in MEDICINE_FIELDS} for medicine in medicines]


def update_treatment(*, doctor_id: int, appointment_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Create or update the treatment of the doctor's own booked or completed appointment; the change is audited."""
    with unit_of_work():
        appointment = _doctor_appointment(doctor_id, appointment_id)
        if appointment.status not in EDITABLE_STATUSES:
            raise Conflict(
                f"A {appointment.status.replace('_', ' ')} appointment has no treatment record.", code="invalid_state"
            )
        treatment = appointment.treatment
        created = treatment is None
        diagnosis = data.get("diagnosis") if "diagnosis" in data else (treatment.diagnosis if treatment else None)
        if not (diagnosis or "").strip():
            raise ValidationFailed(
                "A treatment record needs a diagnosis.", fields={"diagnosis": ["Enter the diagnosis."]}
            )
        if "diagnosis" in data:
            data = {**data, "diagnosis": (diagnosis or "").strip()}
        if treatment is None:
            treatment = Treatment(appointment_id=appointment.id, visit_type=VisitType.IN_PERSON.value, medicines=[])
            db.session.add(treatment)
        if "medicines" in data:
            data = {**data, "medicines": _normalise_medicines(data["medicines"])}
        changed: list[str] = []  # names only: clinical values never enter the audit trail
        for name in TREATMENT_FIELDS:
            if name not in data:
                continue
            old = None if created else getattr(treatment, name)
            if old != data[name]:
                changed.append(name)
                setattr(treatment, name, data[name])
        db.session.flush()
        record(
            action="treatment.update",
            entity="treatment",
            entity_id=treatment.id,
            patient_id=appointment.patient_id,
            details={"appointment_id": appointment.id, "created": created, "changed": changed},
        )
    result = treatment_dict(treatment) or {}
    result["appointment"] = appointment_dict(_doctor_appointment(doctor_id, appointment_id))
    return result


def _history(patient_id: int, *, page: int, per_page: int) -> dict[str, Any]:
    statement = (
        select(Appointment)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.doctor).joinedload(Doctor.department),
            selectinload(Appointment.treatment),
        )
        .where(Appointment.patient_id == patient_id, Appointment.status == AppointmentStatus.COMPLETED.value)
        .order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    )
    result = paginate(statement, page=page, per_page=per_page)
    result["items"] = [{**appointment_dict(a), "treatment": treatment_dict(a.treatment)} for a in result["items"]]
    return result


def _audit_history(patient_id: int, page: int, count: int) -> None:
    record(
        action="history.read",
        entity="patient",
        entity_id=patient_id,
        patient_id=patient_id,
        details={"page": page, "items": count},
    )


def patient_history(*, patient_id: int, page: int, per_page: int) -> dict[str, Any]:
    """The patient's own completed visits with their treatments, newest first."""
    with unit_of_work():
        result = _history(patient_id, page=page, per_page=per_page)
        _audit_history(patient_id, page, len(result["items"]))
    return result


def doctor_patient_history(*, doctor_id: int, patient_id: int, page: int, per_page: int) -> dict[str, Any]:
    """A patient's full history (every doctor) for a doctor who has seen or will see them."""
    with unit_of_work():
        if not is_doctors_patient(doctor_id, patient_id):
            raise NotFound(f"Patient {patient_id} is not one of your patients.")
        result = _history(patient_id, page=page, per_page=per_page)
        _audit_history(patient_id, page, len(result["items"]))
    return result


def doctor_patients(*, doctor_id: int, page: int, per_page: int, q: str | None = None) -> dict[str, Any]:
    """Patients the doctor has seen or will see, with their last and next visit, in one query per page."""
    completed = Appointment.status == AppointmentStatus.COMPLETED.value
    upcoming = rules.upcoming_condition()
    stats = (
        select(
            Appointment.patient_id.label("patient_id"),
            func.max(case((completed, Appointment.date))).label("last_visit"),
            func.min(case((upcoming, Appointment.date))).label("next_visit"),
            func.count().label("appointment_count"),
        )
        .where(Appointment.doctor_id == doctor_id, Appointment.status != AppointmentStatus.CANCELLED.value)
        .group_by(Appointment.patient_id)
        .subquery()
    )
    statement = (
        select(Patient, stats.c.last_visit, stats.c.next_visit, stats.c.appointment_count)
        .join(stats, stats.c.patient_id == Patient.id)
        .options(joinedload(Patient.user))
    )
    if q and q.strip():
        term = q.strip().lower()
        statement = statement.where(
            or_(
                func.lower(Patient.full_name).contains(term, autoescape=True),
                Patient.phone.contains(term, autoescape=True),
            )
        )
    statement = statement.order_by(Patient.full_name, Patient.id)
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    result["items"] = [
        {
            "id": patient.id,
            "full_name": patient.full_name,
            "email": patient.user.email if patient.user else None,
            "date_of_birth": patient.date_of_birth,
            "gender": patient.gender,
            "phone": patient.phone,
            "blood_group": patient.blood_group,
            "allergies": patient.allergies,
            "medical_history": patient.medical_history,
            "emergency_contact": patient.emergency_contact,
            "last_visit": _as_date(last_visit),
            "next_visit": _as_date(next_visit),
            "appointment_count": count,
        }
        for patient, last_visit, next_visit, count in result["items"]
    ]
    # The list carries allergies and medical history: reading it is audited like a history read.
    with unit_of_work():
        record(
            action="patients.list",
            entity="doctor",
            entity_id=doctor_id,
            details={"page": page, "patient_ids": [item["id"] for item in result["items"]]},
        )
    return result


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def admin_patient_history(*, patient_id: int, page: int, per_page: int) -> dict[str, Any]:
    """Every appointment of a patient for the admin; clinical content stays out (SPEC §2), the read is audited."""
    with unit_of_work():
        if db.session.get(Patient, patient_id) is None:
            raise NotFound(f"Patient {patient_id} was not found.")
        statement = (
            _appointment_query()
            .where(Appointment.patient_id == patient_id)
            .order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
        )
        result = page_of_appointments(statement, page=page, per_page=per_page)
        for item in result["items"]:
            item["treatment"] = None
        _audit_history(patient_id, page, len(result["items"]))
    return result
