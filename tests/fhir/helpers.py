"""Shared by the FHIR tests: every resource the API returns is validated against the R4B models of fhir.resources."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Validate a resource (and, for a Bundle, each entry's resource) with the R4B models; return it."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        validate(entry["resource"])
    return resource


def fhir(response, status: int = 200) -> dict[str, Any]:
    """The validated FHIR body of a response that must have this status and the FHIR content type."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    return validate(response.get_json())


def outcome(response, status: int) -> dict[str, Any]:
    """An error answer: an OperationOutcome with the status; returns its first issue."""
    body = fhir(response, status)
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]


def error_code(issue: dict[str, Any]) -> str:
    return issue["details"]["coding"][0]["code"]


def ids(bundle: dict[str, Any], resource_type: str | None = None) -> list[str]:
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if resource_type is None or e["resource"]["resourceType"] == resource_type
    ]
