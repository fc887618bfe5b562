"""Shared set-up of the scheduling tests: a frozen morning before a doctor's working day."""

from __future__ import annotations

from datetime import date, time

from hms.extensions import db
from hms.models import Notification
from tests.conftest import fetch_all
from tests.factories import AvailabilityFactory, DoctorFactory

DAY = date(2026, 11, 25)
DAY_S = "2026-11-25"
NOW = "2026-11-24 08:00"


def doctor_with_day(day: date = DAY, start: time = time(9, 0), end: time = time(11, 0), **doctor_fields):
    doctor = DoctorFactory(**doctor_fields)
    AvailabilityFactory(doctor_id=doctor.id, date=day, start_time=start, end_time=end)
    return doctor


def book(client, headers, doctor_id: int, start: str = "09:00", day: str = DAY_S, reason: str = "check-up"):
    return client.post(
        "/api/patient/appointments",
        json={"doctor_id": doctor_id, "date": day, "start_time": start, "reason": reason},
        headers=headers,
    )


def slots(client, doctor_id: int, day: str = DAY_S) -> dict[str, bool]:
    response = client.get(f"/api/doctors/{doctor_id}/slots?date={day}")
    assert response.status_code == 200, response.get_json()
    return {slot["start"]: slot["available"] for slot in response.get_json()["slots"]}


def notifications(kind: str, user_id: int | None = None) -> list[Notification]:
    statement = db.select(Notification).where(Notification.kind == kind)
    if user_id is not None:
        statement = statement.where(Notification.user_id == user_id)
    return fetch_all(statement)


def error_code(response) -> str:
    return response.get_json()["error"]["code"]
