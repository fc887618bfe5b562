"""Monthly doctor reports (SPEC §8.2): aggregate queries, one Jinja2 template, HTML and PDF, and the e-mailed copy."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import distinct, func, select

from hms.audit.service import record
from hms.common.auth import get_or_404
from hms.common.clock import now_local, today_local
from hms.common.errors import ValidationFailed
from hms.common.money import money
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Notification,
    Treatment,
    User,
)
from hms.notifications.service import queue
from hms.reports.pdf import html_to_pdf
from hms.scheduling import rules

TEMPLATES = Path(__file__).parent / "templates"
STATUSES = [status.value for status in AppointmentStatus]
WEEKDAYS = list(calendar.day_name)
TOP_DIAGNOSES = 5
TOP_DATES = 3


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a `YYYY-MM` month; a malformed month is a 422 on the `month` field."""
    try:
        year_text, month_text = month.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError
        first = date(int(year_text), int(month_text), 1)
    except ValueError:
        raise ValidationFailed(fields={"month": ["Use the form YYYY-MM, e.g. 2026-01."]}) from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def doctor_month_revenue(*, doctor_id: int, first: date, last: date) -> dict[str, int]:
    """A doctor's money in a month: invoiced (by issue date, void excluded) and collected (payments less refunds,
    by the day received), as the billing summary counts them."""
    invoiced = db.session.execute(
        select(func.coalesce(func.sum(Invoice.total_minor), 0)).where(
            Invoice.doctor_id == doctor_id,
            Invoice.issued_on >= first,
            Invoice.issued_on <= last,
            Invoice.status != InvoiceStatus.VOID.value,
        )
    ).scalar_one()
    collected = db.session.execute(
        select(func.coalesce(func.sum(InvoicePayment.signed_minor), 0))
        .join(Invoice, InvoicePayment.invoice_id == Invoice.id)
        .where(Invoice.doctor_id == doctor_id, InvoicePayment.received_on >= first, InvoicePayment.received_on <= last)
    ).scalar_one()
    return {"invoiced_minor": int(invoiced), "collected_minor": int(collected)}


def monthly_report(*, doctor_id: int, month: str) -> dict[str, Any]:
    """A doctor's month in figures: appointments by status, patients seen, top diagnoses, busiest days, daily counts."""
    doctor = get_or_404(Doctor, doctor_id, f"Doctor {doctor_id} was not found.")
    first, last = month_bounds(month)
    in_month = (Appointment.doctor_id == doctor_id, Appointment.date >= first, Appointment.date <= last)
    not_cancelled = Appointment.status != AppointmentStatus.CANCELLED.value

    status_counts = dict(
        db.session.execute(select(Appointment.status, func.count()).where(*in_month).group_by(Appointment.status)).all()
    )
    patients_seen = db.session.execute(
        select(func.count(distinct(Appointment.patient_id))).where(
            *in_month, Appointment.status == AppointmentStatus.COMPLETED.value
        )
    ).scalar_one()
    diagnosis_count = func.count(Treatment.id)
    top_diagnoses = db.session.execute(
        select(Treatment.diagnosis, diagnosis_count)
        .join(Appointment, Treatment.appointment_id == Appointment.id)
        .where(*in_month, Appointment.status == AppointmentStatus.COMPLETED.value)
        .where(Treatment.diagnosis.is_not(None), Treatment.diagnosis != "")
        .group_by(Treatment.diagnosis)
        .order_by(diagnosis_count.desc(), Treatment.diagnosis)
        .limit(TOP_DIAGNOSES)
    ).all()
    per_date = dict(
        db.session.execute(
            select(Appointment.date, func.count()).where(*in_month, not_cancelled).group_by(Appointment.date)
        ).all()
    )

    daily = [
        {"date": day.isoformat(), "day": day.day, "count": per_date.get(day, 0)}
        for day in (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    ]
    weekday_counts = [0] * 7
    for day, count in per_date.items():
        weekday_counts[day.weekday()] += count
    by_weekday = sorted(enumerate(weekday_counts), key=lambda pair: -pair[1])
    busiest_weekdays = [{"weekday": WEEKDAYS[index], "count": count} for index, count in by_weekday]
    top_dates = [
        {"date": day.isoformat(), "weekday": WEEKDAYS[day.weekday()], "count": count}
        for day, count in sorted(per_date.items(), key=lambda item: (-item[1], item[0]))[:TOP_DATES]
    ]
    by_status = [{"status": status, "count": int(status_counts.get(status, 0))} for status in STATUSES]
    revenue = doctor_month_revenue(doctor_id=doctor_id, first=first, last=last)
    currency = current_app.config["HMS"].currency
    return {
        "doctor": {
            "id": doctor.id,
            "full_name": doctor.full_name,
            "display_name": doctor.display_name,
            "specialization": doctor.specialization,
            "department_name": doctor.department.name if doctor.department else None,
        },
        "month": first.strftime("%Y-%m"),
        "month_label": first.strftime("%B %Y"),
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "totals": {
            "appointments": sum(item["count"] for item in by_status),
            **{item["status"]: item["count"] for item in by_status},
            "patients_seen": int(patients_seen),
        },
        "by_status": by_status,
        "revenue": {
            **revenue,
            "currency": currency,
            "invoiced": money(revenue["invoiced_minor"], currency),
            "collected": money(revenue["collected_minor"], currency),
        },
        "top_diagnoses": [{"diagnosis": diagnosis, "count": int(count)} for diagnosis, count in top_diagnoses],
        "busiest_weekdays": busiest_weekdays,
        "top_dates": top_dates,
        "daily": daily,
        "generated_at": now_local().strftime("%Y-%m-%d %H:%M %Z"),
    }


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True), undefined=StrictUndefined
    )


def _chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the inline SVG bar chart of daily appointments (no script, no external asset)."""
    bar, gap, height, top, bottom, left = 16, 4, 150, 18, 22, 4
    peak = max((item["count"] for item in daily), default=0) or 1
    bars = []
    for index, item in enumerate(daily):
        bar_height = round(item["count"] / peak * height, 1)
        x = left + index * (bar + gap)
        bars.append(
            {
                **item,
                "x": x,
                "y": top + height - bar_height,
                "height": bar_height,
                "label_x": x + bar / 2,
                "label_y": top + height - bar_height - 4,
            }
        )
    return {
        "bars": bars,
        "bar": bar,
        "width": left * 2 + len(daily) * (bar + gap),
        "baseline": top + height,
        "height": top + height + bottom,
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as a self-contained HTML page (inline CSS and SVG)."""
    settings = current_app.config["HMS"]
    peak_weekday = max((item["count"] for item in report["busiest_weekdays"]), default=0) or 1
    return (
        _environment()
        .get_template("monthly_report.html")
        .render(
            report=report,
            chart=_chart(report["daily"]),
            peak_weekday=peak_weekday,
            hospital=str(settings.extra.get("hospital_name", "Hospital Management System")),
        )
    )


def render_pdf(report: dict[str, Any]) -> bytes:
    """The same HTML printed to PDF by WeasyPrint."""
    return html_to_pdf(render_html(report))


def report_document(*, doctor_id: int, month: str, fmt: str, audited: bool) -> tuple[bytes, str, str]:
    """The report file (content, mimetype, filename) for the API; admin reads are audited."""
    with unit_of_work():
        report = monthly_report(doctor_id=doctor_id, month=month)
        if audited:
            record(action="report.view", entity="doctor", entity_id=doctor_id, details={"month": month, "format": fmt})
    filename = f"report-doctor-{doctor_id}-{report['month']}"
    if fmt == "pdf":
        return render_pdf(report), "application/pdf", f"{filename}.pdf"
    return render_html(report).encode("utf-8"), "text/html", f"{filename}.html"


def active_doctor_ids() -> list[int]:
    return list(
        db.session.execute(
            select(Doctor.id)
            .join(User, Doctor.user_id == User.id)
            .where(rules.active_doctor_condition())
            .order_by(Doctor.id)
        ).scalars()
    )


def email_monthly_report(*, doctor_id: int, month: str | None = None) -> int | None:
    """Render a doctor's report of a month (default: last month), keep the files, and e-mail it once."""
    month = month or previous_month(today_local())
    doctor = get_or_404(Doctor, doctor_id)
    report = monthly_report(doctor_id=doctor_id, month=month)
    subject = f"Your monthly report for {report['month_label']}"
    already = db.session.execute(
        select(Notification.id).where(
            Notification.user_id == doctor.user_id,
            Notification.kind == "monthly_report",
            Notification.subject == subject,
        )
    ).first()
    if already is not None:
        return None
    folder = current_app.config["HMS"].instance_path / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"report-doctor-{doctor_id}-{report['month']}"
    html_path, pdf_path = folder / f"{stem}.html", folder / f"{stem}.pdf"
    html_path.write_text(render_html(report), encoding="utf-8")
    pdf_path.write_bytes(render_pdf(report))
    totals = report["totals"]
    body = (
        f"Your report for {report['month_label']}: {totals['appointments']} appointments, "
        f"{totals['completed']} completed, {totals['patients_seen']} patients seen."
    )
    user_id = doctor.user_id
    try:
        with unit_of_work():
            notification_ids = queue(
                user=get_or_404(User, user_id),
                kind="monthly_report",
                subject=subject,
                body=body,
                channels=["email"],
                data={
                    "month": report["month"],
                    "html_path": str(html_path),
                    "attachments": [
                        {"path": str(pdf_path), "filename": f"{stem}.pdf", "content_type": "application/pdf"}
                    ],
                },
            )
            notification_id = notification_ids[0]
    except BaseException:
        html_path.unlink(missing_ok=True)  # the files exist only for a report whose e-mail was queued
        pdf_path.unlink(missing_ok=True)
        raise
    return notification_id
