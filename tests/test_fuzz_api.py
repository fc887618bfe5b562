"""schemathesis over every operation of /api/openapi.json, as an admin, a doctor and a patient.

A real server (gunicorn, as `make run` serves the app) on the test database (SQLite, or PostgreSQL when
HMS_TEST_DATABASE_URL is set) with the demo hospital loaded, so ids exist and sign-ins work. Every phase
(examples, coverage, fuzzing, stateful) runs with the checks below; any finding fails the test. The run is
deterministic (fixed seed, no example database) and small enough for CI; `make fuzz` runs a deeper one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hms.demo.service import load_demo_data

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[1]
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = int(os.environ.get("HMS_FUZZ_MAX_EXAMPLES", "8"))
SEED = int(os.environ.get("HMS_FUZZ_SEED", "20261201"))
# These end the session they are called with, so they run last, after everything else had a valid token.
SESSION_ENDING = "^/api/auth/(logout|change-password)$"
GUNICORN_APP = "hms:create_app()"
# Each role fuzzes its own area and the shared ones (public, /api/auth); make fuzz (HMS_FUZZ_EVERY_ROLE=1) also
# sends every role at every other role's operations, which only answer 403 (proved cheaply elsewhere).
EVERY_ROLE = os.environ.get("HMS_FUZZ_EVERY_ROLE") == "1"
ROLES = (
    ("patient", "patient1", "patient123", "^/api/(admin|doctor)/"),
    ("doctor", "dr.asha", "doctor123", "^/api/(admin|patient)/"),
    ("admin", "admin", "admin123", "^/api/(doctor|patient)/"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server(app, tmp_path: Path):
    """The demo hospital in the test database, served by gunicorn on a loopback port."""
    with app.app_context():
        load_demo_data()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "HMS_JWT_SECRET": app.config["JWT_SECRET_KEY"],
        "HMS_TIMEZONE": app.config["HMS"].timezone,
        "HMS_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("REDIS_URL", None)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", GUNICORN_APP],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/api/health", timeout=5)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the server did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.2)
        yield base, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave the server behind
            process.kill()
            process.wait(timeout=30)


def _token(base: str, username: str, password: str) -> str:
    response = requests.post(f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _schemathesis(base: str, token: str, workdir: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/api/openapi.json",
        "--phases",
        PHASES,
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--no-color",
        # Hypothesis' "generation is too slow" health check measures this shared machine, not the API.
        "--suppress-health-check",
        "too_slow",
        "--header",
        f"Authorization: Bearer {token}",
        *selection,
    ]
    # Its own working folder: schemathesis keeps a cache of past failures there, which must not steer this run.
    return subprocess.run(command, capture_output=True, text=True, cwd=workdir, timeout=1800, check=False)


def test_schemathesis_finds_nothing_as_admin_doctor_or_patient(demo_server, tmp_path):
    base, log_path = demo_server
    tokens = {role: _token(base, username, password) for role, username, password, _others in ROLES}
    findings = []
    for role, _username, _password, others in ROLES:
        not_here = SESSION_ENDING if EVERY_ROLE else f"{SESSION_ENDING}|{others}"
        for selection in (("--exclude-path-regex", not_here), ("--include-path-regex", SESSION_ENDING)):
            result = _schemathesis(base, tokens[role], tmp_path, *selection)
            if result.returncode != 0:
                findings.append(f"---- as {role} ({' '.join(selection)}):\n{result.stdout[-6000:]}{result.stderr}")
    server_errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line or "ERROR" in line]
    assert findings == [], "\n".join(findings) + "\nserver log:\n" + "\n".join(server_errors[-20:])
