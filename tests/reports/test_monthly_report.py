"""Monthly doctor reports: the figures, the month's boundaries, HTML and PDF, access rules, the e-mailed copy."""

from __future__ import annotations

import re
from datetime import date, time
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from hms.models import AuditEvent, Notification
from hms.reports import pdf
from hms.reports.service import monthly_report
from tests.conftest import fetch, fetch_value, fresh
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.pdf import pdf_text, require_pdf_renderer


@pytest.fixture
def january(app):
    """A doctor's January 2026, with visits on Dec 31 and Feb 1 that must not count."""
    doctor = DoctorFactory(full_name="Dr. Meera Iyer", specialization="Cardiologist", department__name="Cardiology")
    anil, bina, chetan = PatientFactory(), PatientFactory(), PatientFactory()

    def visit(patient, day, hour, status="completed", diagnosis=None):
        appointment = AppointmentFactory(
            doctor=doctor, patient=patient, date=day, start_time=time(hour, 0), end_time=time(hour, 30), status=status
        )
        if diagnosis:
            TreatmentFactory(appointment=appointment, diagnosis=diagnosis)
        return appointment

    visit(anil, date(2026, 1, 5), 9, diagnosis="Hypertension")  # Monday
    visit(bina, date(2026, 1, 5), 10, diagnosis="Hypertension")
    visit(anil, date(2026, 1, 12), 9, diagnosis="Migraine")  # Monday
    visit(chetan, date(2026, 1, 20), 9, status="cancelled")
    visit(bina, date(2026, 1, 31), 9, status="no_show")  # Saturday
    visit(chetan, date(2026, 1, 31), 10, status="booked")
    visit(chetan, date(2025, 12, 31), 9, diagnosis="Influenza")
    visit(bina, date(2026, 2, 1), 9, diagnosis="Bronchitis")
    return doctor


def test_report_counts_the_month_by_status_patients_diagnoses_and_days(january):
    with fresh():
        report = monthly_report(doctor_id=january.id, month="2026-01")

    assert report["totals"] == {
        "appointments": 6,
        "booked": 1,
        "completed": 3,
        "cancelled": 1,
        "no_show": 1,
        "patients_seen": 2,
    }
    assert report["top_diagnoses"] == [{"diagnosis": "Hypertension", "count": 2}, {"diagnosis": "Migraine", "count": 1}]
    assert report["busiest_weekdays"][:2] == [{"weekday": "Monday", "count": 3}, {"weekday": "Saturday", "count": 2}]
    assert report["top_dates"][:2] == [
        {"date": "2026-01-05", "weekday": "Monday", "count": 2},
        {"date": "2026-01-31", "weekday": "Saturday", "count": 2},
    ]
    daily = {item["date"]: item["count"] for item in report["daily"]}
    assert len(daily) == 31
    assert daily["2026-01-31"] == 2  # the last day of the month is in the report
    assert daily["2026-01-20"] == 0  # cancelled appointments are not on the chart
    assert "2026-02-01" not in daily and "2025-12-31" not in daily


def test_doctor_views_own_report_as_html_with_an_inline_svg_chart(client, auth, january):
    response = client.get("/api/doctor/reports/monthly?month=2026-01", headers=auth(january.user))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Monthly report &middot; January 2026" in html
    assert '<div class="value" id="total-appointments">6</div>' in html
    assert '<div class="value" id="patients-seen">2</div>' in html
    assert "<svg" in html and "<script" not in html and "http://" not in html.split("<svg", 1)[1].split(">", 1)[1]
    assert "Bronchitis" not in html and "Influenza" not in html


def test_report_pdf_holds_the_months_real_figures(client, auth, january):
    require_pdf_renderer()
    response = client.get("/api/doctor/reports/monthly?month=2026-01&format=pdf", headers=auth(january.user))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.data, layout=True)
    assert "Monthly report · January 2026" in text
    assert "Dr. Meera Iyer" in text and "Cardiology" in text
    assert "2026-01-01 to 2026-01-31" in text
    assert "Hypertension" in text and "Migraine" in text
    assert "Bronchitis" not in text and "Influenza" not in text
    assert re.search(r"^\s*Completed\s+3\b", text, re.MULTILINE)  # the by-status table
    assert re.search(r"\bHypertension\s+2\b", text) and re.search(r"\bMigraine\s+1\b", text)
    assert re.search(r"Patients seen\s*\n\s*\S+\s+2\b", text)


def test_without_weasyprints_libraries_a_pdf_is_a_503_and_the_html_still_works(client, auth, january, monkeypatch):
    monkeypatch.setattr(pdf, "renderer_problem", lambda: "cannot load library 'libpango-1.0-0'")
    headers = auth(january.user)
    refused = client.get("/api/doctor/reports/monthly?month=2026-01&format=pdf", headers=headers)
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "pdf_unavailable"
    html = client.get("/api/doctor/reports/monthly?month=2026-01", headers=headers)
    assert html.status_code == 200 and html.mimetype == "text/html"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "January", "2026-00", ""])
def test_a_malformed_month_is_a_422_json_error(client, auth, january, month):
    response = client.get(f"/api/doctor/reports/monthly?month={month}", headers=auth(january.user))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert "month" in response.get_json()["error"]["fields"]


def test_admin_reads_any_doctors_report_and_the_read_is_audited(client, auth, january):
    require_pdf_renderer()
    admin = AdminFactory()
    response = client.get(
        f"/api/admin/reports/monthly?doctor_id={january.id}&month=2026-01&format=pdf", headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    event = fetch_value(select(AuditEvent).filter_by(action="report.view"))
    assert (event.actor_id, event.entity, event.entity_id) == (admin.id, "doctor", str(january.id))
    assert event.details == {"month": "2026-01", "format": "pdf"}


def test_report_access_rules(client, auth, january):
    admin = AdminFactory()
    patient = PatientFactory()
    assert client.get("/api/doctor/reports/monthly?month=2026-01").status_code == 401
    assert client.get("/api/doctor/reports/monthly?month=2026-01", headers=auth(patient.user)).status_code == 403
    assert (
        client.get("/api/admin/reports/monthly?month=2026-01&doctor_id=1", headers=auth(january.user)).status_code
        == 403
    )
    missing = client.get("/api/admin/reports/monthly?month=2026-01&doctor_id=99999", headers=auth(admin))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    no_doctor = client.get("/api/admin/reports/monthly?month=2026-01", headers=auth(admin))
    assert no_doctor.status_code == 422 and "doctor_id" in no_doctor.get_json()["error"]["fields"]


def test_on_the_first_each_active_doctor_gets_last_months_report_by_email_once(app, january, frozen_clock):
    require_pdf_renderer()
    frozen_clock("2026-02-01 06:00")
    DoctorFactory(user__is_active=False)
    tasks = app.extensions["celery"].tasks
    assert tasks["hms.reports.send_monthly_reports"]() == 1

    notification_id = tasks["hms.reports.send_monthly_report"](january.id, "2026-01")
    assert tasks["hms.reports.send_monthly_report"](january.id, "2026-01") is None  # not twice
    row = fetch(Notification, notification_id)
    assert (row.user_id, row.kind, row.channel) == (january.user_id, "monthly_report", "email")
    assert row.subject == "Your monthly report for January 2026"

    assert tasks["hms.notifications.deliver_notification"](notification_id) == "sent"
    [eml] = list(app.config["HMS"].mailbox_dir.glob(f"*-{notification_id}-monthly_report.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == january.user.email
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<div class="value" id="total-appointments">6</div>' in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"report-doctor-{january.id}-2026-01.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    eml.unlink()


def test_the_report_files_are_removed_when_its_e_mail_cannot_be_queued(app, january, frozen_clock, monkeypatch):
    from hms.reports import service

    frozen_clock("2026-02-01 06:00")

    def broken_queue(**_kwargs):
        raise RuntimeError("the outbox refused the row")

    monkeypatch.setattr(service, "queue", broken_queue)
    with pytest.raises(RuntimeError):
        app.extensions["celery"].tasks["hms.reports.send_monthly_report"](january.id, "2026-01")
    folder = app.config["HMS"].instance_path / "reports"
    assert not list(folder.glob(f"report-doctor-{january.id}-2026-01.*"))


def test_the_report_gives_the_months_invoiced_and_collected_money_of_the_doctor(client, auth, frozen_clock, january):
    admin = auth(AdminFactory())
    visits = fetch_all_january_completed(january.id)
    frozen_clock("2026-01-20 10:00")
    first = client.post("/api/admin/invoices", json={"appointment_id": visits[0]}, headers=admin).get_json()
    client.post(
        f"/api/admin/invoices/{first['id']}/payments", json={"method": "cash", "amount_minor": 30000}, headers=admin
    )
    client.post(
        f"/api/admin/invoices/{first['id']}/refunds", json={"method": "cash", "amount_minor": 5000}, headers=admin
    )
    frozen_clock("2026-02-02 10:00")  # issued in February: not January's
    client.post("/api/admin/invoices", json={"appointment_id": visits[1]}, headers=admin)
    with fresh():
        report = monthly_report(doctor_id=january.id, month="2026-01")
    assert (report["revenue"]["invoiced_minor"], report["revenue"]["collected_minor"]) == (50000, 25000)
    html = client.get("/api/doctor/reports/monthly?month=2026-01", headers=auth(january.user)).get_data(as_text=True)
    assert '<strong id="revenue-invoiced">INR 500.00</strong>' in html
    assert '<strong id="revenue-collected">INR 250.00</strong>' in html


def fetch_all_january_completed(doctor_id: int) -> list[int]:
    from hms.models import Appointment

    with fresh() as session:
        return list(
            session.execute(
                select(Appointment.id)
                .where(Appointment.doctor_id == doctor_id, Appointment.status == "completed")
                .order_by(Appointment.date)
            ).scalars()
        )
