"""Appointments over FHIR: the same booking service, rules, race-proof index and access as the JSON API."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, time

import pytest
from sqlalchemy import select

from hms.models import AuditEvent
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.fhir.helpers import error_code, fhir, ids, outcome, validate
from tests.races import at_once

DAY = date(2026, 11, 25)
NOW = "2026-11-24 08:00"


def doctor_with_day(**fields):
    doctor = DoctorFactory(**fields)
    AvailabilityFactory(doctor_id=doctor.id, date=DAY, start_time=time(9), end_time=time(11))
    return doctor


def by_slot(slot_id: str, reason: str = "Chest pain") -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "description": reason,
    }


def test_booking_a_slot_over_fhir_is_seen_by_the_json_api_and_frees_nothing_else(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = doctor_with_day(), PatientFactory()
    headers = bearer(patient.user)
    response = client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261125-0930"), headers=headers)
    created = fhir(response, 201)
    assert response.headers["Location"] == f"http://localhost/fhir/Appointment/{created['id']}"
    assert created["status"] == "booked"
    assert created["start"] == "2026-11-25T09:30:00+05:30" and created["end"] == "2026-11-25T10:00:00+05:30"
    assert created["slot"] == [{"reference": f"Slot/{doctor.id}-20261125-0930"}]
    actors = [p["actor"]["reference"] for p in created["participant"]]
    assert actors == [f"Patient/{patient.id}", f"Practitioner/{doctor.id}"]
    mine = client.get("/api/patient/appointments", headers=headers).get_json()["items"]
    assert [(a["id"], a["start_time"], a["reason"], a["status"]) for a in mine] == [
        (int(created["id"]), "09:30", "Chest pain", "booked")
    ]
    slots = client.get(f"/api/doctors/{doctor.id}/slots?date=2026-11-25").get_json()["slots"]
    assert [s["start"] for s in slots if not s["available"]] == ["09:30"]
    slot = fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0930", headers=headers))
    assert slot["status"] == "busy"


def test_booking_by_start_and_practitioner_picks_the_same_slot(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = doctor_with_day(), PatientFactory()
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-11-25T04:30:00Z",
        "participant": [
            {"actor": {"reference": f"Patient/{patient.id}"}},
            {"actor": {"reference": f"Practitioner/{doctor.id}"}},
        ],
        "reasonCode": [{"text": "Follow-up"}],
    }
    created = fhir(client.post("/fhir/Appointment", json=body, headers=bearer(patient.user)), 201)
    assert created["start"] == "2026-11-25T10:00:00+05:30"
    assert created["description"] == "Follow-up"


def test_an_appointment_booked_through_the_json_api_reads_back_over_fhir(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = doctor_with_day(specialization="Cardiologist"), PatientFactory()
    booked = client.post(
        "/api/patient/appointments",
        json={"doctor_id": doctor.id, "date": "2026-11-25", "start_time": "10:30", "reason": "Palpitations"},
        headers=bearer(patient.user),
    ).get_json()
    for user in (patient.user, doctor.user, AdminFactory()):
        resource = fhir(client.get(f"/fhir/Appointment/{booked['id']}", headers=bearer(user)))
        assert resource["start"] == "2026-11-25T10:30:00+05:30"
        assert resource["description"] == "Palpitations"
        assert resource["specialty"] == [{"text": "Cardiologist"}]


def test_a_taken_slot_is_a_409_operation_outcome_and_the_first_booking_stays(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    first, second = PatientFactory(), PatientFactory()
    slot = f"{doctor.id}-20261125-0900"
    fhir(client.post("/fhir/Appointment", json=by_slot(slot), headers=bearer(first.user)), 201)
    issue = outcome(client.post("/fhir/Appointment", json=by_slot(slot), headers=bearer(second.user)), 409)
    assert issue["code"] == "conflict" and error_code(issue) == "slot_taken"
    assert client.get("/api/patient/appointments", headers=bearer(second.user)).get_json()["total"] == 0


def test_the_json_api_rules_hold_over_fhir_past_slot_and_horizon(client, frozen_clock):
    frozen_clock("2026-11-25 09:45")
    doctor, patient = doctor_with_day(), PatientFactory()
    issue = outcome(
        client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261125-0930"), headers=bearer(patient.user)), 409
    )
    assert error_code(issue) == "slot_in_past"
    issue = outcome(
        client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261125-1015"), headers=bearer(patient.user)), 409
    )
    assert error_code(issue) == "slot_unavailable"
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 12, 20), start_time=time(9), end_time=time(10))
    far = client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261220-0900"), headers=bearer(patient.user))
    assert error_code(outcome(far, 422)) == "beyond_horizon"


def test_only_a_patient_books_and_only_for_themself(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient, other = doctor_with_day(), PatientFactory(), PatientFactory()
    body = by_slot(f"{doctor.id}-20261125-0900")
    assert outcome(client.post("/fhir/Appointment", json=body, headers=bearer(doctor.user)), 403)["code"] == "forbidden"
    assert (
        outcome(client.post("/fhir/Appointment", json=body, headers=bearer(AdminFactory())), 403)["code"] == "forbidden"
    )
    body["participant"] = [{"actor": {"reference": f"Patient/{other.id}"}}]
    assert (
        outcome(client.post("/fhir/Appointment", json=body, headers=bearer(patient.user)), 403)["code"] == "forbidden"
    )
    assert fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0900", headers=bearer(patient.user)))["status"] == "free"


@pytest.mark.parametrize(
    ("body", "element"),
    [
        ({"resourceType": "Patient"}, "Appointment.resourceType"),
        ({"resourceType": "Appointment"}, "Appointment.slot"),
        ({"resourceType": "Appointment", "slot": [{"reference": "Slot/nonsense"}]}, "Appointment.slot[0].reference"),
        ({"resourceType": "Appointment", "slot": "Slot/1-20261125-0900"}, "Appointment.slot"),
        ({"resourceType": "Appointment", "slot": [{"reference": "Patient/1"}]}, "Appointment.slot[0].reference"),
        (
            {
                "resourceType": "Appointment",
                "start": "tomorrow",
                "participant": [{"actor": {"reference": "Practitioner/1"}}],
            },
            "Appointment.start",
        ),
        (
            {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-20261125-0900"}], "description": 5},
            "Appointment.description",
        ),
        ([1, 2], "Appointment"),
    ],
)
def test_a_malformed_appointment_is_a_400_naming_the_element(client, frozen_clock, body, element):
    frozen_clock(NOW)
    doctor_with_day()
    issue = outcome(client.post("/fhir/Appointment", json=body, headers=bearer(PatientFactory().user)), 400)
    assert issue["expression"] == [element]


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post(
        "/fhir/Appointment",
        data="{nope",
        headers={**bearer(PatientFactory().user), "Content-Type": "application/fhir+json"},
    )
    assert outcome(response, 400)["expression"] == ["body"]


def _outcome_code(response) -> str | None:
    payload = validate(response.get_json())
    if payload["resourceType"] != "OperationOutcome":
        return None
    return payload["issue"][0]["details"]["coding"][0]["code"]


def _race(app, requests):
    """FHIR bookings (body, headers) sent at the same moment; (status, OperationOutcome code) of each."""
    return at_once(app, [("POST", "/fhir/Appointment", body, headers) for body, headers in requests], _outcome_code)


def test_racers_for_one_slot_over_fhir_give_one_201_and_every_other_a_409_slot_taken(app, client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patients = [PatientFactory() for _ in range(10)]
    admin = bearer(AdminFactory())
    body = by_slot(f"{doctor.id}-20261125-0900")
    results = _race(app, [(body, bearer(p.user)) for p in patients])
    assert Counter(results) == Counter({(201, None): 1, (409, "slot_taken"): 9}), results
    booked = fhir(client.get(f"/fhir/Appointment?practitioner={doctor.id}&status=booked", headers=admin))
    assert booked["total"] == 1


def test_a_fhir_and_a_json_booking_racing_for_one_slot_leave_one_appointment(app, client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    fhir_patient, json_patient = PatientFactory(), PatientFactory()
    admin = bearer(AdminFactory())
    fhir_headers, json_headers = bearer(fhir_patient.user), bearer(json_patient.user)
    doctor_id = doctor.id
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def via_fhir() -> None:
        barrier.wait()
        response = app.test_client().post(
            "/fhir/Appointment", json=by_slot(f"{doctor_id}-20261125-0900"), headers=fhir_headers
        )
        statuses["fhir"] = response.status_code

    def via_json() -> None:
        barrier.wait()
        response = app.test_client().post(
            "/api/patient/appointments",
            json={"doctor_id": doctor_id, "date": "2026-11-25", "start_time": "09:00"},
            headers=json_headers,
        )
        statuses["json"] = response.status_code

    threads = [threading.Thread(target=via_fhir), threading.Thread(target=via_json)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [201, 409]
    slot = fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0900", headers=admin))
    assert slot["status"] == "busy"


def test_cancel_by_put_frees_the_slot_and_records_who_and_why(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = doctor_with_day(), PatientFactory()
    headers = bearer(patient.user)
    created = fhir(client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261125-0900"), headers=headers), 201)
    cancelled = fhir(
        client.put(
            f"/fhir/Appointment/{created['id']}",
            json={**created, "status": "cancelled", "cancelationReason": {"text": "Feeling better"}},
            headers=headers,
        )
    )
    assert cancelled["status"] == "cancelled" and cancelled["cancelationReason"] == {"text": "Feeling better"}
    details = client.get(f"/api/patient/appointments/{created['id']}", headers=headers).get_json()
    assert (details["status"], details["cancelled_by"], details["cancel_reason"]) == (
        "cancelled",
        "patient",
        "Feeling better",
    )
    assert fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0900", headers=headers))["status"] == "free"
    again = client.put(f"/fhir/Appointment/{created['id']}", json={**created, "status": "cancelled"}, headers=headers)
    assert error_code(outcome(again, 409)) == "invalid_transition"


def test_cancel_by_json_patch_and_other_changes_are_refused(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = doctor_with_day(), PatientFactory()
    headers = bearer(patient.user)
    created = fhir(client.post("/fhir/Appointment", json=by_slot(f"{doctor.id}-20261125-0900"), headers=headers), 201)
    url = f"/fhir/Appointment/{created['id']}"
    moved = client.put(url, json={**created, "start": "2026-11-25T10:00:00+05:30"}, headers=headers)
    assert outcome(moved, 422)["expression"] == ["Appointment.status"]
    wrong_id = client.put(url, json={**created, "id": "999", "status": "cancelled"}, headers=headers)
    assert outcome(wrong_id, 400)["expression"] == ["Appointment.id"]
    bad_patch = client.patch(url, json=[{"op": "remove", "path": "/participant"}], headers=headers)
    assert outcome(bad_patch, 422)["expression"] == ["patch[0]"]
    assert fhir(client.get(url, headers=headers))["status"] == "booked"
    patched = client.patch(
        url,
        json=[{"op": "replace", "path": "/status", "value": "cancelled"}],
        headers={**headers, "Content-Type": "application/json-patch+json"},
    )
    assert fhir(patched)["status"] == "cancelled"
    assert fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0900", headers=headers))["status"] == "free"


def test_a_stranger_can_neither_read_nor_cancel_an_appointment(client, frozen_clock):
    frozen_clock(NOW)
    appointment = AppointmentFactory(date=DAY)
    other_patient, other_doctor = PatientFactory(), DoctorFactory()
    for user in (other_patient.user, other_doctor.user):
        assert (
            outcome(client.get(f"/fhir/Appointment/{appointment.id}", headers=bearer(user)), 404)["code"] == "not-found"
        )
        cancel = client.patch(
            f"/fhir/Appointment/{appointment.id}",
            json=[{"op": "replace", "path": "/status", "value": "cancelled"}],
            headers=bearer(user),
        )
        assert outcome(cancel, 404)["code"] == "not-found"
    assert (
        fhir(client.get(f"/fhir/Appointment/{appointment.id}", headers=bearer(appointment.patient.user)))["status"]
        == "booked"
    )


def test_appointment_search_by_patient_date_and_status_with_includes(client, frozen_clock):
    frozen_clock(NOW)
    doctor, patient = DoctorFactory(), PatientFactory()
    early = AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 20), status="completed")
    late = AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 26))
    gone = AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 27), status="cancelled")
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 26), start_time=time(10), end_time=time(10, 30))
    headers = bearer(patient.user)
    everything = fhir(client.get(f"/fhir/Appointment?patient=Patient/{patient.id}", headers=headers))
    assert ids(everything) == [str(early.id), str(late.id), str(gone.id)]
    upcoming = fhir(
        client.get(f"/fhir/Appointment?patient={patient.id}&date=ge2026-11-24&status=booked", headers=headers)
    )
    assert ids(upcoming) == [str(late.id)]
    statuses = fhir(client.get("/fhir/Appointment?status=fulfilled,cancelled", headers=headers))
    assert [e["resource"]["status"] for e in statuses["entry"]] == ["fulfilled", "cancelled"]
    timed = fhir(client.get("/fhir/Appointment?date=gt2026-11-26T09:00:00%2B05:30", headers=bearer(doctor.user)))
    assert len(ids(timed)) == 2 and str(late.id) not in ids(timed)
    included = fhir(
        client.get(
            f"/fhir/Appointment?_id={late.id}&_include=Appointment:patient&_include=Appointment:practitioner",
            headers=bearer(doctor.user),
        )
    )
    assert [(e["resource"]["resourceType"], e["search"]["mode"]) for e in included["entry"]] == [
        ("Appointment", "match"),
        ("Patient", "include"),
        ("Practitioner", "include"),
    ]
    issue = outcome(client.get("/fhir/Appointment?_include=Appointment:slot", headers=headers), 400)
    assert issue["expression"] == ["_include"]
    assert outcome(client.get("/fhir/Appointment?status=planned", headers=headers), 400)["expression"] == ["status"]


def test_find_returns_free_slots_of_a_practitioner_or_a_specialty_in_a_period(client, frozen_clock):
    frozen_clock(NOW)
    heart = doctor_with_day(specialization="Cardiologist")
    brain = doctor_with_day(specialization="Neurologist")
    AppointmentFactory(doctor=heart, date=DAY, start_time=time(9), end_time=time(9, 30))
    headers = bearer(PatientFactory().user)
    found = fhir(
        client.get(
            f"/fhir/Appointment/$find?practitioner=Practitioner/{heart.id}&start=2026-11-25&end=2026-11-25",
            headers=headers,
        )
    )
    assert ids(found) == [f"{heart.id}-20261125-{t}" for t in ("0930", "1000", "1030")]
    assert {e["resource"]["status"] for e in found["entry"]} == {"free"}
    neuro = fhir(
        client.get("/fhir/Appointment/$find?specialty=neuro&start=2026-11-25T10:00:00%2B05:30", headers=headers)
    )
    assert ids(neuro) == [f"{brain.id}-20261125-1000", f"{brain.id}-20261125-1030"]
    issue = outcome(client.get("/fhir/Appointment/$find?doctor=1", headers=headers), 400)
    assert issue["expression"] == ["doctor"]


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("POST", {"resourceType": "Appointment", "participant": "x"}, 400),
        ("POST", {"resourceType": "Appointment", "participant": [1]}, 400),
        ("POST", {"resourceType": "Appointment", "participant": [{"actor": "Patient/1"}]}, 400),
        ("POST", {"resourceType": "Appointment", "participant": [{"actor": {"reference": "Device/1"}}]}, 400),
        ("POST", {"resourceType": "Appointment", "slot": [{}]}, 400),
        ("POST", {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-00010101-0900"}]}, 400),
        ("POST", {"resourceType": "Appointment", "start": 5}, 400),
        (
            "POST",
            {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-20261125-0900"}], "status": "noshow"},
            422,
        ),
        (
            "POST",
            {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-20261125-0900"}], "reasonCode": [7]},
            400,
        ),
        ("POST", "a string", 400),
        ("PUT", [1], 400),
        ("PUT", {"resourceType": "Appointment", "id": "{id}", "status": "cancelled", "cancelationReason": "x"}, 400),
        (
            "PUT",
            {"resourceType": "Appointment", "id": "{id}", "status": "cancelled", "cancelationReason": {"text": 3}},
            400,
        ),
        ("PATCH", {"op": "replace"}, 400),
        ("PATCH", [], 400),
        ("PATCH", [{"op": "replace", "path": "/status", "value": "booked"}], 422),
        ("PATCH", [{"op": "replace", "path": "/cancelationReason", "value": "x"}], 400),
        ("PATCH", ["x"], 400),
    ],
)
def test_malformed_writes_are_refused_with_an_operation_outcome_and_change_nothing(
    client, frozen_clock, method, body, status
):
    frozen_clock(NOW)
    appointment = AppointmentFactory(date=DAY)
    headers = bearer(appointment.patient.user)
    if isinstance(body, dict) and body.get("id") == "{id}":
        body = {**body, "id": str(appointment.id)}
    url = "/fhir/Appointment" if method == "POST" else f"/fhir/Appointment/{appointment.id}"
    assert outcome(client.open(url, method=method, json=body, headers=headers), status)["severity"] == "error"
    assert fhir(client.get(f"/fhir/Appointment/{appointment.id}", headers=headers))["status"] == "booked"
    assert fhir(client.get("/fhir/Appointment", headers=headers))["total"] == 1


def test_included_patients_are_audited_as_read(client, frozen_clock):
    frozen_clock(NOW)
    appointment = AppointmentFactory(date=DAY)
    headers = bearer(appointment.doctor.user)
    fhir(client.get("/fhir/Appointment?_include=Appointment:patient", headers=headers))
    fhir(client.get("/fhir/Appointment?_include=Appointment:practitioner", headers=headers))
    events = fetch_all(select(AuditEvent).order_by(AuditEvent.id))
    assert [(e.action, e.patient_id, e.actor_id) for e in events] == [
        ("fhir.patient.include", appointment.patient_id, appointment.doctor.user_id)
    ]
