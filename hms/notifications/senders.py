"""Channels: SMTP email (or a readable .eml mailbox folder when no SMTP host is set), a chat webhook, an SMS gateway."""

from __future__ import annotations

import mimetypes
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import requests
from flask import current_app

from hms.common.clock import utcnow_naive
from hms.models import Channel, Notification
from hms.notifications.messages import RenderedMessage, render

HTTP_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 20
SMS_MAX_LENGTH = 320
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class PermanentDeliveryError(Exception):
    """Retrying cannot help (no address, channel switched off): the row is marked failed at once."""


def send(row: Notification, message: RenderedMessage | None = None) -> None:
    """Deliver one outbox row through its channel; raise on failure."""
    message = message or render(row)
    if row.channel == Channel.EMAIL.value:
        send_email(row, message)
    elif row.channel == Channel.WEBHOOK.value:
        send_webhook(message)
    elif row.channel == Channel.SMS.value:
        send_sms(row, message)
    else:
        raise PermanentDeliveryError(f"Unknown channel {row.channel!r}.")


def header_text(value: str) -> str:
    """One line for a header: a name with CR/LF (typed or pasted) must not make the message fail on every retry."""
    return _CONTROL.sub(" ", value).strip()


def build_email(row: Notification, message: RenderedMessage) -> EmailMessage:
    settings = current_app.config["HMS"]
    email = EmailMessage()
    email["Subject"] = header_text(message.subject)
    email["From"] = header_text(settings.mail_from)
    email["To"] = header_text(row.recipient or "")
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"hms-{row.id}")
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    for attachment in (row.payload or {}).get("attachments", []):
        path = Path(attachment["path"])
        if not path.is_file():
            raise PermanentDeliveryError(f"Attachment {path.name} no longer exists.")
        content_type = (
            attachment.get("content_type") or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        maintype, subtype = content_type.split("/", 1)
        email.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment.get("filename") or path.name
        )
    return email


def send_email(row: Notification, message: RenderedMessage) -> None:
    settings = current_app.config["HMS"]
    if not row.recipient:
        raise PermanentDeliveryError("The user has no email address.")
    email = build_email(row, message)
    if not settings.smtp_host:
        stamp = utcnow_naive().strftime("%Y%m%dT%H%M%S")
        path = settings.mailbox_dir / f"{stamp}-{row.id}-{row.kind}.eml"
        path.write_bytes(bytes(email))
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(email)
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:  # the server said no for good (unknown mailbox, rejected content, auth)
            raise PermanentDeliveryError(f"SMTP {error.smtp_code}: {_reply(error.smtp_error)}") from error
        raise
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _reply_text in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            replies = "; ".join(f"{code} {_reply(text)}" for code, text in error.recipients.values())
            raise PermanentDeliveryError(f"SMTP recipient refused: {replies}") from error
        raise


def _reply(text: bytes | str) -> str:
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text))[:500]


def send_webhook(message: RenderedMessage) -> None:
    url = current_app.config["HMS"].webhook_url
    if not url:
        raise PermanentDeliveryError("No webhook URL is configured (HMS_WEBHOOK_URL).")
    response = requests.post(url, json={"text": message.chat}, timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()


def send_sms(row: Notification, message: RenderedMessage) -> None:
    settings = current_app.config["HMS"]
    if not (settings.sms_enabled and settings.sms_url):
        raise PermanentDeliveryError("SMS is switched off (HMS_SMS_ENABLED, HMS_SMS_URL).")
    if not row.recipient:
        raise PermanentDeliveryError("The user has no phone number.")
    response = requests.post(
        settings.sms_url,
        json={"to": row.recipient, "message": message.sms[:SMS_MAX_LENGTH]},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
