"""HTTP endpoints of this domain (filled in by its issue)."""

from flask_smorest import Blueprint

blueprints: list[Blueprint] = []
