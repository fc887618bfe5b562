"""Database helpers: engine set-up per dialect; transactions are opened by hms.common.uow.unit_of_work.

Writing requests used to open BEGIN IMMEDIATE before the request ran (serialise_sqlite_writes), so the write lock
was held through token checks, schema parsing and the response: unit_of_work() takes it when the write starts
(ending the request's read-only transaction first), so concurrent writers hold it only for their transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hms.extensions import db


def configure_sqlite_engine(engine: Engine, *, busy_seconds: float = 30) -> None:
    """WAL, a busy timeout and foreign keys, and let a caller ask for BEGIN IMMEDIATE.

    pysqlite starts transactions lazily and never IMMEDIATE; we take transaction control so that a
    service can open a write transaction that serialises with other writers from its first statement.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"
