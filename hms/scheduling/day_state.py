"""The state of doctors' days as the database holds it now: availability windows, active bookings, blocked slots,
leave, and whether the doctor takes appointments. Time-independent (never says what has started), so the slot
view can cache it; writers read it inside their transaction.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Integer,
    Select,
    Time,
    bindparam,
    case,
    cast,
    literal,
    null,
    select,
    union_all,
)

from hms.extensions import db
from hms.models import (
    ACTIVE_STATUSES,
    Appointment,
    AvailabilityWindow,
    BlockedSlot,
    Doctor,
    DoctorLeave,
    User,
)
from hms.scheduling import rules


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _empty_state(doctor: Doctor | None = None, *, active: bool = False, slot_minutes: int = 30) -> dict[str, Any]:
    return {
        "active": active,
        "slot_minutes": slot_minutes,
        "windows": [],
        "taken": [],
        "blocked": [],
        "on_leave": False,
    }


@cache
def _state_statements(every_doctor: bool) -> tuple[Select, Select, Select, Select]:
    """The four statements of `_load_states`, built once and run with parameters (`ids` expands to the doctors'
    ids): a booking reads its doctor's day, and building these per call cost more CPU than running them."""
    date_from: BindParameter[Any] = bindparam("date_from")
    date_to: BindParameter[Any] = bindparam("date_to")
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    windows = select(
        AvailabilityWindow.doctor_id,
        AvailabilityWindow.date,
        AvailabilityWindow.start_time,
        AvailabilityWindow.end_time,
    ).where(AvailabilityWindow.date.between(date_from, date_to))
    if not every_doctor:
        windows = windows.where(AvailabilityWindow.doctor_id.in_(ids))
    # Each doctor with the leave that overlaps the range (usually none), in the same statement.
    doctors = (
        select(
            Doctor.id,
            Doctor.slot_minutes,
            rules.active_doctor_condition().label("active"),
            DoctorLeave.start_date.label("leave_from"),
            DoctorLeave.end_date.label("leave_to"),
        )
        .join(User, User.id == Doctor.user_id)
        .outerjoin(
            DoctorLeave,
            (DoctorLeave.doctor_id == Doctor.id)
            & (DoctorLeave.start_date <= date_to)
            & (DoctorLeave.end_date >= date_from),
        )
        .where(Doctor.id.in_(ids))
    )
    appointments = select(
        Appointment.id, Appointment.doctor_id, Appointment.date, Appointment.start_time, Appointment.end_time
    ).where(
        Appointment.doctor_id.in_(ids),
        Appointment.date.between(date_from, date_to),
        Appointment.status.in_(ACTIVE_STATUSES),
    )
    blocked = select(BlockedSlot.doctor_id, BlockedSlot.date, BlockedSlot.start_time).where(
        BlockedSlot.doctor_id.in_(ids), BlockedSlot.date.between(date_from, date_to)
    )
    return windows, doctors, appointments, blocked


def _load_states(*, doctor_ids: list[int] | None, date_from: date, date_to: date) -> dict[tuple[int, date], dict]:
    """The raw (time-independent) state of doctors' days in four queries: doctors (with their leave), windows,
    appointments, blocks.

    With doctor_ids None, every active doctor with a window in the range is loaded.
    """
    window_query, doctor_query, appointment_query, blocked_query = _state_statements(doctor_ids is None)
    params: dict[str, Any] = {"date_from": date_from, "date_to": date_to}
    if doctor_ids is not None:
        params["ids"] = list(doctor_ids)
    windows = db.session.execute(window_query, params).all()
    ids = sorted(set(doctor_ids if doctor_ids is not None else [row.doctor_id for row in windows]))
    if not ids:
        return {}
    params["ids"] = ids
    doctors = db.session.execute(doctor_query, params).all()
    states: dict[tuple[int, date], dict] = {}
    info = {row.id: (bool(row.active), row.slot_minutes) for row in doctors}
    day = date_from
    while day <= date_to:
        for doctor_id, (active, slot_minutes) in info.items():
            states[(doctor_id, day)] = _empty_state(active=active, slot_minutes=slot_minutes)
        day += timedelta(days=1)
    for row in windows:
        if (row.doctor_id, row.date) in states:
            states[(row.doctor_id, row.date)]["windows"].append([_minutes(row.start_time), _minutes(row.end_time)])
    appointments = db.session.execute(appointment_query, params).all()
    for taken in appointments:
        states[(taken.doctor_id, taken.date)]["taken"].append(
            [_minutes(taken.start_time), _minutes(taken.end_time), taken.id]
        )
    blocked = db.session.execute(blocked_query, params).all()
    for block in blocked:
        states[(block.doctor_id, block.date)]["blocked"].append(_minutes(block.start_time))
    for leave in doctors:
        if leave.leave_from is None:
            continue
        day = max(leave.leave_from, date_from)
        while day <= min(leave.leave_to, date_to):
            states[(leave.id, day)]["on_leave"] = True
            day += timedelta(days=1)
    for state in states.values():
        state["windows"].sort()
    return states


def _day_state(doctor_id: int, day: date) -> dict[str, Any]:
    """The state of one doctor's day, read now (inside a write transaction: what the write's checks must see)."""
    return _one_day_state(doctor_id, day) or _empty_state()


def _one_day_state(doctor_id: int, day: date) -> dict[str, Any] | None:
    """One doctor's day in one statement (None for an unknown doctor): what `_load_states` reads for many doctors
    and days in four. A booking, a cancel's waitlist check and a cold slot read each need exactly one day, and the
    four round trips (each a statement execution and result set in SQLAlchemy) were a fifth of a booking's CPU.
    """
    state: dict[str, Any] | None = None
    windows: list[list[int]] = []
    taken: list[list[int]] = []
    blocked: list[int] = []
    on_leave = False
    for kind, start, end, number in db.session.execute(_one_day_statement(), {"doctor_id": doctor_id, "day": day}):
        if kind == "w":
            windows.append([_minutes(start), _minutes(end)])
        elif kind == "t":
            taken.append([_minutes(start), _minutes(end), number])
        elif kind == "b":
            blocked.append(_minutes(start))
        elif kind == "l":
            on_leave = True
        else:  # "d" (active) or "x" (archived or blocked): the doctor's row, with the slot length
            state = _empty_state(active=kind == "d", slot_minutes=number)
    if state is None:
        return None
    state.update(windows=sorted(windows), taken=taken, blocked=blocked, on_leave=on_leave)
    return state


@cache
def _one_day_statement() -> CompoundSelect:
    """`_one_day_state`'s statement, built once: the doctor's windows, active bookings, blocked slots, leave and row.

    Windows come first: a UNION's columns take their types from its first SELECT, so the times read back as times.
    """
    doctor_id: BindParameter[Any] = bindparam("doctor_id")
    day: BindParameter[Any] = bindparam("day")
    no_time = cast(null(), Time)
    no_number = cast(null(), Integer)
    return union_all(
        select(literal("w"), AvailabilityWindow.start_time, AvailabilityWindow.end_time, no_number).where(
            AvailabilityWindow.doctor_id == doctor_id, AvailabilityWindow.date == day
        ),
        select(literal("t"), Appointment.start_time, Appointment.end_time, Appointment.id).where(
            Appointment.doctor_id == doctor_id, Appointment.date == day, Appointment.status.in_(ACTIVE_STATUSES)
        ),
        select(literal("b"), BlockedSlot.start_time, no_time, no_number).where(
            BlockedSlot.doctor_id == doctor_id, BlockedSlot.date == day
        ),
        select(literal("l"), no_time, no_time, no_number).where(
            DoctorLeave.doctor_id == doctor_id, DoctorLeave.start_date <= day, DoctorLeave.end_date >= day
        ),
        select(
            case((rules.active_doctor_condition(), literal("d")), else_=literal("x")),
            no_time,
            no_time,
            Doctor.slot_minutes,
        )
        .join(User, User.id == Doctor.user_id)
        .where(Doctor.id == doctor_id),
    )
