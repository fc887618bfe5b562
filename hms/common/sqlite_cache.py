"""A cache shared by every process on one machine, in a small SQLite file: the default when there is no Redis.

Without Redis the web server used to run one process, because the cache (slot states, directory, sign-in failure
counts, and the generation counters that invalidate them) lived in that process's memory; a second process would
have served values that a booking in the first had invalidated, and counted sign-in failures apart. This backend
keeps values and counters in `instance/cache.sqlite3`, so `make run` can start one web process per core: an
invalidation (`inc` of a generation counter) is one atomic UPSERT that every process sees at its next read.

It is a separate file from the application database on purpose: cache writes never wait for, or hold, the
application's write lock. WAL lets readers run beside the one writer; `synchronous=NORMAL` skips the fsync per
commit (a crash may lose the last cache writes, which only means recomputing them). Values are pickled, as in
cachelib's other backends; expired rows are removed now and then by the writers.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_caching.backends.base import BaseCache

from hms.common.db import checkpointers

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
)
# Integers are stored as SQLite integers (not pickled), so that `inc` is one UPSERT in the database.
PURGE_EVERY = 500


def _dump(value: Any) -> bytes | int:
    if type(value) is int:
        return value
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _load(raw: Any) -> Any:
    if isinstance(raw, int):
        return raw
    return pickle.loads(raw)


class SQLiteCache(BaseCache):
    """cachelib's interface (get/set/add/inc/get_many/delete/clear) over one SQLite file, safe across processes."""

    def __init__(
        self, path: str | os.PathLike[str], default_timeout: int = 300, key_prefix: str = "", busy_seconds: float = 5.0
    ) -> None:
        super().__init__(default_timeout)
        self.path = str(path)
        self.key_prefix = key_prefix
        self.busy_seconds = busy_seconds
        self._local = threading.local()
        self._writes = 0
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute(_SCHEMA)

    @classmethod
    def factory(cls, app: Any, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> SQLiteCache:
        """Flask-Caching's hook: CACHE_TYPE names this class, CACHE_DIR the file."""
        kwargs.pop("ignore_delete_many_errors", None)
        kwargs.setdefault("key_prefix", config.get("CACHE_KEY_PREFIX") or "")
        return cls(config["CACHE_DIR"], *args, **kwargs)

    # ---- connections -----------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread and process (a forked gunicorn worker never reuses its parent's)."""
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is None or getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            # Every booking writes here (slot generations): no commit pays for the checkpoint (hms.common.db).
            checkpointers.ensure(os.path.abspath(self.path))
            connection.execute("PRAGMA wal_autocheckpoint=0")
            local.connection, local.pid = connection, os.getpid()
        return connection

    def _expires(self, timeout: int | timedelta | None) -> float:
        timeout = self._normalize_timeout(timeout)
        return 0.0 if timeout == 0 else time.time() + timeout

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self._connection().execute("DELETE FROM cache WHERE expires != 0 AND expires < ?", (time.time(),))

    # ---- cachelib interface ----------------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        row = (
            self._connection()
            .execute(
                "SELECT value FROM cache WHERE key = ? AND (expires = 0 OR expires > ?)",
                (self.key_prefix + key, time.time()),
            )
            .fetchone()
        )
        return None if row is None else _load(row[0])

    def get_many(self, *keys: str) -> list[Any]:
        if not keys:
            return []
        prefixed = [self.key_prefix + key for key in keys]
        marks = ",".join("?" * len(keys))
        rows = dict(
            self._connection().execute(
                f"SELECT key, value FROM cache WHERE key IN ({marks}) AND (expires = 0 OR expires > ?)",
                (*prefixed, time.time()),
            )
        )
        return [_load(rows[key]) if key in rows else None for key in prefixed]

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        self._connection().execute(
            "INSERT OR REPLACE INTO cache (key, value, expires) VALUES (?, ?, ?)",
            (self.key_prefix + key, _dump(value), self._expires(timeout)),
        )
        self._wrote()
        return True

    def add(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        """Store only if absent (or expired): one statement, so two processes cannot both win."""
        cursor = self._connection().execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
            " value = excluded.value, expires = excluded.expires WHERE cache.expires != 0 AND cache.expires < ?",
            (self.key_prefix + key, _dump(value), self._expires(timeout), time.time()),
        )
        self._wrote()
        return cursor.rowcount == 1

    def inc(self, key: str, delta: int = 1) -> int:
        """Atomic across processes: the increment happens inside the database (a missing key starts at 0)."""
        now = time.time()
        row = (
            self._connection()
            .execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET"
                " value = CASE WHEN typeof(cache.value) = 'integer' AND (cache.expires = 0 OR cache.expires > ?)"
                " THEN cache.value + ? ELSE ? END, expires = CASE WHEN cache.expires != 0 AND cache.expires <= ? THEN 0"
                " ELSE cache.expires END RETURNING value",
                (self.key_prefix + key, delta, now, delta, delta, now),
            )
            .fetchone()
        )
        return int(row[0])

    def dec(self, key: str, delta: int = 1) -> int:
        return self.inc(key, -delta)

    def delete(self, key: str) -> bool:
        return self._connection().execute("DELETE FROM cache WHERE key = ?", (self.key_prefix + key,)).rowcount == 1

    def delete_many(self, *keys: str) -> list[Any]:
        return [key for key in keys if self.delete(key)]

    def clear(self) -> bool:
        """Remove this prefix's keys only: other applications may share the file."""
        prefix = self.key_prefix
        self._connection().execute("DELETE FROM cache WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return True
