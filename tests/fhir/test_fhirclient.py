"""A real FHIR client library (fhirclient, SMART on FHIR's Python client, with its own R4 models) drives the API on
a real server (gunicorn on loopback): read the CapabilityStatement, search free slots, book, read back, cancel."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import requests
from fhirclient import client as fhir_client
from fhirclient.models.appointment import Appointment
from fhirclient.models.slot import Slot

from hms.common.clock import today_local
from tests.factories import PASSWORD, AvailabilityFactory, DoctorFactory, PatientFactory

pytestmark = pytest.mark.slow


def _smart(base: str, username: str) -> fhir_client.FHIRClient:
    token = requests.post(f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert token.status_code == 200, token.text
    smart = fhir_client.FHIRClient(settings={"app_id": "hms-tests", "api_base": f"{base}/fhir/"})
    smart.server.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return smart


def test_fhirclient_searches_free_slots_books_one_reads_it_back_and_cancels_it(server):
    tomorrow = today_local() + timedelta(days=1)
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=tomorrow, start_time=time(9), end_time=time(10))
    patient = PatientFactory()
    smart = _smart(server, patient.user.username)
    smart.prepare()
    assert smart.server.capabilityStatement.fhirVersion == "4.0.1"

    search = Slot.where(struct={"schedule": f"Schedule/{doctor.id}", "status": "free", "start": f"ge{tomorrow}"})
    slots = search.perform_resources(smart.server)
    assert [s.start.isostring for s in slots] == [f"{tomorrow}T09:00:00+05:30", f"{tomorrow}T09:30:00+05:30"]

    wanted = Appointment(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slots[1].id}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient.id}"}, "status": "accepted"}],
            "description": "Annual check-up",
        }
    )
    created = wanted.create(smart.server)
    booked = Appointment.read(created["id"], smart.server)
    assert booked.status == "booked"
    assert booked.start.isostring == f"{tomorrow}T09:30:00+05:30"
    assert [p.actor.reference for p in booked.participant] == [f"Patient/{patient.id}", f"Practitioner/{doctor.id}"]
    free = Slot.where(struct={"schedule": f"Schedule/{doctor.id}", "status": "free", "start": f"ge{tomorrow}"})
    assert [s.id for s in free.perform_resources(smart.server)] == [slots[0].id]

    booked.status = "cancelled"
    booked.update(smart.server)
    assert Appointment.read(created["id"], smart.server).status == "cancelled"
    free = Slot.where(struct={"schedule": f"Schedule/{doctor.id}", "status": "free", "start": f"ge{tomorrow}"})
    assert [s.id for s in free.perform_resources(smart.server)] == [slots[0].id, slots[1].id]
