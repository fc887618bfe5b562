"""Input the database would choke on (ids past INTEGER, NUL, control characters, absurd dates) is refused
by the schemas with a 404 or a 422 naming the field, and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hms.common import fields as bounded
from tests.factories import AdminFactory, DepartmentFactory, DoctorFactory, PatientFactory

BOUNDED = (bounded.Text, bounded.Line, bounded.Email, bounded.Id, bounded.Int, bounded.Number, bounded.Date)
TOO_BIG = 2**31  # one past PostgreSQL's INTEGER


@pytest.fixture
def admin_headers(auth):
    return auth(AdminFactory())


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/doctors/{TOO_BIG}"),
        ("get", f"/api/departments/{TOO_BIG}"),
        ("get", "/api/doctors/0"),
        ("get", f"/api/doctors/{2**70}/slots?date=2026-11-16"),
        ("get", f"/api/admin/exports/{2**65}"),
        ("post", f"/api/doctor/appointments/{2**63 + 1}/cancel"),
        ("delete", "/api/patient/waitlist/85060370202"),
        ("put", f"/api/admin/departments/{TOO_BIG}"),
    ],
)
def test_an_id_past_the_database_range_is_a_404_before_any_query(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_id_out_of_range_is_a_404_for_every_method_not_a_405(client, admin_headers, method):
    for path in ("/api/admin/departments/0", f"/api/admin/patients/{TOO_BIG}", "/api/admin/nothing-here"):
        response = getattr(client, method)(path, headers=admin_headers, json={})
        assert (response.status_code, response.is_json) == (404, True), (method, path)


def test_the_largest_id_the_database_holds_is_an_ordinary_not_found(client):
    response = client.get(f"/api/doctors/{2**31 - 1}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=27939790296235216031913095462912", "page"),
        ("page=10001", "page"),
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("doctor_id=-131918802726", "doctor_id"),
        ("doctor_id=2147483648", "doctor_id"),
        ("patient_id=0", "patient_id"),
        ("date_from=0222-11-16", "date_from"),
        ("date_to=2201-01-01", "date_to"),
    ],
)
def test_admin_appointment_filters_out_of_bounds_are_a_422_naming_the_field(client, admin_headers, query, field):
    response = client.get(f"/api/admin/appointments?{query}", headers=admin_headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_the_last_allowed_page_is_served_empty(client):
    DepartmentFactory()
    response = client.get("/api/departments?page=10000&per_page=100")
    assert response.status_code == 200
    assert response.get_json()["items"] == [] and response.get_json()["total"] == 1


@pytest.mark.parametrize("q", ["card\x00io", "card\nio", "card\tio", "card\rio", "card\x7fio", "card\u2028io"])
def test_a_search_with_a_control_character_is_a_422(client, admin_headers, q):
    response = client.get("/api/admin/departments", query_string={"q": q}, headers=admin_headers)
    assert response.status_code == 422
    assert "q" in response.get_json()["error"]["fields"]


def test_a_slot_query_for_a_year_outside_1900_to_2200_is_a_422(client):
    doctor = DoctorFactory()
    response = client.get(f"/api/doctors/{doctor.id}/slots?date=0222-11-16")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["date"] == ["Use a date between 1900-01-01 and 2200-12-31."]
    assert client.get(f"/api/doctors/{doctor.id}/slots?date=2200-12-31").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Ravi\nMenon"),
        ("full_name", "Ravi\x00Menon"),
        ("phone", "+91 98450\t12345"),
        ("username", "ravi.m\r"),
        ("address", "12 MG Road\x00"),
        ("address", "12 MG Road \ud800"),
        ("email", "ravi\u2028@example.org"),
        ("date_of_birth", "1899-12-31"),
        ("height_cm", 300.1),
    ],
)
def test_a_patient_with_a_bad_character_or_bound_is_refused_and_not_created(client, admin_headers, field, value):
    payload = {
        "username": "ravi.m",
        "email": "ravi@example.org",
        "password": "long-enough-1",
        "full_name": "Ravi Menon",
        field: value,
    }
    response = client.post("/api/admin/patients", headers=admin_headers, json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    listed = client.get("/api/admin/patients", query_string={"q": "ravi"}, headers=admin_headers).get_json()
    assert listed["total"] == 0


def test_free_text_keeps_its_line_breaks(client, auth):
    patient = PatientFactory()
    headers = auth(patient.user)
    response = client.put(
        "/api/patient/profile", headers=headers, json={"address": "12 MG Road\nBengaluru", "allergies": "a\r\nb\tc"}
    )
    assert response.status_code == 200
    profile = client.get("/api/patient/profile", headers=headers).get_json()
    assert profile["address"] == "12 MG Road\nBengaluru" and profile["allergies"] == "a\r\nb\tc"


def test_a_calendar_token_with_a_control_character_matches_nothing(client):
    response = client.get("/api/calendar/abc%00def.ics")
    assert response.status_code == 404
    assert response.is_json


def test_timestamps_carry_their_zone(client, admin_headers):
    created = client.post(
        "/api/admin/patients",
        headers=admin_headers,
        json={"username": "ravi.m", "email": "ravi@example.org", "password": "long-enough-1", "full_name": "Ravi"},
    )
    assert created.status_code == 201
    read = client.get(f"/api/admin/patients/{created.get_json()['id']}", headers=admin_headers).get_json()
    assert read["created_at"].endswith("Z")
    assert datetime.fromisoformat(read["created_at"]).utcoffset() == timedelta(0)


def test_the_openapi_document_publishes_bounds_as_numbers(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    fee = schemas["DoctorCreate"]["properties"]["consultation_fee"]
    assert fee["maximum"] == 10_000_000 and isinstance(fee["maximum"], int | float)
    assert schemas["DoctorCreate"]["properties"]["department_id"]["maximum"] == 2**31 - 1


def _request_schemas(app) -> set[type]:
    found: set[type] = set()
    for blueprint in app.blueprints.values():
        for endpoint in getattr(blueprint, "_docs", {}).values():
            for method, doc in endpoint.items():
                if method != "parameters":
                    found |= {p["schema"] for p in doc.get("arguments", {}).get("parameters", [])}
    return found


def _choice(field, fields, validate) -> bool:
    """A field whose values are a closed set (booleans, HH:MM, one-of strings) needs no other bound."""
    if isinstance(field, fields.Boolean | fields.Time):
        return True
    return isinstance(field, fields.String) and any(isinstance(v, validate.OneOf) for v in field.validators)


def _unbounded(schema: type, seen: set[type]) -> list[str]:
    """Request fields that do not come from hms.common.fields (or a fixed list of choices)."""
    from marshmallow import fields, validate

    if schema in seen:
        return []
    seen.add(schema)
    problems = []
    for name, field in schema().fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        where = f"{schema.__name__}.{name}"
        if isinstance(inner, fields.Nested):
            problems += _unbounded(type(inner.schema), seen)
        elif not isinstance(inner, BOUNDED) and not _choice(inner, fields, validate):
            problems.append(f"{where}: {type(inner).__name__}")
    return problems


def test_every_request_field_is_one_of_the_bounded_types(app):
    seen: set[type] = set()
    problems = [p for schema in _request_schemas(app) for p in _unbounded(schema, seen)]
    assert len(seen) > 30
    assert problems == []


def test_a_department_name_repeated_with_non_ascii_capitals_is_a_409_not_a_500(client, admin_headers):
    """Found by schemathesis: SQLite's lower() folds only ASCII, so the name check missed the twin."""
    first = client.post("/api/admin/departments", headers=admin_headers, json={"name": "ÅRHUS Ünit"})
    assert first.status_code == 201
    second = client.post("/api/admin/departments", headers=admin_headers, json={"name": "ÅRHUS Ünit"})
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "duplicate"
    names = [d["name"] for d in client.get("/api/admin/departments", headers=admin_headers).get_json()["items"]]
    assert names.count("ÅRHUS Ünit") == 1
