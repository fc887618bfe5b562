"""The admin's money figures: completed visits still to bill,
and the revenue summary (invoiced, collected, outstanding, by doctor and department) over a period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from hms.billing.invoices import OPEN_STATUSES, _settings
from hms.common.clock import today_local
from hms.common.errors import ValidationFailed
from hms.common.money import to_minor
from hms.common.pagination import paginate
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Department, Doctor, Invoice, InvoicePayment, InvoiceStatus

MAX_SUMMARY_DAYS = 366


def billable_visits(*, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """Completed visits without a live invoice, newest first: the front desk's to-do list."""
    billed = select(Invoice.appointment_id).where(Invoice.status != InvoiceStatus.VOID.value)
    statement = (
        select(Appointment)
        .options(joinedload(Appointment.patient), joinedload(Appointment.doctor))
        .where(Appointment.status == AppointmentStatus.COMPLETED.value, Appointment.id.not_in(billed))
        .order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    )
    result = paginate(statement, page=page, per_page=per_page)
    result["items"] = [
        {
            "appointment_id": appointment.id,
            "date": appointment.date,
            "start_time": appointment.start_time,
            "patient_id": appointment.patient_id,
            "patient_name": appointment.patient.full_name,
            "doctor_id": appointment.doctor_id,
            "doctor_name": appointment.doctor.display_name,
            "consultation_minor": to_minor(appointment.doctor.consultation_fee),
        }
        for appointment in result["items"]
    ]
    return result


def summary(*, date_from: date | None = None, date_to: date | None = None) -> dict[str, Any]:
    """Receivables now, and revenue over a period: invoiced (by issue date, void excluded) and collected
    (payments less refunds, by the day received), per day, department and doctor."""
    date_to = date_to or today_local()
    date_from = date_from or (date_to - timedelta(days=29))
    if date_from > date_to:
        raise ValidationFailed(fields={"date_from": ["The start must not be after the end."]})
    if (date_to - date_from).days >= MAX_SUMMARY_DAYS:
        raise ValidationFailed(fields={"date_from": [f"Choose at most {MAX_SUMMARY_DAYS} days."]})
    live = Invoice.status != InvoiceStatus.VOID.value
    receivables, open_count = db.session.execute(
        select(func.coalesce(func.sum(Invoice.total_minor - Invoice.paid_minor), 0), func.count()).where(
            Invoice.status.in_(OPEN_STATUSES)
        )
    ).one()
    issued = (Invoice.issued_on >= date_from, Invoice.issued_on <= date_to, live)
    signed = InvoicePayment.signed_minor
    received = (InvoicePayment.received_on >= date_from, InvoicePayment.received_on <= date_to)

    invoiced_by_day: dict[date, int] = dict(
        db.session.execute(
            select(Invoice.issued_on, func.sum(Invoice.total_minor)).where(*issued).group_by(Invoice.issued_on)
        ).all()
    )
    collected_by_day: dict[date, int] = dict(
        db.session.execute(
            select(InvoicePayment.received_on, func.sum(signed)).where(*received).group_by(InvoicePayment.received_on)
        ).all()
    )
    by_day = [
        {
            "date": day,
            "invoiced_minor": int(invoiced_by_day.get(day, 0) or 0),
            "collected_minor": int(collected_by_day.get(day, 0) or 0),
        }
        for day in (date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1))
    ]

    def grouped(key: Any, label: Any, join_target: Any, on: Any) -> list[dict[str, Any]]:
        invoiced = {
            row[0]: (row[1], int(row[2] or 0))
            for row in db.session.execute(
                select(key, label, func.sum(Invoice.total_minor))
                .select_from(Invoice)
                .outerjoin(join_target, on)
                .where(*issued)
                .group_by(key, label)
            ).all()
        }
        collected = {
            row[0]: (row[1], int(row[2] or 0))
            for row in db.session.execute(
                select(key, label, func.sum(signed))
                .select_from(InvoicePayment)
                .join(Invoice, InvoicePayment.invoice_id == Invoice.id)
                .outerjoin(join_target, on)
                .where(*received)
                .group_by(key, label)
            ).all()
        }
        keys = set(invoiced) | set(collected)
        rows = [
            {
                "id": ident,
                "name": (invoiced.get(ident) or collected.get(ident) or (None, 0))[0],
                "invoiced_minor": invoiced.get(ident, (None, 0))[1],
                "collected_minor": collected.get(ident, (None, 0))[1],
            }
            for ident in keys
        ]
        return sorted(rows, key=lambda row: (-row["collected_minor"], -row["invoiced_minor"], str(row["name"])))

    by_department = grouped(Invoice.department_id, Department.name, Department, Invoice.department_id == Department.id)
    by_doctor = grouped(Invoice.doctor_id, Doctor.full_name, Doctor, Invoice.doctor_id == Doctor.id)
    for row in by_doctor:
        row["name"] = Doctor(full_name=row["name"]).display_name if row["name"] else None
    for row in by_department:
        row["name"] = row["name"] or "No department"
    return {
        "currency": _settings().currency,
        "date_from": date_from,
        "date_to": date_to,
        "receivables_minor": int(receivables),
        "open_invoices": int(open_count),
        "invoiced_minor": sum(day["invoiced_minor"] for day in by_day),
        "collected_minor": sum(day["collected_minor"] for day in by_day),
        "by_day": by_day,
        "by_department": by_department,
        "by_doctor": by_doctor,
    }
