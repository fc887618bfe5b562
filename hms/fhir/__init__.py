"""FHIR R4 interface (SPEC §12) over the same data, access rules, booking service and audit as the JSON API."""
