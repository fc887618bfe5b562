"""What the people at the desk meet: a doctor plans beyond the patients' horizon, a patient sees free-slot counts,
times read as hospital time whatever the browser's zone, the registration form shows every error at once, and a
doctor's title is never doubled."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP
from .helpers import (
    api,
    api_token,
    end_other_sessions,
    find_free_slot,
    hospital_today,
    items,
    login,
    no_double_title,
    settled,
)

HOSPITAL = ZoneInfo("Asia/Kolkata")


def test_a_doctor_blocks_a_slot_three_weeks_ahead(page, live_server):
    doctor = api(live_server, api_token(live_server, "dr.neha", "doctor123"))
    day = (hospital_today() + timedelta(days=21)).isoformat()
    put = doctor.put(
        "/doctor/availability", json={"days": [{"date": day, "windows": [{"start": "09:00", "end": "11:00"}]}]}
    )
    assert put.status_code == 200, put.text

    login(page, "dr.neha", "doctor123", lands_on="/doctor")
    page.goto("/doctor/availability")
    settled(page)
    cell = page.get_by_test_id(f"cell-{day}-09:30")
    # The grid opens on the week starting today; the day is three weeks on. Step by the week label, not by whether
    # the cell is drawn yet: under load the grid can lag a click, and stepping on would pass the week.
    week_label = page.get_by_text(re.compile(r"^Week of "))
    for _week in range(21 // 7):
        shown = week_label.inner_text()
        page.get_by_test_id("week-next").click()
        expect(week_label).not_to_have_text(shown)
        settled(page)
    expect(cell).to_have_attribute("data-state", "free")  # not "Booked": the horizon limits patients only
    cell.click()
    expect(cell).to_have_attribute("data-state", "blocked")
    grid = doctor.get("/doctor/availability", params={"date_from": day, "days": 1}).json()["days"][0]["slots"]
    assert {s["start"]: s["state"] for s in grid}["09:30"] == "blocked"


def test_a_patient_sees_free_slot_counts_on_the_date_step(page, live_server):
    _department_id, doctor_id, _day, _start, doctor_name = find_free_slot(live_server)
    login(page, "patient12", "patient123", lands_on="/patient")
    page.goto(f"/patient/book?doctor_id={doctor_id}")
    expect(page.get_by_test_id("wizard-step-date")).to_be_visible()
    expect(page.get_by_test_id("wizard-step-date")).to_contain_text(doctor_name)
    settled(page)
    first = hospital_today().isoformat()
    last = (hospital_today() + timedelta(days=7)).isoformat()
    summary = api(live_server).get(f"/doctors/{doctor_id}/availability-summary", params={"from": first, "to": last})
    shown = 0
    for day in summary.json()["days"]:
        label = page.get_by_test_id(f"date-free-{day['date']}")
        if not day["slots"]:
            expect(label).to_have_text("Not working")
        elif day["free"]:
            expect(label).to_have_text(f"{day['free']} free slot{'' if day['free'] == 1 else 's'}")
            shown += 1
        else:
            expect(label).to_have_text("Full")
    assert shown, "the doctor has free slots this week"


@pytest.mark.parametrize("browser_zone", ["UTC", "America/New_York"])
def test_audit_times_are_hospital_time_whatever_the_browser_zone(browser, live_server, browser_zone):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server, timezone_id=browser_zone, locale="en-GB")
    try:
        page = context.new_page()
        login(page, "admin", "admin123", lands_on="/admin")
        page.goto("/admin/audit")
        settled(page)
        row = page.locator('[data-testid^="audit-row-"]').first
        event_id = int(row.get_attribute("data-testid").removeprefix("audit-row-"))
        admin = api(live_server, api_token(live_server, "admin", "admin123"))
        event = next(
            e for e in items(admin.get("/admin/audit", params={"per_page": 100}).json()) if e["id"] == event_id
        )
        assert event["at"].endswith("Z")
        moment = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
        hospital, browser_local = moment.astimezone(HOSPITAL), moment.astimezone(ZoneInfo(browser_zone))
        when = row.locator("td").first
        expect(when).to_contain_text(hospital.strftime("%H:%M"))
        expect(when).to_contain_text(str(hospital.day))
        assert browser_local.strftime("%H:%M") not in when.inner_text()
    finally:
        context.close()


def test_the_registration_form_shows_all_its_errors_at_once(page):
    page.goto("/register")
    page.get_by_test_id("register-submit").click()
    for field in ("username", "email", "password", "full-name"):
        expect(page.get_by_test_id(f"error-register-{field}")).to_be_visible()
    expect(page.get_by_text("At least 8 characters.", exact=True)).to_have_count(0)  # the hint gives way to the error
    expect(page.get_by_text("Use at least 8 characters.", exact=True)).to_have_count(1)

    page.get_by_test_id("register-username").fill("deskpatient")
    page.get_by_test_id("register-email").fill("bad@")
    page.get_by_test_id("register-password").fill("long-enough-1")
    page.get_by_test_id("register-confirm").fill("long-enough-2")
    page.get_by_test_id("register-full-name").fill("Desk Patient")
    page.get_by_test_id("register-more").click()
    page.get_by_test_id("register-date-of-birth").fill("2031-01-01")
    page.get_by_test_id("register-phone").fill("12")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-register-email")).to_have_text(re.compile("valid e-mail address"))
    expect(page.get_by_test_id("error-register-confirm")).to_have_text("The passwords do not match.")
    expect(page.get_by_test_id("error-register-date-of-birth")).to_have_text(
        "The date of birth cannot be in the future."
    )
    expect(page.get_by_test_id("error-register-phone")).to_have_text(re.compile("valid phone number"))
    expect(page.get_by_test_id("error-register-username")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/register$"))


def test_another_doctors_visit_says_so_and_offers_the_way_back(page, live_server):
    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    asha = api(live_server, api_token(live_server, "dr.asha", "doctor123")).get("/doctor/profile").json()["id"]
    visits = items(admin.get("/admin/appointments", params={"doctor_id": asha, "per_page": 1}).json())
    login(page, "dr.vikram", "doctor123", lands_on="/doctor")
    page.goto(f"/doctor/appointments/{visits[0]['id']}/treatment")
    expect(page.get_by_test_id("treatment-not-found")).to_contain_text("not one of yours")
    expect(page.get_by_test_id("treatment-form")).to_have_count(0)
    page.get_by_test_id("back-to-appointments").click()
    expect(page).to_have_url(re.compile(r"/doctor/appointments$"))


def test_no_doctor_is_titled_twice_in_the_admin_pages(page, live_server):
    login(page, "admin", "admin123", lands_on="/admin")
    for path in ("/admin/doctors", "/admin/appointments", "/admin/reports"):
        page.goto(path)
        settled(page)
    expect(page.get_by_text(re.compile(r"^Dr\. Asha Rao"))).not_to_have_count(0)
    page.goto("/admin/doctors")
    settled(page)
    page.locator(
        '[data-testid^="doctor-row-"] button[title="Appointment history"], [data-testid^="doctor-row-"] a'
    ).first.click()
    settled(page)
    no_double_title(page)


def test_an_expired_session_says_so_and_returns_to_the_page_after_sign_in(page, live_server):
    login(page, "patient14", "patient123", lands_on="/patient")
    page.goto("/patient/waitlist")
    settled(page)
    end_other_sessions(live_server, "patient14", "patient123")  # the server ends the session, as an expiry would

    page.get_by_test_id("nav-patient-history").click()
    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.get_by_test_id("session-expired")).to_have_text("Your session has expired, please sign in again.")
    page.get_by_test_id("login-username").fill("patient14")
    page.get_by_test_id("login-password").fill("patient123")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/patient/history$"))
