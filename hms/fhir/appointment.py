"""Appointment ↔ our appointments; booking and cancelling go through the scheduling service, so FHIR clients meet
the same rules, the same race-proof unique index and the same notifications as the JSON API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from hms.common.auth import appointment_scope, patient_scope
from hms.common.clock import hospital_tz
from hms.common.errors import Forbidden, NotFound
from hms.extensions import db
from hms.fhir import patient as fhir_patient
from hms.fhir import practitioner as fhir_practitioner
from hms.fhir.common import (
    DateBound,
    Invalid,
    SearchRequest,
    bundle,
    int_id,
    local_instant,
    page_rows,
    parse_date_param,
    parse_reference,
    ref_id,
    reference,
    utc_instant,
)
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.fhir.slot import FIND, parse_slot_id, slot_id
from hms.models import Appointment, Doctor, Patient, User
from hms.scheduling import booking

STATUS_TO_FHIR = {"booked": "booked", "completed": "fulfilled", "cancelled": "cancelled", "no_show": "noshow"}
STATUS_FROM_FHIR = {value: key for key, value in STATUS_TO_FHIR.items()}
INCLUDES = ("Appointment:patient", "Appointment:practitioner", "Appointment:actor")


def _minutes(at: Any) -> int:
    return at.hour * 60 + at.minute


def to_fhir(appointment: Appointment) -> dict[str, Any]:
    doctor, patient = appointment.doctor, appointment.patient
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "status": STATUS_TO_FHIR[appointment.status],
        "start": local_instant(appointment.date, appointment.start_time),
        "end": local_instant(appointment.date, appointment.end_time),
        "minutesDuration": (_minutes(appointment.end_time) - _minutes(appointment.start_time)),
        "slot": [reference("Slot", slot_id(appointment.doctor_id, appointment.date, appointment.start_time))],
        "created": utc_instant(appointment.created_at),
        "participant": [
            {
                "actor": reference("Patient", appointment.patient_id, patient.full_name if patient else None),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Practitioner", appointment.doctor_id, doctor.display_name if doctor else None),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if appointment.reason:
        resource["description"] = appointment.reason
    if doctor is not None and doctor.specialization:
        resource["specialty"] = [{"text": doctor.specialization}]
    if appointment.status == "cancelled" and (appointment.cancel_reason or appointment.cancelled_by):
        resource["cancelationReason"] = {
            "text": appointment.cancel_reason or f"Cancelled by the {appointment.cancelled_by}",
        }
    if appointment.rescheduled_from:
        resource["basedOn"] = [reference("Appointment", appointment.rescheduled_from)]
    return resource


def _visible(user: User) -> Any:
    return (
        select(Appointment)
        .options(joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department))
        .where(appointment_scope(user))
    )


def _load(user: User, resource_id: str) -> Appointment:
    appointment_id = int_id(resource_id, resource_type="Appointment")
    appointment = db.session.execute(_visible(user).where(Appointment.id == appointment_id)).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment/{resource_id} was not found.")
    return appointment


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    """One appointment of the caller's (a stranger's is not found)."""
    return to_fhir(_load(user, resource_id))


def date_condition(bound: DateBound) -> Any:
    """A date bound on the appointment's start, as SQL over its local date and start time."""
    day = bound.moment.date()
    if bound.day_only:
        return {
            "eq": Appointment.date == day,
            "ge": Appointment.date >= day,
            "gt": Appointment.date > day,
            "le": Appointment.date <= day,
            "lt": Appointment.date < day,
        }[bound.prefix]
    at = bound.moment.astimezone(hospital_tz()).time().replace(tzinfo=None)
    after = or_(Appointment.date > day, and_(Appointment.date == day, Appointment.start_time > at))
    before = or_(Appointment.date < day, and_(Appointment.date == day, Appointment.start_time < at))
    exact = and_(Appointment.date == day, Appointment.start_time == at)
    return {"eq": exact, "gt": after, "ge": or_(after, exact), "lt": before, "le": or_(before, exact)}[bound.prefix]


def _status_filter(values: list[str]) -> list[str]:
    wanted = {s.strip() for value in values for s in value.split(",")}
    unknown = wanted - set(STATUS_FROM_FHIR)
    if unknown:
        raise Invalid(f"Appointment status is one of {', '.join(STATUS_FROM_FHIR)}.", element="status")
    return [STATUS_FROM_FHIR[s] for s in wanted]


def _included(
    user: User, appointments: list[Appointment], includes: list[str]
) -> tuple[list[dict[str, Any]], list[Patient]]:
    """_include: the appointments' patients (only those the caller may see) and practitioners, and the patients
    whose demographics were read (for the audit)."""
    resources: list[dict[str, Any]] = []
    patients: list[Patient] = []
    if "Appointment:patient" in includes or "Appointment:actor" in includes:
        ids = sorted({a.patient_id for a in appointments})
        if ids:
            statement = (
                select(Patient)
                .options(joinedload(Patient.user))
                .where(Patient.id.in_(ids), patient_scope(user, Patient.id))
                .order_by(Patient.id)
            )
            patients = list(db.session.execute(statement).scalars())
        resources += [fhir_patient.to_fhir(p) for p in patients]
    if "Appointment:practitioner" in includes or "Appointment:actor" in includes:
        doctors = {a.doctor_id: a.doctor for a in appointments if a.doctor is not None}
        resources += [fhir_practitioner.to_fhir(d) for _id, d in sorted(doctors.items())]
    return resources, patients


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Appointments by patient, practitioner/actor, date, status and _id, within the caller's own."""
    statement = _visible(user)
    for value in search.all("_id"):
        statement = statement.where(Appointment.id == int_id(value, resource_type="Appointment", element="_id"))
    for value in search.all("patient"):
        statement = statement.where(Appointment.patient_id == ref_id(value, expected="Patient", element="patient"))
    for value in search.all("practitioner"):
        doctor_id = ref_id(value, expected="Practitioner", element="practitioner")
        statement = statement.where(Appointment.doctor_id == doctor_id)
    for value in search.all("actor"):
        kind = "Patient" if "Patient/" in value else "Practitioner"
        actor_id = ref_id(value, expected=kind, element="actor")
        column = Appointment.patient_id if kind == "Patient" else Appointment.doctor_id
        statement = statement.where(column == actor_id)
    for value in search.all("date"):
        statement = statement.where(date_condition(parse_date_param(value, element="date")))
    if search.all("status"):
        statement = statement.where(Appointment.status.in_(_status_filter(search.all("status"))))
    statement = statement.order_by(Appointment.date, Appointment.start_time, Appointment.id)
    rows, total = page_rows(statement, search)
    resources = [to_fhir(a) for a in rows]
    included, patients = _included(user, rows, search.includes)
    fhir_patient.audit(patients, "fhir.patient.include")  # commits: every resource is built before it
    return bundle(resources, total=total, search=search, included=included)


# ---- booking and cancelling ------------------------------------------------------------------------------------


def _object(value: Any, element: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{element} must be a JSON object.", element=element)
    return value


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise Invalid(f"Appointment.{name} must be an array.", element=f"Appointment.{name}")
    return value


def _check_resource(body: Any, resource_id: str | None = None) -> dict[str, Any]:
    body = _object(body, "Appointment")
    if body.get("resourceType") != "Appointment":
        raise Invalid("The body must be an Appointment resource.", element="Appointment.resourceType")
    if resource_id is not None and str(body.get("id", "")) != resource_id:
        raise Invalid("Appointment.id must equal the id in the URL.", element="Appointment.id")
    return body


def _text(value: Any, element: str, limit: int = 1000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise Invalid(f"{element} must be text of at most {limit} characters.", element=element)
    return value.strip() or None


def _participants(body: dict[str, Any]) -> tuple[list[int], list[int]]:
    patients, practitioners = [], []
    for index, participant in enumerate(_list(body, "participant")):
        element = f"Appointment.participant[{index}].actor.reference"
        actor = _object(_object(participant, f"Appointment.participant[{index}]").get("actor"), element)
        ref = actor.get("reference")
        if not isinstance(ref, str):
            raise Invalid("A participant needs actor.reference.", element=element)
        if "Patient/" in ref:
            patients.append(
                int_id(
                    parse_reference(ref, expected="Patient", element=element), resource_type="Patient", element=element
                )
            )
        elif "Practitioner/" in ref:
            practitioners.append(
                int_id(
                    parse_reference(ref, expected="Practitioner", element=element),
                    resource_type="Practitioner",
                    element=element,
                )
            )
        else:
            raise Invalid("A participant is a Patient or a Practitioner.", element=element)
    return patients, practitioners


def _when(body: dict[str, Any], practitioners: list[int]) -> tuple[int, Any, Any]:
    """Doctor, local date and start from slot[0], or from start + the Practitioner participant."""
    slots = _list(body, "slot")
    if slots:
        ref = _object(slots[0], "Appointment.slot[0]").get("reference")
        if not isinstance(ref, str):
            raise Invalid("slot[0].reference is required.", element="Appointment.slot[0].reference")
        value = parse_reference(ref, expected="Slot", element="Appointment.slot[0].reference")
        doctor_id, day, start = parse_slot_id(value, element="Appointment.slot[0].reference")
        if practitioners and practitioners != [doctor_id]:
            raise Invalid("The Practitioner participant is not the slot's.", element="Appointment.participant")
        return doctor_id, day, start
    if not isinstance(body.get("start"), str):
        raise Invalid("Give slot (a Slot reference) or start and a Practitioner.", element="Appointment.slot")
    if len(practitioners) != 1:
        raise Invalid("Name exactly one Practitioner participant.", element="Appointment.participant")
    bound = parse_date_param(body["start"], element="Appointment.start")
    if bound.day_only or bound.prefix != "eq" or body["start"][:2].isalpha():
        raise Invalid("start must be a dateTime with a time zone offset.", element="Appointment.start")
    local = bound.moment.astimezone(hospital_tz())
    return practitioners[0], local.date(), local.time().replace(tzinfo=None, second=0, microsecond=0)


def create(*, user: User, body: Any) -> dict[str, Any]:
    """A patient books a slot for themself through scheduling.booking.book (same rules, same 409 slot_taken)."""
    body = _check_resource(body)
    if user.role != "patient" or user.patient is None:
        raise Forbidden("Only patients book appointments over FHIR; the patient is the signed-in user.")
    status = body.get("status", "booked")
    if status not in ("booked", "proposed", "pending"):
        raise Invalid("A new appointment's status is booked.", element="Appointment.status", status=422)
    patients, practitioners = _participants(body)
    if any(pid != user.patient.id for pid in patients):
        raise Forbidden("You can book only for yourself.")
    doctor_id, day, start = _when(body, practitioners)
    reason = _text(body.get("description"), "Appointment.description")
    if reason is None:
        for index, code in enumerate(_list(body, "reasonCode")):
            reason = _text(
                _object(code, f"Appointment.reasonCode[{index}]").get("text"), f"Appointment.reasonCode[{index}].text"
            )
            if reason:
                break
    booked = booking.book(patient_id=user.patient.id, doctor_id=doctor_id, day=day, start=start, reason=reason)
    return read(user=user, resource_id=str(booked["id"]))


def _cancel(user: User, resource_id: str, reason: str | None) -> dict[str, Any]:
    appointment_id = int_id(resource_id, resource_type="Appointment")
    booking.cancel(actor=user, appointment_id=appointment_id, reason=reason)
    return read(user=user, resource_id=resource_id)


def update(*, user: User, resource_id: str, body: Any) -> dict[str, Any]:
    """PUT with status cancelled cancels through scheduling.booking.cancel; other changes are not supported."""
    body = _check_resource(body, resource_id)
    current = to_fhir(_load(user, resource_id))
    if body.get("status") != "cancelled":
        if body.get("status") == current["status"]:
            raise Invalid(
                "Only cancellation (status cancelled) can be made over FHIR; reschedule through the portal.",
                element="Appointment.status",
                code="not_supported",
                status=422,
            )
        raise Invalid("Only status cancelled can be set.", element="Appointment.status", status=422)
    reason = _object(body.get("cancelationReason") or {}, "Appointment.cancelationReason").get("text")
    return _cancel(user, resource_id, _text(reason, "Appointment.cancelationReason.text"))


def patch(*, user: User, resource_id: str, body: Any) -> dict[str, Any]:
    """JSON Patch that replaces /status with cancelled (and optionally sets /cancelationReason)."""
    if not isinstance(body, list) or not body:
        raise Invalid("The body must be a JSON Patch array.", element="Appointment")
    status, reason = None, None
    for index, operation in enumerate(body):
        operation = _object(operation, f"patch[{index}]")
        op, path = operation.get("op"), operation.get("path")
        if op not in ("replace", "add") or path not in ("/status", "/cancelationReason"):
            raise Invalid(
                "Only replacing /status (and /cancelationReason) is supported.", element=f"patch[{index}]", status=422
            )
        if path == "/status":
            status = operation.get("value")
        else:
            reason = _object(operation.get("value"), "Appointment.cancelationReason").get("text")
    if status != "cancelled":
        raise Invalid("Only status cancelled can be set.", element="Appointment.status", status=422)
    _load(user, resource_id)
    return _cancel(user, resource_id, _text(reason, "Appointment.cancelationReason.text"))


RESOURCE = register(
    ResourceType(
        name="Appointment",
        documentation="Appointments; POST books a Slot (patients, for themselves) with the JSON API's rules; "
        "PUT/PATCH to status cancelled cancels.",
        read=read,
        search=search,
        create=create,
        update=update,
        patch=patch,
        includes=INCLUDES,
        operations={"find": FIND},
        search_params=(
            SearchParam("_id", "token", "Logical id"),
            SearchParam("patient", "reference", "Patient/<id>"),
            SearchParam("practitioner", "reference", "Practitioner/<id>"),
            SearchParam("actor", "reference", "Patient/<id> or Practitioner/<id>"),
            SearchParam("date", "date", "Start, with eq/ge/gt/le/lt (dates or dateTimes)"),
            SearchParam("status", "token", "booked | fulfilled | cancelled | noshow (comma-separated)"),
        ),
    )
)
