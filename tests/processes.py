"""Real processes the slower tests start: gunicorn serving the app on a loopback port, and Celery workers.

One place for how they are launched, configured (only through the environment, as in production), waited for
and stopped, so a change to start-up (a new setting, a slower machine) is made once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask

from hms import create_app
from hms.extensions import db
from tests.conftest import make_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60
POLL = 0.02  # seconds between two looks at a starting process: start-up takes seconds, so this costs nothing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- gunicorn ------------------------------------------------------------------------------------------------


def server_env(app: Flask, instance: Path, port: int) -> dict[str, str]:
    """A server on the test's database, secret and time zone; no Redis, so its cache is its own process's."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HMS_INSTANCE_PATH": str(instance),
        "HMS_JWT_SECRET": app.config["JWT_SECRET_KEY"],
        "HMS_TIMEZONE": app.config["HMS"].timezone,
        "HMS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # The test app's response floors (none) and cheap argon2: a fuzzed registration or sign-in neither waits
        # 0.6 s for nothing nor hashes with 64 MiB (production refuses both; the suite checks that in-process).
        "HMS_PASSWORD_RESET_FLOOR_SECONDS": str(app.config["HMS"].password_reset_floor_seconds),
        "HMS_REGISTER_FLOOR_SECONDS": str(app.config["HMS"].register_floor_seconds),
        "HMS_ARGON2_TIME_COST": str(app.config["HMS"].argon2_time_cost),
        "HMS_ARGON2_MEMORY_KIB": str(app.config["HMS"].argon2_memory_kib),
        "HMS_ARGON2_PARALLELISM": str(app.config["HMS"].argon2_parallelism),
    }
    env.pop("REDIS_URL", None)
    return env


@contextmanager
def gunicorn_server(
    env: dict[str, str], *, port: int, log_path: Path, threads: int = 4, command: str | None = None
) -> Iterator[str]:
    """`gunicorn -w 1 hms:create_app()` on 127.0.0.1:port (one worker: without Redis the cache is per process)
    until the block ends; the test fails with the log's tail if it does not answer within START_TIMEOUT."""
    gunicorn = [command] if command else [sys.executable, "-m", "gunicorn"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*gunicorn, "-w", "1", "--threads", str(threads), "-b", f"127.0.0.1:{port}", "hms:create_app()"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                requests.get(f"{base}/api/health", timeout=5)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the server did not start: " + log_path.read_text(errors="replace")[-2000:])
                time.sleep(POLL)
        yield base
    finally:
        # SIGTERM, gunicorn's graceful shutdown, as scripts/supervise.py stops it: it costs up to the worker's 1 s
        # poll. Not SIGINT (the quick one): gthread's handler shuts the thread pool down inside the signal handler,
        # and when the signal lands while the main thread is in ThreadPoolExecutor.submit (the client closing its
        # keep-alive connection makes the socket readable) it waits for the lock submit holds: the worker hung
        # until the master's SIGKILL 30 s later (py-spy showed handle_quit -> shutdown inside submit).
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave the server behind
            process.kill()
            process.wait(timeout=30)


@contextmanager
def app_server(app: Flask, tmp_path: Path) -> Iterator[str]:
    """gunicorn serving the app on the test database, its log at tmp_path/server.log."""
    port = free_port()
    env = server_env(app, tmp_path / "instance", port)
    with gunicorn_server(env, port=port, log_path=tmp_path / "server.log") as base:
        yield base


# ---- Celery --------------------------------------------------------------------------------------------------


@contextmanager
def worker_app(
    app: Flask, tmp_path: Path, *, redis_url: str | None, queue: str | None = None, **overrides: object
) -> Iterator[Flask]:
    """A second application on the test database that publishes to a real broker (the session app uses memory):
    Redis at redis_url, or the embedded SQLAlchemy broker. Its queue is its own, so only its workers take work."""
    queue = queue or f"hms-test-{uuid.uuid4().hex[:10]}"
    values: dict[str, object] = {
        "database_url": app.config["HMS"].database_url,
        "redis_url": redis_url,
        "testing": False,
        "extra": {"celery_queue": queue, "cache_prefix": f"{queue}:"},
    }
    values.update(overrides)
    application = create_app(make_settings(tmp_path, **values))
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        # Creating a Celery app makes it "current": give the session app its own back.
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()


def worker_env(application: Flask, **extra: str) -> dict[str, str]:
    """The environment of a worker of this application: its settings, only through the environment."""
    settings = application.config["HMS"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_") and key != "REDIS_URL"}
    env.update(
        DATABASE_URL=settings.database_url,
        HMS_INSTANCE_PATH=str(settings.instance_path),
        HMS_JWT_SECRET=settings.jwt_secret,
        HMS_TIMEZONE=settings.timezone,
        HMS_CELERY_QUEUE=str(settings.extra["celery_queue"]),
        HMS_OUTBOX_GRACE_SECONDS=str(settings.outbox_grace_seconds),
        HMS_EXPORT_LEASE_SECONDS=str(settings.export_lease_seconds),
        HMS_REDIS_RETRY_SECONDS=str(settings.redis_retry_seconds),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


class Worker:
    """`celery -A hms.celery_app worker` on the application's queue, in its own process group so a SIGKILL takes
    all of it. --pool=solo unless a concurrency is given (then the prefork pool with that many children)."""

    def __init__(self, application: Flask, log_path: Path, *, concurrency: int | None = None, **env: str) -> None:
        self.env = worker_env(application, **env)
        self.queue = self.env["HMS_CELERY_QUEUE"]
        self.log_path = log_path
        self.pool = [f"--concurrency={concurrency}"] if concurrency else ["--pool=solo"]
        self.process: subprocess.Popen | None = None
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "celery", "-A", "hms.celery_app", "worker", *self.pool, "-Q", self.queue]
        command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["-n", f"{self.queue}-{uuid.uuid4().hex[:4]}@%h"]
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()  # the child holds its own copy
        deadline = time.monotonic() + START_TIMEOUT
        while "ready." not in self.log()[self._offset :]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the worker did not start:\n{self.log()[-4000:]}")
            time.sleep(POLL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the whole worker: no clean-up, no ack, no goodbye (a machine that died)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """End the worker once the test has checked what it did: SIGKILL to the whole group, as `kill()`.

        A graceful stop costs 2-5 s a worker for nothing: Celery's solo loop finishes the current 2 s drain and then
        runs one more before it honours SIGTERM or even SIGQUIT (celery/worker/loops.py synloop), and the embedded
        broker polls every 0.5 s inside it. Nothing a test checks happens after this point.
        """
        if self.process is None or self.process.poll() is not None:
            return
        self.kill()


@contextmanager
def running_worker(application: Flask, log_path: Path, **options: object) -> Iterator[Worker]:
    """A started Worker for the length of the block, stopped whatever happens."""
    worker = Worker(application, log_path, **options)  # type: ignore[arg-type]
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
