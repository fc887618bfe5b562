"""Fill a database with a hospital of a chosen size for the benchmarks.

    .venv/bin/python bench/generate.py --database-url sqlite:///instance/bench.sqlite3 \
        --doctors 50 --patients 5000 --appointments 100000 --reset

Past appointments (completed / cancelled / no-show) spread over the previous months; future booked
appointments fill about half of each doctor's windows for the next 14 days, so the booking benchmark
still finds free slots. Every row goes in with bulk INSERTs; it takes seconds, not minutes.
Logins: admin / admin123; doctors bench-doctor-<n> / doctor123; patients bench-patient-<n> / patient123.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time as wall
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import insert, select, text

from hms import create_app
from hms.accounts.passwords import hash_password
from hms.common.clock import today_local, utcnow_naive
from hms.config import Settings
from hms.extensions import db
from hms.models import Appointment, AvailabilityWindow, Department, Doctor, Patient, User

WINDOWS = ((time(9, 0), time(13, 0)), (time(16, 0), time(19, 0)))
SLOT_MINUTES = 30
FUTURE_DAYS = 14
DEPARTMENTS = ["Cardiology", "Neurology", "Orthopaedics", "Paediatrics", "Dermatology", "General Medicine", "ENT"]
PAST_STATUSES = ["completed"] * 7 + ["cancelled"] * 2 + ["no_show"]
BATCH = 20_000


def bench_app(database_url: str, redis_url: str | None = None) -> Flask:
    """An application on the benchmark database, with a throwaway instance folder."""
    settings = Settings.from_env(
        database_url=database_url,
        redis_url=redis_url,
        instance_path=Path(tempfile.mkdtemp(prefix="hms-bench-")),
        extra={"cache_prefix": f"hms-bench-{int(wall.time())}:"},
    )
    return create_app(settings)


def sign_in(app: Flask, user_ids: list[int], *, agent: str) -> dict[int, str]:
    """An access token for each user, each naming a sign-in session of its own (claim `sid`), as the login route
    issues them: the server refuses a token whose session does not exist. Sessions are inserted in bulk rather
    than through the login route, which would spend minutes on password hashes."""
    from flask_jwt_extended import create_access_token

    from hms.common.session_rules import real_now
    from hms.models import AuthSession

    now = real_now()
    rows = [
        {
            "user_id": user_id,
            "refresh_hash": f"bench-{user_id}",
            "generation": 0,
            "created_at": now,
            "last_used_at": now,
            "expires_at": now + timedelta(hours=8),
            "user_agent": agent,
        }
        for user_id in user_ids
    ]
    with app.app_context():
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(AuthSession), rows[start : start + 5000])
        db.session.commit()
        sessions = db.session.execute(
            select(AuthSession.user_id, AuthSession.id).where(AuthSession.user_agent == agent)
        ).all()
        newest = dict(sorted(sessions, key=lambda row: row[1]))  # the newest session of each user
        return {
            user_id: create_access_token(identity=user_id, additional_claims={"sid": newest[user_id]})
            for user_id in user_ids
        }


def _slots() -> list[time]:
    result = []
    for start, end in WINDOWS:
        minute = start.hour * 60 + start.minute
        while minute + SLOT_MINUTES <= end.hour * 60 + end.minute:
            result.append(time(minute // 60, minute % 60))
            minute += SLOT_MINUTES
    return result


def _end(start: time) -> time:
    minute = start.hour * 60 + start.minute + SLOT_MINUTES
    return time(minute // 60, minute % 60)


def _reset(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def _insert(model: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[start : start + BATCH])


def generate(*, app: Flask, doctors: int, patients: int, appointments: int, seed: int = 7) -> dict[str, int]:
    """Insert the hospital; returns how many rows of each kind went in."""
    rng = random.Random(seed)
    with app.app_context():
        today = today_local()
        now = utcnow_naive()
        _insert(Department, [{"name": name, "description": f"{name} department"} for name in DEPARTMENTS])
        department_ids = list(db.session.execute(select(Department.id)).scalars())
        admin_hash, doctor_hash, patient_hash = (hash_password(p) for p in ("admin123", "doctor123", "patient123"))
        if db.session.execute(select(User.id).where(User.username == "admin")).first() is None:
            db.session.add(User(username="admin", email="admin@bench.local", password_hash=admin_hash, role="admin"))
        users = [
            {"username": f"bench-doctor-{n}", "email": f"doctor{n}@bench.local", "password_hash": doctor_hash}
            | {"role": "doctor"}
            for n in range(doctors)
        ] + [
            {"username": f"bench-patient-{n}", "email": f"patient{n}@bench.local", "password_hash": patient_hash}
            | {"role": "patient"}
            for n in range(patients)
        ]
        _insert(User, users)
        user_ids = dict(db.session.execute(select(User.username, User.id).where(User.username.like("bench-%"))).all())
        _insert(
            Doctor,
            [
                {
                    "user_id": user_ids[f"bench-doctor-{n}"],
                    "full_name": f"Dr. Bench {n}",
                    "department_id": department_ids[n % len(department_ids)],
                    "specialization": DEPARTMENTS[n % len(DEPARTMENTS)],
                    "experience_years": 5 + n % 20,
                    "consultation_fee": 500,
                    "slot_minutes": SLOT_MINUTES,
                }
                for n in range(doctors)
            ],
        )
        _insert(
            Patient,
            [
                {
                    "user_id": user_ids[f"bench-patient-{n}"],
                    "full_name": f"Bench Patient {n}",
                    "date_of_birth": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                    "created_at": now - timedelta(minutes=rng.randrange(0, 60 * 24 * 120)),
                }
                for n in range(patients)
            ],
        )
        doctor_ids = list(db.session.execute(select(Doctor.id).order_by(Doctor.id)).scalars())
        patient_ids = list(db.session.execute(select(Patient.id).order_by(Patient.id)).scalars())
        _insert(
            AvailabilityWindow,
            [
                {"doctor_id": doctor_id, "date": today + timedelta(days=offset), "start_time": s, "end_time": e}
                for doctor_id in doctor_ids
                for offset in range(FUTURE_DAYS)
                for s, e in WINDOWS
            ],
        )
        slots = _slots()
        rows: list[dict] = []
        future_target = min(appointments // 10, doctors * FUTURE_DAYS * len(slots) // 2)
        # Future: every other slot of each doctor's day (half the windows stay free for booking).
        for offset in range(1, FUTURE_DAYS):
            for d_index, doctor_id in enumerate(doctor_ids):
                for s_index, start in enumerate(slots[(offset + d_index) % 2 :: 2]):
                    if len(rows) >= future_target:
                        break
                    patient = patient_ids[(d_index * 97 + offset * 31 + s_index) % len(patient_ids)]
                    rows.append(_row(doctor_id, patient, today + timedelta(days=offset), start, "booked"))
        # Past: walk back day by day filling doctors' slots until the total is reached.
        offset = 0
        while len(rows) < appointments:
            offset += 1
            day = today - timedelta(days=offset)
            for d_index, doctor_id in enumerate(doctor_ids):
                for s_index, start in enumerate(slots):
                    if len(rows) >= appointments:
                        break
                    patient = patient_ids[(d_index * len(slots) + s_index + offset * 7) % len(patient_ids)]
                    rows.append(_row(doctor_id, patient, day, start, rng.choice(PAST_STATUSES)))
        _insert(Appointment, rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Planner statistics and the visibility map, as autovacuum keeps them on a database that runs a while.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        return {"doctors": doctors, "patients": patients, "appointments": len(rows), "past_days": offset}


def _row(doctor_id: int, patient_id: int, day: date, start: time, status: str) -> dict:
    moment = datetime.combine(day, time(0))
    return {
        "doctor_id": doctor_id,
        "patient_id": patient_id,
        "date": day,
        "start_time": start,
        "end_time": _end(start),
        "status": status,
        "reason": "benchmark visit",
        "created_at": moment,
        "updated_at": moment,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--doctors", type=int, default=50)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="drop everything and migrate from zero first")
    args = parser.parse_args()
    if args.patients < len(_slots()):
        parser.error(f"--patients must be at least {len(_slots())} (one patient per slot of a day)")
    app = bench_app(args.database_url)
    if args.reset:
        _reset(app)
    started = wall.perf_counter()
    counts = generate(app=app, doctors=args.doctors, patients=args.patients, appointments=args.appointments)
    print(f"generated {counts} in {wall.perf_counter() - started:.1f} s into {args.database_url}")


if __name__ == "__main__":
    main()
