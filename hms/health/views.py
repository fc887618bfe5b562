"""GET /api/health: database, cache and broker status."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

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


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthRead)
@blp.alt_response(503, schema=HealthRead, description="The database is unreachable")
def health():
    """200 while the database answers; 503 otherwise."""
    body, up = service.check()
    return body, 200 if up else 503


blueprints: list[Blueprint] = [blp]
