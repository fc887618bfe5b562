"""Admin view of the audit log."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from hms.audit import service
from hms.audit.schemas import AuditArgs, AuditRead
from hms.common.api import Blueprint
from hms.common.auth import roles_required
from hms.common.pagination import page_of

blp = Blueprint("audit", __name__, url_prefix="/api/admin", description="Audit log")


@blp.get("/audit")
@roles_required("admin")
@blp.arguments(AuditArgs, location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, page_of(AuditRead))
def audit_events(**filters: Any) -> dict[str, Any]:
    """Audit events, newest first, filtered by actor, action, entity, patient and hospital-local dates."""
    return service.list_events(**filters)


blueprints: list[Blueprint] = [blp]
