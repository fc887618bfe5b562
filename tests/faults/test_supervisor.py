"""`make run`'s supervisor (scripts/supervise.py): a process that dies is restarted and logged, the others go on,
and SIGINT or SIGTERM stops every one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SUPERVISOR = Path(__file__).resolve().parents[2] / "scripts" / "supervise.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait(predicate, *, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


@pytest.fixture
def supervised(tmp_path: Path):
    """A Procfile with a steady process (writes its pid to a file each time it starts) and one that crashes."""
    pids = tmp_path / "pids"
    procfile = tmp_path / "Procfile"
    python = sys.executable
    steady = f"import os, time; open('{pids}', 'a').write(f'{{os.getpid()}}\\n'); time.sleep(3600)"
    crashy = "print('crashy is up', flush=True); raise SystemExit(3)"
    procfile.write_text(f'steady: {python} -c "{steady}"\ncrashy: {python} -c "{crashy}"\n')
    log = tmp_path / "supervisor.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(SUPERVISOR), str(procfile)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        yield process, pids, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        for line in pids.read_text().split() if pids.exists() else []:
            if _alive(int(line)):
                os.kill(int(line), signal.SIGKILL)


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_a_process_that_exits_is_restarted_with_backoff_and_the_others_keep_running(supervised):
    process, pids, log = supervised
    _wait(lambda: len(_pids(pids)) == 1, timeout=20, what="the steady process", log=log)
    _wait(
        lambda: log.read_text().count("crashy | crashy is up") >= 3, timeout=30, what="three starts of crashy", log=log
    )

    text = log.read_text()
    assert "crashy exited with code 3" in text
    assert "restart in 1 s" in text and "restart in 2 s" in text  # back-off doubles
    steady_pid = _pids(pids)[0]
    assert _alive(steady_pid) and process.poll() is None  # a crashing neighbour takes nothing down

    os.kill(steady_pid, signal.SIGKILL)  # even a SIGKILL is noticed and repaired
    _wait(lambda: len(_pids(pids)) == 2, timeout=20, what="the steady process to be restarted", log=log)
    assert "steady exited with code -9" in log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_every_process(supervised, signum):
    process, pids, log = supervised
    _wait(lambda: len(_pids(pids)) == 1, timeout=20, what="the steady process", log=log)
    steady_pid = _pids(pids)[0]

    process.send_signal(signum)

    assert process.wait(timeout=20) == 0
    _wait(lambda: not _alive(steady_pid), timeout=5, what="the steady process to stop", log=log)
    assert "all processes stopped" in log.read_text()
