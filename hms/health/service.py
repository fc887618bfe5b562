"""Is every dependency of this process reachable? Answers for load balancers and `make run`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import text

from hms.common import clock, redis_guard
from hms.extensions import cache, db
from hms.scheduling import rules


def _database() -> dict[str, Any]:
    backend = db.engine.dialect.name
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
        return {"ok": True, "backend": backend}
    except Exception as error:  # any failure means "down"; the reason helps whoever reads the answer
        db.session.rollback()
        return {"ok": False, "backend": backend, "error": type(error).__name__}


def _cache() -> dict[str, Any]:
    backend = "redis" if current_app.config["HMS"].redis_url else "sqlite-file"  # shared by the web processes
    try:
        token = secrets.token_hex(8)

        def round_trip() -> bool:
            cache.cache.set("health:probe", token, timeout=30)
            return cache.cache.get("health:probe") == token

        return {"ok": redis_guard.probe(round_trip), "backend": backend}
    except Exception as error:
        return {"ok": False, "backend": backend, "error": type(error).__name__}


def _broker() -> dict[str, Any]:
    settings = current_app.config["HMS"]
    if settings.redis_url:
        try:
            client = current_app.extensions["hms_redis"]
            return {"ok": bool(redis_guard.probe(client.ping)), "backend": "redis"}
        except Exception as error:
            return {"ok": False, "backend": "redis", "error": type(error).__name__}
    folder = Path(settings.instance_path)
    return {"ok": folder.is_dir() and os.access(folder, os.W_OK), "backend": "sqlite"}


def check() -> tuple[dict[str, Any], bool]:
    """Every dependency's state and the names of those failing; the service is up (HTTP 200) when its database is."""
    report = {"database": _database(), "cache": _cache(), "broker": _broker()}
    failing = [name for name, part in report.items() if not part["ok"]]
    return {"status": "degraded" if failing else "ok", "failing": failing, **report}, report["database"]["ok"]


def hospital_clock() -> dict[str, Any]:
    """GET /api/hospital: the same settings as GET /api/settings (scheduling.rules.public_settings), with `now` as
    a UTC timestamp and the patient's booking horizon as one number, the shape this endpoint has always had."""
    now = clock.now_local()
    settings = rules.public_settings(now)
    return {**settings, "now": now, "booking_horizon_days": settings["booking_horizon_days"]["patient"]}
