"""What every FHIR resource module shares: errors as OperationOutcome, references, dates with the hospital's
offset, search-parameter parsing and searchset Bundles with paging links."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from sqlalchemy import Select

from hms.common.clock import hospital_tz, local_datetime
from hms.common.errors import BadRequest, NotFound
from hms.common.pagination import MAX_PER_PAGE, paginate

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
DEFAULT_COUNT = 20
MAX_PARAM_LENGTH = 200
ERROR_CODE_SYSTEM = "urn:hms:error-code"
# Our error status → the FHIR issue type a client switches on.
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    410: "deleted",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


class Invalid(BadRequest):
    """A FHIR request names something malformed; `element` is the FHIRPath of what was wrong."""

    def __init__(self, message: str, *, element: str, code: str = "invalid_fhir", status: int = 400):
        super().__init__(message, code=code, fields={element: [message]})
        self.status = status


def base_url() -> str:
    return request.host_url.rstrip("/") + "/fhir"


def fhir_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def operation_outcome(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Our error body ({code, message, fields}) as an OperationOutcome that names the elements at fault."""
    severity = "fatal" if status >= 500 else "error"
    issue_type = ISSUE_TYPES.get(status, "exception" if status >= 500 else "processing")
    if code == "duplicate":
        issue_type = "duplicate"
    issues = []
    for element, messages in (fields or {}).items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else json.dumps(messages, default=str)
        issues.append(
            {
                "severity": severity,
                "code": issue_type,
                "details": {"coding": [{"system": ERROR_CODE_SYSTEM, "code": code}], "text": message},
                "diagnostics": text,
                "expression": [str(element)],
            }
        )
    if not issues:
        issues.append(
            {
                "severity": severity,
                "code": issue_type,
                "details": {"coding": [{"system": ERROR_CODE_SYSTEM, "code": code}], "text": message},
                "diagnostics": message,
            }
        )
    return {"resourceType": "OperationOutcome", "issue": issues}


# ---- dates and times ----------------------------------------------------------------------------------------


def local_instant(day: date, at: time) -> str:
    """A hospital-local date and time as a FHIR dateTime with the hospital's offset (e.g. +05:30)."""
    return local_datetime(day, at).isoformat(timespec="seconds")


def utc_instant(moment: datetime | None) -> str | None:
    """A stored naive-UTC timestamp as a FHIR instant."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DateBound:
    prefix: str
    moment: datetime  # aware, hospital zone
    day_only: bool


_DATE_RE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)$")


def parse_date_param(value: str, *, element: str) -> DateBound:
    """`ge2026-11-25` or `lt2026-11-25T10:00:00+05:30` → prefix and an aware moment in hospital time."""
    match = _DATE_RE.match(value.strip())
    if not match:
        raise Invalid(f"'{value}' is not a FHIR date search value (e.g. ge2026-11-25).", element=element)
    prefix, text = match.group(1) or "eq", match.group(2)
    if prefix in ("ne", "sa", "eb"):
        raise Invalid(f"The prefix '{prefix}' is not supported here; use eq, gt, ge, lt or le.", element=element)
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            moment = datetime.combine(date.fromisoformat(text), time(0))
    except ValueError:
        raise Invalid(f"'{value}' is not a valid date.", element=element) from None
    if not 1900 <= moment.year <= 2200:
        raise Invalid("Dates must lie between 1900 and 2200.", element=element)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=hospital_tz())
    return DateBound(prefix, moment.astimezone(hospital_tz()), "T" not in text)


def date_range(bounds: Iterable[DateBound]) -> tuple[date | None, date | None]:
    """The inclusive range of local dates that date bounds allow (for filtering by appointment/slot date)."""
    low: date | None = None
    high: date | None = None
    for bound in bounds:
        day = bound.moment.date()
        if bound.prefix in ("eq",) and bound.day_only:
            low, high = max(low or day, day), min(high or day, day)
        elif bound.prefix in ("ge", "gt", "eq"):
            low = max(low or day, day)
        elif bound.prefix in ("le", "lt"):
            high = min(high or day, day)
    return low, high


def matches_bounds(start: datetime, end: datetime, bounds: Iterable[DateBound]) -> bool:
    """Does the period [start, end) satisfy every bound (FHIR semantics on the period's start)?"""
    for bound in bounds:
        if bound.day_only:
            day = start.date()
            target = bound.moment.date()
            ok = {
                "eq": day == target,
                "ge": day >= target,
                "gt": day > target,
                "le": day <= target,
                "lt": day < target,
            }[bound.prefix]
        else:
            ok = {
                "eq": start == bound.moment,
                "ge": start >= bound.moment,
                "gt": start > bound.moment,
                "le": start <= bound.moment,
                "lt": start < bound.moment,
            }[bound.prefix]
        if not ok:
            return False
    return True


# ---- references and tokens ----------------------------------------------------------------------------------


def reference(resource_type: str, resource_id: Any, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def parse_reference(value: str, *, expected: str, element: str) -> str:
    """`Practitioner/7`, a full URL ending so, or a bare id → the id; another type is an error naming element."""
    parts = value.strip().rstrip("/").split("/") if isinstance(value, str) else [""]
    kind = parts[-2] if len(parts) >= 2 else expected
    if kind != expected or not _ID_RE.match(parts[-1]):
        raise Invalid(f"Expected a reference to {expected} (e.g. {expected}/1).", element=element)
    return parts[-1]


def int_id(value: str, *, resource_type: str, element: str | None = None) -> int:
    """Our ids are integers; anything else is simply not found (a read) or invalid (a search parameter)."""
    if value.isdigit() and 0 < int(value) < 2**31:
        return int(value)
    if element:
        raise Invalid(f"'{value}' is not an id of a {resource_type}.", element=element)
    raise NotFound(f"{resource_type}/{value} was not found.")


def ref_id(value: str, *, expected: str, element: str) -> int:
    """A reference search value or body reference to one of our integer ids."""
    return int_id(parse_reference(value, expected=expected, element=element), resource_type=expected, element=element)


def token_value(value: str) -> tuple[str | None, str]:
    """`system|code` or `code` → (system, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system or None, code
    return None, value


# ---- search and bundles -------------------------------------------------------------------------------------


@dataclass
class SearchRequest:
    """A search's parameters (lists, since a parameter may repeat) with paging already parsed."""

    params: dict[str, list[str]]
    page: int
    count: int
    includes: list[str]

    def one(self, name: str) -> str | None:
        values = self.params.get(name) or []
        if len(values) > 1:
            raise Invalid(f"The search parameter {name} may be given once.", element=name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for value in self.params.get(name, []) for v in [value] if v != ""]


def _positive(name: str, value: str | None, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise Invalid(f"{name} must be a whole number from 1 to {maximum}.", element=name)
    return int(value)


def _last(values: list[str]) -> str | None:
    return values[-1] if values else None


def search_request(args: Any, *, accepts: Any, resource_type: str, includes: Iterable[str] = ()) -> SearchRequest:
    """Parse query arguments; an unknown parameter or _include is refused (strict handling), never ignored."""
    params: dict[str, list[str]] = {}
    for name in args:
        if not accepts(name):
            raise Invalid(f"{resource_type} has no search parameter '{name}'.", element=name)
        params[name] = list(args.getlist(name))
        if any("\x00" in value or len(value) > MAX_PARAM_LENGTH for value in params[name]):
            raise Invalid(f"{name} must be text of at most {MAX_PARAM_LENGTH} characters.", element=name)
    allowed = set(includes)
    wanted = params.pop("_include", [])
    for include in wanted:
        if include not in allowed:
            raise Invalid(f"_include={include} is not supported; use one of {sorted(allowed)}.", element="_include")
    count = _positive("_count", _last(params.pop("_count", [])), DEFAULT_COUNT, MAX_PER_PAGE)
    page = _positive("_page", _last(params.pop("_page", [])), 1, 10**6)
    params.pop("_format", None)
    return SearchRequest(params=params, page=page, count=count, includes=wanted)


def _link(relation: str, page: int, search: SearchRequest, path: str) -> dict[str, str]:
    query = [(name, value) for name, values in search.params.items() for value in values]
    query += [("_include", include) for include in search.includes]
    query += [("_count", str(search.count)), ("_page", str(page))]
    return {"relation": relation, "url": f"{request.host_url.rstrip('/')}{path}?{urlencode(query)}"}


def bundle(
    resources: list[dict[str, Any]],
    *,
    total: int,
    search: SearchRequest,
    included: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A searchset Bundle with self/first/previous/next/last links that keep the search's parameters."""
    path = request.path
    last = max(1, -(-total // search.count))
    links = [_link("self", search.page, search, path), _link("first", 1, search, path)]
    if search.page > 1:
        links.append(_link("previous", min(search.page - 1, last), search, path))
    if search.page < last:
        links.append(_link("next", search.page + 1, search, path))
    links.append(_link("last", last, search, path))
    root = base_url()
    entries = [
        {"fullUrl": f"{root}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    seen = {(r["resourceType"], r["id"]) for r in resources}
    for resource in included or []:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            entries.append(
                {"fullUrl": f"{root}/{key[0]}/{key[1]}", "resource": resource, "search": {"mode": "include"}}
            )
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}


def page_rows(statement: Select, search: SearchRequest, *, scalars: bool = True) -> tuple[list[Any], int]:
    """One page of a statement through the one pagination helper."""
    result = paginate(statement, page=search.page, per_page=search.count, scalars=scalars)
    return result["items"], result["total"]


def gender(value: str | None) -> str:
    """Our free-text gender → FHIR administrative gender."""
    text = (value or "").strip().lower()
    if text in ("male", "m", "man"):
        return "male"
    if text in ("female", "f", "woman"):
        return "female"
    if text:
        return "other"
    return "unknown"
