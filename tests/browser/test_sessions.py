"""Sessions in the browser (issue 14): nothing of the session in web storage, the refresh token only in an
HttpOnly cookie, a reload keeps the session, the idle timeout warns and signs out, devices are signed out
from the sessions page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import login, no_token_in_web_storage, settled
from .test_accessibility import run_axe


def test_no_token_in_web_storage_and_the_refresh_cookie_is_httponly_and_strict(page, live_server):
    login(page, "patient14", "patient123", lands_on="/patient")
    settled(page)
    no_token_in_web_storage(page)
    cookies = {c["name"]: c for c in page.context.cookies()}
    refresh = cookies["hms_refresh"]
    assert refresh["httpOnly"] is True
    assert refresh["sameSite"] == "Strict"
    assert refresh["path"] == "/api/auth/refresh"
    assert "hms_refresh" not in page.evaluate("document.cookie")  # scripts cannot read it
    assert not page.evaluate("Object.keys(localStorage).length + Object.keys(sessionStorage).length")

    # a reload keeps the session through the cookie alone; still nothing stored
    page.goto("/patient/appointments")
    settled(page)
    expect(page).to_have_url(re.compile(r"/patient/appointments$"))
    expect(page.get_by_test_id("nav-user")).to_contain_text("patient")
    no_token_in_web_storage(page)

    # signing out ends it: a reload then lands on the sign-in page
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/patient")
    expect(page).to_have_url(re.compile(r"/login\?redirect="))


def test_after_the_idle_timeout_the_spa_warns_then_signs_out(new_page, live_server):
    page = new_page(bypass_csp=True)
    page.clock.install()
    login(page, "admin", "admin123", lands_on="/admin")
    settled(page)
    page.clock.fast_forward("28:50")  # staff: 30 min; the warning comes a minute before
    expect(page.get_by_test_id("idle-warning")).to_be_hidden()
    page.clock.fast_forward("00:15")
    expect(page.get_by_test_id("idle-warning")).to_be_visible()
    expect(page.get_by_test_id("idle-countdown")).to_have_text(re.compile(r"^\d{1,2}$"))
    assert not run_axe(page), "the idle warning has serious accessibility violations"

    # "Stay signed in" keeps the session: the warning goes, and comes back only after another idle half hour
    page.get_by_test_id("idle-stay").click()
    expect(page.get_by_test_id("idle-warning")).to_be_hidden()
    page.clock.fast_forward("20:00")
    expect(page.get_by_test_id("idle-warning")).to_be_hidden()

    page.clock.fast_forward("09:10")
    expect(page.get_by_test_id("idle-warning")).to_be_visible()
    page.clock.fast_forward("01:05")
    expect(page).to_have_url(re.compile(r"/login\?expired=idle$"))
    expect(page.get_by_test_id("session-expired")).to_contain_text("inactivity")
    # signed out for real: the server ended the session, a reload does not bring it back
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/login\?redirect="))


def test_a_user_signs_out_another_device_from_the_sessions_page(new_page, live_server):
    laptop, phone = new_page(), new_page(phone=True)
    login(phone, "dr.neha", "doctor123", lands_on="/doctor")
    login(laptop, "dr.neha", "doctor123", lands_on="/doctor")
    laptop.goto("/doctor/sessions")
    settled(laptop)
    rows = laptop.locator('[data-testid^="session-revoke-"]')
    expect(laptop.get_by_test_id("session-current")).to_have_count(1)
    count = rows.count()
    assert count >= 2
    # the phone's session: the newest one that is not this device
    other = laptop.locator('[data-testid="sessions-list"] li', has_not=laptop.get_by_test_id("session-current")).first
    other.get_by_role("button").click()
    expect(laptop.locator('[data-testid^="session-revoke-"]')).to_have_count(count - 1)

    phone.goto("/doctor/appointments")
    expect(phone).to_have_url(re.compile(r"/login"))
