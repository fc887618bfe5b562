"""The cache never serves what a write has changed: in one process (SimpleCache) and across processes
sharing Redis, where two application instances stand for two gunicorn workers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, time

import pytest
import redis
from flask import Flask

from hms import create_app
from hms.common import cache as cache_module
from hms.common.cache import get_or_set, invalidate, slots_namespace
from hms.extensions import cache
from tests.conftest import REDIS_TEST_URL, fresh, make_settings
from tests.factories import AvailabilityFactory, DoctorFactory, PatientFactory


class Counter:
    """A compute function that says how often it ran."""

    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def test_in_process_cache_serves_until_its_namespace_is_invalidated():
    compute = Counter({"slots": ["09:00"]})
    with fresh():
        assert get_or_set("slots:1:2026-11-25", "public", compute) == {"slots": ["09:00"]}
        assert get_or_set("slots:1:2026-11-25", "public", compute) == {"slots": ["09:00"]}
        assert compute.calls == 1

        other = Counter("directory")
        get_or_set("directory", "all", other)
        invalidate("slots:1:2026-11-25")

        assert get_or_set("slots:1:2026-11-25", "public", compute) == {"slots": ["09:00"]}
        assert compute.calls == 2
        get_or_set("directory", "all", other)
        assert other.calls == 1  # other namespaces keep their values


def test_invalidating_many_namespaces_at_once_reaches_each():
    computes = {day: Counter(day) for day in range(5)}
    with fresh():
        for day, compute in computes.items():
            get_or_set(slots_namespace(3, day), "k", compute)
        invalidate(*(slots_namespace(3, day) for day in computes))
        for day, compute in computes.items():
            get_or_set(slots_namespace(3, day), "k", compute)
            assert compute.calls == 2


def test_a_lost_generation_counter_never_brings_old_values_back(monkeypatch):
    monkeypatch.setattr(cache_module, "_fresh_generation", lambda: 1_000)  # the same millisecond throughout
    with fresh():
        get_or_set("stats", "k", Counter("old"))
        old_generation = cache.get("gen:stats")
        cache.delete("gen:stats")  # evicted, or the cache restarted without its data
        invalidate("stats")
        assert cache.get("gen:stats") > old_generation
        assert get_or_set("stats", "k", Counter("new")) == "new"


# Two instances over one database and one Redis ---------------------------------------------------------------


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    return client


@pytest.fixture
def shared_redis_apps(app: Flask, tmp_path) -> Iterator[tuple[Flask, Flask]]:
    """Instances A and B: the run's database, one Redis, one key prefix: what two web workers share."""
    client = _redis_or_skip()
    prefix = f"hms-test-{uuid.uuid4().hex[:10]}:"
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    instances = tuple(
        create_app(
            make_settings(
                tmp_path / name, database_url=database_url, redis_url=REDIS_TEST_URL, extra={"cache_prefix": prefix}
            )
        )
        for name in ("a", "b")
    )
    yield instances  # type: ignore[misc]
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def test_invalidation_in_one_instance_reaches_the_other_at_once(shared_redis_apps):
    instance_a, instance_b = shared_redis_apps
    namespace = slots_namespace(9, "2026-11-25")
    before, after = Counter(["09:00", "09:30"]), Counter(["09:30"])
    with instance_b.app_context():
        assert get_or_set(namespace, "public", before) == ["09:00", "09:30"]
        assert get_or_set(namespace, "public", after) == ["09:00", "09:30"]  # B reads its cached value
    with instance_a.app_context():
        assert get_or_set(namespace, "public", after) == ["09:00", "09:30"]  # A shares the same cache
        invalidate(namespace)  # A books 09:00
    with instance_b.app_context():
        assert get_or_set(namespace, "public", after) == ["09:30"]
    assert before.calls == 1 and after.calls == 1


def test_instances_with_another_prefix_do_not_share_values(shared_redis_apps, app, tmp_path):
    instance_a, _ = shared_redis_apps
    _redis_or_skip()
    stranger = create_app(
        make_settings(
            tmp_path / "c",
            database_url=app.config["SQLALCHEMY_DATABASE_URI"],
            redis_url=REDIS_TEST_URL,
            extra={"cache_prefix": f"hms-test-{uuid.uuid4().hex[:10]}:"},
        )
    )
    with instance_a.app_context():
        get_or_set("directory", "all", Counter("A's"))
    with stranger.app_context():
        assert get_or_set("directory", "all", Counter("stranger's")) == "stranger's"
        cache.clear()


def test_an_unreachable_cache_slows_reads_but_never_fails_them(app, tmp_path):
    broken = create_app(
        make_settings(tmp_path, database_url=app.config["SQLALCHEMY_DATABASE_URI"], redis_url="redis://127.0.0.1:1/0")
    )
    compute = Counter("fresh")
    with broken.app_context():
        assert get_or_set("stats", "k", compute) == "fresh"
        invalidate("stats")  # logged, not raised: the write it follows has already committed
    assert compute.calls == 1


def _has_route(instance: Flask, rule: str) -> bool:
    return any(str(r.rule) == rule for r in instance.url_map.iter_rules())


def test_a_booking_through_one_instance_removes_the_slot_read_through_the_other(shared_redis_apps, frozen_clock, auth):
    instance_a, instance_b = shared_redis_apps
    if not _has_route(instance_b, "/api/doctors/<int:doctor_id>/slots") or not _has_route(
        instance_a, "/api/patient/appointments"
    ):
        pytest.skip("the slots or booking endpoint (scheduling) is not there yet")
    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 25), start_time=time(9, 0), end_time=time(11, 0))
    patient = PatientFactory()
    url = f"/api/doctors/{doctor.id}/slots?date=2026-11-25"

    def nine_o_clock_free() -> bool:
        with instance_b.app_context():
            response = instance_b.test_client().get(url)
        assert response.status_code == 200, response.get_json()
        return any(slot["start"] == "09:00" and slot["available"] for slot in response.get_json()["slots"])

    assert nine_o_clock_free()
    assert nine_o_clock_free()  # now cached in Redis
    with instance_a.app_context():
        booked = instance_a.test_client().post(
            "/api/patient/appointments",
            json={"doctor_id": doctor.id, "date": "2026-11-25", "start_time": "09:00", "reason": "check-up"},
            headers=auth(patient.user),
        )
    assert booked.status_code == 201, booked.get_json()
    assert not nine_o_clock_free()
