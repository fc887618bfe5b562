"""Dashboard figures and chart series: aggregate SQL only (GROUP BY / SUM(CASE)), the same on SQLite and PostgreSQL.

Figures are cached for STATS_CACHE_SECONDS under the "stats" namespace. Directory writes (doctors, patients,
departments) invalidate it, so a count the admin just changed is right at once; booking writers do not: appointment
figures at most a minute old are correct for their purpose, and the booking path stays free of the extra bump.
Keys carry the hospital-local date, so a new day never reads yesterday's figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, extract, func, select

from hms.common.cache import STATS_NAMESPACE, get_or_set
from hms.common.clock import hospital_tz, today_local
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Department, Doctor, Patient, User
from hms.scheduling import rules

STATS_CACHE_SECONDS = 60
PER_DAY_DAYS = 30
NEW_PATIENT_WEEKS = 12
DOCTOR_MONTHS = 6
CANCELLED = AppointmentStatus.CANCELLED.value
BOOKED = AppointmentStatus.BOOKED.value
STATUSES = [status.value for status in AppointmentStatus]
NOT_CANCELLED = [status for status in STATUSES if status != CANCELLED]


def _count_if(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), never NULL."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _local_midnight_utc(day: date) -> datetime:
    """The stored (naive UTC) form of hospital-local midnight at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=hospital_tz()).astimezone(UTC).replace(tzinfo=None)


def _count(table: Any, *conditions: Any) -> Any:
    """A scalar count of the table's rows that match: each one a range of an index when its conditions allow."""
    return select(func.count()).select_from(table).where(*conditions).scalar_subquery()


def _stats_statement(today: date) -> Select:
    """One statement of scalar counts, each a range of an index (EXPLAIN on 1M appointments: index-only scans).

    Appointments: status IN (...) and date ranges of (status, date, start_time, id, end_time), end_time for
    today's "upcoming" (migration 0029). Patients: those listed minus those whose login is blocked (the partial
    index of blocked users); joining 50,000 patients to their users to count the active ones was most of the
    statement's time.
    """
    doctors = (
        select(func.count(Doctor.id))
        .join(User, User.id == Doctor.user_id)
        .where(User.is_active.is_(True), Doctor.archived_at.is_(None))
        .scalar_subquery()
    )
    listed_patients = select(func.count(Patient.id)).where(Patient.archived_at.is_(None)).scalar_subquery()
    blocked_patients = (
        select(func.count(Patient.id))
        .join(User, User.id == Patient.user_id)
        .where(~User.is_active, Patient.archived_at.is_(None))
        .scalar_subquery()
    )
    departments = select(func.count(Department.id)).scalar_subquery()
    month_start = _month_start(today)
    live = Appointment.status.in_(NOT_CANCELLED)
    return select(
        doctors.label("doctors"),
        (listed_patients - blocked_patients).label("patients"),
        departments.label("departments"),
        _count(Appointment, live, Appointment.date == today).label("today"),
        # date >= today bounds the index range; upcoming_condition() then keeps the booked ones not yet ended.
        _count(Appointment, Appointment.date >= today, rules.upcoming_condition()).label("upcoming"),
        _count(Appointment, live, Appointment.date >= month_start, Appointment.date < _next_month(today)).label(
            "month"
        ),
    )


def _compute_stats(today: date) -> dict[str, int]:
    row = db.session.execute(_stats_statement(today)).one()
    return {
        "doctors": int(row.doctors or 0),
        "patients": int(row.patients or 0),
        "departments": int(row.departments or 0),
        "appointments_today": int(row.today or 0),
        "appointments_upcoming": int(row.upcoming or 0),
        "appointments_this_month": int(row.month or 0),
    }


def admin_stats() -> dict[str, int]:
    """Dashboard totals; one SQL statement, cached for a minute."""
    today = today_local()
    return get_or_set(
        STATS_NAMESPACE, f"stats:{today.isoformat()}", lambda: _compute_stats(today), timeout=STATS_CACHE_SECONDS
    )


def _per_day(today: date) -> list[dict[str, Any]]:
    first = today - timedelta(days=PER_DAY_DAYS - 1)
    # status IN (...) rather than != cancelled: each status is a range of the (status, date) index.
    rows = db.session.execute(
        select(Appointment.date, func.count())
        .where(Appointment.date >= first, Appointment.date <= today, Appointment.status.in_(NOT_CANCELLED))
        .group_by(Appointment.date)
    ).all()
    counts = {_as_date(day): int(count) for day, count in rows}
    return [
        {"date": (first + timedelta(days=offset)).isoformat(), "count": counts.get(first + timedelta(days=offset), 0)}
        for offset in range(PER_DAY_DAYS)
    ]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _counts_by_doctor_and_status() -> list[tuple[int, str, int]]:
    """Every appointment counted once, per doctor and status: one pass over the table (an index-only scan on
    PostgreSQL) feeds both the department and the status charts, which used to read the table once each."""
    rows = db.session.execute(
        select(Appointment.doctor_id, Appointment.status, func.count()).group_by(
            Appointment.status, Appointment.doctor_id
        )
    ).all()
    return [(int(doctor_id), str(status), int(count)) for doctor_id, status, count in rows]


def _by_department(counts: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    department_of = dict(db.session.execute(select(Doctor.id, Doctor.department_id)).all())
    per_department = dict.fromkeys(names, 0)
    unassigned = 0
    for doctor_id, _status, count in counts:
        department_id = department_of.get(doctor_id)
        if department_id is None:
            unassigned += count
        else:
            per_department[department_id] = per_department.get(department_id, 0) + count
    result = [{"department": names[department_id], "count": count} for department_id, count in per_department.items()]
    if unassigned:
        result.append({"department": "Unassigned", "count": unassigned})
    return sorted(result, key=lambda item: (-item["count"], item["department"]))


def _by_status(counts: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    totals = dict.fromkeys(STATUSES, 0)
    for _doctor_id, status, count in counts:
        totals[status] = totals.get(status, 0) + count
    return [{"status": status, "count": totals[status]} for status in STATUSES]


def _new_patients_per_week(today: date) -> list[dict[str, Any]]:
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=NEW_PATIENT_WEEKS - 1 - index) for index in range(NEW_PATIENT_WEEKS)]
    bounds = [_local_midnight_utc(monday) for monday in [*mondays, this_monday + timedelta(weeks=1)]]
    # One count per week, each a range of ix_patients_created_at (index-only), rather than twelve CASEs per patient.
    columns = [
        _count(Patient, Patient.created_at >= bounds[index], Patient.created_at < bounds[index + 1]).label(f"w{index}")
        for index in range(NEW_PATIENT_WEEKS)
    ]
    row = db.session.execute(select(*columns)).one()
    return [{"week_start": monday.isoformat(), "count": int(row[index] or 0)} for index, monday in enumerate(mondays)]


def _compute_analytics(today: date) -> dict[str, Any]:
    counts = _counts_by_doctor_and_status()
    return {
        "per_day": _per_day(today),
        "by_department": _by_department(counts),
        "by_status": _by_status(counts),
        "new_patients_per_week": _new_patients_per_week(today),
    }


def admin_analytics() -> dict[str, Any]:
    """Chart series of the admin dashboard; four aggregate statements, cached for a minute."""
    today = today_local()
    return get_or_set(
        STATS_NAMESPACE,
        f"analytics:{today.isoformat()}",
        lambda: _compute_analytics(today),
        timeout=STATS_CACHE_SECONDS,
    )


def doctor_figures(*, doctor_id: int) -> dict[str, Any]:
    """A doctor's dashboard counts and monthly series (two aggregate statements), for the doctor portal to reuse.

    Returns {"counts": {today, upcoming, completed_this_month, patients}, "monthly": [{month, completed,
    cancelled, no_show}]} for the last DOCTOR_MONTHS months, current month included, zeros included.
    """
    today = today_local()
    month_start = _month_start(today)
    mine = Appointment.doctor_id == doctor_id
    live = Appointment.status != CANCELLED
    counts_row = db.session.execute(
        select(
            _count_if(and_(live, Appointment.date == today)).label("today"),
            _count_if(and_(rules.upcoming_condition(), Appointment.date <= today + timedelta(7))).label("upcoming"),
            _count_if(
                and_(
                    Appointment.status == AppointmentStatus.COMPLETED.value,
                    Appointment.date >= month_start,
                    Appointment.date < _next_month(today),
                )
            ).label("completed_this_month"),
            func.count(func.distinct(case((live, Appointment.patient_id)))).label("patients"),
        ).where(mine)
    ).one()
    first_month = month_start
    for _ in range(DOCTOR_MONTHS - 1):
        first_month = _month_start(first_month - timedelta(days=1))
    year, month = extract("year", Appointment.date), extract("month", Appointment.date)
    rows = db.session.execute(
        select(year, month, Appointment.status, func.count(Appointment.id))
        .where(mine, Appointment.date >= first_month, Appointment.date < _next_month(today))
        .group_by(year, month, Appointment.status)
    ).all()
    by_month: dict[str, dict[str, int]] = {}
    for row_year, row_month, status, count in rows:
        by_month.setdefault(f"{int(row_year):04d}-{int(row_month):02d}", {})[status] = int(count)
    monthly = []
    cursor = first_month
    while cursor <= month_start:
        key = cursor.strftime("%Y-%m")
        values = by_month.get(key, {})
        monthly.append(
            {
                "month": key,
                "completed": values.get(AppointmentStatus.COMPLETED.value, 0),
                "cancelled": values.get(CANCELLED, 0),
                "no_show": values.get(AppointmentStatus.NO_SHOW.value, 0),
            }
        )
        cursor = _next_month(cursor)
    return {
        "counts": {
            "today": int(counts_row.today or 0),
            "upcoming": int(counts_row.upcoming or 0),
            "completed_this_month": int(counts_row.completed_this_month or 0),
            "patients": int(counts_row.patients or 0),
        },
        "monthly": monthly,
    }
