"""Outbox delivery: real SMTP on loopback, a webhook, an SMS gateway, the mailbox folder, failures and retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms.common import clock
from hms.models import Notification
from hms.notifications.service import MAX_ATTEMPTS, queue
from tests.conftest import fetch, fresh
from tests.factories import AppointmentFactory

DELIVER = "hms.notifications.deliver_notification"


def deliver(app, notification_id: int) -> str:
    """Run the task's body in this process, as a worker would (the worker wiring has its own tests)."""
    return app.extensions["celery"].tasks[DELIVER](notification_id)


def queued(**fields) -> list[Notification]:
    """Queue and commit outbox rows as a request would; returns them as committed (detached snapshots)."""
    with fresh() as session:
        ids = queue(**fields)
        session.commit()
        return [session.get(Notification, row_id) for row_id in ids]


def booking_confirmation(appointment, channels=None) -> Notification:
    return queued(
        user=appointment.patient.user,
        kind="booking_confirmed",
        subject="Appointment confirmed",
        body=f"Your appointment with {appointment.doctor.full_name} is booked.",
        appointment_id=appointment.id,
        channels=channels,
    )[0]


def test_booking_confirmation_arrives_by_smtp_with_recipient_subject_and_body(app, smtp_server, smtp_settings):
    smtp_server.start()
    appointment = AppointmentFactory()
    row = booking_confirmation(appointment)

    assert deliver(app, row.id) == "sent"

    [(recipients, message)] = smtp_server.inbox.messages
    assert recipients == [appointment.patient.user.email]
    assert message["Subject"] == "Appointment confirmed"
    assert message["From"] == "Hospital <noreply@hospital.test>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f"Hello {appointment.patient.full_name}" in text
    assert f"Your appointment with {appointment.doctor.full_name} is booked." in text
    assert "Wednesday 25 November 2026" in text and "09:00-09:30" in text
    assert "<table" in html and appointment.doctor.full_name in html
    row = fetch(Notification, row.id)
    assert (row.status, row.attempts, row.error) == ("sent", 1, None)
    assert row.sent_at is not None


def test_message_stays_pending_while_smtp_is_down_and_is_delivered_on_retry(app, smtp_server, smtp_settings):
    appointment = AppointmentFactory()
    row = booking_confirmation(appointment)

    assert deliver(app, row.id) == "pending"
    row = fetch(Notification, row.id)
    assert row.status == "pending"
    assert row.attempts == 1
    assert "Connection refused" in row.error or "ConnectionRefusedError" in row.error
    assert row.next_attempt_at > clock.utcnow_naive()

    # Not due yet: a duplicate delivery does nothing.
    assert deliver(app, row.id) == "skipped"

    smtp_server.start()
    clock.set_now(clock.now_utc() + timedelta(minutes=5))
    assert deliver(app, row.id) == "sent"
    row = fetch(Notification, row.id)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert len(smtp_server.inbox.messages) == 1


def test_message_fails_for_good_after_max_attempts_and_is_kept(app, smtp_settings):
    row = booking_confirmation(AppointmentFactory())
    for _ in range(MAX_ATTEMPTS):
        deliver(app, row.id)
        clock.set_now(clock.now_utc() + timedelta(hours=2))
    row = fetch(Notification, row.id)
    assert row.status == "failed"
    assert row.attempts == MAX_ATTEMPTS
    assert row.error
    assert fetch(Notification, row.id) is not None


def test_webhook_receives_google_chat_style_json(app, http_sink, monkeypatch):
    monkeypatch.setattr(app.config["HMS"], "webhook_url", http_sink.url + "/chat")
    appointment = AppointmentFactory()
    rows = queued(
        user=appointment.patient.user,
        kind="appointment_cancelled",
        subject="Appointment cancelled",
        body="Your appointment was cancelled by the doctor.",
        appointment_id=appointment.id,
    )
    assert sorted(row.channel for row in rows) == ["email", "webhook"]
    webhook = next(row for row in rows if row.channel == "webhook")

    assert deliver(app, webhook.id) == "sent"
    [(path, body)] = http_sink.requests
    assert path == "/chat"
    assert body == {"text": "*Appointment cancelled*\nYour appointment was cancelled by the doctor."}


def test_sms_is_posted_to_the_gateway_only_when_enabled(app, http_sink, monkeypatch):
    settings = app.config["HMS"]
    monkeypatch.setattr(settings, "sms_url", http_sink.url + "/sms")
    appointment = AppointmentFactory()
    rows = queued(user=appointment.patient.user, kind="reminder", subject="Reminder", body="See you at 09:00.")
    assert [row.channel for row in rows] == ["email"]  # SMS is off by default

    monkeypatch.setattr(settings, "sms_enabled", True)
    [sms] = queued(
        user=appointment.patient.user, kind="reminder", subject="Reminder", body="See you.", channels=["sms"]
    )
    assert deliver(app, sms.id) == "sent"
    assert http_sink.requests == [("/sms", {"to": appointment.patient.phone, "message": "Reminder: See you."})]


def test_names_outside_ascii_arrive_intact_and_a_line_break_cannot_add_a_header(
    app, smtp_server, smtp_settings, monkeypatch
):
    smtp_server.start()
    monkeypatch.setattr(app.config["HMS"], "mail_from", "Hôpital Saint-Jean <noreply@hospital.test>")
    appointment = AppointmentFactory(doctor__full_name="Kavya Ménon")
    [row] = queued(
        user=appointment.patient.user,
        kind="booking_confirmed",
        subject="Rendez-vous confirmé\r\nBcc: someone@elsewhere.test",
        body="Votre rendez-vous avec Dr Kavya Ménon est confirmé.",
        appointment_id=appointment.id,
        channels=["email"],
    )
    assert deliver(app, row.id) == "sent"
    [(recipients, message)] = smtp_server.inbox.messages
    assert recipients == [appointment.patient.user.email]
    assert message["Subject"] == "Rendez-vous confirmé Bcc: someone@elsewhere.test"
    assert message["Bcc"] is None
    assert message["From"] == "Hôpital Saint-Jean <noreply@hospital.test>"
    assert "Votre rendez-vous avec Dr Kavya Ménon est confirmé." in message.get_body(("plain",)).get_content()
    assert "Kavya Ménon" in message.get_body(("html",)).get_content()


def test_without_smtp_host_the_message_is_written_to_the_mailbox_folder(app):
    appointment = AppointmentFactory()
    row = booking_confirmation(appointment, channels=["email"])
    assert deliver(app, row.id) == "sent"
    [eml] = list(app.config["HMS"].mailbox_dir.glob(f"*-{row.id}-booking_confirmed.eml"))
    content = eml.read_text()
    assert "Subject: Appointment confirmed" in content
    assert f"To: {appointment.patient.user.email}" in content
    assert f"Hello {appointment.patient.full_name}," in content  # the body is readable text, not base64
    eml.unlink()


def test_a_user_without_a_phone_fails_at_once_without_retries(app, monkeypatch, http_sink):
    settings = app.config["HMS"]
    monkeypatch.setattr(settings, "sms_enabled", True)
    monkeypatch.setattr(settings, "sms_url", http_sink.url)
    appointment = AppointmentFactory(patient__phone=None)
    [sms] = queued(user=appointment.patient.user, kind="reminder", subject="Reminder", body="x", channels=["sms"])
    assert deliver(app, sms.id) == "failed"
    sms = fetch(Notification, sms.id)
    assert (sms.status, sms.attempts) == ("failed", 1)
    assert "phone" in sms.error


@pytest.mark.parametrize("status", ["sent", "failed"])
def test_a_finished_message_is_never_sent_again(app, smtp_server, smtp_settings, status):
    smtp_server.start()
    row = booking_confirmation(AppointmentFactory())
    with fresh() as session:
        session.get(Notification, row.id).status = status
        session.commit()
    assert deliver(app, row.id) == "skipped"
    assert smtp_server.inbox.messages == []


def test_an_email_body_is_readable_text_and_a_line_too_long_for_smtp_is_quoted(app):
    from email import message_from_bytes, policy
    from types import SimpleNamespace

    from hms.notifications.messages import RenderedMessage
    from hms.notifications.senders import build_email

    long_line = "<td>" + "x" * 1500 + "</td>"
    message = RenderedMessage(
        subject="Rendez-vous", text="Bonjour Kavya Ménon,\nà bientôt.", html=f"<p>{long_line}</p>", chat="", sms=""
    )
    row = SimpleNamespace(id=7, recipient="kavya@example.test", payload={})
    with app.app_context():
        raw = bytes(build_email(row, message))
    assert "Bonjour Kavya Ménon,\nà bientôt.".encode() in raw  # as it is (8bit), readable in the mailbox folder
    assert max(len(line) for line in raw.splitlines()) <= 998  # the long HTML line is quoted-printable, not sent bare
    assert b"base64" not in raw
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed.get_body(("plain",)).get_content() == "Bonjour Kavya Ménon,\nà bientôt."
    assert long_line in parsed.get_body(("html",)).get_content()
