"""`make bench`: the application served the way `make run` serves it, driven over HTTP, on a generated hospital.

    .venv/bin/python bench/load.py                                   # SQLite default, 16 clients, 5 s a scenario
    .venv/bin/python bench/load.py --appointments 200000 --json run.json
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x \
        --redis-url redis://127.0.0.1:6379/13                        # the database is WIPED and regenerated

It generates the hospital (bench/generate.py) unless --reuse, starts `scripts/supervise.py Procfile` (gunicorn
with WEB_WORKERS processes of 4 threads, the Celery worker and beat) on a free port, and runs each scenario for
--seconds with --clients concurrent keep-alive connections (closed loop: each client sends its next request
when the answer to the previous one has arrived). It prints req/s and p50/p95/p99 per scenario, the ratios the
issue asks for, and then checks what the run wrote: no slot booked twice, an outbox message for every booking,
and an audit chain that verifies.

The load tool is our own asyncio HTTP/1.1 client (stdlib only, below): it runs on the same two cores as the
server, so it has to cost as little as possible per request (no per-request object graph as in httpx or
locust's greenlets), and it lets a scenario be a sequence (book, then cancel the booking just made) or pick its
next request from shared state (each booking takes a distinct free slot). Its own CPU time is printed, so
a reader can see how much of the machine the client took.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JWT_SECRET = "bench-secret-" + "x" * 40


# ---- the HTTP client -------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def _streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        assert self.reader is not None and self.writer is not None
        return self.reader, self.writer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(
        self, method: str, path: str, *, token: str | None = None, body: Any = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            reader, writer = self._streams()
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers[name.strip().lower()] = value.strip()
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                content += chunk[:-2]
        else:
            content = await reader.readexactly(int(response_headers.get("content-length", "0")))
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return status, response_headers, content


# ---- scenarios -------------------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "max": 0.0}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": sum(ordered) / len(ordered) * 1000,
        "max": ordered[-1] * 1000,
    }


# A step sends one or more requests on a connection and returns the statuses it saw, or None when it has no work
# left (the booking scenarios run out of free slots).
Step = Callable[[Connection, int], Awaitable[list[int] | None]]


@dataclass
class Scenario:
    name: str
    step: Step
    expected: tuple[int, ...] = (200,)
    clients: int | None = None  # None: --clients
    description: str = ""


@dataclass
class Result:
    name: str
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    unexpected: int = 0

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies)
        return {
            "clients": self.clients,
            "requests": done,
            "per_second": done / self.seconds if self.seconds else 0.0,
            **percentiles(self.latencies),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "unexpected": self.unexpected,
        }


async def run_scenario(port: int, scenario: Scenario, *, clients: int, seconds: float) -> Result:
    clients = scenario.clients or clients
    result = Result(scenario.name, clients, seconds)
    deadline = time.perf_counter() + seconds

    async def client(index: int) -> None:
        connection = Connection(port)
        await asyncio.sleep(index * CONNECT_SPACING_SECONDS)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                statuses = await scenario.step(connection, index)
                if statuses is None:
                    return
                result.latencies.append(time.perf_counter() - started)
                for status in statuses:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status not in scenario.expected:
                        result.unexpected += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


# ---- the server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(args: argparse.Namespace, instance: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_") and k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=args.database_url,
        HMS_INSTANCE_PATH=str(instance),
        HMS_PORT=str(port),
        HMS_JWT_SECRET=JWT_SECRET,
        HMS_DEMO_DATA="0",
        WEB_WORKERS=str(args.workers),
        WEB_THREADS=str(args.threads),
        PATH=f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
    )
    if args.server_root:
        env["PYTHONPATH"] = str(args.server_root)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def start_server(env: dict[str, str], log: Path, root: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(root / "scripts" / "supervise.py"), str(root / "Procfile")],
        cwd=root,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


async def wait_until_live(port: int, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited; its log:\n{log.read_text()[-3000:]}")
        connection = Connection(port)
        try:
            status, _, _ = await connection.request("GET", "/api/health")
            if status == 200:
                return
        except OSError:
            pass
        finally:
            await connection.close()
        await asyncio.sleep(0.3)
    raise SystemExit(f"the server did not answer in {timeout} s; its log:\n{log.read_text()[-3000:]}")


# ---- the benchmark ---------------------------------------------------------------------------------------------


class Hospital:
    """What the scenarios need from the generated data: ids, tokens, free slots; and the post-run checks."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import func, select

        from hms.common.clock import today_local
        from hms.extensions import db
        from hms.models import ACTIVE_STATUSES, Appointment, Doctor, Patient, User

        self.app = app
        with app.app_context():
            self.today: date = today_local()
            admin_id = db.session.execute(select(User.id).where(User.role == "admin").limit(1)).scalar_one()
            doctors = db.session.execute(select(Doctor.id, Doctor.user_id).order_by(Doctor.id)).all()
            self.doctor_ids = [row.id for row in doctors]
            patients = db.session.execute(select(Patient.id, Patient.user_id).order_by(Patient.id)).all()
            self.patients = [(row.id, row.user_id) for row in patients]
            self.patient_names = list(
                db.session.execute(select(Patient.full_name).order_by(Patient.id).limit(2000)).scalars()
            )
            self.first_new_appointment = (db.session.execute(select(func.max(Appointment.id))).scalar() or 0) + 1
            # The generated hospital already books most patients once in the coming days: a booking scenario skips
            # a patient on a day they already have a visit, or the rules (one visit a doctor a day, no overlap)
            # would rightly refuse it with a 409 that the run counts as unexpected.
            upcoming = select(Appointment.patient_id, Appointment.date).where(
                Appointment.date >= self.today, Appointment.status.in_(ACTIVE_STATUSES)
            )
            self.busy_days = {(row.patient_id, row.date.isoformat()) for row in db.session.execute(upcoming)}
        # Every token is issued before the clock starts: signing in is not what a scenario measures, and a
        # session written by this process during a scenario would queue behind the server's writers.
        from bench.generate import sign_in

        users = [admin_id, *(row.user_id for row in doctors[:50]), *(user_id for _patient, user_id in self.patients)]
        self.tokens: dict[int, str] = sign_in(app, users, agent="bench/load.py")
        self.admin = self.tokens[admin_id]
        self.doctor_tokens = [self.tokens[row.user_id] for row in doctors[:50]]

    def patient_token(self, user_id: int) -> str:
        return self.tokens[user_id]

    def invalidate(self, namespace: str) -> None:
        from hms.common.cache import invalidate

        with self.app.app_context():
            invalidate(namespace)

    def wait_for_delivery(self, timeout: float = 60.0) -> dict[str, Any]:
        """After the last scenario, while the server still runs: how many of the run's messages the worker has
        not delivered yet, and how long it takes to deliver them. The publisher batches for a quarter of a second
        and the worker runs beside the web processes, so under load it may trail; it must not fall behind for good.
        """
        from sqlalchemy import func, select

        from hms.extensions import db
        from hms.models import Notification

        def count(status: str) -> int:
            with self.app.app_context():
                return int(
                    db.session.execute(
                        select(func.count()).where(
                            Notification.appointment_id >= self.first_new_appointment,
                            Notification.status == status,
                        )
                    ).scalar_one()
                )

        started = time.perf_counter()
        at_end = left = count("pending")
        while left and time.perf_counter() - started < timeout:
            time.sleep(0.5)
            left = count("pending")
        return {
            "messages_pending_at_end": at_end,
            "messages_out_within_s": None if left else round(time.perf_counter() - started, 1),
            "messages_still_pending": left,
            "messages_failed": count("failed"),
        }

    def checks(self) -> dict[str, Any]:
        """After the run: nothing lost, nothing doubled, the audit chain intact."""
        from sqlalchemy import func, select

        from hms.audit.service import verify_chain
        from hms.extensions import db
        from hms.models import Appointment, Notification

        with self.app.app_context():
            doubled = db.session.execute(
                select(Appointment.doctor_id, Appointment.date, Appointment.start_time)
                .where(Appointment.status == "booked")
                .group_by(Appointment.doctor_id, Appointment.date, Appointment.start_time)
                .having(func.count() > 1)
            ).all()
            new = select(Appointment.id).where(Appointment.id >= self.first_new_appointment)
            made = db.session.execute(select(func.count()).select_from(new.subquery())).scalar_one()
            without_message = db.session.execute(
                select(func.count()).select_from(
                    new.where(
                        ~select(Notification.id).where(Notification.appointment_id == Appointment.id).exists()
                    ).subquery()
                )
            ).scalar_one()
            checked, broken = verify_chain()
        return {
            "doubled_slots": len(doubled),
            "appointments_made": made,
            "appointments_without_outbox_message": without_message,
            "audit_records_checked": checked,
            "audit_chain_ok": broken is None,
        }


async def free_slots(port: int, hospital: Hospital, days: range) -> list[tuple[int, str, str]]:
    """Every free slot of every doctor on the given days, read through the API (as a patient's browser would)."""
    found: list[tuple[int, str, str]] = []
    connection = Connection(port)
    try:
        for offset in days:
            day = (hospital.today + timedelta(days=offset)).isoformat()
            for doctor_id in hospital.doctor_ids:
                status, _, body = await connection.request("GET", f"/api/doctors/{doctor_id}/slots?date={day}")
                if status != 200:
                    continue
                for slot in json.loads(body)["slots"]:
                    if slot["available"]:
                        found.append((doctor_id, day, slot["start"]))
    finally:
        await connection.close()
    return found


SERIAL_SLOTS = 200
# The clients connect this far apart: opened all at once, the connections often all went to the first web worker
# to wake (16 / 0), and each stays with the worker that accepted it; spaced, each is a fresh race.
CONNECT_SPACING_SECONDS = 0.003

# Reads that run twice: with --clients, and again with one client ("<name> 1c").
ONE_CLIENT_READS = (
    "patient history",
    "doctor day",
    "admin list",
    "admin list deep",
    "admin search",
    "stats",
    "analytics",
)


def scenarios(hospital: Hospital, slots: list[tuple[int, str, str]], rng: random.Random) -> list[Scenario]:
    """The scenarios of the issue, in order; bookings take distinct free slots and distinct patients."""
    today = hospital.today
    doctors = hospital.doctor_ids
    patients = list(hospital.patients)
    rng.shuffle(patients)
    rng.shuffle(slots)
    # The serial pair frees each slot it takes, so it cycles through a few; the concurrent bookings get the rest
    # (a 7-day horizon of 50 doctors holds about 2,500 free slots, which a fast machine books in under 5 s).
    serial_pool = slots[:SERIAL_SLOTS]
    booking_pool = slots[SERIAL_SLOTS:]
    # A patient books at most once here, so no rule about patients (one a doctor a day, caps) refuses a booking.
    booking_patients = patients[: len(patients) // 2]
    serial_patients = patients[len(patients) // 2 :]
    history_patients = patients[:500]
    taken: dict[int | None, tuple[int, str, str]] = {}

    async def get(connection: Connection, path: str, token: str | None = None) -> list[int]:
        status, _, _ = await connection.request("GET", path, token=token)
        return [status]

    async def live(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/health/live")

    async def health(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/health")

    async def profile(c: Connection, _i: int) -> list[int]:
        _patient_id, user_id = rng.choice(history_patients)
        return await get(c, "/api/patient/profile", hospital.patient_token(user_id))

    async def slots_read(c: Connection, _i: int) -> list[int]:
        day = today + timedelta(days=rng.randrange(1, 7))
        return await get(c, f"/api/doctors/{rng.choice(doctors)}/slots?date={day.isoformat()}")

    async def directory(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/doctors?page=1&per_page=20")

    async def book_one(c: Connection, pool: list, people: list) -> tuple[int, int | None, str | None]:
        if not pool or not people:
            return 0, None, None
        slot = pool.pop()
        doctor_id, day, start = slot
        # The last of the next 50 who has no visit that day (or the last one, if every one of them has).
        free = next(
            (
                i
                for i in range(len(people) - 1, max(-1, len(people) - 51), -1)
                if (people[i][0], day) not in hospital.busy_days
            ),
            len(people) - 1,
        )
        _patient_id, user_id = people.pop(free)
        token = hospital.patient_token(user_id)
        body = {"doctor_id": doctor_id, "date": day, "start_time": start, "reason": "bench"}
        status, _, content = await c.request("POST", "/api/patient/appointments", token=token, body=body)
        appointment_id = json.loads(content)["id"] if status == 201 else None
        if pool is serial_pool:
            taken[appointment_id] = slot
        return status, appointment_id, token

    async def booking(c: Connection, _i: int) -> list[int] | None:
        status, _, _ = await book_one(c, booking_pool, booking_patients)
        return None if status == 0 else [status]

    async def book_and_cancel(c: Connection, _i: int) -> list[int] | None:
        status, appointment_id, token = await book_one(c, serial_pool, serial_patients)
        if status == 0:
            return None
        if appointment_id is None:
            return [status]
        cancel, _, _ = await c.request(
            "POST", f"/api/patient/appointments/{appointment_id}/cancel", token=token, body={"reason": "bench"}
        )
        if cancel == 200:
            serial_pool.insert(0, taken.pop(appointment_id))  # free again: a later pair books it anew
        return [status, cancel]

    async def patient_history(c: Connection, _i: int) -> list[int]:
        _patient_id, user_id = rng.choice(history_patients)
        return await get(c, "/api/patient/appointments?page=1&per_page=20", hospital.patient_token(user_id))

    async def doctor_day(c: Connection, _i: int) -> list[int]:
        day = (today + timedelta(days=rng.randrange(0, 7))).isoformat()
        return await get(c, f"/api/doctor/appointments?date={day}&per_page=50", rng.choice(hospital.doctor_tokens))

    async def admin_list(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/admin/appointments?page=1&per_page=20", hospital.admin)

    async def admin_list_deep(c: Connection, _i: int) -> list[int]:
        return await get(c, f"/api/admin/appointments?page={rng.randrange(500, 2000)}&per_page=20", hospital.admin)

    async def admin_search(c: Connection, _i: int) -> list[int]:
        name = rng.choice(hospital.patient_names)
        # What a receptionist types: the distinctive part of a name, or all of it. (Half of "Bench Patient 123"
        # would match every generated patient, a case the cached total and the page's LIMIT have to carry.)
        query = name.split()[-1] if rng.random() < 0.5 else name
        return await get(c, f"/api/admin/patients?q={query.replace(' ', '%20')}&page=1&per_page=20", hospital.admin)

    async def stats(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/admin/stats", hospital.admin)

    async def analytics(c: Connection, _i: int) -> list[int]:
        return await get(c, "/api/admin/analytics", hospital.admin)

    def cold(namespace: str, path: str) -> Step:
        async def step(c: Connection, _i: int) -> list[int]:
            hospital.invalidate(namespace)  # outside the server, before the clock starts mattering: see README
            return await get(c, path, hospital.admin)

        return step

    everything = [
        Scenario("live", live, description="GET /api/health/live (constant: the framework's ceiling)"),
        Scenario("health", health, description="GET /api/health (database, cache and broker checks)"),
        # The cheapest signed-in request: the token check (one statement) and an answer from the rows it loaded.
        # Every signed-in route pays at least this; `booking / profile` says what a booking adds to it.
        Scenario("profile", profile, description="GET /api/patient/profile (the token check alone)"),
        Scenario("slots", slots_read, description="GET a doctor's slots on one of the next 6 days (cached)"),
        Scenario("directory", directory, description="GET /api/doctors page 1"),
        Scenario("booking", booking, expected=(201,), description="POST a booking of a distinct free slot"),
        Scenario("book+cancel", book_and_cancel, expected=(201, 200), clients=1, description="serial pair"),
        Scenario("patient history", patient_history, description="GET /api/patient/appointments page 1"),
        Scenario("doctor day", doctor_day, description="GET /api/doctor/appointments?date=…"),
        Scenario("admin list", admin_list, description="GET /api/admin/appointments page 1"),
        Scenario("admin list deep", admin_list_deep, description="GET /api/admin/appointments page 500-2000"),
        Scenario("admin search", admin_search, description="GET /api/admin/patients?q=<part of a name>"),
        Scenario("stats", stats, description="GET /api/admin/stats (warm)"),
        Scenario("analytics", analytics, description="GET /api/admin/analytics (warm)"),
        Scenario("stats cold", cold("stats", "/api/admin/stats"), clients=1, description="after invalidation"),
        Scenario("analytics cold", cold("stats", "/api/admin/analytics"), clients=1, description="after invalidation"),
    ]
    # The same reads with one client: what a user waits for when they are the only one asking, beside what 16 at
    # once wait for. Issue 21's list and dashboard targets are latencies; both readings are reported.
    alone = [
        Scenario(f"{s.name} 1c", s.step, clients=1, description=f"{s.description}, one client")
        for s in everything
        if s.name in ONE_CLIENT_READS
    ]
    return everything + alone


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    def rate(name: str) -> float:
        return float(summary.get(name, {}).get("per_second") or 0.0)

    out: dict[str, float] = {}
    pairs = (
        ("health", "live"),
        ("slots", "live"),
        ("booking", "health"),
        ("booking", "live"),
        ("profile", "health"),
        ("booking", "profile"),
    )
    for top, bottom in pairs:
        if rate(bottom):
            out[f"{top} / {bottom} req/s"] = rate(top) / rate(bottom)
    return out


TARGETS = (
    ("booking", "per_second", ">=", 150.0),
    ("booking", "p99", "<=", 150.0),
    ("slots", "per_second", ">=", 1500.0),
    ("book+cancel", "p50", "<=", 20.0),
    ("admin list", "p95", "<=", 50.0),
    ("admin list deep", "p95", "<=", 50.0),
    ("doctor day", "p95", "<=", 50.0),
    ("admin search", "p95", "<=", 30.0),
    ("stats cold", "p50", "<=", 100.0),
    ("analytics cold", "p50", "<=", 250.0),
    ("stats", "p50", "<=", 5.0),
    ("analytics", "p50", "<=", 5.0),
    ("admin list 1c", "p95", "<=", 50.0),
    ("admin list deep 1c", "p95", "<=", 50.0),
    ("doctor day 1c", "p95", "<=", 50.0),
    ("patient history 1c", "p95", "<=", 50.0),
    ("admin search 1c", "p95", "<=", 30.0),
    ("stats 1c", "p50", "<=", 5.0),
    ("analytics 1c", "p50", "<=", 5.0),
)


def report(run: dict[str, Any]) -> str:
    lines = [
        f"{run['title']}",
        f"load average before {run['load_before']}, after {run['load_after']}; client CPU {run['client_cpu_s']:.1f} s",
        "",
        f"{'scenario':<20}{'clients':>8}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}  statuses",
    ]
    for name, figures in run["scenarios"].items():
        lines.append(
            f"{name:<20}{figures['clients']:>8}{figures['requests']:>9}{figures['per_second']:>9.1f}"
            f"{figures['p50']:>9.1f}{figures['p95']:>9.1f}{figures['p99']:>9.1f}{figures['max']:>9.1f}  "
            f"{figures['statuses']}" + (f"  UNEXPECTED {figures['unexpected']}" if figures["unexpected"] else "")
        )
    lines += ["", "server CPU per request, ms (all processes' user+system time over the scenario / its requests):"]
    for name, figures in run["scenarios"].items():
        cpu = figures.get("server_cpu_ms", {})
        parts = "  ".join(f"{kind} {value:6.2f}" for kind, value in cpu.items())
        split = "/".join(str(n) for n in figures.get("connections_per_web_worker") or []) or "?"
        lines.append(f"  {name:<20}{sum(cpu.values()):7.2f}   {parts}   connections per web worker {split}")
    lines += ["", "ratios:"] + [f"  {name:<28}{value:8.3f}" for name, value in run["ratios"].items()]
    lines += ["", "targets of issue 21 (book+cancel: the p50 of the serial pair):"]
    for name, metric, sense, bound in TARGETS:
        figures = run["scenarios"].get(name)
        if not figures:
            continue
        value = figures[metric]
        ok = value >= bound if sense == ">=" else value <= bound
        lines.append(f"  {name:<20}{metric:<11}{value:9.1f} {sense} {bound:<8g} {'met' if ok else 'MISSED'}")
    lines += ["", "checks after the run:"] + [f"  {name:<38}{value}" for name, value in run["checks"].items()]
    return "\n".join(lines)


def _processes() -> Iterator[tuple[int, list[str], str]]:
    """Every process of the machine: its pid, the fields of /proc/<pid>/stat after the name, its command line."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        yield int(entry.name), stat.rsplit(")", 1)[1].split(), cmdline


def gunicorn_master(server: subprocess.Popen) -> int | None:
    """The gunicorn process among the supervisor's children (its workers are its own children)."""
    for pid, fields, cmdline in _processes():
        if int(fields[1]) == server.pid and "gunicorn" in cmdline:
            return pid
    return None


def server_cpu(server: subprocess.Popen) -> dict[str, float]:
    """CPU seconds used so far by the server's processes (the supervisor's tree), by kind: web, worker, beat.

    Divided by a scenario's requests it gives the server's CPU per request, a figure that other jobs on the
    machine stretch far less than latency or throughput (they take cores away; they do not add instructions).
    """
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, tuple[str, float]] = {}
    for pid, fields, cmdline in _processes():
        parents[pid] = int(fields[1])
        kind = "web" if "gunicorn" in cmdline else "beat" if " beat" in cmdline else "worker"
        if "supervise" in cmdline:
            kind = "supervisor"
        stats[pid] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    tree = {server.pid}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    totals: dict[str, float] = {}
    for pid in tree:
        if pid in stats:
            kind, seconds = stats[pid]
            totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def connection_split(port: int) -> list[int] | None:
    """How the clients' keep-alive connections are spread over the web workers now, largest first (`ss`).

    Each connection stays with the worker that accepted it, and the workers accept in a race: a run whose 16
    connections land 12 / 4 leaves one process's GIL saturated while the other idles. This is the figure that
    explains a run's CPU-bound scenarios (health, slots) coming out at half the rate of another's.
    """
    try:
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    per_process: dict[str, int] = {}
    for line in listing.splitlines():
        for pid in {part.split(",")[0] for part in line.split("pid=")[1:]}:
            per_process[pid] = per_process.get(pid, 0) + 1
    return sorted(per_process.values(), reverse=True) or None


def start_profile(
    server: subprocess.Popen, seconds: float, output: Path, *, gil_only: bool = False
) -> subprocess.Popen | None:
    """py-spy over gunicorn and its workers for the scenario's duration (needs ptrace; says so if refused).

    gil_only: sample only threads that hold the GIL, i.e. Python's CPU; by default a thread waiting on the
    database or a socket counts too, which shows where a request's time goes rather than its CPU."""
    master = gunicorn_master(server)
    spy = ROOT / ".venv" / "bin" / "py-spy"
    if master is None or not spy.exists():
        print("  (no profile: py-spy or the gunicorn process not found; pip install py-spy)", flush=True)
        return None
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--subprocesses",
            *(["--gil"] if gil_only else []),
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "--duration",
            str(max(1, int(seconds))),
            "--output",
            str(output),
            "--pid",
            str(master),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def profile_summary(collapsed: Path, top: int = 15) -> list[str]:
    """Top frames of py-spy's collapsed stacks: by own samples (leaf) and by inclusive samples (our code)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        if not frames:
            continue
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in dict.fromkeys(frames):
            if "(hms/" in frame or "/hms/" in frame or "flask/" in frame or "sqlalchemy/orm/session" in frame:
                inclusive[frame] = inclusive.get(frame, 0) + count
    lines = [f"  samples {total}; own time (leaf frames):"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    lines.append("  inclusive (hms, flask, ORM session):")
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    return lines


async def _split_midway(port: int, seconds: float) -> list[int] | None:
    await asyncio.sleep(seconds / 2)
    return await asyncio.to_thread(connection_split, port)


async def bench(
    args: argparse.Namespace, hospital: Hospital, port: int, server: subprocess.Popen
) -> dict[str, dict[str, Any]]:
    rng = random.Random(args.seed)
    slots = await free_slots(port, hospital, range(1, 8))
    wanted = [name.strip() for name in args.only.split(",")] if args.only else None
    summary: dict[str, dict[str, Any]] = {}
    for scenario in scenarios(hospital, slots, rng):
        if wanted and scenario.name not in wanted:
            continue
        profiler = None
        if args.profile == scenario.name:
            profile_path = args.instance / f"profile-{scenario.name.replace(' ', '_')}.txt"
            profiler = start_profile(server, args.seconds, profile_path, gil_only=args.profile_gil)
        cpu_before = server_cpu(server)
        split = asyncio.create_task(_split_midway(port, args.seconds))
        result = await run_scenario(port, scenario, clients=args.clients, seconds=args.seconds)
        cpu_after = server_cpu(server)
        summary[scenario.name] = result.summary() | {"description": scenario.description}
        summary[scenario.name]["connections_per_web_worker"] = await split
        done = max(1, len(result.latencies))
        summary[scenario.name]["server_cpu_ms"] = {
            kind: round(1000 * (cpu_after.get(kind, 0.0) - cpu_before.get(kind, 0.0)) / done, 2)
            for kind in sorted(cpu_after)
            if kind != "supervisor"
        }
        if profiler is not None:
            _out, error = profiler.communicate(timeout=60)
            if profile_path.exists():
                summary[scenario.name]["profile"] = profile_summary(profile_path)
                print("\n".join(summary[scenario.name]["profile"]), flush=True)
            else:
                print(f"  (py-spy failed: {error.decode(errors='replace')[-300:]})", flush=True)
        figures = summary[scenario.name]
        print(
            f"  {scenario.name:<20}{figures['per_second']:9.1f} req/s  p50 {figures['p50']:.1f}  p99 "
            f"{figures['p99']:.1f} ms  {figures['statuses']}  server CPU ms/request {figures['server_cpu_ms']}",
            flush=True,
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary instance folder (WIPED)")
    parser.add_argument("--redis-url", help="serve with Redis (cache, broker, rate limits) as in production")
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is (no generation)")
    parser.add_argument("--instance", type=Path, help="instance folder (default: a new temporary one)")
    parser.add_argument("--doctors", type=int, default=50)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="WEB_WORKERS (default: cores)")
    parser.add_argument("--threads", type=int, default=4, help="WEB_THREADS, threads of each web worker (default 4)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--profile-gil", action="store_true", help="profile only GIL-holding samples (CPU)")
    parser.add_argument("--profile", help="run py-spy over the server during this scenario (e.g. slots)")
    parser.add_argument(
        "--server-root",
        type=Path,
        help="serve another checkout's code (its Procfile, scripts and hms; e.g. `git archive main`) for a baseline",
    )
    parser.add_argument("--hold", action="store_true", help="keep the server running after the run (for py-spy)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    instance = args.instance or Path(tempfile.mkdtemp(prefix="hms-bench-"))
    instance.mkdir(parents=True, exist_ok=True)
    args.instance = instance
    args.database_url = args.database_url or f"sqlite:///{instance / 'hms.sqlite3'}"
    os.environ["HMS_JWT_SECRET"] = JWT_SECRET

    from bench.generate import _reset, generate
    from hms import create_app
    from hms.config import Settings

    settings = Settings.from_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        instance_path=instance,
        jwt_secret=JWT_SECRET,
    )
    app = create_app(settings)
    if not args.reuse:
        started = time.perf_counter()
        _reset(app)
        counts = generate(app=app, doctors=args.doctors, patients=args.patients, appointments=args.appointments)
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s", flush=True)
    hospital = Hospital(app)

    port = free_port()
    log = instance / "server.log"
    server = start_server(server_environment(args, instance, port), log, args.server_root or ROOT)
    try:
        asyncio.run(wait_until_live(port, server, log))
        backend = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
        title = (
            f"make bench: {backend}{' + Redis' if args.redis_url else ' (no Redis)'}, {args.workers} web workers"
            f" x {args.threads} threads, {args.clients} clients, {args.seconds:g} s a scenario; "
            + (
                f"{len(hospital.doctor_ids)} doctors, {len(hospital.patients)} patients, reused database"
                if args.reuse
                else f"{args.doctors} doctors, {args.patients} patients, {args.appointments} appointments"
            )
        )
        print(title, flush=True)
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        summary = asyncio.run(bench(args, hospital, port, server))
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        usage = resource.getrusage(resource.RUSAGE_SELF)
        delivery = hospital.wait_for_delivery()
        if args.hold:
            print(f"server on port {port} (pid {server.pid}); Ctrl-C to stop", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                server.wait()
    finally:
        stop_server(server)
    problems: dict[str, Any] = {**hospital.checks(), **delivery}
    run = {
        "title": title,
        "load_before": load_before,
        "load_after": load_after,
        "client_cpu_s": usage.ru_utime + usage.ru_stime,
        "scenarios": summary,
        "ratios": ratios(summary),
        "checks": problems,
    }
    print()
    print(report(run))
    if args.json:
        args.json.write_text(json.dumps(run, indent=2, default=str))
    if (
        problems["doubled_slots"]
        or problems["appointments_without_outbox_message"]
        or problems["messages_still_pending"]
        or problems["messages_failed"]
        or not problems["audit_chain_ok"]
    ):
        raise SystemExit("integrity check FAILED")


if __name__ == "__main__":
    main()
