"""The skeleton itself: migrations create the schema, the database enforces the slot rule, errors are JSON."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy.exc import IntegrityError

from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory


def test_database_refuses_two_active_appointments_on_one_slot(app):
    doctor = DoctorFactory()
    AppointmentFactory(doctor=doctor, start_time=time(9, 0))
    with pytest.raises(IntegrityError):
        AppointmentFactory(doctor=doctor, start_time=time(9, 0), patient=PatientFactory())


def test_cancelled_appointment_does_not_hold_its_slot(app):
    doctor = DoctorFactory()
    AppointmentFactory(doctor=doctor, start_time=time(9, 0), status="cancelled")
    second = AppointmentFactory(doctor=doctor, start_time=time(9, 0))
    assert second.id is not None


def test_unknown_api_path_answers_json_not_html(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["info"]["title"] == "Hospital Management System API"
