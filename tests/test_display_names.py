"""A doctor is named with the title exactly once, whatever was typed or stored before."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from hms.common.names import doctor_display_name, strip_title
from tests.conftest import bearer, fresh
from tests.factories import AdminFactory, DepartmentFactory, DoctorFactory, PatientFactory
from tests.scheduling.helpers import NOW, book, doctor_with_day, notifications


def test_the_title_is_added_once_however_the_name_was_written():
    for written in ("Asha Rao", "Dr. Asha Rao", "dr asha rao", "Dr. Dr. Asha Rao", " DR.  Asha Rao"):
        assert doctor_display_name(written).lower() == "dr. asha rao"
    assert strip_title("Drishti Rao") == "Drishti Rao"  # a name that merely starts with "Dr" keeps it


def test_the_migration_strips_titles_stored_with_names(app):
    doctor_id = DoctorFactory(full_name="Asha Rao").id
    with fresh() as session:
        session.execute(text("UPDATE doctors SET full_name = 'Dr. Asha Rao' WHERE id = :id"), {"id": doctor_id})
        session.commit()
    with app.app_context():
        downgrade(revision="0001_initial")  # the old form: "Dr. Dr. Asha Rao" now
        upgrade()
    with fresh() as session:
        name = session.execute(text("SELECT full_name FROM doctors WHERE id = :id"), {"id": doctor_id}).scalar_one()
    assert name == "Asha Rao"


def test_an_admin_adding_dr_asha_rao_gets_one_title_in_every_answer_and_message(client, frozen_clock):
    frozen_clock(NOW)
    admin = bearer(AdminFactory())
    department = DepartmentFactory()
    created = client.post(
        "/api/admin/doctors",
        headers=admin,
        json={
            "username": "dr.asha",
            "email": "asha@hospital.local",
            "password": "temporary-123",
            "full_name": "Dr. Asha Rao",
            "department_id": department.id,
            "specialization": "Cardiologist",
        },
    ).get_json()
    assert (created["full_name"], created["display_name"]) == ("Asha Rao", "Dr. Asha Rao")
    doctor = doctor_with_day()
    patient = PatientFactory()
    appointment = book(client, bearer(patient.user), doctor.id).get_json()
    assert appointment["doctor_name"] == f"Dr. {doctor.full_name}"
    confirmation = notifications("booking_confirmed", patient.user_id)[0]
    assert "Dr. Dr." not in confirmation.payload["body"] and f"Dr. {doctor.full_name}" in confirmation.payload["body"]
