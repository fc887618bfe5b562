"""The CSV files themselves: rows streamed from the database (yield_per), so a long history never sits in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, joinedload

from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Doctor, Patient, Treatment

BATCH = 500

PATIENT_HISTORY_COLUMNS = [
    "date",
    "time",
    "doctor",
    "department",
    "reason",
    "diagnosis",
    "prescription",
    "medicines",
    "follow_up_date",
    "visit_type",
]
APPOINTMENT_COLUMNS = [
    "id",
    "date",
    "start_time",
    "end_time",
    "status",
    "patient_id",
    "patient",
    "doctor_id",
    "doctor",
    "department",
    "reason",
    "cancelled_by",
    "cancel_reason",
    "rescheduled_from",
    "created_at",
]
TREATMENT_COLUMNS = [
    "appointment_id",
    "date",
    "time",
    "patient_id",
    "patient",
    "doctor",
    "department",
    "visit_type",
    "diagnosis",
    "prescription",
    "medicines",
    "tests_ordered",
    "precautions",
    "follow_up_date",
    "notes",
    "updated_at",
]


def format_medicines(medicines: list[dict[str, Any]] | None) -> str:
    """Medicines on one line: "Aspirin 75 mg, once daily, 30 days (after food); …"."""
    parts = []
    for medicine in medicines or []:
        words = [str(medicine.get("name") or "").strip()]
        if medicine.get("dose"):
            words[0] += f" {medicine['dose']}"
        if medicine.get("frequency"):
            words.append(str(medicine["frequency"]))
        if medicine.get("duration_days"):
            words.append(f"{medicine['duration_days']} days")
        text = ", ".join(word for word in words if word)
        if medicine.get("instructions"):
            text += f" ({medicine['instructions']})"
        parts.append(text)
    return "; ".join(part for part in parts if part)


def _cell(value: Any) -> str:
    """A cell as text; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """Encode rows as CSV text, one chunk per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(header)
    yield flush()
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        yield flush()


def _visits(statement: Select) -> Iterator[Any]:
    yield from db.session.execute(statement.execution_options(yield_per=BATCH))


def patient_history_rows(patient_id: int) -> Iterator[list[Any]]:
    """One row per completed visit of a patient, oldest first, with its treatment."""
    statement = (
        select(Appointment, Treatment)
        .outerjoin(Treatment, Treatment.appointment_id == Appointment.id)
        .where(Appointment.patient_id == patient_id, Appointment.status == AppointmentStatus.COMPLETED.value)
        .options(joinedload(Appointment.doctor).joinedload(Doctor.department))
        .order_by(Appointment.date, Appointment.start_time, Appointment.id)
    )
    for appointment, treatment in _visits(statement):
        doctor = appointment.doctor
        yield [
            appointment.date,
            appointment.start_time.strftime("%H:%M"),
            doctor.display_name,
            doctor.department.name if doctor.department else None,
            appointment.reason,
            treatment.diagnosis if treatment else None,
            treatment.prescription if treatment else None,
            format_medicines(treatment.medicines) if treatment else None,
            treatment.follow_up_date if treatment else None,
            treatment.visit_type if treatment else None,
        ]


def _date_range(statement: Select, params: dict[str, Any]) -> Select:
    if params.get("date_from"):
        statement = statement.where(Appointment.date >= date.fromisoformat(params["date_from"]))
    if params.get("date_to"):
        statement = statement.where(Appointment.date <= date.fromisoformat(params["date_to"]))
    return statement


def appointment_rows(params: dict[str, Any]) -> Iterator[list[Any]]:
    """Every appointment in the date range (all statuses), for the admin's appointments export."""
    patient = aliased(Patient)
    statement = _date_range(
        select(Appointment, patient)
        .join(patient, Appointment.patient_id == patient.id)
        .options(joinedload(Appointment.doctor).joinedload(Doctor.department))
        .order_by(Appointment.date, Appointment.start_time, Appointment.id),
        params,
    )
    for appointment, patient_row in _visits(statement):
        doctor = appointment.doctor
        yield [
            appointment.id,
            appointment.date,
            appointment.start_time.strftime("%H:%M"),
            appointment.end_time.strftime("%H:%M"),
            appointment.status,
            appointment.patient_id,
            patient_row.full_name,
            appointment.doctor_id,
            doctor.display_name,
            doctor.department.name if doctor.department else None,
            appointment.reason,
            appointment.cancelled_by,
            appointment.cancel_reason,
            appointment.rescheduled_from,
            appointment.created_at.isoformat(timespec="seconds") if appointment.created_at else None,
        ]


def treatment_rows(params: dict[str, Any]) -> Iterator[list[Any]]:
    """Every treatment record of visits in the date range, for the admin's (audited) treatments export."""
    statement = _date_range(
        select(Appointment, Treatment)
        .join(Treatment, Treatment.appointment_id == Appointment.id)
        .options(joinedload(Appointment.doctor).joinedload(Doctor.department), joinedload(Appointment.patient))
        .order_by(Appointment.date, Appointment.start_time, Appointment.id),
        params,
    )
    for appointment, treatment in _visits(statement):
        doctor = appointment.doctor
        assert treatment is not None
        yield [
            appointment.id,
            appointment.date,
            appointment.start_time.strftime("%H:%M"),
            appointment.patient_id,
            appointment.patient.full_name,
            doctor.display_name,
            doctor.department.name if doctor.department else None,
            treatment.visit_type,
            treatment.diagnosis,
            treatment.prescription,
            format_medicines(treatment.medicines),
            treatment.tests_ordered,
            treatment.precautions,
            treatment.follow_up_date,
            treatment.notes,
            treatment.updated_at.isoformat(timespec="seconds") if treatment.updated_at else None,
        ]


def lines_for(kind: str, params: dict[str, Any]) -> tuple[Iterator[str], list[int]]:
    """CSV text chunks of an export kind, and a one-item list that counts the data rows as they are written."""
    counter = [0]
    if kind == "patient_history":
        header, rows = PATIENT_HISTORY_COLUMNS, patient_history_rows(int(params["patient_id"]))
    elif kind == "appointments":
        header, rows = APPOINTMENT_COLUMNS, appointment_rows(params)
    elif kind == "treatments":
        header, rows = TREATMENT_COLUMNS, treatment_rows(params)
    else:
        raise ValueError(f"Unknown export kind {kind!r}")

    def counted() -> Iterator[list[Any]]:
        for row in rows:
            counter[0] += 1
            yield row

    return csv_lines(header, counted()), counter
