"""Admin dashboard endpoints: totals and chart series."""

from __future__ import annotations

from typing import Any

from hms.analytics import service
from hms.analytics.schemas import AnalyticsRead, StatsRead
from hms.common.api import Blueprint
from hms.common.auth import roles_required

blp = Blueprint("analytics", __name__, url_prefix="/api/admin", description="Admin dashboard figures")


@blp.get("/stats")
@roles_required("admin")
@blp.response(200, StatsRead)
def stats() -> dict[str, Any]:
    """Totals for the admin dashboard (cached for up to a minute)."""
    return service.admin_stats()


@blp.get("/analytics")
@roles_required("admin")
@blp.response(200, AnalyticsRead)
def analytics() -> dict[str, Any]:
    """Chart series for the admin dashboard (cached for up to a minute)."""
    return service.admin_analytics()


blueprints: list[Blueprint] = [blp]
