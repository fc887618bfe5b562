"""The fault suite's own services: a redis-server on a spare loopback port (never the machine's shared one), a
real Celery worker against it, and an application wired to both. Faults are injected into these real processes.
"""

from __future__ import annotations

import os
import shutil
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
import redis
from flask import Flask

from hms import create_app
from hms.extensions import db
from tests.conftest import make_settings
from tests.notifications.conftest import smtp_server  # noqa: F401  (the fault suite's SMTP server)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
WORKER_START_TIMEOUT = 60
BANNER = "!" * 96


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/faults, so `-m faults` runs the fault suite alone."""
    for item in items:
        if "tests/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter) -> None:
    if not Path(REDIS_SERVER).exists():
        terminalreporter.write_line(BANNER)
        terminalreporter.write_line(
            "!!  REDIS FAULT TESTS SKIPPED: redis-server is missing (apt-get install redis-server)"
        )
        terminalreporter.write_line(BANNER)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server with an append-only file, so a stop and start keeps its data (as production does)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((self.folder / "redis.log").read_text()[-2000:]) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop redis` does; the append-only file keeps what was written."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: Redis accepts connections but never answers, the worst kind of outage for a client."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"REDIS FAULT TESTS SKIPPED: {REDIS_SERVER} is missing (apt-get install redis-server)")
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()
        server.stop()


@contextmanager
def fault_app(app: Flask, tmp_path: Path, *, redis_url: str | None, **overrides: object) -> Iterator[Flask]:
    """An application on the test database that really uses this Redis for cache, broker and publishing."""
    queue = f"hms-faults-{uuid.uuid4().hex[:10]}"
    values: dict[str, object] = {
        "database_url": app.config["HMS"].database_url,
        "redis_url": redis_url,
        "testing": False,
        "redis_retry_seconds": 0.5,
        "outbox_grace_seconds": 1,
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
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()


def worker_env(application: Flask, **extra: str) -> dict[str, str]:
    """The environment of a worker process of this application: settings only through the environment."""
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
    """`celery -A hms.celery_app worker --pool=solo` in its own process group, so a SIGKILL takes all of it."""

    def __init__(self, application: Flask, log_path: Path, **env: str) -> None:
        self.env = worker_env(application, **env)
        self.queue = self.env["HMS_CELERY_QUEUE"]
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "celery", "-A", "hms.celery_app", "worker", "--pool=solo", "-Q", self.queue]
        command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["-n", f"{self.queue}-{uuid.uuid4().hex[:4]}@%h"]
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while "ready." not in self.log()[self._offset :]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the whole worker: no clean-up, no ack, no goodbye (a machine that died)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Every worker a test starts is registered here and stopped at the end, whatever happened."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def wait_for(predicate, *, timeout: float, what: str, log: str | Path | None = None):
    """Poll until predicate() is truthy; predicates read through a fresh session (the worker commits elsewhere)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    text = Path(log).read_text(errors="replace")[-4000:] if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{text}")
