"""What Encounter, Condition and MedicationRequest share: completed visits within the caller's patients, and the
audit record every clinical read leaves (as the JSON API's history reads do)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.auth import patient_scope
from hms.common.uow import unit_of_work
from hms.fhir.common import SearchRequest, ref_id
from hms.models import Appointment, AppointmentStatus, Doctor, User


def completed_visits(user: User) -> Select:
    """Completed appointments (the visits of the history) of the patients the caller may see."""
    return (
        select(Appointment)
        .options(
            joinedload(Appointment.patient),
            joinedload(Appointment.doctor).joinedload(Doctor.department),
            joinedload(Appointment.treatment),
        )
        .where(Appointment.status == AppointmentStatus.COMPLETED.value, patient_scope(user, Appointment.patient_id))
    )


def filter_visits(statement: Select, search: SearchRequest) -> Select:
    """The parameters the clinical resources share: patient and encounter (a visit's appointment id)."""
    for value in search.all("patient"):
        statement = statement.where(Appointment.patient_id == ref_id(value, expected="Patient", element="patient"))
    for value in search.all("subject"):
        statement = statement.where(Appointment.patient_id == ref_id(value, expected="Patient", element="subject"))
    for value in search.all("encounter"):
        statement = statement.where(Appointment.id == ref_id(value, expected="Encounter", element="encounter"))
    return statement


def audit(action: str, entity: str, reads: Iterable[tuple[Any, int]]) -> None:
    """One audit record per patient whose clinical records were read (naming the records), committed before the
    answer leaves, as the JSON API's history reads are."""
    by_patient: dict[int, list[str]] = {}
    for entity_id, patient_id in reads:
        by_patient.setdefault(patient_id, []).append(str(entity_id))
    with unit_of_work():
        for patient_id, ids in sorted(by_patient.items()):
            record(
                action=action,
                entity=entity,
                entity_id=ids[0] if len(ids) == 1 else None,
                patient_id=patient_id,
                details={"via": "fhir", "ids": ids},
            )
