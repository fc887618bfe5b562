"""Endpoints of slots and availability: the public settings, a doctor's slots (cacheable when anonymous)
and free-slot summary, and the doctor's windows, weekly template and slot toggle."""

from __future__ import annotations

import hashlib
import json

from flask import Response, current_app, request

from hms.common.auth import current_doctor, optional_patient_id, roles_required
from hms.scheduling import availability, rules, slots
from hms.scheduling.schemas.appointments import SettingsRead
from hms.scheduling.schemas.availability import (
    AvailabilityArgs,
    AvailabilityRead,
    AvailabilityTemplate,
    AvailabilityUpdate,
    SlotsArgs,
    SlotsRead,
    SummaryArgs,
    SummaryRead,
    ToggleCreate,
    ToggleRead,
)
from hms.scheduling.views.blueprint import DOCTOR, blp


@blp.route("/settings", methods=["GET"])
@blp.response(200, SettingsRead)
def public_settings():
    """The scheduling settings the SPA shows dates and limits with: time zone, today, booking horizon per role."""
    return rules.public_settings()


@blp.route("/doctors/<int:doctor_id>/slots", methods=["GET"])
@blp.arguments(SlotsArgs, location="query")
@blp.response(200, SlotsRead)
def doctor_slots(args, doctor_id: int):
    """A doctor's slots on a date, each marked available or not (and, for a signed-in patient, any conflict).

    Anonymous answers carry an ETag and `Cache-Control: public, max-age=SLOTS_MAX_AGE`: a browser or proxy may
    reuse one for a few seconds and then revalidates it (304 while nothing changed). A booking invalidates the
    server's cached day at once; only that short max-age can show a slot as free that was just taken, and
    booking it then answers 409 slot_taken. Answers to a signed-in patient stay personal (no-store).
    """
    patient_id = optional_patient_id()
    if patient_id is None:
        return _cacheable_json(slots.public_slots(doctor_id=doctor_id, day=args["date"]), SLOTS_MAX_AGE)
    return slots.get_slots(doctor_id=doctor_id, day=args["date"], patient_id=patient_id, moving=args["moving"])


SLOTS_MAX_AGE = 5


def _cacheable_json(body: dict, max_age: int) -> Response:
    """A JSON answer with an ETag and a short public max-age, answered 304 when the client's copy is current."""
    content = json.dumps(body, separators=(",", ":")).encode()
    response = current_app.response_class(content, mimetype="application/json")
    response.set_etag(hashlib.blake2b(content, digest_size=12).hexdigest())
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    # A signed-in request (the SPA adds its token) must not be answered from this anonymous copy.
    response.headers["Vary"] = "Authorization"
    response.make_conditional(request)
    return response


@blp.route("/doctors/<int:doctor_id>/availability-summary", methods=["GET"])
@blp.arguments(SummaryArgs, location="query")
@blp.response(200, SummaryRead)
def availability_summary(args, doctor_id: int):
    """Free-slot counts per day of a range (at most 62 days), for a booking calendar."""
    return slots.availability_summary(doctor_id=doctor_id, date_from=args["date_from"], date_to=args["date_to"])


@blp.route("/doctor/availability", methods=["GET"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityArgs, location="query")
@blp.response(200, AvailabilityRead)
def get_availability(args):
    """My windows and slots for a range of days (default: 7 days from today)."""
    return availability.availability(doctor_id=current_doctor().id, **args)


@blp.route("/doctor/availability", methods=["PUT"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityUpdate)
@blp.response(200, AvailabilityRead)
def put_availability(data):
    """Set the windows of the given dates; 409 has_appointments unless cancel_booked."""
    return availability.set_availability(doctor_id=current_doctor().id, **data)


@blp.route("/doctor/availability/template", methods=["POST"])
@roles_required(DOCTOR)
@blp.arguments(AvailabilityTemplate)
@blp.response(200, AvailabilityRead)
def post_template(data):
    """Apply a weekly template (Mon=0 … Sun=6) to a date range."""
    return availability.apply_template(doctor_id=current_doctor().id, **data)


@blp.route("/doctor/availability/toggle", methods=["POST"])
@roles_required(DOCTOR)
@blp.arguments(ToggleCreate)
@blp.response(200, ToggleRead)
def post_toggle(data):
    """Block or unblock one slot."""
    return availability.toggle_slot(doctor_id=current_doctor().id, day=data["date"], start=data["start"])
