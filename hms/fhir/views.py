"""HTTP endpoints under /fhir: thin views that dispatch through the registry; every answer is application/fhir+json
and every error an OperationOutcome (converted from the one error format, so the rules stay in one place)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request
from flask_jwt_extended import current_user

from hms.common.auth import roles_required
from hms.common.clock import now_utc
from hms.common.downloads import file_response
from hms.fhir import (  # noqa: F401  (importing a mapping module registers its resource type)
    appointment,
    bulk,
    condition,
    encounter,
    healthcare_service,
    medication_request,
    patient,
    practitioner,
    practitioner_role,
    schedule,
    slot,
)
from hms.fhir.common import FHIR_JSON, FHIR_NDJSON, Invalid, base_url, fhir_response, operation_outcome, search_request
from hms.fhir.registry import (
    COMMON_SEARCH,
    RESOURCES,
    ResourceType,
    capability_statement,
)

blp = Blueprint("fhir", __name__, url_prefix="/fhir")


def _type(type_name: str) -> ResourceType:
    resource = RESOURCES.get(type_name)
    if resource is None:
        raise Invalid(
            f"The resource type {type_name} is not supported here.", element=type_name, code="not_found", status=404
        )
    return resource


def _unsupported(type_name: str, interaction: str) -> Invalid:
    return Invalid(f"{type_name} does not support {interaction}.", element=type_name, code="not_supported", status=405)


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid("The body must be JSON (application/fhir+json).", element="body")
    return body


@blp.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement, generated from the registry (public, as FHIR clients expect)."""
    return fhir_response(capability_statement(base_url=base_url(), date=now_utc().date().isoformat()))


@blp.get("/$export")
@roles_required("admin")
def export() -> Response:
    """Start a bulk export; 202 with Content-Location to poll."""
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise Invalid("Bulk export is asynchronous: send Prefer: respond-async.", element="Prefer")
    job = bulk.start(
        user=current_user,
        types=request.args.get("_type"),
        output_format=request.args.get("_outputFormat"),
        since=request.args.get("_since"),
    )
    location = f"{base_url()}/$export-poll-status/{job.id}"
    return Response(status=202, headers={"Content-Location": location})


@blp.get("/$export-poll-status/<int:job_id>")
@roles_required("admin")
def export_status(job_id: int) -> Response:
    """202 with X-Progress while the job runs; the manifest (application/json) when it is done."""
    manifest = bulk.manifest(user=current_user, job_id=job_id, base_url=base_url(), request_url=request.url)
    if manifest is None:
        return Response(status=202, headers={"X-Progress": "in progress", "Retry-After": "2"})
    return Response(json.dumps(manifest), status=200, mimetype="application/json", headers={"Expires": "0"})


@blp.get("/$export-file/<int:job_id>/<resource_type>.ndjson")
@roles_required("admin")
def export_file(job_id: int, resource_type: str) -> Response:
    """One NDJSON file of the caller's own finished export (audited)."""
    path = bulk.file(user=current_user, job_id=job_id, resource_type=resource_type)
    return file_response(_chunks(path), mimetype=FHIR_NDJSON, filename=f"{resource_type}.ndjson")


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(64 * 1024):
            yield chunk


@blp.get("/Appointment/$find")
@roles_required()
def find() -> Response:
    """Free slots for a practitioner or specialty in a period."""
    names = {p.name for p in slot.FIND_PARAMS}
    search = search_request(
        request.args, accepts=lambda name: name in names or name in COMMON_SEARCH, resource_type="Appointment/$find"
    )
    return fhir_response(slot.find(user=current_user, search=search))


@blp.get("/<type_name>")
@roles_required()
def search_type(type_name: str) -> Response:
    resource = _type(type_name)
    search = search_request(request.args, accepts=resource.accepts, resource_type=type_name, includes=resource.includes)
    return fhir_response(resource.search(user=current_user, search=search))


@blp.get("/<type_name>/<resource_id>")
@roles_required()
def read(type_name: str, resource_id: str) -> Response:
    return fhir_response(_type(type_name).read(user=current_user, resource_id=resource_id))


@blp.post("/<type_name>")
@roles_required()
def create(type_name: str) -> Response:
    resource = _type(type_name)
    if resource.create is None:
        raise _unsupported(type_name, "create")
    created = resource.create(user=current_user, body=_body())
    location = f"{base_url()}/{type_name}/{created['id']}"
    return fhir_response(created, 201, headers={"Location": location})


@blp.put("/<type_name>/<resource_id>")
@roles_required()
def update(type_name: str, resource_id: str) -> Response:
    resource = _type(type_name)
    if resource.update is None:
        raise _unsupported(type_name, "update")
    return fhir_response(resource.update(user=current_user, resource_id=resource_id, body=_body()))


@blp.patch("/<type_name>/<resource_id>")
@roles_required()
def patch(type_name: str, resource_id: str) -> Response:
    resource = _type(type_name)
    if resource.patch is None:
        raise _unsupported(type_name, "patch")
    return fhir_response(resource.patch(user=current_user, resource_id=resource_id, body=_body()))


@blp.after_app_request
def as_fhir(response: Response) -> Response:
    """Under /fhir, the API's JSON errors (domain, token, routing, 500) leave as OperationOutcome, never HTML."""
    if not (request.path == "/fhir" or request.path.startswith("/fhir/")):
        return response
    if response.mimetype in ("application/json", "text/html") and response.status_code >= 400:
        data = response.get_json(silent=True) if response.mimetype == "application/json" else None
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            body = operation_outcome(
                response.status_code, str(error.get("code")), str(error.get("message")), error.get("fields") or {}
            )
        else:
            body = operation_outcome(response.status_code, "error", response.status)
        response.set_data(json.dumps(body, ensure_ascii=False))
        response.mimetype = FHIR_JSON
    elif response.mimetype == "application/json" and request.endpoint != "fhir.export_status":
        response.mimetype = FHIR_JSON
    return response
