"""The front desk in the browser: a walk-in is booked into today's next free slot with a token, an emergency
goes on top of the doctor's queue, and the doctor sees it first on the dashboard."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from .helpers import api, api_token, login, nav, new_doctor, settled


def _doctor_working_tonight(base_url: str) -> tuple[int, str, str, bool]:
    """A new doctor with a window from the next half hour to 23:30 today (when the day has one left)."""
    doctor_id, username, password = new_doctor(base_url, "dr.desk", "Dr. Desk Duty")
    doctor = api(base_url, api_token(base_url, username, password))
    now = datetime.now(ZoneInfo(os.environ.get("HMS_TIMEZONE") or "Asia/Kolkata"))
    start = (now + timedelta(minutes=30 - now.minute % 30 + 30)).replace(second=0, microsecond=0)
    has_slot = start.date() == now.date() and start.hour < 23
    if has_slot:
        body = {"days": [{"date": now.date().isoformat(), "windows": [{"start": f"{start:%H:%M}", "end": "23:30"}]}]}
        saved = doctor.put("/doctor/availability", json=body)
        assert saved.status_code == 200, saved.text
    return doctor_id, username, password, has_slot


def test_front_desk_books_a_walk_in_and_an_emergency_goes_on_top(new_page, live_server):
    doctor_id, username, password, has_slot = _doctor_working_tonight(live_server)
    page = new_page()
    login(page, "admin", "admin123", lands_on="/admin")
    nav(page, "nav-admin-desk")
    settled(page)
    page.get_by_test_id("walk-in-doctor").select_option(str(doctor_id))
    page.get_by_test_id("walk-in-name").fill("Kiran Walk-in")
    page.get_by_test_id("walk-in-phone").fill("+919812345678")
    page.get_by_test_id("walk-in-reason").fill("Sprained ankle")
    page.get_by_test_id("walk-in-save").click()
    toast = page.locator('[data-testid="toast"]').last
    if has_slot:
        expect(toast).to_contain_text("Token 1 with")
        expect(page.locator('[data-kind="walk_in"]')).to_contain_text("Kiran Walk-in")
    else:  # late at night the day has no slot left: the desk is told, nothing is doubled
        expect(toast).to_contain_text("no free slot left today")
    page.get_by_test_id("walk-in-name").fill("Esha Emergency")
    page.get_by_test_id("walk-in-emergency").check()
    page.get_by_test_id("walk-in-save").click()
    expect(page.locator('[data-testid="toast"][data-variant="success"]').last).to_contain_text("Emergency: token")
    page.get_by_test_id("queue-doctor").select_option(str(doctor_id))
    first = page.locator('[data-testid="queue-table"] tbody tr').first
    expect(first).to_have_attribute("data-kind", "emergency")
    expect(first).to_contain_text("Esha Emergency")

    doctor_page = new_page(phone=True)
    login(doctor_page, username, password, lands_on="/doctor")
    queue = doctor_page.get_by_test_id("doctor-queue")
    expect(queue.locator("tbody tr").first).to_have_attribute("data-kind", "emergency")
    queue.locator("tbody tr").first.get_by_role("button").click()
    expect(queue.locator('[data-kind="emergency"]')).to_have_attribute("data-state", "with_doctor")
