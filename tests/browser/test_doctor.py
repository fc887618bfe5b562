"""Doctor journey in the browser: first sign-in with a temporary password, availability, treatment record."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from .helpers import add_doctor, api, api_token, confirm_address, hospital_today, items, login, nav, new_doctor, unique


def success_toast(page, text: str):
    return page.locator('[data-testid="toast"][data-variant="success"]', has_text=text)


def test_new_doctor_changes_temporary_password_and_edits_availability(page, live_server):
    doctor_id, username = add_doctor(live_server, "dr.new", "Dr. Browser Test")

    # first sign-in: forced to the password page, nowhere else
    login(page, username, "Temp-pass-123", lands_on="/doctor/password")
    expect(page.get_by_test_id("password-forced")).to_be_visible()
    page.goto("/doctor/availability")
    expect(page).to_have_url(re.compile(r"/doctor/password$"))
    page.get_by_test_id("password-current").fill("Temp-pass-123")
    page.get_by_test_id("password-new").fill("My-own-pass-456")
    page.get_by_test_id("password-confirm").fill("My-own-pass-456")
    page.get_by_test_id("password-submit").click()
    expect(success_toast(page, "password has been changed")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/doctor/?$"))
    expect(page.get_by_test_id("page-title")).to_be_visible()
    assert api_token(live_server, username, "My-own-pass-456")  # the new password works on the API too

    # availability: set tomorrow's hours, then block and reopen one slot in the grid
    day = (hospital_today() + timedelta(days=1)).isoformat()
    nav(page, "nav-doctor-availability")  # through the navigation, as a person would
    expect(page).to_have_url(re.compile(r"/doctor/availability$"))
    # wait for the week to load: the page then fills the day editor with today, which would overwrite a date
    # typed earlier
    expect(page.get_by_test_id("availability-grid").or_(page.get_by_test_id("empty-state"))).to_be_visible()
    expect(page.get_by_test_id("loading")).to_have_count(0)
    page.get_by_test_id("day-date").fill(day)
    if page.get_by_test_id("day-window-0").count() == 0:
        page.get_by_test_id("day-add-window").click()
    expect(page.get_by_test_id("day-window-1")).to_have_count(0)
    page.get_by_test_id("day-start-0").fill("09:00")
    page.get_by_test_id("day-end-0").fill("10:30")
    page.get_by_test_id("day-save").click()
    expect(success_toast(page, "Working hours for")).to_be_visible()

    cell = page.get_by_test_id(f"cell-{day}-09:30")
    expect(cell).to_have_attribute("data-state", "free")
    expect(page.get_by_test_id(f"cell-{day}-10:00")).to_have_attribute("data-state", "free")
    expect(page.get_by_test_id(f"cell-{day}-10:30")).to_have_count(0)  # the window ends at 10:30
    cell.click()
    expect(cell).to_have_attribute("data-state", "blocked")
    expect(success_toast(page, "09:30 blocked")).to_be_visible()
    slots = api(live_server).get(f"/doctors/{doctor_id}/slots", params={"date": day}).json()["slots"]
    assert {s["start"]: s["available"] for s in slots} == {"09:00": True, "09:30": False, "10:00": True}
    cell.click()
    expect(cell).to_have_attribute("data-state", "free")
    expect(success_toast(page, "09:30 open again")).to_be_visible()


def test_demo_doctor_writes_a_treatment_but_cannot_complete_early(page, live_server):
    """The demo data has no booked visit that has already started (past days hold only completed, cancelled and
    no-show visits; today's bookings are later than the load time), so the doctor writes the record on an upcoming
    visit, which is allowed, and sees Complete refused until the visit starts."""
    doctor = api(live_server, api_token(live_server, "dr.asha", "doctor123"))
    booked = items(doctor.get("/doctor/appointments", params={"status": "booked", "per_page": 100}).json())
    upcoming = sorted((a for a in booked if a["date"] > hospital_today().isoformat()), key=lambda a: a["date"])
    assert upcoming, "dr.asha has no upcoming booked visit in the demo data"
    visit = upcoming[0]
    visit_id = visit["id"]

    login(page, "dr.asha", "doctor123", lands_on="/doctor")
    page.goto("/doctor/appointments")
    page.get_by_test_id("filter-date").fill(visit["date"])
    page.get_by_test_id("filter-apply").click()
    row = page.get_by_test_id(f"appointment-row-{visit_id}")
    expect(row).to_contain_text(visit["patient_name"])
    complete = row.get_by_test_id(f"complete-{visit_id}")
    expect(complete).to_be_disabled()
    expect(complete).to_have_attribute("title", "Available once the visit has started")
    # the server refuses it too (the button only mirrors the rule)
    refused = doctor.post(f"/doctor/appointments/{visit_id}/complete")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "too_early", refused.text

    row.get_by_test_id(f"treatment-{visit_id}").click()
    expect(page).to_have_url(re.compile(rf"/doctor/appointments/{visit_id}/treatment$"))
    expect(page.get_by_test_id("treatment-appointment")).to_contain_text(visit["patient_name"])
    page.get_by_test_id("treatment-diagnosis").fill("Stable angina, low risk")
    page.get_by_test_id("medicine-add").click()
    page.get_by_test_id("medicine-name-0").fill("Aspirin")
    page.get_by_test_id("medicine-dose-0").fill("75 mg")
    page.get_by_test_id("treatment-save").click()
    expect(success_toast(page, "Treatment record saved")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("treatment-diagnosis")).to_have_value("Stable angina, low risk")
    expect(page.get_by_test_id("medicine-name-0")).to_have_value("Aspirin")
    expect(page.get_by_test_id("medicine-dose-0")).to_have_value("75 mg")

    # back in the list the visit now says it has a treatment, and is still booked
    page.goto("/doctor/appointments")
    page.get_by_test_id("filter-date").fill(visit["date"])
    page.get_by_test_id("filter-apply").click()
    row = page.get_by_test_id(f"appointment-row-{visit_id}")
    expect(row.get_by_test_id(f"treatment-{visit_id}")).to_have_text(re.compile(r"Treatment"))
    expect(row.get_by_test_id("status-booked")).to_be_visible()


def test_doctor_records_treatment_and_completes_a_started_visit(page, live_server):
    """A visit that has started (yesterday, still booked) is completed from the appointments list after its
    treatment is written; the patient then finds it, with the diagnosis, in their history."""
    import sqlite3

    from .conftest import LIVE_SERVER

    patient_name = unique("Visit Patient")
    username = unique("visitor")
    registered = api(live_server).post(
        "/auth/register",
        json={
            "username": username,
            "email": f"{username}@example.org",
            "password": "Visit-pass-123",
            "full_name": patient_name,
        },
    )
    assert registered.status_code == 202, registered.text
    confirm_address(username)
    doctor = api(live_server, api_token(live_server, "dr.asha", "doctor123"))
    doctor_id = doctor.get("/doctor/profile").json()["id"]
    yesterday = (hospital_today() - timedelta(days=1)).isoformat()
    # The API never books a slot in the past, so this visit is written straight into the live server's database,
    # at 07:00 (outside the demo's working hours, so no other visit holds the slot).
    with sqlite3.connect(LIVE_SERVER["database"]) as connection:
        patient_id = connection.execute(
            "SELECT p.id FROM patients p JOIN users u ON u.id = p.user_id WHERE u.username = ?", (username,)
        ).fetchone()[0]
        visit_id = connection.execute(
            "INSERT INTO appointments (patient_id, doctor_id, date, start_time, end_time, status, reason, created_at,"
            " updated_at) VALUES (?, ?, ?, '07:00:00.000000', '07:30:00.000000', 'booked', 'Follow-up of chest pain',"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
            (patient_id, doctor_id, yesterday),
        ).lastrowid

    login(page, "dr.asha", "doctor123", lands_on="/doctor")
    page.goto("/doctor/appointments")
    page.get_by_test_id("filter-date").fill(yesterday)
    page.get_by_test_id("filter-apply").click()
    row = page.get_by_test_id(f"appointment-row-{visit_id}")
    expect(row).to_contain_text(patient_name)
    row.get_by_test_id(f"treatment-{visit_id}").click()
    page.get_by_test_id("treatment-diagnosis").fill("Costochondritis")
    page.get_by_test_id("medicine-add").click()
    page.get_by_test_id("medicine-name-0").fill("Ibuprofen")
    page.get_by_test_id("medicine-dose-0").fill("400 mg")
    page.get_by_test_id("treatment-save").click()
    expect(success_toast(page, "Treatment record saved")).to_be_visible()

    page.goto("/doctor/appointments")
    page.get_by_test_id("filter-date").fill(yesterday)
    page.get_by_test_id("filter-apply").click()
    row = page.get_by_test_id(f"appointment-row-{visit_id}")
    row.get_by_test_id(f"complete-{visit_id}").click()
    page.get_by_test_id("confirm-ok").click()
    expect(success_toast(page, "Visit marked as completed.")).to_be_visible()
    expect(page.get_by_test_id(f"appointment-row-{visit_id}").get_by_test_id("status-completed")).to_be_visible()

    patient = api(live_server, api_token(live_server, username, "Visit-pass-123"))
    history = items(patient.get("/patient/history").json())
    assert [(h["id"], h["treatment"]["diagnosis"]) for h in history] == [(visit_id, "Costochondritis")]


def test_doctor_saves_their_profile_through_the_shared_person_form(page, live_server):
    """The doctor's "My profile" page: the same person form as the admin's dialog, without the department (the
    admin's decision, not sent)."""
    doctor_id, username, password = new_doctor(live_server, "dr.prof", "Profile Test")
    admin = api(live_server, api_token(live_server, "admin", "admin123"))
    department_id = admin.get(f"/admin/doctors/{doctor_id}").json()["department_id"]  # the admin's choice, kept

    login(page, username, password, lands_on="/doctor")
    page.goto("/doctor/profile")
    form = page.get_by_test_id("profile-form")
    expect(form.get_by_test_id("profile-full-name")).to_have_value("Profile Test")
    expect(form.get_by_test_id("profile-department")).to_have_count(0)
    form.get_by_test_id("profile-phone").fill("x")
    form.get_by_test_id("profile-save").click()
    expect(form.get_by_test_id("error-profile-phone")).to_be_visible()
    form.get_by_test_id("profile-phone").fill("")
    form.get_by_test_id("profile-about").fill("Sees adults and children.")
    form.get_by_test_id("profile-fee").fill("650")
    form.get_by_test_id("profile-save").click()
    expect(success_toast(page, "Profile saved")).to_be_visible()
    mine = api(live_server, api_token(live_server, username, password)).get("/doctor/profile").json()
    assert (mine["about"], float(mine["consultation_fee"]), mine["department_id"]) == (
        "Sees adults and children.",
        650.0,
        department_id,
    )
