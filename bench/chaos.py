"""Chaos run: the app as `make run` serves it (scripts/supervise.py + Procfile: 3 gunicorn workers, a Celery worker,
beat) on its own redis-server, under steady load for 60 s, while Redis is stopped for 10 s and a web worker is
SIGKILLed once. Prints requests, 5xx, 503s, connection errors, lost bookings (must be 0) and messages delivered.

    .venv/bin/python bench/chaos.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/mine] [--seconds 60]

Without --database-url it uses a SQLite file in a temporary instance folder. --reset is implied: the database is
migrated from zero and loaded with the demo hospital, so never point it at real data. Everything it starts
(redis-server, SMTP sink, supervisor and its processes) is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MARK = "chaos-run"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An SMTP sink that counts what it receives per outbox row (the Message-ID carries `hms-<row id>`)."""

    def __init__(self) -> None:
        self.received: Counter[int] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        found = re.search(r"hms-(\d+)@", str(message["Message-ID"]))
        with self.lock:
            self.received[int(found.group(1)) if found else -1] += 1
        return "250 OK"


class Redis:
    def __init__(self, folder: Path) -> None:
        self.port, self.folder, self.process = free_port(), folder, None

    def start(self) -> None:
        command = [shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", "127.0.0.1"]
        command += ["--port", str(self.port), "--dir", str(self.folder), "--save", "", "--appendonly", "yes"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Load:
    """Threads of patients that read, book and cancel; every outcome is counted, every 201 remembered."""

    def __init__(self, base: str, patients: list[str], doctors: list[int], days: list[date]) -> None:
        self.base, self.patients, self.doctors, self.days = base, patients, doctors, days
        self.statuses: Counter[int] = Counter()
        self.connection_errors = 0
        self.booked: dict[int, str] = {}  # appointment id -> username
        self.cancelled: set[int] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def record(self, response: requests.Response | None) -> requests.Response | None:
        with self.lock:
            if response is None:
                self.connection_errors += 1
            else:
                self.statuses[response.status_code] += 1
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        try:
            return self.record(requests.request(method, self.base + path, timeout=15, **kwargs))
        except requests.RequestException:
            return self.record(None)

    def patient(self, username: str) -> None:
        rng = random.Random(username)
        login = None
        while login is None or login.status_code != 200:
            if self.stop.is_set():
                return
            login = self.call("POST", "/api/auth/login", json={"username": username, "password": "patient123"})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        mine: list[int] = []
        while not self.stop.is_set():
            doctor, day = rng.choice(self.doctors), rng.choice(self.days)
            slots = self.call("GET", f"/api/doctors/{doctor}/slots?date={day}")
            free = [s["start"] for s in slots.json()["slots"] if s["available"]] if slots and slots.ok else []
            if free:
                body = {"doctor_id": doctor, "date": day.isoformat(), "start_time": rng.choice(free), "reason": MARK}
                booked = self.call("POST", "/api/patient/appointments", json=body, headers=headers)
                if booked is not None and booked.status_code == 201:
                    with self.lock:
                        self.booked[booked.json()["id"]] = username
                    mine.append(booked.json()["id"])
            if mine and rng.random() < 0.4:
                victim = mine.pop(rng.randrange(len(mine)))
                cancel = self.call("POST", f"/api/patient/appointments/{victim}/cancel", json={}, headers=headers)
                if cancel is not None and cancel.status_code == 200:
                    with self.lock:
                        self.cancelled.add(victim)
            self.call("GET", "/api/patient/appointments?per_page=20", headers=headers)
            self.call("GET", "/api/doctors?per_page=10")


def gunicorn_workers(master_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def gunicorn_master(supervisor_pid: int) -> int | None:
    """The supervisor's children are the Procfile processes; gunicorn's master is the one whose command says so."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(supervisor_pid)], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        pid, args = line.strip().split(" ", 1)
        if "gunicorn" in args:
            return int(pid)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis-down-at", type=float, default=15)
    parser.add_argument("--redis-down-for", type=float, default=10)
    parser.add_argument("--kill-web-worker-at", type=float, default=40)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="hms-chaos-"))
    database_url = args.database_url or f"sqlite:///{instance / 'hms.sqlite3'}"
    redis = Redis(instance)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_")}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        FLASK_APP="hms",
        DATABASE_URL=database_url,
        HMS_INSTANCE_PATH=str(instance),
        HMS_PORT=str(port),
        WEB_WORKERS="3",
        HMS_SMTP_HOST="127.0.0.1",
        HMS_SMTP_PORT=str(smtp.port),
        HMS_CELERY_QUEUE=f"chaos-{port}",
        HMS_OUTBOX_GRACE_SECONDS="5",
    )
    if database_url.startswith("postgresql"):
        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    supervisor = None
    try:
        redis.start()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        smtp.start()
        print(f"instance {instance}; preparing the database (migrations + demo hospital)...", flush=True)
        subprocess.run([str(BIN / "flask"), "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([str(BIN / "flask"), "demo-data"], env=env, cwd=ROOT, check=True, capture_output=True)
        log = (instance / "supervisor.log").open("w")
        supervisor = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "supervise.py"), str(ROOT / "Procfile")],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{base}/api/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            doctors = list(connection.execute(sa.text("SELECT id FROM doctors ORDER BY id")).scalars())
        days = [date.today() + timedelta(days=n) for n in range(1, 4)]
        load = Load(base, [f"patient{n}" for n in range(1, args.threads + 1)], doctors, days)
        threads = [threading.Thread(target=load.patient, args=(u,), daemon=True) for u in load.patients]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        events: list[str] = []
        redis_down = redis_back = killed = False
        outage_started = outage_ended = 0.0
        while (elapsed := time.monotonic() - started) < args.seconds:
            if not redis_down and elapsed >= args.redis_down_at:
                redis.stop()
                redis_down, outage_started = True, time.time()
                events.append(f"{elapsed:5.1f} s  Redis stopped")
            if redis_down and not redis_back and elapsed >= args.redis_down_at + args.redis_down_for:
                redis.start()
                redis_back, outage_ended = True, time.time()
                events.append(f"{elapsed:5.1f} s  Redis started again")
            if not killed and elapsed >= args.kill_web_worker_at:
                master = gunicorn_master(supervisor.pid)
                victims = gunicorn_workers(master) if master else []
                if victims:
                    os.kill(victims[0], signal.SIGKILL)
                    events.append(f"{elapsed:5.1f} s  web worker {victims[0]} SIGKILLed")
                killed = True
            time.sleep(0.1)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)

        # Every 201 must be in the database, in the state its last acknowledged answer left it.
        with engine.connect() as connection:
            rows = dict(
                connection.execute(sa.text("SELECT id, status FROM appointments WHERE reason = :m"), {"m": MARK}).all()
            )
        lost = [i for i in load.booked if rows.get(i) != ("cancelled" if i in load.cancelled else "booked")]
        unacknowledged = sorted(set(rows) - set(load.booked))

        # Messages of the run: wait (beat's sweep runs every minute) until none is pending.
        query = sa.text(
            "SELECT n.id, n.status, n.recipient, n.subject, n.created_at FROM notifications n"
            " JOIN appointments a ON a.id = n.appointment_id WHERE a.reason = :m AND n.channel = 'email'"
        )
        deadline = time.monotonic() + 150
        while True:
            with engine.connect() as connection:
                messages = connection.execute(query, {"m": MARK}).all()
            pending = [m for m in messages if m.status == "pending"]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(2)
        outage = (
            utc_naive(outage_started),
            utc_naive(outage_ended),
        )
        during_outage = [m for m in messages if outage[0] <= _naive(m.created_at) <= outage[1]]
        sent = [m for m in messages if m.status == "sent"]
        with mailbox.lock:
            doubled = sum(1 for m in messages if mailbox.received[m.id] > 1)
            missing = sum(1 for m in sent if mailbox.received[m.id] == 0)

        total = sum(load.statuses.values())
        fives = sum(count for status, count in load.statuses.items() if status >= 500)
        print()
        for event in events:
            print("  " + event)
        print(f"\n  requests            {total} in {args.seconds} s ({args.threads} patients)")
        print(f"  by status           {dict(sorted(load.statuses.items()))}")
        unavailable, errors = load.statuses.get(503, 0), load.statuses.get(500, 0)
        print(f"  5xx                 {fives}  (of which 503: {unavailable}, 500: {errors})")
        print(f"  connection errors   {load.connection_errors}  (requests cut by the SIGKILLed web worker)")
        print(f"  bookings            {len(load.booked)} acknowledged, {len(load.cancelled)} of them cancelled")
        print(f"  lost bookings       {len(lost)}  {lost[:10]}")
        print(f"  unacknowledged rows {len(unacknowledged)}  (booked but the answer never arrived)")
        print(f"  e-mails             {len(messages)} queued, {len(sent)} sent, {len(messages) - len(sent)} not sent")
        print(
            f"  during the outage   {len(during_outage)} queued, "
            f"{sum(m.status == 'sent' for m in during_outage)} delivered after Redis returned"
        )
        print(f"  SMTP received       {doubled} e-mails twice, {missing} sent but never received")
        restarts = (instance / "supervisor.log").read_text().count(" exited with code ")
        print(f"  supervisor restarts {restarts}")
        return 1 if lost or fives - load.statuses.get(503, 0) or doubled else 0
    finally:
        if supervisor is not None and supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(timeout=30)
        redis.stop()
        smtp.stop()


def utc_naive(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _naive(value: Any) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


if __name__ == "__main__":
    sys.exit(main())
