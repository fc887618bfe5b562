"""The OpenAPI document at /api/openapi.json is valid OpenAPI 3 and tells a client what each operation answers."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _walk(node: Any, where: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield where, key, value
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_the_document_is_valid_openapi(client):
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_bound_in_the_document_is_a_number(client):
    document = client.get("/api/openapi.json").get_json()
    bounds = [(where, key, value) for where, key, value in _walk(document) if key in {"minimum", "maximum"}]
    assert bounds, "the document publishes no bounds at all"
    assert [b for b in bounds if not isinstance(b[2], int | float) or isinstance(b[2], bool)] == []


def test_every_operation_documents_its_success_with_content(client):
    document = client.get("/api/openapi.json").get_json()
    missing = []
    for path, method, operation in _operations(document):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        if not successes or any(code != "204" and "content" not in r for code, r in successes.items()):
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_protected_operations_document_401_and_403_with_the_error_body(client):
    document = client.get("/api/openapi.json").get_json()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    responses = document["components"]["responses"]
    for path, method, operation in _operations(document):
        if "x-roles" not in operation:
            continue
        assert operation["security"] == [{"bearerAuth": []}], (method, path)
        for status in ("401", "403"):
            ref = operation["responses"][status]["$ref"].rsplit("/", 1)[-1]
            assert responses[ref]["content"]["application/json"]["schema"] == error_body, (method, path, status)


def test_public_operations_say_they_need_no_token(client):
    document = client.get("/api/openapi.json").get_json()
    operations = {(method, path): op for path, method, op in _operations(document)}
    assert operations[("get", "/api/doctors/{doctor_id}/slots")]["security"] == []
    assert "401" not in operations[("get", "/api/doctors/{doctor_id}/slots")]["responses"]
    assert set(operations[("post", "/api/auth/login")]["responses"]) >= {"200", "401", "422", "429"}


def test_path_ids_are_documented_with_the_database_range(client):
    document = client.get("/api/openapi.json").get_json()
    parameters = document["paths"]["/api/doctors/{doctor_id}"]["parameters"]
    assert parameters[0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_the_error_body_schema_is_the_one_every_error_uses(client):
    document = client.get("/api/openapi.json").get_json()
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "fields"}
    body = client.get("/api/doctors/2147483648").get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
