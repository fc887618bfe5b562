"""Celery wiring (the Flask Celery pattern) and the worker's entry module: `celery -A hms.celery_app worker|beat`.

The web process calls `celery_init_app(app)` from the factory; the worker and beat import this module and read its
`celery` (or `app`) attribute, which builds the Flask application on first access, so importing this module for
`celery_init_app` never creates a second application.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_process_init
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

TASK_MODULES = ("hms.notifications.tasks", "hms.reports.tasks", "hms.exports.tasks", "hms.fhir.tasks")
# Ids collected during a transaction and handed to the worker once it commits.
PENDING_NOTIFICATIONS = "hms_pending_notifications"
PENDING_TASKS = "hms_pending_tasks"
DELIVER_TASK = "hms.notifications.deliver_notification"
DELIVER_BATCH_TASK = "hms.notifications.deliver_notifications"
# The background publisher waits this long after a commit for others to publish their messages as one batch. A
# quarter of a second is nothing to an e-mail, and it makes batches 5x larger than 50 ms did: under 16 booking
# clients on PostgreSQL + Redis the worker's CPU per booking fell from 3.2 to 1.8-1.9 ms (fewer tasks, each claim,
# lookup and outcome statement shared by more messages) and bookings rose from 149/s to 171-173/s (bench/README.md).
PUBLISH_LINGER_SECONDS = 0.25
PUBLISH_BATCH_LIMIT = 100

# kombu's SQLAlchemy transport passes every transport option to create_engine(), so a polling_interval option
# crashes it; the class attribute is the way to poll the embedded broker twice a second instead of once.
SQLALCHEMY_POLLING_INTERVAL = 0.5


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app of this Flask app: tasks run inside its app context, with a fresh session each."""
    settings = app.config["HMS"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            from hms.extensions import db

            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(app))
    celery_app.set_default()
    celery_app.flask_app = app  # type: ignore[attr-defined]
    app.extensions["celery"] = celery_app
    if not settings.redis_url:
        import kombu.transport.sqlalchemy as kombu_sqlalchemy

        kombu_sqlalchemy.Transport.polling_interval = SQLALCHEMY_POLLING_INTERVAL
    for module in TASK_MODULES:
        __import__(module)
    _listen_for_commits()
    return celery_app


def celery_config(app: Flask) -> dict[str, Any]:
    """Broker, results, time zone, reliability options and the beat schedule, all from Settings."""
    settings = app.config["HMS"]
    extra = settings.extra
    if extra.get("celery_broker_url"):
        broker_url, result_backend = str(extra["celery_broker_url"]), str(extra.get("celery_result_backend", ""))
    elif settings.testing:
        # Tests publish into memory: nothing consumes it, nothing runs eagerly. The worker tests use real brokers.
        broker_url, result_backend = "memory://", "cache+memory://"
    else:
        broker_url, result_backend = settings.broker_url, settings.result_backend
    queue = str(extra.get("celery_queue") or os.environ.get("HMS_CELERY_QUEUE") or "hms")
    config: dict[str, Any] = {
        "broker_url": broker_url,
        "result_backend": result_backend or None,
        "task_ignore_result": True,
        "task_default_queue": queue,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        # Workers and beat ride through broker outages: retry connecting at start-up and later, for ever.
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        "broker_channel_error_retry": True,
        "broker_connection_timeout": 3,
        # A broker outage must not hold a request for long: the outbox sweep re-sends what was not published.
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        "timezone": settings.timezone,
        "enable_utc": True,
        "beat_schedule_filename": str(settings.instance_path / "celerybeat-schedule"),
        "beat_schedule": beat_schedule(app),
    }
    if broker_url.startswith(("redis://", "rediss://")):
        config["broker_transport_options"] = {
            "visibility_timeout": 7200,
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
            # A publisher's connection attempts: kombu's default is "for ever", which held a request as long as
            # Redis did not answer. The worker's consumer reconnects under broker_connection_max_retries instead.
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.2,
        }
        config["result_backend_transport_options"] = {"socket_connect_timeout": 1, "socket_timeout": 5}
        config["redis_socket_connect_timeout"] = 1
        config["redis_socket_timeout"] = 5
    return config


def beat_schedule(app: Flask) -> dict[str, dict[str, Any]]:
    """SPEC §8: reminders daily at HMS_REMINDER_HOUR, reports on the 1st, export cleanup, outbox and export sweeps."""
    settings = app.config["HMS"]
    return {
        "daily-reminders": {
            "task": "hms.notifications.send_daily_reminders",
            "schedule": crontab(hour=settings.reminder_hour, minute=0),
        },
        "monthly-doctor-reports": {
            "task": "hms.reports.send_monthly_reports",
            "schedule": crontab(day_of_month="1", hour=6, minute=0),
        },
        "export-cleanup": {"task": "hms.exports.cleanup_exports", "schedule": crontab(hour=3, minute=30)},
        "outbox-sweep": {
            "task": "hms.notifications.sweep_outbox",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "export-sweep": {"task": "hms.exports.sweep_jobs", "schedule": 60.0, "options": {"expires": 55}},
    }


def celery_of(flask_app: Flask | None = None) -> Celery:
    """The Celery app bound to this (or the current) Flask app, so a task is sent to that app's broker."""
    return (flask_app or current_app).extensions["celery"]


def enqueue_after_commit(session: Session | Any, task_name: str, *args: Any) -> None:
    """Send a task once the session's transaction commits; nothing is sent if it rolls back."""
    session.info.setdefault(PENDING_TASKS, []).append((task_name, args))


def send_task_safely(task_name: str, *args: Any, flask_app: Flask | None = None) -> bool:
    """Publish a task; a broker failure is logged and reported as False, never raised (the sweep resends).

    A Redis broker goes through the Redis circuit breaker, so while Redis is down a request skips publishing
    at once instead of waiting on connection retries; the rows stay pending for the sweep.
    """
    from hms.common import redis_guard

    flask_app = flask_app or current_app._get_current_object()  # type: ignore[attr-defined]
    celery_app = celery_of(flask_app)

    def publish() -> None:
        celery_app.tasks[task_name].apply_async(args=args)

    try:
        if str(celery_app.conf.broker_url or "").startswith(("redis://", "rediss://")):
            redis_guard.call(publish, app=flask_app)
        else:
            publish()
    except Exception:
        logger.warning("Could not publish %s%r; the outbox sweep will retry it.", task_name, args, exc_info=True)
        return False
    return True


def publishes_in_background(flask_app: Flask) -> bool:
    """Every real broker is published to off the request's path, in batches; memory:// (tests) in the request.

    The embedded broker (kombu's SQLAlchemy transport on a SQLite file): publishing is a write transaction on
    broker.sqlite3 (a dozen statements, and a wait whenever the worker is polling it), which held every booking
    for milliseconds after its commit and queued concurrent bookers behind one another. Redis: a publish is cheap,
    but one message per e-mail is not: the worker spends ~30 ms of CPU on a message delivered alone (claim,
    lease, outcome, five lookups) and ~10 ms on one of a batch (hms.notifications.batch), CPU the web processes
    share on a small machine. The Redis circuit breaker still guards the publisher thread.
    """
    return not str(celery_of(flask_app).conf.broker_url or "").startswith("memory://")


class BackgroundPublisher:
    """One daemon thread per process that publishes tasks queued by committed transactions, in commit order.

    Nothing can be lost by the hand-over: the outbox rows are committed before their ids reach this queue, and
    the outbox sweep (every minute) re-sends any row still pending, e.g. after the process died with ids queued.
    On exit the thread is given a moment to drain the queue.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Flask, str, tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, flask_app: Flask, task_name: str, *args: Any) -> None:
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # A forked process (gunicorn worker) inherits no running thread: start its own.
                self._queue = queue.SimpleQueue()
                self._pending = 0
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="hms-publisher", daemon=True)
                self._thread.start()
                atexit.register(self.drain, 5.0)
            self._pending += 1
        self._queue.put((flask_app, task_name, args))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item, *self._linger()]
            try:
                for flask_app, task_name, args in coalesced(item for item in items if item is not None):
                    send_task_safely(task_name, *args, flask_app=flask_app)
            finally:
                with self._lock:
                    self._pending -= len(items)
                    if self._pending == 0:
                        self._idle.notify_all()
            if None in items:
                return

    def _linger(self) -> list[tuple[Flask, str, tuple[Any, ...]] | None]:
        """What else is submitted within the linger: under load, the messages of many commits go out as one."""
        items: list[tuple[Flask, str, tuple[Any, ...]] | None] = []
        deadline = time.monotonic() + PUBLISH_LINGER_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                items.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
            if items[-1] is None:
                break
        return items

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is published (tests; process exit). False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


def coalesced(items: Iterable[tuple[Flask, str, tuple[Any, ...]]]) -> list[tuple[Flask, str, tuple[Any, ...]]]:
    """The same work in fewer messages: the outbox ids of one app go out as batches (DELIVER_BATCH_TASK, each a
    single message on the embedded broker instead of one per e-mail); every other task is sent as it came."""
    batches: dict[Flask, list[int]] = {}
    others: list[tuple[Flask, str, tuple[Any, ...]]] = []
    for flask_app, task_name, args in items:
        if task_name == DELIVER_TASK:
            batches.setdefault(flask_app, []).append(int(args[0]))
        else:
            others.append((flask_app, task_name, args))
    sent: list[tuple[Flask, str, tuple[Any, ...]]] = []
    for flask_app, ids in batches.items():
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), PUBLISH_BATCH_LIMIT):
            sent.append((flask_app, DELIVER_BATCH_TASK, (unique[start : start + PUBLISH_BATCH_LIMIT],)))
    return sent + others


publisher = BackgroundPublisher()


def _after_commit(session: Session) -> None:
    notification_ids = session.info.pop(PENDING_NOTIFICATIONS, [])
    tasks = session.info.pop(PENDING_TASKS, [])
    if not notification_ids and not tasks:
        return
    if not has_app_context():
        return
    flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "celery" not in flask_app.extensions:
        return
    jobs = [(DELIVER_TASK, (notification_id,)) for notification_id in dict.fromkeys(notification_ids)]
    jobs += [(task_name, tuple(args)) for task_name, args in tasks]
    background = publishes_in_background(flask_app)
    for task_name, args in jobs:
        if background:
            publisher.submit(flask_app, task_name, *args)
        else:
            send_task_safely(task_name, *args, flask_app=flask_app)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_NOTIFICATIONS, None)
    session.info.pop(PENDING_TASKS, None)


def _listen_for_commits() -> None:
    """Hook the outbox to every Flask-SQLAlchemy session (registered once per process)."""
    from flask_sqlalchemy.session import Session as FlaskSession

    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_rollback", _after_rollback)


@worker_process_init.connect
def _dispose_engine_after_fork(**_kwargs: Any) -> None:
    """A forked worker child must not reuse the parent's database connections."""
    from celery import current_app as current_celery

    from hms.extensions import db

    flask_app = getattr(current_celery._get_current_object(), "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)


_entry: Celery | None = None


def __getattr__(name: str) -> Celery:
    """`celery -A hms.celery_app` asks for `app`, then `celery`: build the Flask app (and its Celery) on demand."""
    global _entry
    if name not in {"app", "celery"}:
        raise AttributeError(name)
    if _entry is None:
        from hms import create_app

        _entry = create_app().extensions["celery"]
    return _entry
