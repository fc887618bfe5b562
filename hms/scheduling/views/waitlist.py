"""Endpoints of the patient's waitlist: list my entries, join for a doctor's day, leave.
The rules (who is offered a freed slot) are in hms/scheduling/waitlist.py."""

from __future__ import annotations

from hms.common.auth import current_patient, roles_required
from hms.common.pagination import page_of
from hms.scheduling import waitlist as waitlist_service
from hms.scheduling.schemas.waitlist import WaitlistArgs, WaitlistCreate, WaitlistRead
from hms.scheduling.views.blueprint import PATIENT, blp


@blp.route("/patient/waitlist", methods=["GET"])
@roles_required(PATIENT)
@blp.arguments(WaitlistArgs, location="query")
@blp.response(200, page_of(WaitlistRead))
def waitlist(args):
    """My waitlist entries."""
    return waitlist_service.list_waitlist(patient_id=current_patient().id, **args)


@blp.route("/patient/waitlist", methods=["POST"])
@roles_required(PATIENT)
@blp.arguments(WaitlistCreate)
@blp.response(201, WaitlistRead)
def join_waitlist(data):
    """Wait for a slot of a doctor on a date."""
    return waitlist_service.join_waitlist(
        patient_id=current_patient().id, doctor_id=data["doctor_id"], day=data["date"]
    )


@blp.route("/patient/waitlist/<int:entry_id>", methods=["DELETE"])
@roles_required(PATIENT)
@blp.response(204)
def leave_waitlist(entry_id: int):
    """Leave the waitlist."""
    waitlist_service.leave_waitlist(patient_id=current_patient().id, entry_id=entry_id)
