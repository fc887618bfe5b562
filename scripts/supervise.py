#!/usr/bin/env python3
"""Run every process of a Procfile and keep them running: one that exits is restarted with back-off and logged,
and never takes the others down. SIGINT (Ctrl-C) or SIGTERM stops them all.

    python scripts/supervise.py [Procfile]

Each command runs through /bin/sh (so `${WEB_WORKERS:-1}` expands as with honcho) in its own process group;
stopping sends SIGTERM to each group, then SIGKILL after HMS_SUPERVISE_STOP_SECONDS (default 10).
A process that ran for at least STABLE_SECONDS counts as healthy again: its next restart is immediate.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
STABLE_SECONDS = 30.0
COLOURS = ["36", "33", "35", "32", "34", "31"]


@dataclass
class Process:
    name: str
    command: str
    colour: str
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    backoff: float = 0.0
    restarts: int = 0
    readers: list[threading.Thread] = field(default_factory=list)


def read_procfile(path: Path) -> list[tuple[str, str]]:
    """`name: command` lines; blank lines and comments are skipped."""
    entries = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, command = line.split(":", 1)
        entries.append((name.strip(), command.strip()))
    if not entries:
        raise SystemExit(f"{path}: no processes")
    return entries


class Supervisor:
    """Starts, watches, restarts and stops the processes; prints their output prefixed with their names."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.width = max(len(name) for name, _ in entries)
        self.processes = [
            Process(name, command, COLOURS[i % len(COLOURS)]) for i, (name, command) in enumerate(entries)
        ]
        self.stopping = threading.Event()
        self.print_lock = threading.Lock()
        self.colour = sys.stdout.isatty()

    def log(self, name: str, text: str, colour: str = "1") -> None:
        prefix = f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} | "
        if self.colour:
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self.print_lock:
            sys.stdout.write(prefix + text.rstrip("\n") + "\n")
            sys.stdout.flush()

    def start(self, process: Process) -> None:
        process.popen = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {process.command}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
            errors="replace",
            bufsize=1,
        )
        process.started_at = time.monotonic()
        self.log("system", f"{process.name} started (pid {process.popen.pid}): {process.command}")
        reader = threading.Thread(target=self._pump, args=(process, process.popen), daemon=True)
        reader.start()
        process.readers = [reader]

    def _pump(self, process: Process, popen: subprocess.Popen) -> None:
        assert popen.stdout is not None
        for line in popen.stdout:
            self.log(process.name, line, process.colour)

    def check(self, process: Process) -> None:
        """Restart a process that exited, after its back-off; a process that had run stably restarts at once."""
        now = time.monotonic()
        if process.popen is None:
            if now >= process.restart_at:
                process.restarts += 1
                self.start(process)
            return
        code = process.popen.poll()
        if code is None:
            return
        for reader in process.readers:
            reader.join(timeout=1)
        ran = now - process.started_at
        process.backoff = 0.0 if ran >= STABLE_SECONDS else min(BACKOFF_MAX, max(BACKOFF_START, process.backoff * 2))
        process.popen = None
        process.restart_at = now + process.backoff
        message = f"{process.name} exited with code {code} after {ran:.1f} s; restart in {process.backoff:.0f} s"
        self.log("system", message)

    def run(self) -> int:
        for process in self.processes:
            self.start(process)
        while not self.stopping.is_set():
            for process in self.processes:
                self.check(process)
            self.stopping.wait(0.2)
        return self.stop_all()

    def stop_all(self) -> int:
        grace = float(os.environ.get("HMS_SUPERVISE_STOP_SECONDS", "10"))
        running = [p for p in self.processes if p.popen is not None and p.popen.poll() is None]
        for process in running:
            self.log("system", f"stopping {process.name} (pid {process.popen.pid})")
            _signal_group(process.popen, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log("system", f"{process.name} did not stop in {grace:.0f} s: killing it")
                _signal_group(process.popen, signal.SIGKILL)
                process.popen.wait(timeout=5)
        self.log("system", "all processes stopped")
        return 0


def _signal_group(popen: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signum)


def main(argv: list[str]) -> int:
    procfile = Path(argv[1] if len(argv) > 1 else "Procfile")
    supervisor = Supervisor(read_procfile(procfile))

    def _stop(signum: int, _frame: object) -> None:
        supervisor.log("system", f"received {signal.Signals(signum).name}")
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
