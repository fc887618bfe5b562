"""Database helpers: engine set-up per dialect; transactions are opened by hms.common.uow.unit_of_work.

Writing requests used to open BEGIN IMMEDIATE before the request ran (serialise_sqlite_writes), so the write lock
was held through token checks, schema parsing and the response: unit_of_work() takes it when the write starts
(ending the request's read-only transaction first), so concurrent writers hold it only for their transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, Update, bindparam, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from hms.extensions import db

logger = logging.getLogger(__name__)

# How often each process copies the write-ahead log back into the database file (see _Checkpointers).
CHECKPOINT_INTERVAL_SECONDS = 1.0


def configure_sqlite_engine(engine: Engine, *, busy_seconds: float = 30) -> None:
    """WAL, a busy timeout and foreign keys, and let a caller ask for BEGIN IMMEDIATE.

    pysqlite starts transactions lazily and never IMMEDIATE; we take transaction control so that a
    service can open a write transaction that serialises with other writers from its first statement.
    """

    path = engine.url.database or ""
    on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if on_disk:
            checkpointers.ensure(os.path.abspath(path))
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # this process's checkpointer does it, off the writers' path
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        begin_on_driver(connection.connection.dbapi_connection, mode)


def begin_on_driver(driver: Any, mode: str) -> None:
    """`BEGIN <mode>` sent straight to the SQLite driver (its sqlite3 connection).

    Every request begins a transaction, and exec_driver_sql's trip through the execution machinery cost 3% of a
    booking's CPU for a statement that returns nothing. A failure (the database locked past busy_timeout) is wrapped
    as SQLAlchemy would wrap it, so the error handler answers 503 as for any other OperationalError.
    """
    statement = f"BEGIN {mode}"
    try:
        driver.execute(statement)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error


def update_by_id_statement(table: Table, columns: Iterable[str]) -> Update:
    """`UPDATE table SET column = :new_column, ... WHERE id = :row_id`, for a caller to build once and run with
    `update_by_id_parameters`: building and compiling an UPDATE on every call cost more CPU than running it."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


def update_by_id_parameters(row_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of an `update_by_id_statement` for one row."""
    return {"row_id": row_id, **{f"new_{name}": value for name, value in values.items()}}


class _Checkpointers:
    """One thread per process and SQLite file that checkpoints the write-ahead log every second.

    SQLite's automatic checkpoint runs inside the COMMIT that pushes the log past 1,000 pages: about every sixtieth
    booking paid for copying the log into the database file (and its fsync) while every other writer queued behind
    it (hms.common.uow's writer queue is held until the commit returns). Measured with `make bench` (SQLite, 16
    clients), moving it off the commits took bookings from 117-129/s to 144-178/s and a booking's web CPU from about
    11 ms to 8-10 ms. The checkpoint here is PASSIVE: it copies what no reader still needs, never waits for a reader
    or a writer, and so never blocks a request; what it could not copy is copied on the next round. The thread ends
    when its database file is gone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[tuple[int, str], threading.Thread] = {}

    def ensure(self, path: str) -> None:
        key = (os.getpid(), path)  # a forked process (gunicorn, Celery prefork) starts its own
        with self._lock:
            thread = self._threads.get(key)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(key,), name="hms-sqlite-checkpoint", daemon=True)
            self._threads[key] = thread
            thread.start()

    def _run(self, key: tuple[int, str]) -> None:
        path = key[1]
        connection: sqlite3.Connection | None = None
        try:
            while True:
                time.sleep(CHECKPOINT_INTERVAL_SECONDS)
                if not os.path.exists(path):
                    return
                try:
                    if connection is None:
                        connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # busy, or the file went away: the next round tries again
                    logger.debug("SQLite checkpoint of %s skipped: %s", path, error)
        finally:
            if connection is not None:
                connection.close()
            with self._lock:
                if self._threads.get(key) is threading.current_thread():
                    del self._threads[key]


checkpointers = _Checkpointers()


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"
