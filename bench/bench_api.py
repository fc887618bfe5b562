"""Latency of the hot API paths with the cache cold and warm, in one run, reported as percentiles and ratios.

    .venv/bin/python bench/bench_api.py --database-url sqlite:///instance/bench.sqlite3 [--redis-url redis://...]

Requests go through Flask's test client inside this process: the figures are the application's own cost
(routing, auth, SQL, serialisation, cache), without network or a WSGI server. Absolute times depend on the
machine; the ratios (warm/cold) are what to compare between runs and databases.
  cold: the cache is emptied before every request (what the first reader after a write pays)
  warm: the same request repeated with the value cached
  booking: POST a free slot (then cancel it, untimed); "slots after booking" is the read that follows a write
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time as wall
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import select

from bench.generate import bench_app, sign_in
from hms.common.clock import today_local
from hms.extensions import cache, db
from hms.models import Doctor, Patient, User


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": statistics.fmean(ordered),
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = wall.perf_counter()
    result = call()
    return (wall.perf_counter() - started) * 1000, result


class Bench:
    def __init__(self, app: Flask, *, repeats: int, seed: int = 11) -> None:
        self.app, self.repeats, self.rng = app, repeats, random.Random(seed)
        self.client = app.test_client()
        with app.app_context():
            admin_id = db.session.execute(select(User.id).where(User.role == "admin").limit(1)).scalar_one()
            self.doctor_ids = list(db.session.execute(select(Doctor.id)).scalars())
            self.patients = list(db.session.execute(select(Patient.id, Patient.user_id).limit(2000)).all())
            self.today = today_local()
        # Tokens must name a live sign-in session (common.auth refuses others): one each, before any timing.
        self.tokens = sign_in(app, [admin_id, *(user_id for _patient, user_id in self.patients)], agent="bench_api")
        self.admin = {"Authorization": f"Bearer {self.tokens[admin_id]}"}

    def clear_cache(self) -> None:
        with self.app.app_context():
            cache.clear()

    def get(self, url: str, headers: dict | None = None) -> Any:
        response = self.client.get(url, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code} {response.get_data(as_text=True)[:200]}")
        return response.get_json()

    def slot_url(self) -> str:
        doctor = self.rng.choice(self.doctor_ids)
        day = self.today + timedelta(days=self.rng.randrange(1, 7))
        return f"/api/doctors/{doctor}/slots?date={day.isoformat()}"

    def cold_and_warm(self, make_url: Callable[[], str], headers: dict | None = None) -> dict[str, Any]:
        cold, warm = [], []
        for _ in range(self.repeats):
            url = make_url()
            self.clear_cache()
            elapsed, _ = timed(lambda url=url: self.get(url, headers))
            cold.append(elapsed)
            for _ in range(3):
                elapsed, _ = timed(lambda url=url: self.get(url, headers))
                warm.append(elapsed)
        return {"cold": percentiles(cold), "warm": percentiles(warm)}

    def booking(self) -> dict[str, Any]:
        booking, read_after = [], []
        attempts = 0
        while len(booking) < self.repeats and attempts < self.repeats * 20:
            attempts += 1
            doctor = self.rng.choice(self.doctor_ids)
            day = self.today + timedelta(days=self.rng.randrange(1, 7))
            url = f"/api/doctors/{doctor}/slots?date={day.isoformat()}"
            free = [slot for slot in self.get(url)["slots"] if slot["available"]]
            if not free:
                continue
            _patient_id, user_id = self.rng.choice(self.patients)
            headers = {"Authorization": f"Bearer {self.tokens[user_id]}"}
            body = {"doctor_id": doctor, "date": day.isoformat(), "start_time": free[0]["start"], "reason": "bench"}
            elapsed, response = timed(
                lambda body=body, headers=headers: self.client.post(
                    "/api/patient/appointments", json=body, headers=headers
                )
            )
            if response.status_code != 201:
                continue  # this patient was busy that day: pick another pair
            booking.append(elapsed)
            elapsed, slots = timed(lambda url=url: self.get(url))
            read_after.append(elapsed)
            taken = next(slot for slot in slots["slots"] if slot["start"] == free[0]["start"])
            assert not taken["available"], "a booked slot was still offered after the booking returned"
            appointment_id = response.get_json()["id"]
            self.client.post(
                f"/api/patient/appointments/{appointment_id}/cancel", json={"reason": "bench"}, headers=headers
            )
        if not booking:
            raise RuntimeError("no booking succeeded")
        return {"booking": percentiles(booking), "slots after booking": percentiles(read_after)}


def _route_exists(app: Flask, rule: str) -> bool:
    return any(str(r.rule) == rule for r in app.url_map.iter_rules())


def run(app: Flask, *, repeats: int) -> dict[str, Any]:
    bench = Bench(app, repeats=repeats)
    results: dict[str, Any] = {}
    if _route_exists(app, "/api/doctors/<int:doctor_id>/slots"):
        results["slots"] = bench.cold_and_warm(bench.slot_url)
    results["stats"] = bench.cold_and_warm(lambda: "/api/admin/stats", bench.admin)
    results["analytics"] = bench.cold_and_warm(lambda: "/api/admin/analytics", bench.admin)
    if _route_exists(app, "/api/patient/appointments") and "slots" in results:
        results["booking"] = bench.booking()
    return results


def report(results: dict[str, Any], *, title: str) -> str:
    lines = [title, f"{'path':<22}{'phase':<22}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}"]
    for name, phases in results.items():
        for phase, figures in phases.items():
            lines.append(
                f"{name:<22}{phase:<22}{figures['n']:>5}{figures['p50']:>10.2f}{figures['p95']:>10.2f}"
                f"{figures['p99']:>10.2f}{figures['mean']:>10.2f}"
            )
    lines.append("")
    lines.append("ratios (warm / cold; smaller is better for the cache):")
    for name, phases in results.items():
        if "cold" in phases and "warm" in phases:
            p50 = phases["warm"]["p50"] / phases["cold"]["p50"]
            p95 = phases["warm"]["p95"] / phases["cold"]["p95"]
            lines.append(f"  {name:<12} p50 {p50:.3f}  p95 {p95:.3f}  (cold is {1 / p50:.1f}x warm at p50)")
    if "booking" in results:
        phases = results["booking"]
        ratio = phases["slots after booking"]["p50"] / results["slots"]["cold"]["p50"]
        lines.append(f"  slots read after a booking / cold slots read, p50: {ratio:.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=None, help="use Redis as the cache (default: in-process cache)")
    parser.add_argument("--repeats", type=int, default=50, help="cold samples per path (warm: 3x as many)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    app = bench_app(args.database_url, args.redis_url)
    with app.app_context():
        appointments = db.session.execute(select(db.func.count()).select_from(db.text("appointments"))).scalar()
    try:
        results = run(app, repeats=args.repeats)
    finally:
        with app.app_context():
            cache.clear()  # only this run's key prefix
    cache_kind = "Redis" if args.redis_url else "in-process cache"
    title = f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, {cache_kind}, {appointments} appointments"
    print(report(results, title=title))
    if args.json:
        args.json.write_text(json.dumps({"title": title, "results": results}, indent=2))


if __name__ == "__main__":
    main()
