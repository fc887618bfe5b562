"""The admin's view of the outbox, so a message that failed for good is seen, not silently lost."""

from __future__ import annotations

from typing import Any

from hms.common.api import Blueprint
from hms.common.auth import roles_required
from hms.common.pagination import page_of
from hms.notifications import service
from hms.notifications.schemas import NotificationArgs, NotificationRead

blp = Blueprint("notifications_admin", __name__, url_prefix="/api/admin", description="Outgoing messages")


@blp.get("/notifications")
@roles_required("admin")
@blp.arguments(NotificationArgs, location="query", as_kwargs=True)
@blp.response(200, page_of(NotificationRead))
def notifications(**filters: Any) -> dict[str, Any]:
    """Outgoing messages, newest first, filtered by status (e.g. failed) and channel; bodies are not shown."""
    return service.list_notifications(**filters)


blueprints: list[Blueprint] = [blp]
