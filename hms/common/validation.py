"""Profile validation every form shares (dates of birth, phone numbers, e-mail addresses), defined once.

Schemas use these fields and validators; the SPA mirrors the same rules and shows the same sentences.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import email_validator
import phonenumbers
from flask import current_app, has_app_context
from marshmallow import ValidationError

from hms.common.clock import today_local
from hms.common.fields import Date, Email, Line

MAX_AGE_YEARS = 130
DEFAULT_PHONE_REGION = "IN"
PHONE_MESSAGE = "Enter a valid phone number, for example +91 98765 43210."
EMAIL_MESSAGE = "Enter a valid e-mail address, for example name@example.com."

# A hospital's own staff often have intranet addresses (dr.asha@hospital.local); every other reserved name stays out.
email_validator.SPECIAL_USE_DOMAIN_NAMES = [d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if d != "local"]


def phone_region() -> str:
    """The region a number without +country code is read in (HMS_PHONE_REGION, India by default)."""
    if has_app_context():
        return current_app.config["HMS"].phone_region
    return DEFAULT_PHONE_REGION


def normalise_phone(value: str) -> str:
    """A phone number in E.164 (+919876543210), or ValidationError in plain words."""
    try:
        number = phonenumbers.parse(value, phone_region())
    except phonenumbers.NumberParseException:
        raise ValidationError(PHONE_MESSAGE) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(PHONE_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """An e-mail address checked for its form (no DNS look-up), with the domain lower-cased."""
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise ValidationError(EMAIL_MESSAGE) from None
    return result.normalized


def check_date_of_birth(value: date) -> None:
    """Born in the past, and not more than MAX_AGE_YEARS ago."""
    today = today_local()
    if value > today:
        raise ValidationError("The date of birth cannot be in the future.")
    try:
        oldest = today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
    if value < oldest:
        raise ValidationError(f"The date of birth cannot be more than {MAX_AGE_YEARS} years ago.")


class PhoneNumber(Line):
    """A phone number (a bounded single line, hms.common.fields.Line): accepted as people type it, stored and
    returned in E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "+91 98450 12345")
        super().__init__(32, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None or not text.strip():
            if self.allow_none:
                return None
            raise ValidationError(PHONE_MESSAGE)
        return normalise_phone(text.strip())

    def _validate(self, value: Any) -> None:
        """An empty number is stored as no number: the length rule has nothing to check then."""
        if value is not None:
            super()._validate(value)


class EmailAddress(Email):
    """An e-mail address (hms.common.fields.Email: one line, at most 255 characters) checked by email-validator."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 255:
            raise ValidationError("Use at most 255 characters.")
        return normalise_email(text.strip())


def birth_date_field(**kwargs: Any) -> Date:
    """A date of birth: hms.common.fields.Date (1900..2200) with check_date_of_birth on top (not in the future, at
    most MAX_AGE_YEARS ago)."""
    kwargs.setdefault("metadata", {}).setdefault("example", "1990-04-12")
    return Date(validate=check_date_of_birth, **kwargs)
