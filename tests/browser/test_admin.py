"""Admin in the browser: dashboard numbers and charts, adding a doctor through the modal."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import api, api_token, items, login, nav, settled, unique

STAT_KEYS = [
    "doctors",
    "patients",
    "departments",
    "appointments_today",
    "appointments_upcoming",
    "appointments_this_month",
]
DRAWN = (
    "id => { const c = document.querySelector(`[data-testid='${id}']`);"
    " return !!c && c.width > 0 && c.height > 0 && c.toDataURL().length > 2000 }"
)


def test_dashboard_shows_numbers_and_drawn_charts(page, live_server):
    login(page, "admin", "admin123", lands_on="/admin")
    stats = api(live_server, api_token(live_server, "admin", "admin123"))
    for key in STAT_KEYS:
        expect(page.get_by_test_id(f"stat-{key}").get_by_test_id("stat-value")).to_have_text(re.compile(r"^\s*\d+\s*$"))
    # the demo data: 14 doctors, 45 patients, 7 departments
    expect(page.get_by_test_id("stat-doctors").get_by_test_id("stat-value")).to_have_text(
        str(len(items(stats.get("/admin/doctors", params={"per_page": 100}).json())))
    )
    expect(page.get_by_test_id("stat-departments").get_by_test_id("stat-value")).to_have_text("7")
    for chart in ("chart-per-day", "chart-by-status", "chart-by-department", "chart-new-patients"):
        expect(page.get_by_test_id(chart)).to_be_visible()
        page.wait_for_function(DRAWN, arg=chart)  # Chart.js drew something, not a blank canvas
        box = page.get_by_test_id(chart).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, (chart, box)
    settled(page)


def test_admin_adds_a_doctor_through_the_modal(page, live_server):
    login(page, "admin", "admin123", lands_on="/admin")
    nav(page, "nav-admin-doctors")
    expect(page).to_have_url(re.compile(r"/admin/doctors$"))
    expect(page.locator('[data-testid^="doctor-row-"]').first).to_be_visible()

    username = unique("dr.modal")
    name = f"Dr. Modal {username[-8:]}"
    page.get_by_test_id("doctor-add").click()
    modal = page.get_by_test_id("doctor-modal")
    expect(modal).to_be_visible()
    # a too-short temporary password is caught beside its field
    modal.get_by_test_id("doctor-username").fill(username)
    modal.get_by_test_id("doctor-email").fill(f"{username}@hospital.local")
    modal.get_by_test_id("doctor-password").fill("short")
    modal.get_by_test_id("doctor-full-name").fill(name)
    modal.get_by_test_id("doctor-department").select_option(label="Neurology")
    modal.get_by_test_id("doctor-specialization").fill("Headache specialist")
    modal.get_by_test_id("doctor-save").click()
    expect(modal.get_by_test_id("error-doctor-password")).to_contain_text("8 characters")
    modal.get_by_test_id("doctor-password").fill("Temp-pass-789")
    modal.get_by_test_id("doctor-save").click()
    expect(modal).to_be_hidden()
    expect(page.locator('[data-testid="toast"][data-variant="success"]', has_text=f"{name} added")).to_be_visible()

    page.get_by_test_id("doctor-filter-q").fill(name)
    page.get_by_test_id("doctor-filter-submit").click()
    row = page.locator('[data-testid^="doctor-row-"]', has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Neurology")
    expect(row).to_contain_text("Headache specialist")
    # and the new doctor can sign in with the temporary password (forced to change it)
    assert api_token(live_server, username, "Temp-pass-789")


def test_admin_adds_edits_and_blocks_a_patient_who_then_saves_their_own_profile(page, live_server):
    """The shared person dialog, row actions and confirm dialog on the patients page, then the patient's own
    "My profile" page built on the same person form."""
    login(page, "admin", "admin123", lands_on="/admin")
    nav(page, "nav-admin-patients")
    username = unique("pat.modal")
    name = f"Modal Patient {username[-8:]}"
    page.get_by_test_id("patient-add").click()
    modal = page.get_by_test_id("patient-modal")
    modal.get_by_test_id("patient-username").fill(username)
    modal.get_by_test_id("patient-email").fill(f"{username}@example.com")
    modal.get_by_test_id("patient-password").fill("Init-pass-456")
    modal.get_by_test_id("patient-full-name").fill(name)
    modal.get_by_test_id("patient-phone").fill("12")
    modal.get_by_test_id("patient-save").click()
    expect(modal.get_by_test_id("error-patient-phone")).to_be_visible()  # checked before sending
    modal.get_by_test_id("patient-phone").fill("+91 98765 43210")
    modal.get_by_test_id("patient-save").click()
    expect(modal).to_be_hidden()
    expect(
        page.locator('[data-testid="toast"][data-variant="success"]', has_text=f"Patient {name} added")
    ).to_be_visible()

    page.get_by_test_id("patient-filter-q").fill(name)
    page.get_by_test_id("patient-filter-submit").click()
    row = page.locator('[data-testid^="patient-row-"]', has_text=name)
    expect(row).to_have_count(1)
    patient_id = int(row.get_attribute("data-testid").removeprefix("patient-row-"))
    page.get_by_test_id(f"patient-edit-{patient_id}").click()
    expect(modal.get_by_test_id("patient-username")).to_be_disabled()
    expect(modal.get_by_test_id("patient-password")).to_have_count(0)
    modal.get_by_test_id("patient-allergies").fill("Penicillin")
    modal.get_by_test_id("patient-save").click()
    expect(modal).to_be_hidden()

    page.get_by_test_id(f"patient-block-{patient_id}").click()
    page.get_by_test_id("confirm-ok").click()
    expect(row).to_contain_text("Blocked")
    page.get_by_test_id(f"patient-block-{patient_id}").click()  # unblocking asks nothing
    expect(row).to_contain_text("Active")

    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    assert admin.get(f"/admin/patients/{patient_id}").json()["allergies"] == "Penicillin"

    page.context.clear_cookies()
    page.evaluate("() => { localStorage.clear(); sessionStorage.clear() }")
    login(page, username, "Init-pass-456", lands_on="/patient")
    page.goto("/patient/profile")
    form = page.get_by_test_id("profile-form")
    expect(form.get_by_test_id("profile-allergies")).to_have_value("Penicillin")
    form.get_by_test_id("profile-emergency-contact").fill("Asha, +91 98765 00000")
    form.get_by_test_id("profile-save").click()
    expect(page.locator('[data-testid="toast"][data-variant="success"]', has_text="Profile saved")).to_be_visible()
    mine = api(live_server, api_token(live_server, username, "Init-pass-456")).get("/patient/profile").json()
    assert (mine["emergency_contact"], mine["allergies"], mine["phone"]) == (
        "Asha, +91 98765 00000",
        "Penicillin",
        "+919876543210",
    )
