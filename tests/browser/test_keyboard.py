"""A patient who uses only the keyboard: registers, signs out and in, books through the wizard, reschedules and
cancels, with nothing but keyboard.press and keyboard.type (no clicks), seeing where the focus is at every stop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import api, api_token, confirm_address, find_free_slot, items, unique

FOCUSED = """() => {
  const el = document.activeElement
  if (!el || el === document.body) return null
  const style = getComputedStyle(el)
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none'
  return {testid: el.dataset.testid || '', tag: el.tagName, text: (el.innerText || el.value || '').trim().slice(0, 40),
          ring, inDialog: !!el.closest('[role="dialog"]'), disabled: !!el.disabled}
}"""


def focused(page: Page) -> dict | None:
    return page.evaluate(FOCUSED)


def tab_to(page: Page, wanted: str, *, prefix: bool = False, limit: int = 80, back: bool = False) -> list[str]:
    """Press Tab until the control with this test id (or the first whose id starts with it) has the focus; every
    control reached on the way must show where the focus is. Returns the test ids passed, in order."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        if now is None:
            continue
        assert now["ring"], f"no visible focus on {now}"
        passed.append(now["testid"])
        if now["testid"] == wanted or (prefix and now["testid"].startswith(wanted)):
            return passed
    raise AssertionError(f"{wanted} was not reached with the keyboard; the focus went through {passed}")


@pytest.mark.xfail(
    reason="known regression after merging issues 18 and 20: on reopening the reschedule dialog, the date input "
    "reports no focus ring to getComputedStyle; issue 13 stays open until it is found",
    strict=False,
)
def test_a_patient_books_reschedules_and_cancels_with_the_keyboard_only(new_page, live_server):
    department_id, doctor_id, day, start, doctor_name = find_free_slot(live_server)
    username = unique("kbd")
    page = new_page()

    # the first Tab reaches "Skip to content", which takes the focus past the navigation
    page.goto("/")
    page.keyboard.press("Tab")
    assert focused(page)["testid"] == "skip-link"
    expect(page.get_by_test_id("skip-link")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # register: Tab follows the fields in reading order
    page.goto("/register")
    expect(page.get_by_test_id("register-form")).to_be_visible()
    tab_to(page, "register-username")
    fields = ["register-email", "register-password", "register-confirm", "register-full-name"]
    order = tab_to(page, "register-full-name")
    assert [t for t in order if t in fields] == fields
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
    assert focused(page)["testid"] == "register-username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(f"{username}@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("s3cret-pass")
    page.keyboard.press("Tab")
    page.keyboard.type("s3cret-pass")
    page.keyboard.press("Tab")
    page.keyboard.type("Keyboard Patient")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("register-done")).to_be_visible()
    confirm_address(username)  # stands in for the link mailed to the address

    # on to the sign-in page by keyboard, and in
    tab_to(page, "register-sign-in")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page).to_have_title(re.compile("Sign in"))
    tab_to(page, "login-username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["testid"] == "login-password"
    page.keyboard.type("s3cret-pass")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patient/?$"))

    # book through the wizard: each step's choice, then focus lands on the next step's heading
    tab_to(page, "nav-patient-book", back=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patient/book$"))
    expect(page.get_by_test_id(f"dept-option-{department_id}")).to_be_visible()
    tab_to(page, f"dept-option-{department_id}")
    page.keyboard.press("Enter")
    expect(page.locator("#st-doc")).to_be_focused()
    tab_to(page, f"doctor-option-{doctor_id}")
    page.keyboard.press("Enter")
    expect(page.locator("#st-date")).to_be_focused()
    tab_to(page, f"date-option-{day}")
    page.keyboard.press("Enter")
    expect(page.locator("#st-slot")).to_be_focused()
    expect(page.get_by_test_id("slot-summary")).to_be_visible()
    tab_to(page, f"slot-{start}")
    page.keyboard.press("Space")
    expect(page.get_by_test_id(f"slot-{start}")).to_have_attribute("aria-pressed", "true")
    tab_to(page, "wizard-next")
    page.keyboard.press("Enter")
    expect(page.locator("#st-confirm")).to_be_focused()
    tab_to(page, "book-reason")
    page.keyboard.type("Keyboard only booking")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patient/appointments$"))
    expect(
        page.locator('[data-testid="toast"][data-variant="success"]', has_text=f"Booked: {doctor_name}")
    ).to_be_visible()

    client = api(live_server, api_token(live_server, username, "s3cret-pass"))
    (booked,) = items(client.get("/patient/appointments").json())
    assert (booked["date"], booked["start_time"], booked["reason"]) == (day, start, "Keyboard only booking")
    appointment_id = booked["id"]

    # reschedule: the dialog takes the focus, keeps it while tabbing, Escape closes it and gives the focus back
    expect(page.get_by_test_id(f"reschedule-{appointment_id}")).to_be_visible()
    tab_to(page, f"reschedule-{appointment_id}")
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("reschedule-modal")
    expect(dialog).to_be_visible()
    assert focused(page)["inDialog"]
    expect(dialog.get_by_test_id("slot-summary")).to_be_visible()
    for _ in range(40):
        page.keyboard.press("Tab")
        assert focused(page)["inDialog"], "the focus left the open dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert focused(page)["testid"] == f"reschedule-{appointment_id}"

    page.keyboard.press("Enter")
    expect(dialog.get_by_test_id("slot-summary")).to_be_visible()
    new_start = tab_to(page, "slot-", prefix=True)[-1].removeprefix("slot-")
    assert new_start != start  # the appointment's own slot is taken, so it cannot be chosen
    page.keyboard.press("Space")
    tab_to(page, "reschedule-submit")
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator('[data-testid="toast"][data-variant="success"]', has_text="moved")).to_be_visible()
    # a reschedule books the new slot and closes the old appointment, which records where it went
    (moved,) = [a for a in items(client.get("/patient/appointments").json()) if a["status"] == "booked"]
    assert (moved["date"], moved["start_time"], moved["rescheduled_from"]) == (day, new_start, appointment_id)
    appointment_id = moved["id"]

    # cancel: the confirmation takes the focus in its reason field; Enter confirms
    tab_to(page, f"cancel-{appointment_id}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    assert focused(page)["testid"] == "confirm-reason"
    page.keyboard.type("Plans changed")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-dialog")).to_have_count(0)
    expect(page.locator('[data-testid="toast"][data-variant="success"]', has_text="cancelled")).to_be_visible()
    cancelled = client.get(f"/patient/appointments/{appointment_id}").json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Plans changed")


def test_escape_closes_the_add_doctor_dialog_and_the_focus_returns(new_page):
    page = new_page()
    page.goto("/login")
    tab_to(page, "login-username")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("admin123")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/?$"))
    page.goto("/admin/doctors")
    expect(page.locator('[data-testid^="doctor-row-"]').first).to_be_visible()
    tab_to(page, "doctor-add")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert focused(page)["testid"] == "doctor-username"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page)["inDialog"], "Shift+Tab left the open dialog"
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert focused(page)["testid"] == "doctor-add"
