"""HTTP endpoints of scheduling, one module per area; importing them registers their routes on the one
blueprint `scheduling` (views/blueprint.py), so endpoint names and URLs are those of the old single views.py."""

from __future__ import annotations

from hms.common.api import Blueprint
from hms.scheduling.views import appointments, availability, calendar, followups, leave, waitlist  # noqa: F401
from hms.scheduling.views.blueprint import blp

blueprints: list[Blueprint] = [blp]
