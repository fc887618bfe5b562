"""Shared steps of the browser tests: signing in through the form, calling the API as a user, and checks that a
page really rendered (no spinner left, no error toast)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import Page, expect


def hospital_today() -> date:
    return datetime.now(ZoneInfo(os.environ.get("HMS_TIMEZONE") or "Asia/Kolkata")).date()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def login(page: Page, username: str, password: str, *, lands_on: str) -> None:
    """Sign in through the login form and wait for the portal the user is sent to."""
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    # a loaded machine may take longer than expect's 5 s to fetch the portal's first chunk
    expect(page).to_have_url(re.compile(re.escape(lands_on) + r"/?(\?.*)?$"), timeout=15000)


def api_token(base_url: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base_url}/api/auth/login", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def confirm_address(username: str) -> None:
    """Stand in for opening the verification link mailed at registration (the main live server runs no worker,
    so no mail leaves it; test_password_reset follows a real mailed link): mark the address confirmed."""
    import sqlite3

    from .conftest import LIVE_SERVER

    with sqlite3.connect(LIVE_SERVER["database"]) as connection:
        updated = connection.execute(
            "UPDATE users SET email_verified_at = CURRENT_TIMESTAMP, awaiting_verification = 0 WHERE username = ?",
            (username,),
        ).rowcount
    assert updated == 1, username


def end_other_sessions(base_url: str, username: str, password: str) -> None:
    """Sign in through the API and end every other session of the user (the browser's among them)."""
    token = api_token(base_url, username, password)
    client = api(base_url, token)
    for item in client.get("/auth/sessions").json()["items"]:
        if not item["current"]:
            assert client.delete(f"/auth/sessions/{item['id']}").status_code == 204


def no_token_in_web_storage(page: Page) -> None:
    """Issue 14: nothing of the session (no token, no user) in localStorage or sessionStorage."""
    stored = page.evaluate(
        """() => [localStorage, sessionStorage].flatMap(s => Object.keys(s).map(k => k + '=' + s.getItem(k)))"""
    )
    assert not [item for item in stored if "hms." in item or "eyJ" in item or "token" in item.lower()], stored


def api(base_url: str, token: str | None = None):
    """A requests session against the live server's /api with a bearer token."""
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"

    class _Api:
        def get(self, path, **kw):
            return session.get(f"{base_url}/api{path}", timeout=10, **kw)

        def post(self, path, **kw):
            return session.post(f"{base_url}/api{path}", timeout=10, **kw)

        def put(self, path, **kw):
            return session.put(f"{base_url}/api{path}", timeout=10, **kw)

        def delete(self, path, **kw):
            return session.delete(f"{base_url}/api{path}", timeout=10, **kw)

    return _Api()


def items(payload):
    return payload["items"] if isinstance(payload, dict) and "items" in payload else payload


def find_free_slot(base_url: str, *, first_day: int = 1, skip_doctors: set[int] | frozenset = frozenset()):
    """(department_id, doctor_id, date, start) of the first free slot, searching departments in name order and
    the days after today (today is avoided: its slots run out as the clock moves)."""
    client = api(base_url)
    for department in items(client.get("/departments", params={"per_page": 100}).json()):
        doctors = items(client.get("/doctors", params={"department_id": department["id"], "per_page": 100}).json())
        for doctor in doctors:
            if doctor["id"] in skip_doctors:
                continue
            for offset in range(first_day, 8):
                day = (hospital_today() + timedelta(days=offset)).isoformat()
                slots = client.get(f"/doctors/{doctor['id']}/slots", params={"date": day}).json().get("slots", [])
                free = [s for s in slots if s["available"]]
                if len(free) >= 2:
                    return department["id"], doctor["id"], day, free[0]["start"], doctor["display_name"]
    raise AssertionError("the demo data has no free slot in the next week")


def settled(page: Page) -> None:
    """The page finished loading: no spinner left, no error toast shown, and no doctor titled twice."""
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("loading")).to_have_count(0)
    expect(page.locator('[data-testid="toast"][data-variant="error"]')).to_have_count(0)
    no_double_title(page)


def no_double_title(page: Page) -> None:
    """A doctor's title is shown once: "Dr. Dr." appears nowhere on the page, toasts and dialogs included."""
    text = page.locator("body").inner_text()
    assert not re.search(r"\bDr\.?\s+Dr\b", text), f"'Dr. Dr.' on {page.url}"


def nav(page: Page, testid: str) -> None:
    """Follow a navigation link, opening the collapsed menu first where the bar is collapsed (below 1200 px)."""
    link = page.get_by_test_id(testid).first
    expect(page.get_by_test_id("nav-user")).to_be_attached()
    if not link.is_visible():
        page.get_by_test_id("nav-toggle").click()
    link.click()


TEMPORARY_PASSWORD = "Temp-pass-123"


def add_doctor(base_url: str, prefix: str, full_name: str) -> tuple[int, str]:
    """A doctor the admin has just added, who still has to change the temporary password: (id, username)."""
    admin = api(base_url, api_token(base_url, "admin", "admin123"))
    department_id = items(admin.get("/departments", params={"per_page": 100}).json())[0]["id"]
    username = unique(prefix)
    created = admin.post(
        "/admin/doctors",
        json={
            "username": username,
            "email": f"{username}@hospital.local",
            "password": TEMPORARY_PASSWORD,
            "full_name": full_name,
            "department_id": department_id,
            "specialization": "General Physician",
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], username


def new_doctor(base_url: str, prefix: str, full_name: str) -> tuple[int, str, str]:
    """A doctor the admin has just added, past the forced change of the temporary password: (id, username,
    password)."""
    doctor_id, username = add_doctor(base_url, prefix, full_name)
    changed = api(base_url, api_token(base_url, username, TEMPORARY_PASSWORD)).post(
        "/auth/change-password", json={"current_password": TEMPORARY_PASSWORD, "new_password": "Own-pass-456"}
    )
    assert changed.status_code == 200, changed.text
    return doctor_id, username, "Own-pass-456"
