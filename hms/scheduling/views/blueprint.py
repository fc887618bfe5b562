"""The blueprint `scheduling` (prefix /api) every scheduling view module registers on,
the role names they require, and the .ics download response they share."""

from __future__ import annotations

from flask import Response

from hms.common.api import Blueprint
from hms.common.downloads import file_response

blp = Blueprint("scheduling", __name__, url_prefix="/api", description="Availability, slots and appointments")


DOCTOR, PATIENT, ADMIN = "doctor", "patient", "admin"


def _ics(content: bytes, filename: str) -> Response:
    return file_response(content, mimetype="text/calendar", filename=filename)
