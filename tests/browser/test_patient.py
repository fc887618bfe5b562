"""Patient journey in the browser: register, book through the wizard, the slot vanishes for others, cancel."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import (
    api,
    api_token,
    confirm_address,
    find_free_slot,
    items,
    login,
    no_token_in_web_storage,
    settled,
    unique,
)


def open_slot_step(page, department_id: int, doctor_id: int, day: str) -> None:
    page.goto("/patient/book")
    page.get_by_test_id(f"dept-option-{department_id}").click()
    page.get_by_test_id(f"doctor-option-{doctor_id}").click()
    page.get_by_test_id(f"date-option-{day}").click()
    expect(page.get_by_test_id("slot-summary")).to_be_visible()


def test_register_book_hidden_from_others_then_cancel(new_page, live_server):
    department_id, doctor_id, day, start, doctor_name = find_free_slot(live_server)
    username = unique("pat")

    # 1. registers through the form, confirms the address, signs in and lands in the patient portal
    page = new_page()
    page.goto("/register")
    page.get_by_test_id("register-username").fill(username)
    page.get_by_test_id("register-email").fill(f"{username}@example.com")
    page.get_by_test_id("register-password").fill("s3cret-pass")
    page.get_by_test_id("register-confirm").fill("s3cret-pass")
    page.get_by_test_id("register-full-name").fill("Browser Test Patient")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-done")).to_contain_text("Check your e-mail")
    no_token_in_web_storage(page)
    confirm_address(username)
    login(page, username, "s3cret-pass", lands_on="/patient")
    expect(page.get_by_test_id("nav-user")).to_contain_text("Browser Test Patient")

    # 2. books through the wizard
    open_slot_step(page, department_id, doctor_id, day)
    slot = page.get_by_test_id(f"slot-{start}")
    expect(slot).to_be_enabled()
    slot.click()
    expect(slot).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("wizard-next").click()
    expect(page.get_by_test_id("confirm-doctor")).to_contain_text(doctor_name)
    expect(page.get_by_test_id("confirm-when")).to_contain_text(start)
    page.get_by_test_id("book-reason").fill("Headache for three days")
    page.get_by_test_id("book-confirm").click()
    toast = page.locator('[data-testid="toast"][data-variant="success"]')
    expect(toast).to_contain_text(f"Booked: {doctor_name}")
    expect(page).to_have_url(re.compile(r"/patient/appointments"))

    mine = items(api(live_server, api_token(live_server, username, "s3cret-pass")).get("/patient/appointments").json())
    assert len(mine) == 1, mine
    appointment_id = mine[0]["id"]
    row = page.get_by_test_id(f"appointment-row-{appointment_id}")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "booked")
    expect(row).to_contain_text(doctor_name)
    expect(row).to_contain_text(start)
    expect(row).to_contain_text("Headache for three days")

    # 3. another patient opening the same doctor and day no longer can pick that slot
    other = new_page()
    login(other, "patient2", "patient123", lands_on="/patient")
    open_slot_step(other, department_id, doctor_id, day)
    taken = other.get_by_test_id(f"slot-{start}")
    if taken.count():
        expect(taken).to_be_disabled()
    # ...while the doctor's other free slots still can be chosen
    expect(other.locator('[data-testid^="slot-"]:not([disabled])').first).to_be_visible()

    # 4. the first patient cancels (confirm dialog) and sees it cancelled
    row.get_by_test_id(f"cancel-{appointment_id}").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(doctor_name)
    page.get_by_test_id("confirm-reason").fill("Feeling better")
    page.get_by_test_id("confirm-ok").click()
    expect(dialog).to_be_hidden()
    expect(page.locator('[data-testid="toast"][data-variant="success"]', has_text="cancelled")).to_be_visible()
    expect(page.get_by_test_id(f"appointment-row-{appointment_id}")).to_have_count(0)  # gone from "Upcoming"
    page.get_by_test_id("tab-cancelled").click()  # its phase is "cancelled" (hms/scheduling/rules.py), not past
    row = page.get_by_test_id(f"appointment-row-{appointment_id}")
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row.get_by_test_id("status-cancelled")).to_be_visible()
    expect(row).to_contain_text("Feeling better")

    # 5. and the slot is free again for the other patient
    open_slot_step(other, department_id, doctor_id, day)
    expect(other.get_by_test_id(f"slot-{start}")).to_be_enabled()
    settled(page)


def test_login_rejects_a_wrong_password(page):
    page.goto("/login")
    page.get_by_test_id("login-username").fill("patient1")
    page.get_by_test_id("login-password").fill("wrong-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login"))
