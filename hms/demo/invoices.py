"""The demo's invoices: completed visits billed through billing's own issue path, some with extra lines,
most paid, some partly or not yet, one refunded and voided."""

from __future__ import annotations

import random
from datetime import datetime

from hms.billing.invoices import issue_invoice, status_for
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Invoice, InvoicePayment, InvoiceStatus, User

EXTRA_LINES = (
    {"kind": "test", "description": "ECG", "unit_minor": 35000},
    {"kind": "test", "description": "Complete blood count", "unit_minor": 45000},
    {"kind": "procedure", "description": "Wound dressing", "unit_minor": 25000},
)


def _invoices(rng: random.Random, *, appointments: list[Appointment], admin: User) -> list[Invoice]:
    """Most completed visits billed on their day, in date order (so numbers follow dates): most paid in full,
    some partly, some not yet, one refunded and voided, so every status and the receivables have figures."""
    completed = sorted(
        (a for a in appointments if a.status == AppointmentStatus.COMPLETED.value),
        key=lambda a: (a.date, a.start_time, a.doctor_id),
    )
    invoices: list[Invoice] = []
    for index, appointment in enumerate(completed):
        if rng.random() < 0.15:
            continue  # still to be billed: the front desk's list has work
        lines = [dict(rng.choice(EXTRA_LINES))] if rng.random() < 0.3 else []
        invoice = issue_invoice(appointment=appointment, lines=lines, issued_on=appointment.date, user_id=admin.id)
        invoice.created_at = datetime.combine(appointment.date, appointment.end_time)
        roll = rng.random()
        paid = invoice.total_minor if roll < 0.7 else (invoice.total_minor // 2 if roll < 0.85 else 0)
        if paid:
            method = rng.choice(["cash", "card", "upi", "upi", "insurance"])
            invoice.payments.append(
                InvoicePayment(
                    kind="payment",
                    method=method,
                    amount_minor=paid,
                    reference=f"CLM-{10000 + index}" if method == "insurance" else None,
                    received_on=appointment.date,
                    recorded_at=invoice.created_at,
                )
            )
            invoice.paid_minor = paid
        if index == 3 and paid:  # billed twice by mistake: refunded and voided, kept for the record
            invoice.payments.append(
                InvoicePayment(
                    kind="refund",
                    method=invoice.payments[0].method,
                    amount_minor=paid,
                    reference=invoice.payments[0].reference,
                    received_on=appointment.date,
                    recorded_at=invoice.created_at,
                )
            )
            invoice.paid_minor = 0
            invoice.status = InvoiceStatus.VOID.value
            invoice.voided_at = invoice.created_at
            invoice.void_reason = "Billed to the wrong patient file"
        invoice.status = status_for(invoice)
        invoices.append(invoice)
    db.session.flush()
    return invoices
