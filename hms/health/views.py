"""GET /api/health: database, cache and broker status; GET /api/hospital: the clock and zone every client shows."""

from __future__ import annotations

from marshmallow import Schema, fields

from hms.common.api import Blueprint
from hms.common.fields import Timestamp
from hms.health import service

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


class DependencyRead(Schema):
    ok = fields.Boolean()
    backend = fields.String()
    error = fields.String()


class HealthRead(Schema):
    status = fields.String(metadata={"description": "ok, or degraded when a dependency other than the database fails"})
    failing = fields.List(fields.String(), metadata={"description": "the dependencies that do not answer"})
    database = fields.Nested(DependencyRead)
    cache = fields.Nested(DependencyRead)
    broker = fields.Nested(DependencyRead)


LIVE = {"status": "ok"}


@blp.route("/health/live", methods=["GET"])
@blp.doc(
    security=[],
    responses={
        "200": {
            "description": "The process answers",
            "content": {
                "application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}}}}
            },
        }
    },
)
def live():
    """Liveness: a constant answer that touches no dependency (a load balancer's "is the process up?", and the
    framework's ceiling in `make bench`). Readiness, with the real checks, is GET /api/health."""
    return LIVE


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthRead)
@blp.alt_response(503, schema=HealthRead, description="The database is unreachable")
def health():
    """200 while the database answers; 503 otherwise."""
    body, up = service.check()
    return body, 200 if up else 503


class HospitalRead(Schema):
    timezone = fields.String(metadata={"description": "IANA zone of the hospital (HMS_TIMEZONE)"})
    now = Timestamp()
    today = fields.Date(metadata={"description": "today in the hospital's zone"})
    utc_offset = fields.String(metadata={"example": "+05:30"})
    booking_horizon_days = fields.Integer()
    phone_region = fields.String(metadata={"description": "region a phone number without +country is read in"})


@blp.route("/hospital", methods=["GET"])
@blp.response(200, HospitalRead)
def hospital():
    """The hospital's zone and clock: browsers anywhere show times and "today" as the hospital sees them."""
    return service.hospital_clock()


blueprints: list[Blueprint] = [blp]
