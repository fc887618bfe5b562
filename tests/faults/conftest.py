"""The fault suite's own services: a redis-server on a spare loopback port (never the machine's shared one), a
real Celery worker against it, and an application wired to both. Faults are injected into these real processes.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.notifications.conftest import smtp_server  # noqa: F401  (the fault suite's SMTP server)
from tests.processes import Worker, free_port, worker_app

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
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
    """An application on the test database that really uses this Redis for cache, broker and publishing, with
    short retry and grace periods (its workers get the same through worker_env)."""
    values: dict[str, object] = {"redis_retry_seconds": 0.5, "outbox_grace_seconds": 1, **overrides}
    queue = f"hms-faults-{uuid.uuid4().hex[:10]}"
    with worker_app(app, tmp_path, redis_url=redis_url, queue=queue, **values) as application:
        yield application


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
        time.sleep(0.05)
    text = Path(log).read_text(errors="replace")[-4000:] if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{text}")
