"""Findings 3, 4 and 6: clinical text stays on audited paths; no diagnosis leaves the building; feeds are neutral."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from hms.config import Settings
from hms.models import Notification
from hms.notifications.messages import render
from tests.conftest import bearer, fresh, save
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory

SECRET = "Early-onset Huntington disease"


def audit(client, admin, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/admin/audit?per_page=100&{query}", headers=bearer(admin)).get_json()["items"]


def test_finding_3_treatment_audit_entries_name_the_changed_fields_never_their_values(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    appointment, admin = AppointmentFactory(), AdminFactory()
    url = f"/api/doctor/appointments/{appointment.id}/treatment"
    body = {"diagnosis": SECRET, "prescription": "Tetrabenazine 25 mg", "notes": "Family history of chorea"}
    assert client.put(url, json=body, headers=bearer(appointment.doctor.user)).status_code == 200
    body["diagnosis"] = SECRET + " (confirmed)"
    assert client.put(url, json=body, headers=bearer(appointment.doctor.user)).status_code == 200
    response = client.get("/api/admin/audit?action=treatment.update", headers=bearer(admin))
    assert "Huntington" not in response.get_data(as_text=True)
    assert "Tetrabenazine" not in response.get_data(as_text=True)
    changed = [entry["details"]["changed"] for entry in response.get_json()["items"]]
    assert changed == [["diagnosis"], ["diagnosis", "prescription", "notes"]]


def test_finding_3_reading_the_audit_log_is_itself_audited(client):
    admin = AdminFactory()
    client.get("/api/admin/audit?action=treatment", headers=bearer(admin))
    entries = audit(client, admin, action="audit.read")
    assert [(e["action"], e["actor_id"], e["details"].get("action")) for e in entries][-1] == (
        "audit.read",
        admin.id,
        "treatment",
    )


def test_finding_3_an_admins_patient_detail_is_audited(client):
    admin, patient = AdminFactory(), PatientFactory(medical_history="Asthma since childhood")
    assert client.get(f"/api/admin/patients/{patient.id}", headers=bearer(admin)).status_code == 200
    entries = audit(client, admin, action="patient.read")
    assert [(e["actor_id"], e["patient_id"]) for e in entries] == [(admin.id, patient.id)]


def test_finding_3_the_doctors_patient_list_is_audited(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    appointment, admin = AppointmentFactory(), AdminFactory()
    doctor = appointment.doctor
    assert client.get("/api/doctor/patients", headers=bearer(doctor.user)).status_code == 200
    entries = audit(client, admin, action="patients.list")
    assert [(e["actor_id"], e["details"]["patient_ids"]) for e in entries] == [
        (doctor.user_id, [appointment.patient_id])
    ]


def test_finding_4_the_visit_summary_says_the_summary_is_in_the_portal_without_the_diagnosis(client, frozen_clock, app):
    frozen_clock("2026-11-25 09:10")
    appointment = AppointmentFactory()
    headers = bearer(appointment.doctor.user)
    url = f"/api/doctor/appointments/{appointment.id}"
    body = {"diagnosis": SECRET, "prescription": "Tetrabenazine", "notes": "Chorea"}
    assert client.put(f"{url}/treatment", json=body, headers=headers).status_code == 200
    assert client.post(f"{url}/complete", headers=headers).status_code == 200
    with fresh() as session:
        rows = session.execute(select(Notification).where(Notification.kind == "visit_summary")).scalars().all()
        assert len(rows) == 1
        message = render(rows[0])
        everything = json.dumps(rows[0].payload) + rows[0].subject
    everything += message.text + message.html + message.chat + message.sms
    for word in ("Huntington", "Tetrabenazine", "Chorea", "Diagnosis"):
        assert word not in everything
    assert "Your visit summary is ready in the portal" in message.chat
    assert f"{app.config['HMS'].public_url}/patient/history" in message.sms


def test_finding_4_smtp_uses_starttls_by_default_for_any_remote_host(tmp_path):
    remote = Settings.from_env(instance_path=tmp_path, smtp_host="smtp.hospital.example", jwt_secret="k" * 40)
    loopback = Settings.from_env(instance_path=tmp_path, smtp_host="127.0.0.1", jwt_secret="k" * 40)
    assert (remote.smtp_tls, loopback.smtp_tls) == (True, False)


@pytest.fixture
def feed(client, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    doctor = DoctorFactory()
    patient = PatientFactory(full_name="Meenakshi Sundaram")
    AppointmentFactory(doctor=doctor, patient=patient, date=date(2026, 11, 25), reason="Lump in the breast")
    url = client.post("/api/doctor/calendar", headers=bearer(doctor.user)).get_json()["url"]
    return doctor, "/api/" + url.split("/api/", 1)[1]


def test_finding_6_the_feed_shows_times_and_a_neutral_title(client, feed):
    _doctor, path = feed
    text = client.get(path).get_data(as_text=True)
    assert "SUMMARY:Appointment" in text
    assert "DTSTART:20261125T033000Z" in text
    assert "Meenakshi" not in text and "Lump" not in text


def test_finding_6_visit_details_appear_only_when_the_setting_asks(client, feed, app, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "calendar_feed_details", True)
    _doctor, path = feed
    assert "SUMMARY:Meenakshi: Lump in the breast" in client.get(path).get_data(as_text=True)


def test_finding_6_the_feed_dies_when_its_doctor_is_blocked_and_stays_dead_after_unblock(client, feed):
    doctor, path = feed
    admin = bearer(AdminFactory())
    assert client.post(f"/api/admin/doctors/{doctor.id}/block?bookings=keep", headers=admin).status_code == 200
    assert client.get(path).status_code == 404
    assert client.post(f"/api/admin/doctors/{doctor.id}/unblock", headers=admin).status_code == 200
    assert client.get(path).status_code == 404


def test_finding_6_the_feed_dies_when_its_doctor_is_deactivated(client, feed):
    doctor, path = feed
    assert (
        client.delete(f"/api/admin/doctors/{doctor.id}?bookings=keep", headers=bearer(AdminFactory())).status_code
        == 200
    )
    assert client.get(path).status_code == 404


def test_finding_6_feed_reads_are_audited(client, feed):
    doctor, path = feed
    client.get(path)
    admin = AdminFactory()
    entries = audit(client, admin, action="calendar_feed.read")
    assert [(e["entity"], e["entity_id"], e["actor_id"]) for e in entries] == [("doctor", str(doctor.id), None)]


def test_admin_sees_messages_by_status_and_others_do_not(client):
    admin, patient = AdminFactory(), PatientFactory()
    save(
        Notification(user_id=patient.user_id, channel="email", kind="x", status="failed", error="550 no"),
        Notification(user_id=patient.user_id, channel="email", kind="y", status="sent"),
    )
    failed = client.get("/api/admin/notifications?status=failed", headers=bearer(admin)).get_json()
    assert [(item["kind"], item["error"]) for item in failed["items"]] == [("x", "550 no")]
    assert client.get("/api/admin/notifications", headers=bearer(patient.user)).status_code == 403
