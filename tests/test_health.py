"""GET /api/health reports the database, cache and broker."""

from __future__ import annotations

from unittest import mock

from hms import create_app
from tests.conftest import make_settings
from tests.notifications.conftest import free_port


def test_health_is_ok_with_every_dependency(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["failing"]) == ("ok", [])
    assert body["database"]["ok"] and body["database"]["backend"] in ("sqlite", "postgresql")
    assert body["cache"] == {"ok": True, "backend": "sqlite-file"}
    assert body["broker"] == {"ok": True, "backend": "sqlite"}


def test_health_is_503_when_the_database_is_down(client):
    with mock.patch("hms.health.service.db.session.execute", side_effect=RuntimeError("down")):
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"]["ok"] is False


def test_health_is_degraded_and_names_redis_parts_when_redis_is_unreachable(app, tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    degraded_app = create_app(
        make_settings(tmp_path, database_url=app.config["HMS"].database_url, redis_url=dead_redis)
    )
    try:
        response = degraded_app.test_client().get("/api/health")
    finally:
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["failing"]) == ("degraded", ["cache", "broker"])
    assert body["database"]["ok"] is True
    assert (body["cache"]["ok"], body["cache"]["backend"]) == (False, "redis")


def test_hospital_clock_gives_the_zone_and_today_as_the_hospital_sees_them(client, frozen_clock):
    frozen_clock("2026-11-24 23:30")  # still the 24th in Kolkata, the 24th 18:00 in UTC
    body = client.get("/api/hospital").get_json()
    assert body == {
        "timezone": "Asia/Kolkata",
        "now": "2026-11-24T18:00:00Z",
        "today": "2026-11-24",
        "utc_offset": "+05:30",
        "booking_horizon_days": 7,
        "phone_region": "IN",
    }
    frozen_clock("2026-11-25 04:00")  # the 24th in UTC, already the 25th at the hospital
    assert client.get("/api/hospital").get_json()["today"] == "2026-11-25"
