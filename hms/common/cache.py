"""Cache helpers with generation counters: a write bumps a namespace, and every process stops reading old keys.

Keys are `<namespace>:<epoch>.<generation>:<key>`; invalidation is one atomic increment per namespace (Redis INCR,
or an UPSERT in the SQLite cache file that the web processes share without Redis, hms/common/sqlite_cache.py), so
it works the same across processes either way. A generation counter that disappears (eviction, restart of Redis)
restarts from the current time in milliseconds, never from 0, so values cached under an old generation cannot come
back.

The cache is an accelerator, never a point of failure: every call goes through the Redis circuit breaker
(hms.common.redis_guard), and when Redis cannot be reached values are computed. An invalidation that fails
during an outage cannot be replayed precisely (the write already committed), so a process that saw Redis fail
bumps the global epoch before it uses the cache again: every value cached before the outage, in every
namespace, becomes unreachable, including those that a lost invalidation should have removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from hms.common import redis_guard
from hms.common.redis_guard import RedisUnavailable
from hms.extensions import cache

T = TypeVar("T")
log = logging.getLogger(__name__)

EPOCH_KEY = "epoch"
# The admin dashboard's totals. Changes to who is listed (doctors, patients, departments) bump it, so an admin who
# just added a doctor sees them counted; appointment figures may be up to the cache timeout old.
STATS_NAMESPACE = "stats"


def _fresh_generation() -> int:
    return int(time.time() * 1000)


def _generation_key(namespace: str) -> str:
    return f"gen:{namespace}"


def _bump_epoch_after_outage() -> None:
    """First cache use after an outage in this process: make everything cached before it unreachable."""
    breaker = redis_guard.breaker_of()
    misses = breaker.unhandled_misses()
    if not misses:
        return
    backend = cache.cache

    def bump() -> None:
        backend.add(EPOCH_KEY, _fresh_generation(), timeout=0)
        backend.inc(EPOCH_KEY)

    redis_guard.call(bump)
    breaker.handled(misses)
    log.warning("cache epoch bumped after a Redis outage: values cached before it are no longer read")


def _version(namespace: str) -> str:
    """`<epoch>.<generation>` of a namespace, read in one round trip; missing counters start from now."""
    backend = cache.cache
    key = _generation_key(namespace)
    epoch, generation = redis_guard.call(lambda: backend.get_many(EPOCH_KEY, key))
    if epoch is None or generation is None:

        def start() -> tuple[Any, Any]:
            backend.add(EPOCH_KEY, _fresh_generation(), timeout=0)
            backend.add(key, _fresh_generation(), timeout=0)
            return tuple(backend.get_many(EPOCH_KEY, key))

        epoch, generation = redis_guard.call(start)
    return f"{int(epoch or 0)}.{int(generation or 0)}"


def _redis_pipeline(backend: Any) -> Any | None:
    """A pipeline on cachelib's RedisCache client, so invalidating many namespaces is one round trip."""
    client = getattr(backend, "_write_client", None)
    if client is None or not hasattr(client, "pipeline") or not hasattr(backend, "key_prefix"):
        return None
    return client.pipeline(transaction=False)


def invalidate(*namespaces: str) -> None:
    """Make every cached value of these namespaces unreachable, in every process sharing the cache."""
    if not namespaces:
        return
    backend = cache.cache

    def bump() -> None:
        pipeline = _redis_pipeline(backend)
        if pipeline is not None:
            start = _fresh_generation()
            for namespace in namespaces:
                full_key = backend.key_prefix + _generation_key(namespace)  # type: ignore[attr-defined]  # Redis
                pipeline.set(full_key, start, nx=True)
                pipeline.incr(full_key)
            pipeline.execute()
            return
        for namespace in namespaces:
            key = _generation_key(namespace)
            backend.add(key, _fresh_generation(), timeout=0)
            backend.inc(key)

    try:
        redis_guard.call(bump)
    except RedisUnavailable:
        # The write already committed; the breaker now remembers the outage, and the epoch bump that follows it
        # hides whatever this invalidation should have hidden.
        log.warning("cache invalidation skipped (Redis unavailable) for %s", ", ".join(namespaces[:5]))


def get_or_set(namespace: str, key: str, compute: Callable[[], T], *, timeout: int | None = None) -> T:
    """Return the cached value of namespace/key or compute, store and return it."""
    try:
        _bump_epoch_after_outage()
        full_key = f"{namespace}:{_version(namespace)}:{key}"
        value = redis_guard.call(lambda: cache.cache.get(full_key))
    except RedisUnavailable:
        return compute()
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = compute()
    ttl = timeout or current_app.config["HMS"].cache_seconds
    try:
        redis_guard.call(lambda: cache.cache.set(full_key, value, timeout=ttl))
    except RedisUnavailable:
        log.warning("cache write skipped (Redis unavailable) for %s:%s", namespace, key)
    return value


def get_or_set_if(
    namespace: str, key: str, compute: Callable[[], T], *, keep: Callable[[T], bool], timeout: int | None = None
) -> T:
    """Like get_or_set, but store the computed value only when keep(value) says it is worth keeping."""
    try:
        _bump_epoch_after_outage()
        full_key = f"{namespace}:{_version(namespace)}:{key}"
        value = redis_guard.call(lambda: cache.cache.get(full_key))
    except RedisUnavailable:
        return compute()
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = compute()
    if keep(value):
        ttl = timeout or current_app.config["HMS"].cache_seconds
        try:
            redis_guard.call(lambda: cache.cache.set(full_key, value, timeout=ttl))
        except RedisUnavailable:
            log.warning("cache write skipped (Redis unavailable) for %s:%s", namespace, key)
    return value


def slots_namespace(doctor_id: int, day: Any) -> str:
    return f"slots:{doctor_id}:{day}"
