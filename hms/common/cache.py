"""Cache helpers with generation counters: a write bumps a namespace, and every process stops reading old keys.

Keys are `<namespace>:<generation>:<key>`; invalidation is one atomic increment, so it works the same across
processes with Redis and inside one process with the in-process cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from hms.extensions import cache

T = TypeVar("T")
_MISSING = object()


def _generation(namespace: str) -> int:
    value = cache.get(f"gen:{namespace}")
    return int(value) if value is not None else 0


def invalidate(*namespaces: str) -> None:
    """Make every cached value of these namespaces unreachable, in every process sharing the cache."""
    for namespace in namespaces:
        key = f"gen:{namespace}"
        if cache.get(key) is None:
            cache.add(key, 0, timeout=0)
        cache.inc(key)


def get_or_set(namespace: str, key: str, compute: Callable[[], T], *, timeout: int | None = None) -> T:
    """Return the cached value of namespace/key or compute, store and return it."""
    full_key = f"{namespace}:{_generation(namespace)}:{key}"
    value = cache.get(full_key)
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = compute()
    cache.set(full_key, value, timeout=timeout or current_app.config["HMS"].cache_seconds)
    return value


def slots_namespace(doctor_id: int, day: Any) -> str:
    return f"slots:{doctor_id}:{day}"
