"""Payments and refunds recorded against an invoice: the amount checks, the ledger row,
and the status (unpaid, partly paid, paid, refunded) they move the invoice to."""

from __future__ import annotations

from typing import Any

from hms.audit.service import record
from hms.billing.invoices import _invoice, get_invoice, status_for
from hms.common.clock import today_local
from hms.common.errors import Conflict, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import InvoicePayment, InvoiceStatus, PaymentKind, PaymentMethod, User


def record_payment(
    *,
    user: User,
    invoice_id: int,
    kind: str,
    method: str,
    amount_minor: int,
    reference: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A payment (at most the balance) or a refund (at most what was paid); the status follows. Audited."""
    reference = (reference or "").strip() or None
    if method == PaymentMethod.INSURANCE.value and not reference:
        raise ValidationFailed(
            "An insurance payment needs the claim or policy reference.",
            fields={"reference": ["Enter the insurance claim or policy reference."]},
        )
    with unit_of_work():
        invoice = _invoice(invoice_id, lock=True)
        if invoice.status == InvoiceStatus.VOID.value:
            raise Conflict(f"Invoice {invoice.number} is void.", code="invoice_void")
        balance = invoice.total_minor - invoice.paid_minor
        if kind == PaymentKind.PAYMENT.value:
            if amount_minor > balance:
                raise Conflict(
                    f"This is more than the balance due ({balance} minor units).",
                    code="exceeds_balance",
                    fields={"amount_minor": [f"At most {balance}."]},
                )
            invoice.paid_minor += amount_minor
        else:
            if amount_minor > invoice.paid_minor:
                raise Conflict(
                    f"This is more than was paid ({invoice.paid_minor} minor units).",
                    code="exceeds_paid",
                    fields={"amount_minor": [f"At most {invoice.paid_minor}."]},
                )
            invoice.paid_minor -= amount_minor
        payment = InvoicePayment(
            kind=kind,
            method=method,
            amount_minor=amount_minor,
            reference=reference,
            note=note,
            received_on=today_local(),
            recorded_by_user_id=user.id,
        )
        invoice.payments.append(payment)
        invoice.status = status_for(invoice)
        db.session.flush()
        record(
            action=f"invoice.{kind}",
            entity="invoice",
            entity_id=invoice.id,
            patient_id=invoice.patient_id,
            details={
                "number": invoice.number,
                "payment_id": payment.id,
                "method": method,
                "amount_minor": amount_minor,
                "status": invoice.status,
            },
        )
    return get_invoice(invoice_id=invoice_id)
