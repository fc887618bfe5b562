"""Billing rules from the user's side: invoices of completed visits, numbering, payments, refunds, void, access."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from hms.models import AuditEvent, Invoice, InvoiceCounter, InvoicePayment, User
from tests.conftest import bearer, fetch_all, fetch_value, fresh
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory
from tests.pdf import pdf_text, require_pdf_renderer

NOW = "2026-11-25 11:00"


@pytest.fixture
def tax(app):
    """Set the configured tax rate for one test (the session's app is shared)."""
    settings = app.config["HMS"]
    before = settings.invoice_tax_percent

    def _set(percent: str) -> None:
        settings.invoice_tax_percent = Decimal(percent)

    yield _set
    settings.invoice_tax_percent = before


@pytest.fixture
def admin():
    return bearer(AdminFactory())


def _visit(**kwargs):
    return AppointmentFactory(status="completed", **kwargs)


def _invoice(client, admin, appointment_id: int, lines=None):
    response = client.post(
        "/api/admin/invoices", json={"appointment_id": appointment_id, "lines": lines or []}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _pay(client, admin, invoice_id: int, amount: int, method="cash", kind="payments", reference=None):
    body = {"method": method, "amount_minor": amount}
    if reference:
        body["reference"] = reference
    return client.post(f"/api/admin/invoices/{invoice_id}/{kind}", json=body, headers=admin)


def test_an_invoice_bills_the_consultation_fee_extra_lines_and_tax_in_minor_units(client, admin, tax, frozen_clock):
    frozen_clock(NOW)
    tax("18")
    visit = _visit()
    body = _invoice(
        client, admin, visit.id, [{"kind": "test", "description": "ECG", "unit_minor": 17500, "quantity": 2}]
    )
    assert [(line["kind"], line["amount_minor"]) for line in body["lines"]] == [
        ("consultation", 50000),
        ("test", 35000),
    ]
    assert (body["subtotal_minor"], body["tax_minor"], body["total_minor"]) == (85000, 15300, 100300)
    assert body["number"] == "INV-2026-27-00001"
    assert body["status"] == "unpaid" and body["balance_minor"] == 100300
    assert fetch_value(select(Invoice.total_minor).where(Invoice.id == body["id"])) == 100300


def test_tax_is_rounded_half_up_once_on_the_subtotal(client, admin, tax, frozen_clock):
    frozen_clock(NOW)
    tax("5")
    visit = _visit(doctor=DoctorFactory(consultation_fee=Decimal("0.50")))
    body = _invoice(client, admin, visit.id, [{"kind": "other", "description": "File", "unit_minor": 40}])
    assert (body["subtotal_minor"], body["tax_minor"]) == (90, 5)  # 4.5 paise rounds up to 5


def test_only_a_completed_visit_can_be_billed(client, admin, frozen_clock):
    frozen_clock(NOW)
    booked = AppointmentFactory(status="booked")
    response = client.post("/api/admin/invoices", json={"appointment_id": booked.id}, headers=admin)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "not_completed")
    assert fetch_all(select(Invoice)) == []


def test_a_visit_has_one_live_invoice_and_a_void_one_may_be_replaced(client, admin, frozen_clock):
    frozen_clock(NOW)
    visit = _visit()
    first = _invoice(client, admin, visit.id)
    again = client.post("/api/admin/invoices", json={"appointment_id": visit.id}, headers=admin)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_invoiced")
    assert (
        client.post(
            f"/api/admin/invoices/{first['id']}/void", json={"reason": "wrong lines"}, headers=admin
        ).status_code
        == 200
    )
    second = _invoice(client, admin, visit.id)
    assert (first["number"], second["number"]) == ("INV-2026-27-00001", "INV-2026-27-00002")


def test_numbers_start_again_in_each_financial_year(client, admin, frozen_clock):
    frozen_clock("2027-03-31 18:00")
    assert _invoice(client, admin, _visit().id)["number"] == "INV-2026-27-00001"
    frozen_clock("2027-04-01 09:00")
    assert _invoice(client, admin, _visit().id)["number"] == "INV-2027-28-00001"
    assert _invoice(client, admin, _visit().id)["number"] == "INV-2027-28-00002"


def test_an_invoice_that_rolls_back_gives_its_number_back(app, client, admin, frozen_clock, monkeypatch):
    frozen_clock(NOW)
    from hms.billing import invoices

    first, second = _visit(), _visit()

    def failing_record(**_kwargs):
        raise RuntimeError("audit store down")

    admin_user = AdminFactory()
    with fresh():
        monkeypatch.setattr(invoices, "record", failing_record)
        with pytest.raises(RuntimeError):
            invoices.create_invoice(user=admin_user, appointment_id=first.id, lines=[])
        monkeypatch.undo()
    assert fetch_all(select(Invoice)) == []
    assert fetch_all(select(InvoiceCounter)) == []
    assert _invoice(client, admin, second.id)["number"] == "INV-2026-27-00001"


def test_partial_payments_add_up_to_paid(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id)  # 50000
    first = _pay(client, admin, invoice["id"], 20000, method="upi", reference="upi-123")
    assert first.status_code == 201
    assert (first.get_json()["status"], first.get_json()["paid_minor"], first.get_json()["balance_minor"]) == (
        "partly_paid",
        20000,
        30000,
    )
    second = _pay(client, admin, invoice["id"], 30000, method="card")
    assert (second.get_json()["status"], second.get_json()["balance_minor"]) == ("paid", 0)
    row = fetch_all(select(Invoice))[0]
    assert (row.status, row.paid_minor) == ("paid", 50000)
    assert sum(p.amount_minor for p in fetch_all(select(InvoicePayment))) == 50000


def test_a_payment_above_the_balance_is_refused_and_changes_nothing(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id)
    assert _pay(client, admin, invoice["id"], 40000).status_code == 201
    response = _pay(client, admin, invoice["id"], 10001)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "exceeds_balance")
    assert fetch_value(select(Invoice.paid_minor)) == 40000
    assert len(fetch_all(select(InvoicePayment))) == 1


def test_an_insurance_payment_needs_its_reference(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id)
    response = _pay(client, admin, invoice["id"], 1000, method="insurance")
    assert response.status_code == 422
    assert "reference" in response.get_json()["error"]["fields"]
    assert _pay(client, admin, invoice["id"], 1000, method="insurance", reference="CLM-77").status_code == 201


def test_refunds_lower_what_was_paid_and_never_exceed_it(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id)  # 50000
    _pay(client, admin, invoice["id"], 20000)
    too_much = _pay(client, admin, invoice["id"], 20001, kind="refunds")
    assert (too_much.status_code, too_much.get_json()["error"]["code"]) == (409, "exceeds_paid")
    refund = _pay(client, admin, invoice["id"], 15000, kind="refunds")
    assert (refund.get_json()["status"], refund.get_json()["paid_minor"]) == ("partly_paid", 5000)
    assert [p["kind"] for p in refund.get_json()["payments"]] == ["payment", "refund"]
    back = _pay(client, admin, invoice["id"], 5000, kind="refunds")
    assert (back.get_json()["status"], back.get_json()["paid_minor"]) == ("unpaid", 0)


def test_void_keeps_the_number_lines_and_payments(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id, [{"kind": "test", "description": "X-ray", "unit_minor": 90000}])
    _pay(client, admin, invoice["id"], 10000)
    refused = client.post(f"/api/admin/invoices/{invoice['id']}/void", json={"reason": "duplicate"}, headers=admin)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "invoice_has_payments")
    _pay(client, admin, invoice["id"], 10000, kind="refunds")
    voided = client.post(f"/api/admin/invoices/{invoice['id']}/void", json={"reason": "duplicate"}, headers=admin)
    assert voided.status_code == 200
    body = client.get(f"/api/admin/invoices/{invoice['id']}", headers=admin).get_json()
    assert (body["status"], body["number"], body["void_reason"]) == ("void", invoice["number"], "duplicate")
    assert len(body["lines"]) == 2 and [p["kind"] for p in body["payments"]] == ["payment", "refund"]
    assert body["balance_minor"] == 0
    late = _pay(client, admin, invoice["id"], 100)
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "invoice_void")


def test_every_money_change_is_audited(client, admin, frozen_clock):
    frozen_clock(NOW)
    invoice = _invoice(client, admin, _visit().id)
    _pay(client, admin, invoice["id"], 5000)
    _pay(client, admin, invoice["id"], 5000, kind="refunds")
    client.post(f"/api/admin/invoices/{invoice['id']}/void", json={"reason": "test"}, headers=admin)
    actions = [
        e.action for e in fetch_all(select(AuditEvent).where(AuditEvent.entity == "invoice").order_by(AuditEvent.id))
    ]
    assert actions == ["invoice.create", "invoice.payment", "invoice.refund", "invoice.void"]


def test_a_patient_sees_and_downloads_only_own_invoices(client, admin, frozen_clock):
    frozen_clock(NOW)
    mine, theirs = _visit(), _visit()
    own = _invoice(client, admin, mine.id)
    other = _invoice(client, admin, theirs.id)
    headers = bearer(mine.patient.user)
    listed = client.get("/api/patient/invoices", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [own["id"]]
    assert client.get(f"/api/patient/invoices/{own['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/patient/invoices/{other['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/patient/invoices/{other['id']}/invoice.pdf", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/admin/invoices"),
        ("POST", "/api/admin/invoices"),
        ("GET", "/api/admin/invoices/1"),
        ("POST", "/api/admin/invoices/1/payments"),
        ("POST", "/api/admin/invoices/1/refunds"),
        ("POST", "/api/admin/invoices/1/void"),
        ("GET", "/api/admin/billing/summary"),
        ("GET", "/api/admin/invoices/billable"),
    ],
)
def test_billing_is_for_admins_only(client, method, url):
    assert client.open(url, method=method, json={}).status_code == 401
    for user in (PatientFactory().user, DoctorFactory().user):
        assert client.open(url, method=method, json={}, headers=bearer(user)).status_code == 403


def test_patient_invoice_routes_refuse_other_roles(client):
    assert client.get("/api/patient/invoices").status_code == 401
    assert client.get("/api/patient/invoices", headers=bearer(AdminFactory())).status_code == 403


def test_the_invoice_pdf_prints_number_lines_and_totals(client, admin, frozen_clock):
    require_pdf_renderer()
    frozen_clock(NOW)
    visit = _visit()
    invoice = _invoice(client, admin, visit.id, [{"kind": "procedure", "description": "Dressing", "unit_minor": 12550}])
    _pay(client, admin, invoice["id"], 20000, method="upi", reference="upi-ref-9")
    response = client.get(f"/api/patient/invoices/{invoice['id']}/invoice.pdf", headers=bearer(visit.patient.user))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in (
        "INV-2026-27-00001",
        "Dressing",
        "INR 625.50",
        "INR 200.00",
        "INR 425.50",
        visit.patient.full_name,
    ):
        assert expected in text, expected
    assert fetch_value(select(AuditEvent.action).where(AuditEvent.action == "invoice.download")) == "invoice.download"


def test_summary_gives_receivables_and_revenue_per_day_department_and_doctor(client, admin, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    first = _invoice(client, admin, _visit().id)  # 50000
    _pay(client, admin, first["id"], 50000)
    frozen_clock(NOW)
    doctor = DoctorFactory(consultation_fee=Decimal("800"))
    second = _invoice(client, admin, _visit(doctor=doctor).id)  # 80000
    _pay(client, admin, second["id"], 30000)
    _pay(client, admin, first["id"], 10000, kind="refunds")
    body = client.get(
        "/api/admin/billing/summary", query_string={"date_from": "2026-11-24", "date_to": "2026-11-25"}, headers=admin
    ).get_json()
    assert (body["receivables_minor"], body["open_invoices"]) == (50000 + 10000, 2)
    assert [(d["date"], d["invoiced_minor"], d["collected_minor"]) for d in body["by_day"]] == [
        ("2026-11-24", 50000, 50000),
        ("2026-11-25", 80000, 30000 - 10000),
    ]
    assert (body["invoiced_minor"], body["collected_minor"]) == (130000, 70000)
    by_doctor = {row["id"]: (row["invoiced_minor"], row["collected_minor"]) for row in body["by_doctor"]}
    assert by_doctor[doctor.id] == (80000, 30000)
    assert sorted(row["collected_minor"] for row in body["by_department"]) == [30000, 40000]


def test_summary_refuses_a_reversed_period(client, admin):
    response = client.get(
        "/api/admin/billing/summary", query_string={"date_from": "2026-11-25", "date_to": "2026-11-24"}, headers=admin
    )
    assert response.status_code == 422


def test_billable_visits_lists_completed_visits_without_a_live_invoice(client, admin, frozen_clock):
    frozen_clock(NOW)
    billed, waiting = _visit(), _visit()
    AppointmentFactory(status="booked")
    _invoice(client, admin, billed.id)
    body = client.get("/api/admin/invoices/billable", headers=admin).get_json()
    assert [item["appointment_id"] for item in body["items"]] == [waiting.id]
    assert body["items"][0]["consultation_minor"] == 50000


def test_financial_year_of_a_date(app):
    from hms.billing.invoices import financial_year, invoice_number

    assert financial_year(date(2027, 3, 31), 4) == 2026
    assert financial_year(date(2027, 4, 1), 4) == 2027
    assert invoice_number(2026, 7, 1) == "INV-2026-00007"


def test_the_demo_hospital_has_invoices_in_every_status_numbered_without_gaps(client, frozen_clock):
    from hms.demo.loader import load_demo_data

    frozen_clock("2026-11-24 09:30")
    with fresh():
        load_demo_data()
    invoices = fetch_all(select(Invoice).order_by(Invoice.sequence))
    assert {invoice.status for invoice in invoices} == {"paid", "partly_paid", "unpaid", "void"}
    assert [invoice.sequence for invoice in invoices] == list(range(1, len(invoices) + 1))
    assert fetch_value(select(InvoiceCounter.last_number)) == len(invoices)
    for invoice in invoices:
        assert invoice.total_minor == invoice.subtotal_minor + invoice.tax_minor
    admin = bearer(fetch_value(select(User).where(User.username == "admin")))
    summary = client.get("/api/admin/billing/summary", headers=admin).get_json()
    assert summary["receivables_minor"] > 0 and summary["collected_minor"] > 0
    assert client.get("/api/admin/invoices/billable", headers=admin).get_json()["total"] > 0
