"""Findings 9, 11 and 12: passwords are never trimmed; a route's own CSP wins; WeasyPrint fetches nothing foreign."""

from __future__ import annotations

import threading
from datetime import date, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hms.reports.pdf import ASSET_DIRS, bundled_asset_fetcher, html_to_pdf
from tests.conftest import bearer
from tests.factories import AdminFactory, AppointmentFactory


def test_finding_9_the_exact_password_chosen_at_registration_signs_in(client):
    password = "  spaces around  "
    registered = client.post(
        "/api/auth/register",
        json={"username": "spacey", "email": "spacey@example.org", "password": password, "full_name": " Spacey "},
    )
    assert registered.status_code == 202
    from tests.accounts.test_auth import confirm_latest_link

    confirm_latest_link(client, "spacey@example.org")
    assert client.post("/api/auth/login", json={"username": "spacey", "password": password}).status_code == 200
    trimmed = client.post("/api/auth/login", json={"username": "spacey", "password": password.strip()})
    assert trimmed.status_code == 401


def test_an_admin_created_patients_password_is_kept_exactly(client):
    body = {"username": "padded", "email": "padded@example.org", "password": " pad-word-1 ", "full_name": "P"}
    assert client.post("/api/admin/patients", json=body, headers=bearer(AdminFactory())).status_code == 201
    assert client.post("/api/auth/login", json={"username": "padded", "password": " pad-word-1 "}).status_code == 200


def test_finding_11_the_monthly_report_keeps_its_own_strict_policy(client, frozen_clock):
    frozen_clock("2026-12-02 10:00")
    appointment = AppointmentFactory(status="completed", date=date(2026, 11, 25), start_time=time(9))
    response = client.get("/api/doctor/reports/monthly?month=2026-11", headers=bearer(appointment.doctor.user))
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/api/departments").headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.fixture
def http_spy():
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body{}")

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_finding_12_a_rendered_pdf_never_calls_another_host_or_reads_local_files(http_spy):
    base, hits = http_spy
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/style.css"></head><body>'
        f'<img src="{base}/pixel.png"><img src="file:///etc/hostname"><p>Report</p></body></html>'
    )
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert hits == []


def test_the_fetcher_serves_bundled_assets_only():
    fetcher = bundled_asset_fetcher()
    template = ASSET_DIRS[0] / "monthly_report.html"
    assert fetcher.fetch(template.as_uri()).read() == template.read_bytes()
    for url in ("file:///etc/passwd", (ASSET_DIRS[0] / ".." / ".." / "config.py").as_uri(), "http://127.0.0.1/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
