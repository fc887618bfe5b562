"""MedicationRequest ↔ one medicine of a visit's treatment record (id `<treatment id>-<n>`), linked to its Encounter.
Clinical: the patient and their doctors only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from hms.common.auth import require_clinical_reader
from hms.common.clock import today_local
from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.common import Invalid, SearchRequest, bundle, local_instant, reference
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.fhir.visits import audit, completed_visits, filter_visits
from hms.models import Appointment, Treatment, User

UCUM = "http://unitsofmeasure.org"
_ID_RE = re.compile(r"^(\d{1,9})-(\d{1,3})$")


def _status(appointment: Appointment, days: Any) -> str:
    if not isinstance(days, int) or days < 1:
        return "unknown"
    return "active" if appointment.date + timedelta(days=days) >= today_local() else "completed"


def to_fhir(appointment: Appointment, index: int, medicine: dict[str, Any]) -> dict[str, Any]:
    treatment = appointment.treatment
    assert treatment is not None, "a MedicationRequest is mapped from a visit with a treatment record"
    days = medicine.get("duration_days")
    dosage = ", ".join(str(medicine[k]) for k in ("dose", "frequency") if medicine.get(k))
    instruction: dict[str, Any] = {"sequence": 1}
    if dosage:
        instruction["text"] = dosage
    if medicine.get("instructions"):
        instruction["patientInstruction"] = medicine["instructions"]
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"{treatment.id}-{index}",
        "status": _status(appointment, days),
        "intent": "order",
        "medicationCodeableConcept": {"text": medicine.get("name") or "medicine"},
        "subject": reference("Patient", appointment.patient_id, appointment.patient.full_name),
        "encounter": reference("Encounter", appointment.id),
        "authoredOn": local_instant(appointment.date, appointment.start_time),
        "requester": reference("Practitioner", appointment.doctor_id, appointment.doctor.display_name),
        "dosageInstruction": [instruction],
    }
    if isinstance(days, int) and days > 0:
        resource["dispenseRequest"] = {
            "expectedSupplyDuration": {"value": days, "unit": "days", "system": UCUM, "code": "d"}
        }
    return resource


def _prescribed(user: User) -> Any:
    return completed_visits(user).join(Treatment, Treatment.appointment_id == Appointment.id)


def medicines(appointment: Appointment) -> list[tuple[int, dict[str, Any]]]:
    listed = appointment.treatment.medicines if appointment.treatment is not None else []
    return [(n, m) for n, m in enumerate(listed or [], start=1) if isinstance(m, dict)]


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    """One medicine of a visit of a patient the caller may see (else not found); audited."""
    require_clinical_reader(user)
    match = _ID_RE.match(resource_id)
    visit = (
        db.session.execute(_prescribed(user).where(Treatment.id == int(match.group(1)))).scalar_one_or_none()
        if match
        else None
    )
    medicine = dict(medicines(visit)).get(int(match.group(2))) if visit is not None and match else None
    if visit is None or medicine is None or match is None:
        raise NotFound(f"MedicationRequest/{resource_id} was not found.")
    resource = to_fhir(visit, int(match.group(2)), medicine)
    audit("fhir.medication_request.read", "treatment", [(visit.treatment.id, visit.patient_id)])
    return resource


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Medicines by patient and encounter, newest visit first; audited for every treatment on the page."""
    require_clinical_reader(user)
    statement = filter_visits(_prescribed(user), search)
    statuses = {s for value in search.all("status") for s in value.split(",")}
    if statuses - {"active", "completed", "unknown"}:
        raise Invalid("MedicationRequest status is active, completed or unknown here.", element="status")
    statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    found = [
        (visit, to_fhir(visit, n, medicine))
        for visit in db.session.execute(statement).scalars()
        for n, medicine in medicines(visit)
    ]
    if statuses:
        found = [(visit, resource) for visit, resource in found if resource["status"] in statuses]
    first = (search.page - 1) * search.count
    page = found[first : first + search.count]
    audit(
        "fhir.medication_request.search",
        "treatment",
        sorted({(visit.treatment.id, visit.patient_id) for visit, _resource in page}),
    )
    return bundle([resource for _visit, resource in page], total=len(found), search=search)


RESOURCE = register(
    ResourceType(
        name="MedicationRequest",
        documentation="Medicines prescribed at completed visits; the patient and their doctors only. Reads audited.",
        read=read,
        search=search,
        search_params=(
            SearchParam("patient", "reference", "Patient/<id>"),
            SearchParam("subject", "reference", "Patient/<id>"),
            SearchParam("encounter", "reference", "Encounter/<id>"),
            SearchParam("status", "token", "active | completed | unknown (comma-separated)"),
        ),
    )
)
