"""Redis as an accelerator, never a single point of failure: bounded timeouts and a per-process circuit breaker.

Every Redis client the web process makes gets short connect/read timeouts, and every call goes through the
breaker: after a failure Redis is skipped for `HMS_REDIS_RETRY_SECONDS`, then one caller tries again. Callers
catch `RedisUnavailable` and fall back (compute instead of cache, database instead of blocklist, outbox sweep
instead of publish). The breaker also remembers that an outage happened, so the cache can make every value
written before it unreachable when Redis comes back (see hms.common.cache).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app

T = TypeVar("T")
log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 0.3
READ_TIMEOUT = 0.5
EXTENSION = "hms_redis_breaker"


class RedisUnavailable(Exception):
    """Redis failed just now or is being skipped after a recent failure."""


class Breaker:
    """Closed (use Redis), open (skip it until a deadline), then one trial call decides."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0 = closed
        # Every failure or skipped call counts; the cache records up to which count its epoch bump covers.
        self._misses = 0
        self._handled = 0

    @property
    def is_open(self) -> bool:
        return self._open_until != 0.0

    def allow(self) -> bool:
        """True when Redis may be called now; once the cooldown is over, only one caller gets the trial."""
        with self._lock:
            if self._open_until == 0.0:
                return True
            now = time.monotonic()
            if now < self._open_until:
                self._misses += 1
                return False
            self._open_until = now + self.cooldown
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            was_closed = self._open_until == 0.0
            self._open_until = time.monotonic() + self.cooldown
            self._misses += 1
        if was_closed:
            log.warning(
                "Redis unreachable (%s: %s); skipping it for %.1f s", type(error).__name__, error, self.cooldown
            )

    def succeeded(self) -> None:
        with self._lock:
            was_open = self._open_until != 0.0
            self._open_until = 0.0
        if was_open:
            log.warning("Redis reachable again")

    def unhandled_misses(self) -> int:
        """How many calls failed or were skipped so far, if some came after the last `handled(...)`; else 0."""
        with self._lock:
            return self._misses if self._misses > self._handled else 0

    def handled(self, misses: int) -> None:
        """Misses up to this count are covered (the cache bumped its epoch after them)."""
        with self._lock:
            self._handled = max(self._handled, misses)


def init_breaker(app: Flask) -> Breaker:
    settings = app.config["HMS"]
    breaker = Breaker(cooldown=float(settings.redis_retry_seconds))
    app.extensions[EXTENSION] = breaker
    return breaker


def breaker_of(app: Flask | None = None) -> Breaker:
    return (app or current_app).extensions[EXTENSION]


def client_options() -> dict[str, Any]:
    """Keyword arguments for redis.Redis that bound how long a dead or silent Redis can hold a request."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": READ_TIMEOUT,
        "retry_on_timeout": False,
        "health_check_interval": 30,
    }


def call(fn: Callable[[], T], *, app: Flask | None = None) -> T:
    """Run one Redis operation through the breaker; any failure opens it and becomes RedisUnavailable."""
    breaker = breaker_of(app)
    if not breaker.allow():
        raise RedisUnavailable("Redis is being skipped after a recent failure")
    try:
        result = fn()
    except Exception as error:
        breaker.failed(error)
        raise RedisUnavailable(str(error)) from error
    breaker.succeeded()
    return result


def probe(fn: Callable[[], T], *, app: Flask | None = None) -> T:
    """Call Redis even while the breaker is open (health checks want the truth) and let the outcome steer it."""
    breaker = breaker_of(app)
    try:
        result = fn()
    except Exception as error:
        breaker.failed(error)
        raise
    breaker.succeeded()
    return result
