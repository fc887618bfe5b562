"""HTTP endpoints of billing: the front desk's invoices and payments, the patient's own invoices."""

from __future__ import annotations

from flask import Response
from flask_jwt_extended import current_user

from hms.billing import invoices, payments, revenue
from hms.billing.schemas import (
    BillableVisitRead,
    BillingSummaryRead,
    InvoiceArgs,
    InvoiceCreate,
    InvoiceRead,
    InvoiceSummaryRead,
    PaymentCreate,
    SummaryArgs,
    VoidCreate,
)
from hms.common.api import Blueprint, documents_errors
from hms.common.auth import current_patient, roles_required
from hms.common.downloads import file_response
from hms.common.fields import PageArgs
from hms.common.pagination import page_of
from hms.models import PaymentKind

admin_blp = Blueprint("billing_admin", __name__, url_prefix="/api/admin", description="Invoices and payments")
patient_blp = Blueprint("billing_patient", __name__, url_prefix="/api/patient", description="My invoices")
# An invoice as a file (the body is the PDF), or 503 while WeasyPrint cannot print on this server.
PDF_RESPONSE = documents_errors(503)["responses"] | {
    200: {"content": {"application/pdf": {"schema": {"type": "string"}}}, "description": "The invoice as a PDF"},
}


def _pdf(content: bytes, name: str) -> Response:
    return file_response(content, mimetype="application/pdf", filename=name)


@admin_blp.route("/invoices", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(InvoiceArgs, location="query")
@admin_blp.response(200, page_of(InvoiceSummaryRead))
def list_invoices(args):
    """Every invoice, newest first (filter by status, patient, number or name)."""
    return invoices.list_invoices(**args)


@admin_blp.route("/invoices", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(InvoiceCreate)
@admin_blp.response(201, InvoiceRead)
def create_invoice(data):
    """Bill a completed visit: consultation fee, extra lines, tax; numbered in its financial year (audited)."""
    return invoices.create_invoice(user=current_user, **data)


@admin_blp.route("/invoices/billable", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(PageArgs, location="query")
@admin_blp.response(200, page_of(BillableVisitRead))
def billable(args):
    """Completed visits that have no invoice yet."""
    return revenue.billable_visits(**args)


@admin_blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@roles_required("admin")
@admin_blp.response(200, InvoiceRead)
def get_invoice(invoice_id: int):
    """One invoice with its lines and payments."""
    return invoices.get_invoice(invoice_id=invoice_id)


@admin_blp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(PaymentCreate)
@admin_blp.response(201, InvoiceRead)
def add_payment(data, invoice_id: int):
    """Record money received (at most the balance); partial payments add up (audited)."""
    return payments.record_payment(user=current_user, invoice_id=invoice_id, kind=PaymentKind.PAYMENT.value, **data)


@admin_blp.route("/invoices/<int:invoice_id>/refunds", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(PaymentCreate)
@admin_blp.response(201, InvoiceRead)
def add_refund(data, invoice_id: int):
    """Give money back (at most what was paid); the status follows (audited)."""
    return payments.record_payment(user=current_user, invoice_id=invoice_id, kind=PaymentKind.REFUND.value, **data)


@admin_blp.route("/invoices/<int:invoice_id>/void", methods=["POST"])
@roles_required("admin")
@admin_blp.arguments(VoidCreate)
@admin_blp.response(200, InvoiceRead)
def void(data, invoice_id: int):
    """Void an invoice that holds no money; it keeps its number and history (audited)."""
    return invoices.void_invoice(user=current_user, invoice_id=invoice_id, **data)


@admin_blp.route("/invoices/<int:invoice_id>/invoice.pdf", methods=["GET"])
@roles_required("admin")
@admin_blp.doc(responses=PDF_RESPONSE)
def admin_invoice_pdf(invoice_id: int) -> Response:
    """An invoice as a PDF (audited)."""
    return _pdf(*invoices.invoice_pdf(invoice_id=invoice_id))


@admin_blp.route("/billing/summary", methods=["GET"])
@roles_required("admin")
@admin_blp.arguments(SummaryArgs, location="query")
@admin_blp.response(200, BillingSummaryRead)
def billing_summary(args):
    """Receivables, and revenue invoiced and collected per day, department and doctor (default: 30 days)."""
    return revenue.summary(**args)


@patient_blp.route("/invoices", methods=["GET"])
@roles_required("patient")
@patient_blp.arguments(PageArgs, location="query")
@patient_blp.response(200, page_of(InvoiceSummaryRead))
def my_invoices(args):
    """My invoices, newest first."""
    return invoices.list_invoices(patient_id=current_patient().id, **args)


@patient_blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@roles_required("patient")
@patient_blp.response(200, InvoiceRead)
def my_invoice(invoice_id: int):
    """One of my invoices with its lines and payments."""
    return invoices.get_invoice(invoice_id=invoice_id, patient_id=current_patient().id)


@patient_blp.route("/invoices/<int:invoice_id>/invoice.pdf", methods=["GET"])
@roles_required("patient")
@patient_blp.doc(responses=PDF_RESPONSE)
def my_invoice_pdf(invoice_id: int) -> Response:
    """One of my invoices as a PDF (audited)."""
    return _pdf(*invoices.invoice_pdf(invoice_id=invoice_id, patient_id=current_patient().id))


blueprints: list[Blueprint] = [admin_blp, patient_blp]
