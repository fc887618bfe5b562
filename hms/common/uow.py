"""The one way to commit: `unit_of_work()` runs a business operation as one transaction and commits it once.

    with unit_of_work(lock_patient_id=patient.id):
        ...checks, writes, audit record, outbox rows...
    invalidate(...)  # after the commit

It opens the transaction so that it serialises with other writers before any rule is checked (SQLite: BEGIN
IMMEDIATE; PostgreSQL: the row locks a caller asks for), commits once at the end, rolls back on any error, and
turns a unique index that a concurrent request won into the domain error a check would have raised
(`slot_taken`, `duplicate`, ...). It never commits work that its caller began: entering it with unflushed
changes or written rows outside a unit of work is a programming error. A unit of work entered inside another one
joins it; the outer one commits.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms.common.db import begin_on_driver
from hms.common.errors import Conflict, Duplicate, SlotTaken
from hms.extensions import db

_ACTIVE = "hms_unit_of_work"
_WROTE = "hms_wrote"
_PRINCIPAL = "hms_principal"
_READ_ONLY_VERBS = {"SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "SHOW"}


class UncommittedCallerWork(RuntimeError):
    """A unit of work was entered while its caller had changes of its own pending: they would be committed too."""


@event.listens_for(Engine, "before_cursor_execute")
def _mark_write(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """Remember that this connection's transaction has written (ORM flush, Core DML or raw SQL alike)."""
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SELECT"
    if verb not in _READ_ONLY_VERBS:
        connection.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_ended(connection: Any) -> None:
    if connection.invalidated:  # a dropped connection: the pool discards it and its info with it
        return
    connection.info.pop(_WROTE, None)


def in_unit_of_work(session: Session | None = None) -> bool:
    return bool((session or db.session()).info.get(_ACTIVE))


def _has_written(session: Session) -> bool:
    if not session.in_transaction():
        return False
    return bool(session.connection().info.get(_WROTE))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def remember_principal(session: Session, *objects: Any) -> None:
    """The signed-in user's rows (login, profile, sign-in session) as the token check loaded them for this request.

    On SQLite a write transaction starts by ending the request's read transaction, which used to expire everything
    the session held, so the first thing every write did was load its own caller again. These rows are kept as
    read; PostgreSQL has always used them that way (its write transaction does not expire anything), and a
    change to them between the token check and the write is what a request a moment earlier would also have seen.
    """
    session.info[_PRINCIPAL] = objects


def _restart_as_writer(session: Session, keep: tuple[Any, ...]) -> bool:
    """End a read-only SQLite transaction and begin a write transaction on the same connection, expiring what was
    read except the caller's own rows (`remember_principal`) and `keep`. False if the read transaction could not
    be ended here: the caller falls back to the session's rollback.

    A deferred transaction that read cannot safely become a writer once another writer committed, so it ends
    and BEGIN IMMEDIATE starts afresh (every later read sees the newest commits). The statements go to the driver
    directly: the session's transaction stays open around them, and its COMMIT or ROLLBACK ends the new one.
    """
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    if driver is None:
        return False
    try:
        driver.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    begin_on_driver(driver, "IMMEDIATE")  # locked past busy_timeout: the same error as any BEGIN (503)
    connection.execution_options(sqlite_begin="IMMEDIATE")
    kept = (*session.info.get(_PRINCIPAL, ()), *keep)
    for instance in list(session.identity_map.values()):
        if not any(instance is own for own in kept):
            session.expire(instance)
    return True


def _begin(session: Session, *, lock_patient_id: int | None, keep: tuple[Any, ...] = ()) -> None:
    """Open the write transaction: BEGIN IMMEDIATE on SQLite, the patient's row lock on PostgreSQL."""
    if _is_sqlite(session):
        if session.in_transaction():
            if session.connection().get_execution_options().get("sqlite_begin") == "IMMEDIATE":
                return
            # Only read so far (checked by the caller).
            if _restart_as_writer(session, keep):
                return
            session.rollback()
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        return
    lock_patient(session, lock_patient_id)


def lock_patient(session: Session, patient_id: int | None) -> None:
    """PostgreSQL: serialise the writers of one patient on its row (SQLite's write transaction already does)."""
    if patient_id is not None and not _is_sqlite(session):
        session.execute(_lock_patient_statement(), {"patient_id": patient_id})


@cache
def _lock_patient_statement() -> Select:
    """Built once (the id is a parameter): every PostgreSQL write of a patient runs it first."""
    from hms.models import Patient

    return select(Patient.id).where(Patient.id == bindparam("patient_id")).with_for_update()


def integrity_error(error: IntegrityError) -> Exception:
    """Name the rule a unique index enforced, so a lost race reads like the check that would have caught it."""
    message = str(error.orig)
    lowered = message.lower()
    if "uq_appointment_active_slot" in message or "appointments.start_time" in message:
        return SlotTaken()
    if "uq_appointment_active_patient_doctor_day" in message or "appointments.patient_id" in message:
        return Conflict(
            "You already have an appointment with this doctor on that day.", code="already_booked_with_doctor"
        )
    if "uq_waitlist_active" in message or "waitlist_entries" in message:
        return Conflict("You are already on the waitlist for this doctor and date.", code="already_waiting")
    if "uq_invoice_active_appointment" in message or "invoices.appointment_id" in message:
        return Conflict("This visit is already billed.", code="already_invoiced")
    if "uq_blocked_slot" in message or "blocked_slots" in message:
        return Conflict("This slot changed at the same time; please try again.")
    if "unique" in lowered or "duplicate" in lowered:
        field = next((name for name in ("username", "email") if name in lowered), "name")
        return Duplicate("This already exists.", fields={field: [f"This {field} is already in use."]})
    return error


class _SQLiteWriterQueue:
    """SQLite writers of this machine wait in a queue (a thread lock, then an flock on a file beside the database)
    instead of in SQLite's busy handler.

    The busy handler polls with sleeps that grow to 100 ms: under load a writer that arrives just after another
    began slept far longer than the other's transaction lasted, and bookings queued for seconds. A blocking flock
    wakes the next writer the moment the lock is released, across gunicorn workers and Celery alike; the thread
    lock does the same for the threads of one process (an flock is shared by all threads of a process). SQLite's
    own lock still decides; this only makes the wait for it short and fair.
    """

    def __init__(self) -> None:
        self._thread_lock = threading.RLock()
        self._depth = threading.local()
        self._files: dict[tuple[int, str], int] = {}

    def _descriptor(self, path: str) -> int:
        # Per process: a forked child (Celery prefork) must not share its parent's open file, or their flocks
        # would not exclude each other.
        key = (os.getpid(), path)
        descriptor = self._files.get(key)
        if descriptor is None:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            self._files[key] = descriptor
        return descriptor

    @contextmanager
    def hold(self, database: str | None) -> Iterator[None]:
        if not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        with self._thread_lock:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            descriptor = self._descriptor(database + "-writer.lock")
            try:
                if depth == 0:
                    fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                self._depth.value = depth
                if depth == 0:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)


_writers = _SQLiteWriterQueue()


def _writer_queue(session: Session) -> Any:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return nullcontext()
    engine = bind.engine if isinstance(bind, Connection) else bind
    return _writers.hold(engine.url.database)


@contextmanager
def unit_of_work(*, lock_patient_id: int | None = None, keep: tuple[Any, ...] = ()) -> Iterator[Session]:
    """Run the block as one transaction: commit once if it succeeds, roll everything back if anything fails.

    `keep`: rows the caller read before it and uses as read (names for an answer, never a rule's input): SQLite's
    write transaction does not expire them (see `_restart_as_writer`).
    """
    session = db.session()
    if session.info.get(_ACTIVE):
        lock_patient(session, lock_patient_id)
        yield session
        return
    if session.new or session.dirty or session.deleted or _has_written(session):
        raise UncommittedCallerWork("unit_of_work() entered with the caller's uncommitted changes pending")
    with _writer_queue(session):
        yield from _run(session, lock_patient_id=lock_patient_id, keep=keep)


def _run(session: Session, *, lock_patient_id: int | None, keep: tuple[Any, ...]) -> Iterator[Session]:
    session.info[_ACTIVE] = True
    try:
        _begin(session, lock_patient_id=lock_patient_id, keep=keep)
        yield session
        session.flush()
        session.commit()
    except IntegrityError as error:
        session.rollback()
        mapped = integrity_error(error)
        if mapped is error:
            raise
        raise mapped from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_ACTIVE, None)
