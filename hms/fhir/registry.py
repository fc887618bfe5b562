"""What the FHIR API supports, declared once: the views dispatch through it, search parameters are checked
against it, and GET /fhir/metadata is generated from it, so the CapabilityStatement cannot drift."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FHIR_VERSION = "4.0.1"
# Parameters every search accepts, whatever the resource type.
COMMON_SEARCH = ("_count", "_page", "_format")


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type: token, reference, date, string
    documentation: str


@dataclass(frozen=True)
class Operation:
    name: str  # without the leading $
    documentation: str


@dataclass
class ResourceType:
    """One resource type: its handlers, and from them what the CapabilityStatement says."""

    name: str
    documentation: str
    read: Callable[..., dict[str, Any]]
    search: Callable[..., Any]
    search_params: tuple[SearchParam, ...] = ()
    includes: tuple[str, ...] = ()
    create: Callable[..., dict[str, Any]] | None = None
    update: Callable[..., dict[str, Any]] | None = None
    patch: Callable[..., dict[str, Any]] | None = None
    operations: dict[str, Operation] = field(default_factory=dict)

    @property
    def interactions(self) -> list[str]:
        names = ["read", "search-type"]
        names += [name for name in ("create", "update", "patch") if getattr(self, name) is not None]
        return names

    def accepts(self, parameter: str) -> bool:
        base = parameter.split(":", 1)[0]
        return base in COMMON_SEARCH or base == "_include" or any(p.name == base for p in self.search_params)


RESOURCES: dict[str, ResourceType] = {}
SYSTEM_OPERATIONS: dict[str, Operation] = {}


def register(resource: ResourceType) -> ResourceType:
    """Add a resource type to the API (each mapping module registers itself when imported)."""
    RESOURCES[resource.name] = resource
    return resource


def register_system_operation(operation: Operation) -> Operation:
    SYSTEM_OPERATIONS[operation.name] = operation
    return operation


def capability_statement(*, base_url: str, date: str) -> dict[str, Any]:
    """The CapabilityStatement of this server, built from the registry."""
    resources = []
    for name in sorted(RESOURCES):
        resource = RESOURCES[name]
        entry: dict[str, Any] = {
            "type": name,
            "documentation": resource.documentation,
            "interaction": [{"code": code} for code in resource.interactions],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation} for p in resource.search_params
            ],
        }
        if resource.includes:
            entry["searchInclude"] = list(resource.includes)
        if resource.operations:
            entry["operation"] = [
                {"name": op.name, "definition": f"{base_url}/OperationDefinition/{name}-{op.name}"}
                for op in resource.operations.values()
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Hospital Management System",
        "kind": "instance",
        "software": {"name": "Hospital Management System"},
        "implementation": {"description": "HMS FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": "Bearer JWT from POST /api/auth/login; the same roles and ownership rules "
                    "as the JSON API.",
                },
                "resource": resources,
                "operation": [
                    {"name": op.name, "definition": f"{base_url}/OperationDefinition/{op.name}"}
                    for op in SYSTEM_OPERATIONS.values()
                ],
            }
        ],
    }
