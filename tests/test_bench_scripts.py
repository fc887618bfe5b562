"""The benchmark scripts still measure what they say: a small generated hospital goes through bench/bench_api.py
and every phase answers as it should (no timings asserted). Since sign-in sessions landed, tokens without a
session were refused and bench_api.py failed on its first authenticated request: nothing noticed until a
benchmark was run by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
def test_bench_api_signs_in_books_and_reads_on_a_small_generated_hospital(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    _run(
        "bench/generate.py",
        "--database-url",
        url,
        "--reset",
        "--doctors",
        "3",
        "--patients",
        "40",
        "--appointments",
        "300",
        cwd=ROOT,
    )
    _run("bench/bench_api.py", "--database-url", url, "--repeats", "3", "--json", str(tmp_path / "run.json"), cwd=ROOT)
    results = json.loads((tmp_path / "run.json").read_text())["results"]
    # Each phase ran its samples: the admin's dashboards and a patient's bookings were answered, not refused.
    assert results["stats"]["cold"]["n"] == 3 and results["analytics"]["cold"]["n"] == 3
    assert results["booking"]["booking"]["n"] == 3
    assert results["booking"]["slots after booking"]["n"] == 3
