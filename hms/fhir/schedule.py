"""Schedule ↔ one per doctor (same id as the Practitioner): who, what specialty, and the bookable horizon."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from flask import current_app

from hms.common.clock import today_local
from hms.fhir.common import SearchRequest, bundle, int_id, local_instant, page_rows, ref_id, reference
from hms.fhir.practitioner import doctor_active, doctors, get_doctor
from hms.fhir.practitioner_role import specialty_filter
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.models import Doctor, User


def horizon_days() -> int:
    return int(current_app.config["HMS"].booking_horizon_days)


def to_fhir(doctor: Doctor) -> dict[str, Any]:
    today = today_local()
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(doctor.id),
        "active": doctor_active(doctor),
        "actor": [
            reference("Practitioner", doctor.id, doctor.display_name),
            reference("PractitionerRole", doctor.id),
        ],
        "planningHorizon": {
            "start": local_instant(today, time(0)),
            "end": local_instant(today + timedelta(days=horizon_days()), time(23, 59, 59)),
        },
        "comment": f"Slots of {doctor.slot_minutes} minutes inside the doctor's published working windows.",
    }
    if doctor.specialization:
        resource["specialty"] = [{"text": doctor.specialization}]
    return resource


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    return to_fhir(get_doctor("Schedule", resource_id))


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Schedules by actor (Practitioner) and specialty."""
    statement = specialty_filter(doctors(), search.all("specialty"))
    for value in search.all("actor"):
        doctor_id = ref_id(value, expected="Practitioner", element="actor")
        statement = statement.where(Doctor.id == doctor_id)
    for value in search.all("_id"):
        statement = statement.where(Doctor.id == int_id(value, resource_type="Schedule", element="_id"))
    rows, total = page_rows(statement.order_by(Doctor.id), search)
    return bundle([to_fhir(d) for d in rows], total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="Schedule",
        documentation="One schedule per doctor; its Slots come from the doctor's availability windows.",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id (the doctor's id)"),
            SearchParam("actor", "reference", "Practitioner/<id>"),
            SearchParam("specialty", "token", "Specialization or department name, case-insensitive"),
        ),
    )
)
