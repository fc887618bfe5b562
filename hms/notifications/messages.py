"""Rendering an outbox row into a message: plain text and a small HTML alternative from Jinja2 templates per kind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from hms.common import links
from hms.extensions import db
from hms.models import Appointment, Notification, User

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass
class RenderedMessage:
    subject: str
    text: str
    html: str
    chat: str
    sms: str


def _template(kind: str, extension: str):
    environment = _environment(extension == "html")
    try:
        return environment.get_template(f"{kind}.{extension}")
    except TemplateNotFound:
        return environment.get_template(f"_default.{extension}")


def _name(user: User | None) -> str:
    """How a message greets its reader: a doctor by display name, a patient by name, else the username."""
    if user is None:
        return "there"
    if user.doctor is not None:
        return user.doctor.display_name
    if user.patient is not None:
        return user.patient.full_name
    return user.username


def _context(row: Notification) -> dict:
    settings = current_app.config["HMS"]
    payload = dict(row.payload or {})
    user = db.session.get(User, row.user_id) if row.user_id else None
    appointment = db.session.get(Appointment, row.appointment_id) if row.appointment_id else None
    html_body = None
    if payload.get("html_path") and Path(payload["html_path"]).is_file():
        html_body = Path(payload["html_path"]).read_text(encoding="utf-8")
    return {
        "subject": row.subject or "A message from the hospital",
        "body": payload.get("body", ""),
        "data": payload,
        "name": _name(user),
        "appointment": appointment,
        "doctor": appointment.doctor if appointment else None,
        "department": appointment.doctor.department if appointment and appointment.doctor else None,
        "hospital": str(settings.extra.get("hospital_name", "Hospital Management System")),
        "portal_url": settings.public_url.rstrip("/"),
        "html_body": html_body,
        "link": _account_link(payload),
    }


# Account mails that may go to an unverified address: they carry no clinical content and are how it gets verified.
ACCOUNT_KINDS = frozenset({"verify_email", "password_reset", "password_changed", "registration_attempt"})


def mail_may_carry_details(user: User | None, recipient: str | None) -> bool:
    """May an e-mail to `recipient` carry appointment or clinical details? Only to the user's confirmed address."""
    return user is not None and user.email_verified_at is not None and (recipient or "").lower() == user.email.lower()


def _needs_verification(row: Notification) -> bool:
    if row.kind in ACCOUNT_KINDS or row.user_id is None:
        return False
    return not mail_may_carry_details(db.session.get(User, row.user_id), row.recipient)


def _account_link(payload: dict) -> str | None:
    """A one-time account link (password reset, e-mail verification) is made only now, as the message is sent:
    the outbox row holds the token row's id, never the token (hms.accounts.tokens)."""
    if "account_token_id" not in payload:
        return None
    return links.url(int(payload["account_token_id"]), str(payload.get("link_purpose", "reset")))


def render(row: Notification) -> RenderedMessage:
    """The subject, text, HTML, chat and SMS forms of one outbox row, from the templates of its kind.

    An e-mail to an address its owner has not confirmed carries no appointment or clinical detail: it is
    rendered as "verify your address" (issue 14; hms.accounts.verification), decided at sending time.
    """
    context = _context(row)
    kind = row.kind
    if row.channel == "email" and _needs_verification(row):
        kind = "verify_first"
        context |= {
            "subject": "You have a message from the hospital: please confirm your e-mail address",
            "body": "",
            "appointment": None,
            "doctor": None,
            "department": None,
            "html_body": None,
        }
    text = _template(kind, "txt").render(context)
    html = context["html_body"] or _template(kind, "html").render(context)
    chat = f"*{context['subject']}*\n{context['body']}".strip()
    sms = f"{context['subject']}: {context['body']}".strip()
    return RenderedMessage(subject=context["subject"], text=text, html=html, chat=chat, sms=sms)
