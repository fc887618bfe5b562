"""Browser tests: the real application (gunicorn, its own migrated SQLite database with demo data, the built
SPA) driven by Debian's chromium through Playwright. Skipped, loudly, only where /usr/bin/chromium is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import free_port, gunicorn_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser, so `-m "not browser"` (make test-pg) leaves them out."""
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


if not CHROMIUM.exists():
    pytest.skip(
        "BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)", allow_module_level=True
    )


# Where the live server keeps its database, for the rare set-up the API rightly refuses (a visit in the past).
LIVE_SERVER: dict[str, Path] = {}


@contextmanager
def serve(instance: Path, extra_env: dict[str, str] | None = None, *, worker: bool = False) -> Iterator[str]:
    """Migrate a fresh SQLite database in `instance`, load the demo data, and serve the app as `make run` does
    (with a Celery worker on the embedded SQLite broker when `worker`, so queued e-mails are really sent)."""
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make frontend` (make test does it) before the browser tests")
    port = free_port()
    env = {
        **os.environ,
        "HMS_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'hms.sqlite3'}",
        "HMS_PORT": str(port),
        "FLASK_APP": "hms",
        # the browser tests register more patients from 127.0.0.1 in an hour than a person would
        "HMS_RATE_LIMIT_REGISTER": "100 per hour",
        **(extra_env or {}),
    }
    env.pop("REDIS_URL", None)
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "flask"), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([str(bin_dir / "flask"), "demo-data"], env=env, check=True, capture_output=True, cwd=ROOT)
    celery = None
    if worker:
        log = open(instance / "worker.log", "wb")  # noqa: SIM115
        command = [str(bin_dir / "celery"), "-A", "hms.celery_app", "worker", "--pool=solo", "--loglevel=WARNING"]
        celery = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()  # the child holds its own copy
    gunicorn = str(bin_dir / "gunicorn")
    try:
        with gunicorn_server(env, port=port, log_path=instance / "server.log", threads=8, command=gunicorn) as url:
            yield url
    finally:
        if celery is not None:
            celery.terminate()
            try:
                celery.wait(timeout=20)
            except subprocess.TimeoutExpired:
                celery.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the demo hospital, served as `make run` does; e-mails go to its mailbox folder."""
    instance = tmp_path_factory.mktemp("browser-instance")
    LIVE_SERVER["database"] = instance / "hms.sqlite3"
    with serve(instance) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Assertions wait as long as actions do: on a loaded CI machine a sign-in (argon2) can take several seconds.
def _assertions_wait_like_actions() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=15000)


_assertions_wait_like_actions()

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


# The hospital's clock (HMS_TIMEZONE defaults to Asia/Kolkata): the SPA computes "today" and "has this visit
# started" in the browser's zone, so the browser runs in the hospital's zone as the staff's would.
TIMEZONE = os.environ.get("HMS_TIMEZONE") or "Asia/Kolkata"


@pytest.fixture
def new_page(browser, live_server):
    """Factory: a page in a fresh browser context (own localStorage, so its own session) at a given size."""
    contexts = []

    def make(viewport: dict | None = None, *, phone: bool = False, **options):
        size = viewport or (PHONE if phone else DESKTOP)
        extra = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2} if phone else {}
        extra.update(options)
        context = browser.new_context(viewport=size, base_url=live_server, timezone_id=TIMEZONE, **extra)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot under docs/screenshots/ (README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
