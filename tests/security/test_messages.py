"""Finding 13: a name with CR/LF cannot break or widen an e-mail; a 5xx reply fails a message at once."""

from __future__ import annotations

from datetime import time

from aiosmtpd.controller import Controller
from sqlalchemy import select

from hms.models import Notification
from tests.conftest import bearer, fetch, fetch_all, fresh
from tests.factories import AdminFactory, AppointmentFactory, PatientFactory
from tests.notifications.conftest import free_port, smtp_server, smtp_settings  # noqa: F401
from tests.scheduling.helpers import DAY, NOW

DELIVER = "hms.notifications.deliver_notification"


def deliver(app, notification_id: int) -> str:
    return app.extensions["celery"].tasks[DELIVER](notification_id)


def test_finding_13_a_name_with_cr_lf_is_sent_once_as_one_line_to_the_right_recipient(
    app,
    client,
    frozen_clock,
    smtp_server,  # noqa: F811
    smtp_settings,  # noqa: F811
):
    frozen_clock(NOW)
    smtp_server.start()
    patient = PatientFactory(full_name="Ravi\r\nBcc: thief@example.org\r\n")
    appointment = AppointmentFactory(patient=patient, date=DAY, start_time=time(9), end_time=time(9, 30))
    doctor_email = appointment.doctor.user.email
    cancelled = client.post(
        f"/api/patient/appointments/{appointment.id}/cancel", json={"reason": "x"}, headers=bearer(patient.user)
    )
    assert cancelled.status_code == 200
    [row] = fetch_all(
        select(Notification).where(Notification.recipient == doctor_email, Notification.channel == "email")
    )
    row_id = row.id
    assert deliver(app, row_id) == "sent"
    [(recipients, message)] = smtp_server.inbox.messages
    assert recipients == [doctor_email]
    assert message["Subject"].startswith("Appointment cancelled: Ravi Bcc: thief@example.org ,")
    assert message["Bcc"] is None
    row = fetch(Notification, row_id)
    assert (row.status, row.attempts) == ("sent", 1)


class Refusing:
    """An SMTP server that refuses every recipient for good (550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox here"


def test_a_permanent_smtp_error_fails_the_message_at_once_and_the_admin_sees_it(app, client, monkeypatch):
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = app.config["HMS"]
        monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
        monkeypatch.setattr(settings, "smtp_port", port)
        from hms.notifications.service import queue

        appointment = AppointmentFactory()
        with fresh() as session:
            [row_id] = queue(user=appointment.patient.user, kind="x", subject="Hello", body="Hi", channels=["email"])
            session.commit()
        assert deliver(app, row_id) == "failed"
    finally:
        controller.stop()
    failed = client.get("/api/admin/notifications?status=failed", headers=bearer(AdminFactory())).get_json()
    assert [(item["id"], item["attempts"]) for item in failed["items"]] == [(row_id, 1)]
    assert failed["items"][0]["error"].startswith("SMTP recipient refused: 550")
