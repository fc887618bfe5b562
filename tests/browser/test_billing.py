"""Billing in the browser: the front desk bills a visit and takes part of the money; a patient downloads the
invoice PDF and its text is checked; both pages work at phone width."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.pdf import pdf_text, require_pdf_renderer

from .helpers import api, api_token, items, login, nav, settled


def test_front_desk_bills_a_visit_with_a_test_and_takes_a_partial_payment(new_page, live_server):
    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    visit = items(admin.get("/admin/invoices/billable", params={"per_page": 1}).json())[0]
    page = new_page()
    login(page, "admin", "admin123", lands_on="/admin")
    expect(page.get_by_test_id("dashboard-receivables")).to_contain_text("Receivables ₹")
    nav(page, "nav-admin-billing")
    settled(page)
    page.get_by_test_id(f"bill-{visit['appointment_id']}").click()
    page.get_by_test_id("bill-add-line").click()
    page.get_by_test_id("bill-line-0-description").fill("ECG")
    page.get_by_test_id("bill-line-0-amount").fill("350.50")
    page.get_by_test_id("bill-save").click()
    modal = page.get_by_test_id("invoice-modal")
    expect(modal).to_contain_text("ECG")
    total = visit["consultation_minor"] + 35050
    created = items(admin.get("/admin/invoices", params={"per_page": 1}).json())[0]
    assert created["appointment_id"] == visit["appointment_id"] and created["subtotal_minor"] == total
    page.get_by_test_id("pay-method").select_option("upi")
    page.get_by_test_id("pay-amount").fill("100")
    page.get_by_test_id("pay-reference").fill("upi-browser-1")
    page.get_by_test_id("pay-save").click()
    expect(modal.get_by_test_id("invoice-status-partly_paid")).to_be_visible()
    expect(modal.get_by_test_id("invoice-payments")).to_contain_text("upi-browser-1")
    body = admin.get(f"/admin/invoices/{created['id']}").json()
    assert (body["status"], body["paid_minor"]) == ("partly_paid", 10000)


def test_a_patient_downloads_an_invoice_pdf_on_a_phone(new_page, live_server):
    require_pdf_renderer()
    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    patient = api(live_server, api_token(live_server, "patient1", "patient123"))
    mine = items(patient.get("/patient/invoices").json())
    if not mine:  # bill one of patient1's completed visits
        history = items(patient.get("/patient/history", params={"per_page": 50}).json())
        assert history, "patient1 has no completed visit in the demo data"
        created = admin.post("/admin/invoices", json={"appointment_id": history[0]["id"]})
        assert created.status_code in (201, 409), created.text
        mine = items(patient.get("/patient/invoices").json())
    invoice = mine[0]
    page = new_page(phone=True)
    login(page, "patient1", "patient123", lands_on="/patient")
    page.goto("/patient/invoices")
    settled(page)
    row = page.get_by_test_id(f"invoice-row-{invoice['id']}")
    expect(row).to_contain_text(invoice["number"])
    with page.expect_download() as download_info:
        row.get_by_test_id(f"invoice-pdf-{invoice['id']}").click()
    download = download_info.value
    assert download.suggested_filename == f"invoice-{invoice['number']}.pdf"
    text = pdf_text(Path(download.path()).read_bytes())
    assert f"Invoice {invoice['number']}" in text
    assert "Billed to" in text and invoice["patient_name"] in text
    assert "Balance due" in text
