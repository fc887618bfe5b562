"""Slot ↔ the doctor's availability windows cut into slots by the scheduling service (the same slots the JSON API
offers): free, busy (booked) or busy-unavailable (blocked, started, or beyond the booking horizon).

A slot's id is `<doctor id>-<YYYYMMDD>-<HHMM>`, so it can be read and booked without a table of its own."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from hms.common.clock import local_datetime, today_local
from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.common import (
    DateBound,
    Invalid,
    SearchRequest,
    bundle,
    date_range,
    matches_bounds,
    parse_date_param,
    ref_id,
    reference,
)
from hms.fhir.practitioner import doctor_active, doctors
from hms.fhir.practitioner_role import specialty_filter
from hms.fhir.registry import Operation, ResourceType, SearchParam, register
from hms.fhir.schedule import horizon_days
from hms.models import Doctor, User
from hms.scheduling import availability

STATUSES = ("free", "busy", "busy-unavailable")
MAX_SPAN_DAYS = 31
_ID_RE = re.compile(r"^(\d{1,9})-(\d{8})-(\d{4})$")


def slot_id(doctor_id: int, day: date, start: time) -> str:
    return f"{doctor_id}-{day:%Y%m%d}-{start:%H%M}"


def parse_slot_id(value: str, *, element: str | None = None) -> tuple[int, date, time]:
    """A slot id → (doctor id, date, start); a malformed one is invalid (in a body) or not found (a read)."""
    match = _ID_RE.match(value)
    try:
        if not match:
            raise ValueError(value)
        day = datetime.strptime(match.group(2), "%Y%m%d").date()
        start = datetime.strptime(match.group(3), "%H%M").time()
        if not 1900 <= day.year <= 2200:
            raise ValueError(value)
    except ValueError:
        if element:
            raise Invalid(f"'{value}' is not a Slot id (<doctor>-<YYYYMMDD>-<HHMM>).", element=element) from None
        raise NotFound(f"Slot/{value} was not found.") from None
    return int(match.group(1)), day, start


def _status(slot: dict[str, Any]) -> str:
    if slot["appointment_id"] is not None:
        return "busy"
    return "free" if slot["available"] else "busy-unavailable"


def to_fhir(doctor: Doctor, day: date, slot: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(doctor.id, day, slot["start"]),
        "schedule": reference("Schedule", doctor.id),
        "status": _status(slot),
        "start": local_datetime(day, slot["start"]).isoformat(timespec="seconds"),
        "end": local_datetime(day, slot["end"]).isoformat(timespec="seconds"),
    }
    if doctor.specialization:
        resource["specialty"] = [{"text": doctor.specialization}]
    return resource


def slots(
    *,
    doctor_ids: list[int] | None,
    specialties: list[str],
    bounds: list[DateBound],
    statuses: set[str],
    default_days: int,
) -> list[tuple[Doctor, date, dict[str, Any]]]:
    """Slots (doctor, day, slot state) of the chosen doctors (all, when None) in the period, soonest first."""
    low, high = date_range(bounds)
    low = low or today_local()
    high = high or low + timedelta(days=default_days)
    if (high - low).days + 1 > MAX_SPAN_DAYS:
        raise Invalid(
            f"Ask for at most {MAX_SPAN_DAYS} days of slots at once.", element="start", code="too_costly", status=422
        )
    statement = specialty_filter(doctors(), specialties)
    if doctor_ids is not None:
        statement = statement.where(Doctor.id.in_(doctor_ids))
    active = {d.id: d for d in db.session.execute(statement).scalars() if doctor_active(d)}
    grid = availability.slot_grid(doctor_ids=sorted(active), date_from=low, date_to=high) if active else {}
    found = []
    for (doctor_id, day), day_slots in grid.items():
        for slot in day_slots:
            if _status(slot) not in statuses:
                continue
            start = local_datetime(day, slot["start"])
            if matches_bounds(start, local_datetime(day, slot["end"]), bounds):
                found.append((start, doctor_id, day, slot))
    found.sort(key=lambda item: (item[0], item[1]))
    return [(active[doctor_id], day, slot) for _start, doctor_id, day, slot in found]


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    doctor_id, day, start = parse_slot_id(resource_id)
    doctor = db.session.execute(doctors().where(Doctor.id == doctor_id)).scalar_one_or_none()
    if doctor is not None and doctor_active(doctor):
        grid = availability.slot_grid(doctor_ids=[doctor.id], date_from=day, date_to=day)
        for slot in grid.get((doctor.id, day), []):
            if slot["start"] == start:
                return to_fhir(doctor, day, slot)
    raise NotFound(f"Slot/{resource_id} was not found.")


def _statuses(search: SearchRequest) -> set[str]:
    wanted = {s.strip() for value in search.all("status") for s in value.split(",")}
    unknown = wanted - set(STATUSES)
    if unknown:
        raise Invalid(f"Slot status is one of {', '.join(STATUSES)}.", element="status")
    return wanted or set(STATUSES)


def _paged(found: list[tuple[Doctor, date, dict[str, Any]]], search: SearchRequest) -> dict[str, Any]:
    """Only the page's slots become resources; the total counts them all."""
    first = (search.page - 1) * search.count
    page = [to_fhir(*item) for item in found[first : first + search.count]]
    return bundle(page, total=len(found), search=search)


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Slots by schedule, start (ge/gt/le/lt/eq) and status; without dates, from today to the booking horizon."""
    doctor_ids = None
    if search.all("schedule"):
        doctor_ids = [ref_id(v, expected="Schedule", element="schedule") for v in search.all("schedule")]
    bounds = [parse_date_param(v, element="start") for v in search.all("start")]
    found = slots(
        doctor_ids=doctor_ids,
        specialties=search.all("specialty"),
        bounds=bounds,
        statuses=_statuses(search),
        default_days=horizon_days(),
    )
    return _paged(found, search)


def find(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Appointment/$find: free slots of a practitioner or a specialty between start and end (like Medplum's)."""
    doctor_ids = None
    if search.all("practitioner"):
        doctor_ids = [ref_id(v, expected="Practitioner", element="practitioner") for v in search.all("practitioner")]
    bounds = []
    start, end = search.one("start"), search.one("end")
    if start:
        bound = parse_date_param(start, element="start")
        bounds.append(DateBound("ge", bound.moment, bound.day_only))
    if end:
        bound = parse_date_param(end, element="end")
        bounds.append(DateBound("le" if bound.day_only else "lt", bound.moment, bound.day_only))
    found = slots(
        doctor_ids=doctor_ids,
        specialties=search.all("specialty"),
        bounds=bounds,
        statuses={"free"},
        default_days=horizon_days(),
    )
    return _paged(found, search)


FIND_PARAMS = (
    SearchParam("start", "date", "Earliest slot start (date or dateTime); default today"),
    SearchParam("end", "date", "Latest slot start (date or dateTime); default the booking horizon"),
    SearchParam("practitioner", "reference", "Practitioner/<id>; repeat for several"),
    SearchParam("specialty", "token", "Specialization or department name"),
)

RESOURCE = register(
    ResourceType(
        name="Slot",
        documentation="Slots cut from the doctors' availability windows, with the hospital's time zone offset.",
        read=read,
        search=search,
        search_params=(
            SearchParam("schedule", "reference", "Schedule/<id> (one per doctor); repeat for several"),
            SearchParam("start", "date", "Slot start with eq/ge/gt/le/lt (dates or dateTimes)"),
            SearchParam("status", "token", "free | busy | busy-unavailable (comma-separated for several)"),
            SearchParam("specialty", "token", "Specialization or department name"),
        ),
    )
)

FIND = Operation(
    "find",
    "Free slots for a practitioner or specialty in a period: "
    + "; ".join(f"{p.name} ({p.documentation})" for p in FIND_PARAMS),
)
