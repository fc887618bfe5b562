"""GET /fhir/metadata, Patient, Practitioner, PractitionerRole, Schedule and Slot: shapes, search, access, errors."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import event, select

from hms.extensions import db
from hms.fhir.registry import RESOURCES
from hms.models import AuditEvent
from tests.conftest import bearer, fetch_all, fresh
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory
from tests.fhir.helpers import error_code, fhir, ids, outcome

DAY = date(2026, 11, 25)
NOW = "2026-11-24 08:00"


def test_metadata_is_a_capability_statement_listing_every_registered_type_and_its_parameters(client):
    statement = fhir(client.get("/fhir/metadata"))
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(listed) == set(RESOURCES)
    assert {"Patient", "Practitioner", "PractitionerRole", "Schedule", "Slot", "Appointment"} <= set(listed)
    assert {p["name"] for p in listed["Slot"]["searchParam"]} == {"schedule", "start", "status", "specialty"}
    assert {i["code"] for i in listed["Appointment"]["interaction"]} == {
        "read",
        "search-type",
        "create",
        "update",
        "patch",
    }
    assert [o["name"] for o in listed["Appointment"]["operation"]] == ["find"]
    assert {i["code"] for i in listed["Patient"]["interaction"]} == {"read", "search-type"}


def test_every_declared_search_parameter_is_accepted_and_an_undeclared_one_is_refused(client):
    headers = bearer(AdminFactory())
    statement = client.get("/fhir/metadata").get_json()
    samples = {"reference": "1", "token": "1", "string": "a", "date": "ge2026-11-25"}
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] in ("Condition", "MedicationRequest"):
            continue  # clinical content: admins are refused (tested with the clinical resources)
        for param in resource["searchParam"]:
            value = "booked" if (resource["type"], param["name"]) == ("Appointment", "status") else None
            value = "free" if (resource["type"], param["name"]) == ("Slot", "status") else value
            value = "true" if param["name"] == "active" else value
            url = f"/fhir/{resource['type']}?{param['name']}={value or samples[param['type']]}"
            assert client.get(url, headers=headers).status_code == 200, url
    issue = outcome(client.get("/fhir/Patient?colour=blue", headers=headers), 400)
    assert issue["expression"] == ["colour"]


def test_fhir_routes_without_a_token_answer_401_operation_outcome(client):
    for url in ("/fhir/Patient", "/fhir/Slot", "/fhir/Appointment/1", "/fhir/Appointment/$find"):
        issue = outcome(client.get(url), 401)
        assert issue["code"] == "login"


def test_unknown_types_and_routes_are_404_and_unsupported_interactions_405_never_html(client):
    headers = bearer(AdminFactory())
    assert outcome(client.get("/fhir/Spaceship", headers=headers), 404)["code"] == "not-found"
    assert outcome(client.get("/fhir/Patient/1/x/y", headers=headers), 404)["code"] == "not-found"
    issue = outcome(client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers), 405)
    assert issue["code"] == "not-supported"
    assert outcome(client.delete("/fhir/Patient/1", headers=headers), 405)["code"] == "not-supported"


def test_patient_maps_identifier_name_telecom_gender_birthdate_and_address(client):
    patient = PatientFactory(full_name="Ravi Kumar", gender="male", address="12 MG Road, Pune", phone="+919800000001")
    resource = fhir(client.get(f"/fhir/Patient/{patient.id}", headers=bearer(patient.user)))
    assert resource["identifier"] == [{"use": "usual", "system": "urn:hms:patient-id", "value": str(patient.id)}]
    assert resource["name"][0] == {"use": "official", "text": "Ravi Kumar", "family": "Kumar", "given": ["Ravi"]}
    assert {"system": "phone", "value": "+919800000001", "use": "mobile"} in resource["telecom"]
    assert {"system": "email", "value": patient.user.email} in resource["telecom"]
    assert resource["gender"] == "male"
    assert resource["birthDate"] == "1990-05-17"
    assert resource["address"] == [{"use": "home", "text": "12 MG Road, Pune"}]


def test_a_patient_reads_only_themself_and_a_doctor_only_their_own_patients(client):
    doctor = DoctorFactory()
    mine, stranger = PatientFactory(), PatientFactory()
    AppointmentFactory(doctor=doctor, patient=mine)
    assert outcome(client.get(f"/fhir/Patient/{stranger.id}", headers=bearer(mine.user)), 404)["code"] == "not-found"
    assert ids(fhir(client.get("/fhir/Patient", headers=bearer(mine.user)))) == [str(mine.id)]
    assert fhir(client.get(f"/fhir/Patient/{mine.id}", headers=bearer(doctor.user)))["id"] == str(mine.id)
    assert outcome(client.get(f"/fhir/Patient/{stranger.id}", headers=bearer(doctor.user)), 404)["code"] == "not-found"
    assert ids(fhir(client.get("/fhir/Patient", headers=bearer(doctor.user)))) == [str(mine.id)]
    everyone = fhir(client.get("/fhir/Patient", headers=bearer(AdminFactory())))
    assert sorted(ids(everyone)) == sorted([str(mine.id), str(stranger.id)])


def test_a_doctor_whose_only_appointment_with_a_patient_was_cancelled_cannot_read_them(client):
    doctor, patient = DoctorFactory(), PatientFactory()
    AppointmentFactory(doctor=doctor, patient=patient, status="cancelled")
    assert outcome(client.get(f"/fhir/Patient/{patient.id}", headers=bearer(doctor.user)), 404)["code"] == "not-found"


def test_patient_reads_and_searches_are_audited_with_the_patient(client):
    patient = PatientFactory()
    fhir(client.get(f"/fhir/Patient/{patient.id}", headers=bearer(patient.user)))
    fhir(client.get(f"/fhir/Patient?identifier=urn:hms:patient-id|{patient.id}", headers=bearer(patient.user)))
    events = fetch_all(select(AuditEvent).order_by(AuditEvent.id))
    assert [(e.action, e.patient_id, e.actor_id) for e in events] == [
        ("fhir.patient.read", patient.id, patient.user.id),
        ("fhir.patient.search", patient.id, patient.user.id),
    ]


def test_patient_search_by_identifier_and_name(client):
    headers = bearer(AdminFactory())
    ravi, meena = PatientFactory(full_name="Ravi Kumar"), PatientFactory(full_name="Meena Iyer")
    assert ids(fhir(client.get(f"/fhir/Patient?identifier=urn:hms:patient-id|{ravi.id}", headers=headers))) == [
        str(ravi.id)
    ]
    assert ids(fhir(client.get(f"/fhir/Patient?identifier={meena.id}", headers=headers))) == [str(meena.id)]
    assert ids(fhir(client.get(f"/fhir/Patient?identifier=urn:other|{meena.id}", headers=headers))) == []
    assert ids(fhir(client.get("/fhir/Patient?name=iyer", headers=headers))) == [str(meena.id)]


def test_searchset_pages_with_count_and_links_that_keep_the_parameters(client):
    headers = bearer(AdminFactory())
    made = [PatientFactory(full_name=f"Kumar {n}") for n in range(5)]
    first = fhir(client.get("/fhir/Patient?name=kumar&_count=2", headers=headers))
    assert first["type"] == "searchset" and first["total"] == 5
    assert ids(first) == [str(p.id) for p in made[:2]]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert set(links) == {"self", "first", "next", "last"}
    assert "name=kumar" in links["next"] and "_count=2" in links["next"] and "_page=2" in links["next"]
    last = fhir(client.get(links["last"].removeprefix("http://localhost"), headers=headers))
    assert ids(last) == [str(made[4].id)]
    assert "next" not in {link["relation"] for link in last["link"]}
    assert outcome(client.get("/fhir/Patient?_count=0", headers=headers), 400)["expression"] == ["_count"]
    assert outcome(client.get("/fhir/Patient?_count=101", headers=headers), 400)["expression"] == ["_count"]


def test_practitioner_role_and_schedule_describe_the_doctor_and_department(client):
    doctor = DoctorFactory(full_name="Dr. Asha Rao", specialization="Cardiologist", department__name="Cardiology")
    headers = bearer(PatientFactory().user)
    practitioner = fhir(client.get(f"/fhir/Practitioner/{doctor.id}", headers=headers))
    assert practitioner["name"][0]["family"] == "Rao" and practitioner["active"] is True
    assert ids(fhir(client.get("/fhir/Practitioner?name=asha", headers=headers))) == [str(doctor.id)]
    assert ids(fhir(client.get("/fhir/Practitioner?name=nobody", headers=headers))) == []
    role = fhir(client.get(f"/fhir/PractitionerRole/{doctor.id}", headers=headers))
    assert role["specialty"] == [{"text": "Cardiologist"}]
    assert role["healthcareService"][0]["display"] == "Cardiology"
    service = fhir(client.get(role["healthcareService"][0]["reference"].join(["/fhir/", ""]), headers=headers))
    assert (service["id"], service["name"]) == (str(doctor.department_id), "Cardiology")
    assert ids(fhir(client.get("/fhir/HealthcareService?name=cardio", headers=headers))) == [service["id"]]
    assert ids(fhir(client.get("/fhir/PractitionerRole?specialty=cardiology", headers=headers))) == [str(doctor.id)]
    schedule = fhir(client.get(f"/fhir/Schedule/{doctor.id}", headers=headers))
    assert schedule["actor"][0]["reference"] == f"Practitioner/{doctor.id}"
    found = fhir(client.get(f"/fhir/Schedule?actor=Practitioner/{doctor.id}", headers=headers))
    assert ids(found) == [str(doctor.id)]
    issue = outcome(client.get("/fhir/Schedule?actor=Patient/1", headers=headers), 400)
    assert issue["expression"] == ["actor"]


def test_slots_carry_the_hospital_offset_and_their_status(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory(slot_minutes=30)
    AvailabilityFactory(doctor_id=doctor.id, date=DAY, start_time=time(9), end_time=time(11))
    AppointmentFactory(doctor=doctor, date=DAY, start_time=time(9, 30), end_time=time(10))
    headers = bearer(PatientFactory().user)
    toggle = client.post(
        "/api/doctor/availability/toggle", json={"date": "2026-11-25", "start": "10:30"}, headers=bearer(doctor.user)
    )
    assert toggle.status_code == 200
    url = f"/fhir/Slot?schedule=Schedule/{doctor.id}&start=ge2026-11-25&start=le2026-11-25"
    found = fhir(client.get(url, headers=headers))
    slots = [(e["resource"]["start"], e["resource"]["end"], e["resource"]["status"]) for e in found["entry"]]
    assert slots == [
        ("2026-11-25T09:00:00+05:30", "2026-11-25T09:30:00+05:30", "free"),
        ("2026-11-25T09:30:00+05:30", "2026-11-25T10:00:00+05:30", "busy"),
        ("2026-11-25T10:00:00+05:30", "2026-11-25T10:30:00+05:30", "free"),
        ("2026-11-25T10:30:00+05:30", "2026-11-25T11:00:00+05:30", "busy-unavailable"),
    ]
    free = fhir(client.get(f"/fhir/Slot?schedule={doctor.id}&start=ge2026-11-25&status=free", headers=headers))
    assert ids(free) == [f"{doctor.id}-20261125-0900", f"{doctor.id}-20261125-1000"]
    later = fhir(client.get(f"/fhir/Slot?schedule={doctor.id}&start=gt2026-11-25T09:30:00%2B05:30", headers=headers))
    assert ids(later) == [f"{doctor.id}-20261125-1000", f"{doctor.id}-20261125-1030"]
    one = fhir(client.get(f"/fhir/Slot/{doctor.id}-20261125-0900", headers=headers))
    assert one["schedule"] == {"reference": f"Schedule/{doctor.id}"} and one["status"] == "free"
    assert outcome(client.get(f"/fhir/Slot/{doctor.id}-20261125-0915", headers=headers), 404)["code"] == "not-found"
    assert outcome(client.get("/fhir/Slot/garbage", headers=headers), 404)["code"] == "not-found"


def test_a_blocked_doctor_offers_no_slots(client, frozen_clock):
    frozen_clock(NOW)
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=DAY, start_time=time(9), end_time=time(10))
    assert client.post(f"/api/admin/doctors/{doctor.id}/block", headers=bearer(AdminFactory())).status_code == 200
    found = fhir(client.get(f"/fhir/Slot?schedule={doctor.id}&start=2026-11-25", headers=bearer(PatientFactory().user)))
    assert found["total"] == 0


@pytest.mark.parametrize(
    ("query", "status", "element", "code"),
    [
        ("start=gx2026-11-25", 400, "start", "invalid_fhir"),
        ("start=2026-13-45", 400, "start", "invalid_fhir"),
        ("status=open", 400, "status", "invalid_fhir"),
        ("schedule=Patient/3", 400, "schedule", "invalid_fhir"),
        ("start=ge2026-11-01&start=le2026-12-31", 422, "start", "too_costly"),
        ("start=ge0001-01-01T00:00:00Z", 400, "start", "invalid_fhir"),
        ("specialty=card%00io", 400, "specialty", "invalid_fhir"),
    ],
)
def test_malformed_slot_searches_name_the_parameter(client, frozen_clock, query, status, element, code):
    frozen_clock(NOW)
    issue = outcome(client.get(f"/fhir/Slot?{query}", headers=bearer(PatientFactory().user)), status)
    assert issue["expression"] == [element]
    assert error_code(issue) == code


def test_text_parameters_with_nul_are_refused_before_reaching_the_database(client):
    headers = bearer(AdminFactory())
    for url in ("/fhir/Patient?name=ra%00vi", "/fhir/Practitioner?name=a%00", "/fhir/PractitionerRole?specialty=%00"):
        assert outcome(client.get(url, headers=headers), 400)["code"] == "invalid", url


def _statements_of(client, url: str, headers: dict) -> int:
    seen: list[str] = []

    def _listener(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with fresh():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _listener)
    try:
        fhir(client.get(url, headers=headers))
    finally:
        event.remove(engine, "before_cursor_execute", _listener)
    return len(seen)


def test_a_slot_search_over_every_doctor_costs_the_same_statements_for_two_doctors_or_eight(client, frozen_clock):
    frozen_clock(NOW)
    headers = bearer(PatientFactory().user)
    url = "/fhir/Slot?status=free&start=ge2026-11-25&start=le2026-11-27"
    for _ in range(2):
        AvailabilityFactory(doctor_id=DoctorFactory().id, date=DAY, start_time=time(9), end_time=time(10))
    few = _statements_of(client, url, headers)
    for _ in range(6):
        AvailabilityFactory(doctor_id=DoctorFactory().id, date=DAY, start_time=time(9), end_time=time(10))
    many = _statements_of(client, url, headers)
    assert many == few
    assert fhir(client.get(url, headers=headers))["total"] == 16
