"""How a person's name is shown: doctors carry their title once, added here and stored nowhere."""

from __future__ import annotations

import re

_TITLE = re.compile(r"^\s*(?:dr\.?\s+|doctor\s+)+", re.IGNORECASE)
DOCTOR_TITLE = "Dr."


def strip_title(name: str) -> str:
    """A doctor's name as stored: "Dr. Asha Rao" and "dr asha rao" keep only the name, so the title is never doubled."""
    return _TITLE.sub("", name or "").strip()


def doctor_display_name(name: str | None) -> str | None:
    """The one way a doctor is named to people: "Dr. Asha Rao"."""
    if not name:
        return None
    return f"{DOCTOR_TITLE} {strip_title(name)}"
