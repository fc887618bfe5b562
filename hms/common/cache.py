"""Cache helpers with generation counters: a write bumps a namespace, and every process stops reading old keys.

Keys are `<namespace>:<generation>:<key>`; invalidation is one atomic increment per namespace (Redis INCR, or the
in-process cache's locked increment), so it works the same across processes with Redis and inside one process
with the in-process cache. A generation counter that disappears (eviction, restart of Redis) restarts from the
current time in milliseconds, never from 0, so values cached under an old generation cannot come back.
The cache is an accelerator, never a point of failure: if it cannot be reached, values are computed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from hms.extensions import cache

T = TypeVar("T")
log = logging.getLogger(__name__)


def _fresh_generation() -> int:
    return int(time.time() * 1000)


def _generation_key(namespace: str) -> str:
    return f"gen:{namespace}"


def _generation(namespace: str) -> int:
    backend = cache.cache
    key = _generation_key(namespace)
    value = backend.get(key)
    if value is None:
        backend.add(key, _fresh_generation(), timeout=0)
        value = backend.get(key)
    return int(value) if value is not None else 0


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
    try:
        backend = cache.cache
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
    except Exception:  # the write already committed; a failed cache must not turn it into an error
        log.exception("cache invalidation failed for %s", ", ".join(namespaces[:5]))


def get_or_set(namespace: str, key: str, compute: Callable[[], T], *, timeout: int | None = None) -> T:
    """Return the cached value of namespace/key or compute, store and return it."""
    try:
        full_key = f"{namespace}:{_generation(namespace)}:{key}"
        value = cache.cache.get(full_key)
    except Exception:
        log.exception("cache read failed for %s:%s; computing", namespace, key)
        return compute()
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = compute()
    try:
        cache.cache.set(full_key, value, timeout=timeout or current_app.config["HMS"].cache_seconds)
    except Exception:
        log.exception("cache write failed for %s:%s", namespace, key)
    return value


def slots_namespace(doctor_id: int, day: Any) -> str:
    return f"slots:{doctor_id}:{day}"
