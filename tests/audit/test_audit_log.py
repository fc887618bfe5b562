"""The admin's audit log view: newest first, filtered, paginated, admin only, and never a 500 on bad filters."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from hms.audit.service import record
from hms.common.uow import unit_of_work
from hms.models import AuditEvent
from tests.conftest import fetch_all, fresh
from tests.factories import AdminFactory, DoctorFactory, PatientFactory


@pytest.fixture
def admin():
    return AdminFactory()


def _event(*, action: str, entity: str, actor=None, patient_id=None, at: datetime | None = None, **details) -> int:
    """Commit one audit record in its own unit of work; returns its id."""
    with fresh(), unit_of_work():
        event = record(action=action, entity=entity, entity_id=1, patient_id=patient_id, details=details, actor=actor)
        if at is not None:
            event.at = at  # set before commit: the hash is recomputed below so the chain stays valid
            from hms.audit.service import _digest

            event.hash = _digest(event)
        return event.id


def test_admin_reads_events_newest_first_with_actor_names(client, auth, admin):
    doctor = DoctorFactory()
    patient = PatientFactory()
    first = _event(action="treatment.update", entity="treatment", actor=doctor.user, patient_id=patient.id)
    second = _event(action="doctor.block", entity="doctor", actor=admin, reason="left")

    response = client.get("/api/admin/audit", headers=auth(admin))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 20
    assert [item["id"] for item in body["items"]] == [second, first]
    newest = body["items"][0]
    assert newest["actor_id"] == admin.id
    assert newest["actor_username"] == admin.username
    assert newest["actor_role"] == "admin"
    assert newest["action"] == "doctor.block"
    assert newest["entity"] == "doctor" and newest["entity_id"] == "1"
    assert newest["details"] == {"reason": "left"}
    assert set(newest) >= {"id", "at", "actor_id", "actor_username", "actor_role", "action", "entity", "entity_id"}
    assert set(newest) >= {"ip", "details", "patient_id"}
    assert body["items"][1]["patient_id"] == patient.id


def test_filters_narrow_the_log(client, auth, admin):
    doctor = DoctorFactory()
    patient = PatientFactory()
    _event(action="treatment.update", entity="treatment", actor=doctor.user, patient_id=patient.id)
    _event(action="treatment.read", entity="treatment", actor=doctor.user, patient_id=PatientFactory().id)
    _event(action="doctor.block", entity="doctor", actor=admin)
    headers = auth(admin)

    def actions(**params):
        response = client.get("/api/admin/audit", query_string=params, headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(item["action"] for item in response.get_json()["items"])

    assert actions(actor_id=doctor.user.id) == ["treatment.read", "treatment.update"]
    assert actions(action="UPDATE") == ["treatment.update"]
    assert actions(entity="doctor") == ["doctor.block"]
    assert actions(patient_id=patient.id) == ["treatment.update"]
    unfiltered = [action for action in actions(action="", entity="", actor_id="") if action != "audit.read"]
    assert unfiltered == ["doctor.block", "treatment.read", "treatment.update"]
    assert actions(action="%") == []


def test_date_filters_use_hospital_days(client, auth, admin):
    _event(action="early", entity="x", at=datetime(2026, 11, 23, 18, 0))  # 23 Nov 23:30 in Kolkata
    _event(action="late", entity="x", at=datetime(2026, 11, 23, 20, 0))  # 24 Nov 01:30 in Kolkata
    headers = auth(admin)

    def actions(**params):
        response = client.get("/api/admin/audit", query_string=params, headers=headers)
        return [item["action"] for item in response.get_json()["items"]]

    assert actions(date_from="2026-11-24") == ["late"]
    assert actions(date_to="2026-11-23") == ["early"]
    assert actions(date_from="2026-11-23", date_to="2026-11-24") == ["late", "early"]


def test_pages_are_bounded(client, auth, admin):
    for index in range(5):
        _event(action=f"a{index}", entity="x")
    body = client.get("/api/admin/audit?per_page=2&page=3", headers=auth(admin)).get_json()
    assert body["total"] == 5 and [item["action"] for item in body["items"]] == ["a0"]
    assert client.get("/api/admin/audit?per_page=101", headers=auth(admin)).status_code == 422


@pytest.mark.parametrize(
    "query",
    ["actor_id=abc", "date_from=2026-13-01", "date_from=2026-11-25&date_to=2026-11-24", "colour=red", "page=0"],
)
def test_bad_filters_are_reported_as_field_errors(client, auth, admin, query):
    response = client.get(f"/api/admin/audit?{query}", headers=auth(admin))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["fields"]


def test_only_admins_read_the_audit_log(client, auth):
    assert client.get("/api/admin/audit").status_code == 401
    assert client.get("/api/admin/audit", headers=auth(DoctorFactory().user)).status_code == 403
    assert client.get("/api/admin/audit", headers=auth(PatientFactory().user)).status_code == 403


def test_reading_the_log_is_itself_audited(client, auth, admin):
    client.get("/api/admin/audit?action=doctor", headers=auth(admin))
    rows = fetch_all(select(AuditEvent))
    assert [(row.action, row.actor_id, row.details) for row in rows] == [
        ("audit.read", admin.id, {"action": "doctor", "page": 1})
    ]
