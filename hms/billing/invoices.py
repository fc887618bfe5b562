"""Invoices: issuing one for a completed visit (its number from the financial year's counter row), voiding,
reading, listing and the PDF copy; money in integer minor units, tax rounded once, half up, on the subtotal."""

# Why the counter row: an invoice's number comes from a counter row of its financial year, incremented in the
# invoice's own unit of work. The row stays locked until the commit, so concurrent invoices queue for it, and an
# invoice that rolls back gives its number back, so numbers have no gaps and no duplicates. Money is held in
# integer minor units (paise, cents), so sums are exact.

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from hms.audit.service import record
from hms.common.clock import now_local, today_local, utcnow_naive
from hms.common.errors import Conflict, NotFound
from hms.common.money import money, percent_of, to_minor
from hms.common.pagination import paginate
from hms.common.templates import document_templates
from hms.common.uow import unit_of_work
from hms.config import Settings
from hms.extensions import db
from hms.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoicePayment,
    InvoiceStatus,
    User,
)
from hms.reports.pdf import html_to_pdf

TEMPLATES = Path(__file__).parent / "templates"


OPEN_STATUSES = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTLY_PAID.value)


def _settings() -> Settings:
    return current_app.config["HMS"]


def financial_year(day: date, start_month: int) -> int:
    """The calendar year in which the financial year holding `day` began (April 2026 - March 2027 is 2026)."""
    return day.year if day.month >= start_month else day.year - 1


def financial_year_label(year: int, start_month: int) -> str:
    """`2026-27` for a year that spans two calendar years, `2026` for one that starts in January."""
    return str(year) if start_month == 1 else f"{year}-{(year + 1) % 100:02d}"


def invoice_number(year: int, sequence: int, start_month: int) -> str:
    return f"INV-{financial_year_label(year, start_month)}-{sequence:05d}"


def status_for(invoice: Invoice) -> str:
    """unpaid, partly paid or paid from what was received net of refunds (a void invoice stays void)."""
    if invoice.status == InvoiceStatus.VOID.value:
        return InvoiceStatus.VOID.value
    if invoice.paid_minor <= 0:
        return InvoiceStatus.UNPAID.value
    if invoice.paid_minor >= invoice.total_minor:
        return InvoiceStatus.PAID.value
    return InvoiceStatus.PARTLY_PAID.value


def _next_number(year: int) -> int:
    """Take the next number of `year`: create the counter if this is the year's first invoice, then increment
    it in place; the UPDATE holds the row's lock until this unit of work ends."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(InvoiceCounter)
        .values(financial_year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["financial_year"])
    )
    return int(
        db.session.execute(
            update(InvoiceCounter)
            .where(InvoiceCounter.financial_year == year)
            .values(last_number=InvoiceCounter.last_number + 1)
            .returning(InvoiceCounter.last_number)
        ).scalar_one()
    )


def payment_dict(payment: InvoicePayment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "kind": payment.kind,
        "method": payment.method,
        "amount_minor": payment.amount_minor,
        "reference": payment.reference,
        "note": payment.note,
        "received_on": payment.received_on,
        "recorded_at": payment.recorded_at,
    }


def invoice_dict(invoice: Invoice, *, detail: bool = True) -> dict[str, Any]:
    """The API's Invoice shape; amounts in minor units of `currency`."""
    appointment = invoice.appointment
    result: dict[str, Any] = {
        "id": invoice.id,
        "number": invoice.number,
        "financial_year": financial_year_label(invoice.financial_year, _settings().financial_year_start_month),
        "appointment_id": invoice.appointment_id,
        "visit_date": appointment.date if appointment else None,
        "patient_id": invoice.patient_id,
        "patient_name": invoice.patient.full_name if invoice.patient else None,
        "doctor_id": invoice.doctor_id,
        "doctor_name": invoice.doctor.display_name if invoice.doctor else None,
        "department_name": invoice.department.name if invoice.department else None,
        "issued_on": invoice.issued_on,
        "currency": invoice.currency,
        "tax_percent": str(invoice.tax_percent),
        "subtotal_minor": invoice.subtotal_minor,
        "tax_minor": invoice.tax_minor,
        "total_minor": invoice.total_minor,
        "paid_minor": invoice.paid_minor,
        "balance_minor": 0 if invoice.status == InvoiceStatus.VOID.value else invoice.total_minor - invoice.paid_minor,
        "status": invoice.status,
        "created_at": invoice.created_at,
        "voided_at": invoice.voided_at,
        "void_reason": invoice.void_reason,
    }
    if detail:
        result["lines"] = [
            {
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity,
                "unit_minor": line.unit_minor,
                "amount_minor": line.amount_minor,
            }
            for line in invoice.lines
        ]
        result["payments"] = [payment_dict(payment) for payment in invoice.payments]
    return result


def _with_people() -> tuple[Any, ...]:
    return (
        joinedload(Invoice.appointment),
        joinedload(Invoice.patient),
        joinedload(Invoice.doctor),
        joinedload(Invoice.department),
    )


def _invoice(invoice_id: int, *, patient_id: int | None = None, lock: bool = False) -> Invoice:
    """One invoice with its lines and payments; a patient's own only (another's is not revealed: 404)."""
    statement = select(Invoice).where(Invoice.id == invoice_id)
    if patient_id is not None:
        statement = statement.where(Invoice.patient_id == patient_id)
    if lock:
        # PostgreSQL: payments of one invoice queue on its row (SQLite's write transaction already does).
        locked = db.session.execute(statement.with_for_update()).scalar_one_or_none()
        if locked is None:
            raise NotFound(f"Invoice {invoice_id} was not found.")
    invoice = db.session.execute(
        statement.options(*_with_people(), selectinload(Invoice.lines), selectinload(Invoice.payments))
    ).scalar_one_or_none()
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} was not found.")
    return invoice


def issue_invoice(
    *, appointment: Appointment, lines: list[dict[str, Any]], issued_on: date, user_id: int | None
) -> Invoice:
    """Number and add the invoice of a completed visit, inside the caller's unit of work (the demo uses it too)."""
    settings = _settings()
    year = financial_year(issued_on, settings.financial_year_start_month)
    sequence = _next_number(year)
    doctor = appointment.doctor
    consultation = to_minor(doctor.consultation_fee)
    rows = [
        InvoiceLine(
            position=0,
            kind="consultation",
            description=f"Consultation with {doctor.display_name}",
            quantity=1,
            unit_minor=consultation,
            amount_minor=consultation,
        )
    ]
    for position, line in enumerate(lines, start=1):
        quantity = int(line.get("quantity") or 1)
        rows.append(
            InvoiceLine(
                position=position,
                kind=line["kind"],
                description=line["description"],
                quantity=quantity,
                unit_minor=line["unit_minor"],
                amount_minor=quantity * line["unit_minor"],
            )
        )
    subtotal = sum(row.amount_minor for row in rows)
    tax = percent_of(subtotal, settings.invoice_tax_percent)
    invoice = Invoice(
        number=invoice_number(year, sequence, settings.financial_year_start_month),
        financial_year=year,
        sequence=sequence,
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        doctor_id=doctor.id,
        department_id=doctor.department_id,
        issued_on=issued_on,
        currency=settings.currency,
        tax_percent=settings.invoice_tax_percent,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
        paid_minor=0,
        created_by_user_id=user_id,
        lines=rows,
    )
    invoice.status = status_for(invoice)
    db.session.add(invoice)
    return invoice


def create_invoice(*, user: User, appointment_id: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Bill a completed visit: the doctor's consultation fee, then the extra lines, then tax at the configured
    rate; numbered in the financial year of its issue date. Audited."""
    with unit_of_work():
        appointment = db.session.execute(
            select(Appointment)
            .options(joinedload(Appointment.doctor).joinedload(Doctor.department))
            .where(Appointment.id == appointment_id)
        ).scalar_one_or_none()
        if appointment is None:
            raise NotFound(f"Appointment {appointment_id} was not found.")
        if appointment.status != AppointmentStatus.COMPLETED.value:
            raise Conflict("Only a completed visit can be billed.", code="not_completed")
        live = db.session.execute(
            select(Invoice.number).where(
                Invoice.appointment_id == appointment_id, Invoice.status != InvoiceStatus.VOID.value
            )
        ).scalar_one_or_none()
        if live is not None:
            raise Conflict(f"This visit is already billed on invoice {live}.", code="already_invoiced")
        invoice = issue_invoice(appointment=appointment, lines=lines, issued_on=today_local(), user_id=user.id)
        db.session.flush()
        record(
            action="invoice.create",
            entity="invoice",
            entity_id=invoice.id,
            patient_id=invoice.patient_id,
            details={"number": invoice.number, "appointment_id": appointment.id, "total_minor": invoice.total_minor},
        )
        invoice_id = invoice.id
    return get_invoice(invoice_id=invoice_id)


def void_invoice(*, user: User, invoice_id: int, reason: str) -> dict[str, Any]:
    """Void an invoice that holds no money: it keeps its number, lines and payments (history), audited."""
    with unit_of_work():
        invoice = _invoice(invoice_id, lock=True)
        if invoice.status == InvoiceStatus.VOID.value:
            raise Conflict(f"Invoice {invoice.number} is already void.", code="invoice_void")
        if invoice.paid_minor > 0:
            raise Conflict("Refund what was paid before voiding this invoice.", code="invoice_has_payments")
        invoice.status = InvoiceStatus.VOID.value
        invoice.voided_at = utcnow_naive()
        invoice.voided_by_user_id = user.id
        invoice.void_reason = reason
        record(
            action="invoice.void",
            entity="invoice",
            entity_id=invoice.id,
            patient_id=invoice.patient_id,
            details={"number": invoice.number},
        )
    return get_invoice(invoice_id=invoice_id)


def get_invoice(*, invoice_id: int, patient_id: int | None = None) -> dict[str, Any]:
    return invoice_dict(_invoice(invoice_id, patient_id=patient_id))


def list_invoices(
    *, page: int = 1, per_page: int = 20, patient_id: int | None = None, status: str | None = None, q: str | None = None
) -> dict[str, Any]:
    """Newest first; filtered by patient, status or a number / patient name search."""
    statement: Select = select(Invoice).options(*_with_people())
    if patient_id is not None:
        statement = statement.where(Invoice.patient_id == patient_id)
    if status:
        statement = statement.where(Invoice.status == status)
    if q:
        from hms.models import Patient

        like = f"%{q.lower()}%"
        statement = statement.join(Patient, Invoice.patient_id == Patient.id).where(
            func.lower(Invoice.number).like(like) | func.lower(Patient.full_name).like(like)
        )
    result = paginate(statement.order_by(Invoice.id.desc()), page=page, per_page=per_page)
    result["items"] = [invoice_dict(invoice, detail=False) for invoice in result["items"]]
    return result


def invoice_pdf(*, invoice_id: int, patient_id: int | None = None) -> tuple[bytes, str]:
    """The invoice printed to PDF (WeasyPrint, as reports are); the download is audited."""
    with unit_of_work():
        invoice = _invoice(invoice_id, patient_id=patient_id)
        data = invoice_dict(invoice)
        record(
            action="invoice.download",
            entity="invoice",
            entity_id=invoice.id,
            patient_id=invoice.patient_id,
            details={"number": invoice.number},
        )
    settings = _settings()
    html = (
        document_templates(TEMPLATES)
        .get_template("invoice.html")
        .render(
            invoice=data,
            money=lambda amount: money(amount, data["currency"]),
            hospital=str(settings.extra.get("hospital_name", "Hospital Management System")),
            generated_at=now_local().strftime("%Y-%m-%d %H:%M %Z"),
        )
    )
    return html_to_pdf(html), f"invoice-{data['number']}.pdf"
