"""HTTP endpoints of the front desk (admin) and the doctor's own queue."""

from __future__ import annotations

from flask_jwt_extended import current_user

from hms.common.api import Blueprint
from hms.common.auth import current_doctor, roles_required
from hms.desk import service
from hms.desk.schemas import CheckInCreate, QueueArgs, QueueTokenRead, WalkInCreate

blp = Blueprint("desk", __name__, url_prefix="/api", description="Walk-ins, emergencies and today's queue")


@blp.route("/admin/walk-ins", methods=["POST"])
@roles_required("admin")
@blp.arguments(WalkInCreate)
@blp.response(201, QueueTokenRead)
def walk_in(data):
    """Register a walk-in into today's next free slot, or as an emergency on top of the queue (audited)."""
    return service.register_walk_in(actor=current_user, data=data)


@blp.route("/admin/queue/check-in", methods=["POST"])
@roles_required("admin")
@blp.arguments(CheckInCreate)
@blp.response(201, QueueTokenRead)
def check_in(data):
    """A booked patient of today has arrived: a token in the doctor's queue."""
    return service.check_in(actor=current_user, **data)


@blp.route("/admin/queue", methods=["GET"])
@roles_required("admin")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueueTokenRead(many=True))
def today_queue(args):
    """Today's queue of every doctor (or one): emergencies first, then by token."""
    return service.queue(**args)


@blp.route("/admin/queue/<int:token_id>/advance", methods=["POST"])
@roles_required("admin")
@blp.response(200, QueueTokenRead)
def advance(token_id: int):
    """Checked in → with doctor → done."""
    return service.advance(actor=current_user, token_id=token_id)


@blp.route("/doctor/queue", methods=["GET"])
@roles_required("doctor")
@blp.response(200, QueueTokenRead(many=True))
def my_queue():
    """My queue today: emergencies on top."""
    return service.queue(doctor_id=current_doctor().id)


@blp.route("/doctor/queue/<int:token_id>/advance", methods=["POST"])
@roles_required("doctor")
@blp.response(200, QueueTokenRead)
def my_advance(token_id: int):
    """Call the next patient in, or finish with one."""
    return service.advance(actor=current_user, token_id=token_id, doctor_id=current_doctor().id)


blueprints: list[Blueprint] = [blp]
