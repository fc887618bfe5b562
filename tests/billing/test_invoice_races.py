"""Races on billing: invoices issued at the same moment get consecutive numbers, payments never overpay.
Meant for PostgreSQL (HMS_TEST_DATABASE_URL), where the requests really run side by side."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from hms.models import Invoice, InvoicePayment
from tests.conftest import bearer, fetch_all, fetch_value
from tests.factories import AdminFactory, AppointmentFactory
from tests.races import at_once

NOW = "2026-11-25 11:00"


def test_twenty_invoices_issued_at_once_are_numbered_one_to_twenty_without_gaps_or_duplicates(app, frozen_clock):
    frozen_clock(NOW)
    admin = bearer(AdminFactory())
    visits = [AppointmentFactory(status="completed") for _ in range(20)]
    results = at_once(app, [("POST", "/api/admin/invoices", {"appointment_id": v.id}, admin) for v in visits])
    assert Counter(results) == Counter({(201, None): 20}), results
    sequences = sorted(fetch_all(select(Invoice.sequence)))
    assert sequences == list(range(1, 21))
    numbers = fetch_all(select(Invoice.number))
    assert len(set(numbers)) == 20


def test_the_first_invoices_of_a_year_racing_for_its_counter_still_get_one_number_each(app, frozen_clock):
    frozen_clock("2027-04-01 09:00")
    admin = bearer(AdminFactory())
    visits = [AppointmentFactory(status="completed") for _ in range(8)]
    results = at_once(app, [("POST", "/api/admin/invoices", {"appointment_id": v.id}, admin) for v in visits])
    assert Counter(status for status, _ in results) == Counter({201: 8}), results
    assert sorted(fetch_all(select(Invoice.number))) == [f"INV-2027-28-{n:05d}" for n in range(1, 9)]


def test_one_visit_billed_twice_at_once_gets_one_invoice(app, frozen_clock):
    frozen_clock(NOW)
    admin = bearer(AdminFactory())
    visit = AppointmentFactory(status="completed")
    results = at_once(app, [("POST", "/api/admin/invoices", {"appointment_id": visit.id}, admin)] * 6)
    assert Counter(results) == Counter({(201, None): 1, (409, "already_invoiced"): 5}), results
    assert fetch_value(select(Invoice.sequence)) == 1


def test_payments_racing_on_one_invoice_never_take_more_than_the_total(app, frozen_clock):
    frozen_clock(NOW)
    admin = bearer(AdminFactory())
    visit = AppointmentFactory(status="completed")  # fee 500.00: 50000 minor units
    invoice = app.test_client().post("/api/admin/invoices", json={"appointment_id": visit.id}, headers=admin).get_json()
    body = {"method": "cash", "amount_minor": 15000}
    results = at_once(app, [("POST", f"/api/admin/invoices/{invoice['id']}/payments", body, admin)] * 6)
    assert Counter(results) == Counter({(201, None): 3, (409, "exceeds_balance"): 3}), results
    assert fetch_value(select(Invoice.paid_minor)) == 45000
    assert sum(fetch_all(select(InvoicePayment.amount_minor))) == 45000
