"""Daily reminders: one per booked appointment of the hospital-local day and channel, never twice."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from hms.models import Notification
from hms.notifications.service import create_daily_reminders
from tests.conftest import fetch, fetch_all, fresh
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory

REMINDERS = "hms.notifications.send_daily_reminders"


def reminders() -> list[Notification]:
    return fetch_all(select(Notification).filter_by(kind="reminder").order_by(Notification.id))


def test_running_the_reminder_job_twice_sends_each_reminder_once(app, frozen_clock, monkeypatch):
    frozen_clock("2026-11-25 08:00")
    doctor = DoctorFactory()
    first = AppointmentFactory(doctor=doctor, start_time=time(9, 0), end_time=time(9, 30))
    second = AppointmentFactory(doctor=doctor, start_time=time(11, 0), end_time=time(11, 30))
    AppointmentFactory(doctor=doctor, start_time=time(10, 0), end_time=time(10, 30), status="cancelled")
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 26))
    task = app.extensions["celery"].tasks[REMINDERS]

    assert task() == 2
    assert task() == 0
    rows = reminders()
    assert [(row.appointment_id, row.channel) for row in rows] == [(first.id, "email"), (second.id, "email")]
    assert rows[0].recipient == first.patient.user.email
    assert rows[0].subject == "Reminder: your appointment today at 09:00"
    assert "Wednesday 25 November 2026 at 09:00" in rows[0].payload["body"]

    # A newly configured channel adds its own reminders, still once each.
    monkeypatch.setattr(app.config["HMS"], "webhook_url", "http://127.0.0.1:9/hook")
    assert task() == 2
    assert task() == 0
    assert len(reminders()) == 4


def test_an_appointment_just_after_midnight_belongs_to_the_hospital_local_day(app, frozen_clock):
    # 19:00 UTC on the 24th is 00:30 on the 25th in Asia/Kolkata: "today" is the 25th.
    frozen_clock("2026-11-24T19:00:00+00:00")
    early = AppointmentFactory(date=date(2026, 11, 25), start_time=time(0, 15), end_time=time(0, 45))
    AppointmentFactory(date=date(2026, 11, 24), start_time=time(23, 0), end_time=time(23, 30))

    with fresh() as session:
        created = create_daily_reminders()
        session.commit()
    assert [fetch(Notification, nid).appointment_id for nid in created] == [early.id]


def test_reminders_for_an_explicit_day_skip_blocked_patients(app, frozen_clock):
    frozen_clock("2026-11-20 08:00")
    blocked = PatientFactory(user__is_active=False)
    AppointmentFactory(patient=blocked, start_time=time(9, 0))
    kept = AppointmentFactory(start_time=time(9, 30), end_time=time(10, 0))

    task = app.extensions["celery"].tasks[REMINDERS]
    assert task("2026-11-25") == 1
    assert [row.appointment_id for row in reminders()] == [kept.id]
