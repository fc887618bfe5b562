"""Every FHIR route tried without a token (401), with each role (the expected status) and by a user who must
change their password first (403), like the JSON API's access tests."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.conftest import bearer
from tests.factories import (
    AdminFactory,
    AppointmentFactory,
    AvailabilityFactory,
    DoctorFactory,
    PatientFactory,
    TreatmentFactory,
    UserFactory,
)
from tests.fhir.helpers import validate

NOW = "2026-11-24 08:00"
CANCEL = [{"op": "replace", "path": "/status", "value": "cancelled"}]


@pytest.fixture
def world(frozen_clock):
    """A doctor with a patient (a completed visit with treatment, and a booked appointment), and a free slot."""
    frozen_clock(NOW)
    doctor, patient = DoctorFactory(), PatientFactory()
    treatment = TreatmentFactory(
        appointment__doctor=doctor, appointment__patient=patient, appointment__date=date(2026, 11, 20)
    )
    booked = AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 26))
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 25), start_time=time(9), end_time=time(10))
    return {
        "patient": patient.user,
        "doctor": doctor.user,
        "admin": AdminFactory(),
        "stranger_doctor": DoctorFactory().user,
        "stranger_patient": PatientFactory().user,
        "ids": {
            "patient": patient.id,
            "doctor": doctor.id,
            "visit": treatment.appointment_id,
            "treatment": treatment.id,
            "booked": booked.id,
        },
    }


# (method, url template, body, {role: expected status})
ROUTES = [
    (
        "GET",
        "/fhir/Patient/{patient}",
        None,
        {"patient": 200, "doctor": 200, "admin": 200, "stranger_doctor": 404, "stranger_patient": 404},
    ),
    (
        "GET",
        "/fhir/Practitioner/{doctor}",
        None,
        {"patient": 200, "doctor": 200, "admin": 200, "stranger_patient": 200},
    ),
    ("GET", "/fhir/HealthcareService?name=a", None, {"patient": 200, "doctor": 200, "admin": 200}),
    ("GET", "/fhir/PractitionerRole/{doctor}", None, {"patient": 200, "admin": 200}),
    ("GET", "/fhir/Schedule/{doctor}", None, {"patient": 200, "doctor": 200, "admin": 200}),
    ("GET", "/fhir/Slot/{doctor}-20261125-0900", None, {"patient": 200, "doctor": 200, "admin": 200}),
    (
        "GET",
        "/fhir/Appointment/{booked}",
        None,
        {"patient": 200, "doctor": 200, "admin": 200, "stranger_doctor": 404, "stranger_patient": 404},
    ),
    ("GET", "/fhir/Appointment/$find", None, {"patient": 200, "doctor": 200, "admin": 200}),
    (
        "GET",
        "/fhir/Encounter/{visit}",
        None,
        {"patient": 200, "doctor": 200, "admin": 200, "stranger_doctor": 404, "stranger_patient": 404},
    ),
    (
        "GET",
        "/fhir/Condition/{treatment}",
        None,
        {"patient": 200, "doctor": 200, "admin": 403, "stranger_doctor": 404, "stranger_patient": 404},
    ),
    (
        "GET",
        "/fhir/MedicationRequest/{treatment}-1",
        None,
        {"patient": 200, "doctor": 200, "admin": 403, "stranger_doctor": 404, "stranger_patient": 404},
    ),
    ("GET", "/fhir/Condition", None, {"patient": 200, "doctor": 200, "admin": 403}),
    (
        "POST",
        "/fhir/Appointment",
        {"resourceType": "Appointment", "slot": [{"reference": "Slot/{doctor}-20261125-0900"}]},
        {"doctor": 403, "admin": 403, "stranger_patient": 201},
    ),
    ("PATCH", "/fhir/Appointment/{booked}", CANCEL, {"stranger_doctor": 404, "stranger_patient": 404, "doctor": 200}),
    ("GET", "/fhir/$export", None, {"patient": 403, "doctor": 403, "admin": 202}),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "url", "body", "expected"), ROUTES, ids=[f"{m} {u}" for m, u, _b, _e in ROUTES])
def test_fhir_route_access(client, world, method, url, body, expected):
    url, body = _fill(url, world["ids"]), _fill(body, world["ids"])
    headers = {"Prefer": "respond-async"}
    unauthenticated = client.open(url, method=method, json=body, headers=headers)
    assert unauthenticated.status_code == 401
    assert validate(unauthenticated.get_json())["resourceType"] == "OperationOutcome"
    must_change = UserFactory(role="patient", must_change_password=True)
    assert client.open(url, method=method, json=body, headers={**headers, **bearer(must_change)}).status_code == 403
    for role, status in expected.items():
        response = client.open(url, method=method, json=body, headers={**headers, **bearer(world[role])})
        assert response.status_code == status, (role, response.get_data(as_text=True))
        if response.get_data():
            assert response.mimetype == "application/fhir+json"
            validate(response.get_json())
