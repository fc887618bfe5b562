"""Read-only lists of appointments (patient, doctor, admin, a doctor's history of a patient) and the doctor's and
patient's dashboards.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, extract, func, select

from hms.audit.service import record
from hms.common.clock import today_local
from hms.common.errors import NotFound
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    Doctor,
)
from hms.scheduling import rules
from hms.scheduling.appointments import _list, _load, appointment_dict, appointment_query, page_of_appointments
from hms.scheduling.slots import CANCELLED, COMPLETED

# ---- lists and dashboards ------------------------------------------------------------------------------------


def list_patient_appointments(
    *,
    patient_id: int,
    page: int,
    per_page: int,
    status: str | None = None,
    upcoming: bool | None = None,
    phase: str | None = None,
) -> dict[str, Any]:
    """A patient's own appointments by phase (rules.py): upcoming soonest first, the others newest first.

    `upcoming=false` (the older spelling) is everything that is not upcoming.
    """
    statement = appointment_query().where(Appointment.patient_id == patient_id)
    if status:
        statement = statement.where(Appointment.status == status)
    if phase is None and upcoming is not None:
        phase = rules.Phase.UPCOMING if upcoming else None
        if not upcoming:
            statement = statement.where(~rules.upcoming_condition())
    if phase is not None:
        statement = statement.where(rules.phase_condition(phase))
    if phase == rules.Phase.UPCOMING:
        statement = statement.order_by(Appointment.date, Appointment.start_time, Appointment.id)
    else:
        statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    return page_of_appointments(statement, page=page, per_page=per_page)


def get_patient_appointment(*, patient_id: int, appointment_id: int) -> dict[str, Any]:
    """One of the patient's own appointments."""
    return appointment_dict(_load(appointment_id, patient_id=patient_id))


def _date_filters(
    statement: Select, *, status: str | None, date_from: date | None, date_to: date | None, day: date | None = None
) -> Select:
    if status:
        statement = statement.where(Appointment.status == status)
    if day:
        statement = statement.where(Appointment.date == day)
    if date_from:
        statement = statement.where(Appointment.date >= date_from)
    if date_to:
        statement = statement.where(Appointment.date <= date_to)
    return statement


def list_doctor_appointments(
    *,
    doctor_id: int,
    page: int,
    per_page: int,
    date: date | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """The doctor's own appointments in schedule order."""
    statement = _date_filters(
        appointment_query().where(Appointment.doctor_id == doctor_id),
        status=status,
        date_from=date_from,
        date_to=date_to,
        day=date,
    ).order_by(Appointment.date, Appointment.start_time, Appointment.id)
    return page_of_appointments(statement, page=page, per_page=per_page)


def list_all_appointments(
    *,
    page: int,
    per_page: int,
    status: str | None = None,
    doctor_id: int | None = None,
    patient_id: int | None = None,
    department_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    order: str = "newest",
) -> dict[str, Any]:
    """Every appointment for the admin, filtered, newest first (or soonest first for today and upcoming)."""
    statement = _date_filters(appointment_query(), status=status, date_from=date_from, date_to=date_to)
    if doctor_id is not None:
        statement = statement.where(Appointment.doctor_id == doctor_id)
    if patient_id is not None:
        statement = statement.where(Appointment.patient_id == patient_id)
    if department_id is not None:
        statement = statement.where(
            Appointment.doctor_id.in_(select(Doctor.id).where(Doctor.department_id == department_id))
        )
    if order == "soonest":
        statement = statement.order_by(Appointment.date, Appointment.start_time, Appointment.id)
    else:
        statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    return page_of_appointments(statement, page=page, per_page=per_page)


def doctor_appointment_history(
    *, doctor_id: int, page: int, per_page: int, status: str | None = None, date_from=None, date_to=None
) -> dict[str, Any]:
    """The admin's view of one doctor's appointment history (audited as an admin read)."""
    with unit_of_work():
        if db.session.get(Doctor, doctor_id) is None:
            raise NotFound(f"Doctor {doctor_id} was not found.")
        result = list_all_appointments(
            page=page, per_page=per_page, status=status, doctor_id=doctor_id, date_from=date_from, date_to=date_to
        )
        record(action="appointments.read", entity="doctor", entity_id=doctor_id, details={"page": page})
    return result


def _month_keys(count: int) -> list[str]:
    today = today_local()
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def _month_start(months_back: int) -> date:
    key = _month_keys(months_back + 1)[0]
    return date(int(key[:4]), int(key[5:]), 1)


def doctor_dashboard(*, doctor_id: int) -> dict[str, Any]:
    """Today, the next 7 days, counts and six months of outcomes, from aggregate queries."""
    today = today_local()
    mine = Appointment.doctor_id == doctor_id
    today_list = _list(
        appointment_query()
        .where(mine, Appointment.date == today, Appointment.status != CANCELLED)
        .order_by(Appointment.start_time)
    )
    upcoming_list = _list(
        appointment_query()
        .where(mine, rules.upcoming_condition())
        .where(Appointment.date <= today + timedelta(days=7))
        .order_by(Appointment.date, Appointment.start_time)
    )
    month_start = today.replace(day=1)
    counts = db.session.execute(
        select(
            func.count(case((and_(Appointment.date == today, Appointment.status != CANCELLED), 1))),
            func.count(
                case(
                    (
                        and_(rules.upcoming_condition(), Appointment.date <= today + timedelta(days=7)),
                        1,
                    )
                )
            ),
            func.count(case((and_(Appointment.status == COMPLETED, Appointment.date >= month_start), 1))),
            func.count(func.distinct(case((Appointment.status != CANCELLED, Appointment.patient_id)))),
        ).where(mine)
    ).one()
    first = _month_start(5)
    year, month = extract("year", Appointment.date), extract("month", Appointment.date)
    rows = db.session.execute(
        select(year, month, Appointment.status, func.count())
        .where(mine, Appointment.date >= first, Appointment.date <= today)
        .group_by(year, month, Appointment.status)
    ).all()
    monthly = {key: {"month": key, "completed": 0, "cancelled": 0, "no_show": 0} for key in _month_keys(6)}
    for y, m, status, count in rows:
        key = f"{int(y):04d}-{int(m):02d}"
        if key in monthly and status in monthly[key]:
            monthly[key][status] = count
    return {
        "today": today_list,
        "upcoming": upcoming_list,
        "counts": {
            "today": counts[0],
            "upcoming": counts[1],
            "completed_this_month": counts[2],
            "patients": counts[3],
        },
        "monthly": list(monthly.values()),
    }


def patient_dashboard(*, patient_id: int) -> dict[str, Any]:
    """Upcoming visits, counts and a year of completed visits per month."""
    mine = Appointment.patient_id == patient_id
    upcoming = _list(
        appointment_query()
        .where(mine, rules.upcoming_condition())
        .order_by(Appointment.date, Appointment.start_time)
        .limit(10)
    )
    counts = db.session.execute(
        select(
            func.count(case((rules.upcoming_condition(), 1))),
            func.count(case((Appointment.status == COMPLETED, 1))),
        ).where(mine)
    ).one()
    year, month = extract("year", Appointment.date), extract("month", Appointment.date)
    rows = db.session.execute(
        select(year, month, func.count())
        .where(mine, Appointment.status == COMPLETED, Appointment.date >= _month_start(11))
        .group_by(year, month)
    ).all()
    per_month = dict.fromkeys(_month_keys(12), 0)
    for y, m, count in rows:
        key = f"{int(y):04d}-{int(m):02d}"
        if key in per_month:
            per_month[key] = count
    return {
        "upcoming": upcoming,
        "visits_per_month": [{"month": key, "count": count} for key, count in per_month.items()],
        "counts": {"upcoming": counts[0], "completed": counts[1]},
    }
