"""Request and response shapes of invoices and payments: money is an integer of minor units (paise, cents)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hms.common.fields import Date, HourMinute, Id, Int, Line, PageArgs, Text, Timestamp
from hms.models import InvoiceStatus, PaymentKind, PaymentMethod

LINE_KINDS = ("procedure", "test", "other")
# One line at most 10,000,000.00 and 20 lines: every total fits comfortably in the BIGINT columns.
MAX_LINE_MINOR = 1_000_000_000
MAX_PAYMENT_MINOR = 2_000_000_000


class InvoiceLineCreate(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS), metadata={"example": "test"})
    description = Line(200, min_length=1, required=True, metadata={"example": "ECG"})
    quantity = Int(min=1, max=1000, load_default=1, strict=True)
    unit_minor = Int(min=0, max=MAX_LINE_MINOR, required=True, strict=True, metadata={"example": 35000})


class InvoiceCreate(Schema):
    appointment_id = Id(required=True, strict=True)
    lines = fields.List(fields.Nested(InvoiceLineCreate), load_default=list, validate=validate.Length(max=20))


class PaymentCreate(Schema):
    method = fields.String(
        required=True, validate=validate.OneOf([m.value for m in PaymentMethod]), metadata={"example": "upi"}
    )
    amount_minor = Int(min=1, max=MAX_PAYMENT_MINOR, required=True, strict=True, metadata={"example": 50000})
    reference = Line(120, allow_none=True, metadata={"description": "card slip, UPI id or insurance claim number"})
    note = Text(1000, allow_none=True)


class VoidCreate(Schema):
    reason = Line(500, min_length=1, required=True, metadata={"example": "Billed to the wrong visit"})


class InvoiceArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in InvoiceStatus]))
    patient_id = Id()
    q = Line(100, metadata={"description": "invoice number or patient name"})


class SummaryArgs(Schema):
    date_from = Date()
    date_to = Date()


class InvoiceLineRead(Schema):
    kind = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    unit_minor = fields.Integer()
    amount_minor = fields.Integer()


class PaymentRead(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": [k.value for k in PaymentKind]})
    method = fields.String()
    amount_minor = fields.Integer()
    reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    received_on = fields.Date()
    recorded_at = Timestamp()


class InvoiceSummaryRead(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"example": "INV-2026-27-00001"})
    financial_year = fields.String(metadata={"example": "2026-27"})
    appointment_id = fields.Integer()
    visit_date = fields.Date(allow_none=True)
    patient_id = fields.Integer()
    patient_name = fields.String(allow_none=True)
    doctor_id = fields.Integer()
    doctor_name = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    issued_on = fields.Date()
    currency = fields.String(metadata={"example": "INR"})
    tax_percent = fields.String(metadata={"example": "18.00", "description": "a decimal, as text"})
    subtotal_minor = fields.Integer()
    tax_minor = fields.Integer()
    total_minor = fields.Integer()
    paid_minor = fields.Integer(metadata={"description": "received net of refunds"})
    balance_minor = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in InvoiceStatus]})
    created_at = Timestamp()
    voided_at = Timestamp(allow_none=True)
    void_reason = fields.String(allow_none=True)


class InvoiceRead(InvoiceSummaryRead):
    lines = fields.List(fields.Nested(InvoiceLineRead))
    payments = fields.List(fields.Nested(PaymentRead))


class BillableVisitRead(Schema):
    appointment_id = fields.Integer()
    date = fields.Date()
    start_time = HourMinute()
    patient_id = fields.Integer()
    patient_name = fields.String()
    doctor_id = fields.Integer()
    doctor_name = fields.String()
    consultation_minor = fields.Integer()


class RevenueDay(Schema):
    date = fields.Date()
    invoiced_minor = fields.Integer()
    collected_minor = fields.Integer()


class RevenueGroup(Schema):
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    invoiced_minor = fields.Integer()
    collected_minor = fields.Integer()


class BillingSummaryRead(Schema):
    currency = fields.String()
    date_from = fields.Date()
    date_to = fields.Date()
    receivables_minor = fields.Integer(metadata={"description": "balance due on every unpaid or partly paid invoice"})
    open_invoices = fields.Integer()
    invoiced_minor = fields.Integer()
    collected_minor = fields.Integer(metadata={"description": "payments less refunds received in the period"})
    by_day = fields.List(fields.Nested(RevenueDay))
    by_department = fields.List(fields.Nested(RevenueGroup))
    by_doctor = fields.List(fields.Nested(RevenueGroup))
