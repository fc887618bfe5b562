"""A patient who uses only the keyboard: registers, signs out and in, books through the wizard, reschedules and
cancels, with nothing but keyboard.press and keyboard.type (no clicks), seeing where the focus is at every stop."""

from __future__ import annotations

import re

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


# Pages run with reduced motion: the theme then ends its transitions at once, so a ring fading out is not taken for
# one that is there (a date field's calendar button once passed on a focus shadow still fading from the field).
STILL = {"reduced_motion": "reduce"}


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


def test_a_patient_books_reschedules_and_cancels_with_the_keyboard_only(new_page, live_server):
    department_id, doctor_id, day, start, doctor_name = find_free_slot(live_server)
    username = unique("kbd")
    page = new_page(**STILL)

    # the first Tab reaches "Skip to content", which takes the focus past the navigation
    page.goto("/")
    expect(page.get_by_test_id("skip-link")).to_be_attached()  # the SPA mounts once GET /api/settings answered
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
    page = new_page(**STILL)
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


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    tab_to(page, "login-username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_a_toast_waits_while_the_pointer_or_the_focus_is_on_it(new_page):
    """A toast's clock stops while it is pointed at or holds the focus, and runs again when left (WCAG 2.2.1)."""
    page = new_page(**STILL)
    page.clock.install()  # the page's timers run only when the test moves the clock: no sleeps, no races
    _sign_in(page, "patient40", "patient123")
    toast = page.locator('[data-testid="toast"]', has_text="Welcome")
    expect(toast).to_be_visible()

    toast.hover()
    page.clock.run_for(20_000)  # far past its 4.5 s
    expect(toast).to_be_visible()
    page.mouse.move(1, 890)
    page.clock.run_for(6_000)
    expect(toast).to_have_count(0)

    tab_to(page, "logout", back=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login"))
    _sign_in(page, "patient40", "patient123")  # a second welcome, to hold with the focus this time
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Dismiss").focus()
    page.clock.run_for(20_000)
    expect(toast).to_be_visible()
    page.locator("#main").focus()
    page.clock.run_for(6_000)
    expect(toast).to_have_count(0)


def _patient_with_two_visits(live_server: str) -> tuple[str, list[int]]:
    """patient40 (used by no other browser test) with its upcoming visits cancelled and two new ones booked."""
    username, password = "patient40", "patient123"
    client = api(live_server, api_token(live_server, username, password))
    for visit in items(client.get("/patient/appointments", params={"scope": "upcoming", "per_page": 100}).json()):
        client.post(f"/patient/appointments/{visit['id']}/cancel", json={"reason": "test set-up"})
    booked = []
    skip: set[int] = set()
    for first_day in (1, 2):  # two days: one patient cannot hold two visits at one time
        _department, doctor_id, day, start, _name = find_free_slot(live_server, first_day=first_day, skip_doctors=skip)
        skip.add(doctor_id)
        response = client.post("/patient/appointments", json={"doctor_id": doctor_id, "date": day, "start_time": start})
        assert response.status_code == 201, response.text
        booked.append(response.json()["id"])
    return username, booked


def test_the_appointment_tabs_follow_the_arrow_keys_and_focus_after_a_cancel_lands_on_the_next_row(
    new_page, live_server
):
    username, booked = _patient_with_two_visits(live_server)
    page = new_page(**STILL)
    _sign_in(page, username, "patient123")
    expect(page).to_have_url(re.compile(r"/patient/?$"))
    page.goto("/patient/appointments")
    rows = page.locator('[data-testid^="appointment-row-"]')
    expect(rows).to_have_count(2)

    # one Tab stop for the whole tab list; the arrows, Home and End choose the tab and show its list
    tab_to(page, "tab-upcoming")
    for key, wanted in [
        ("ArrowRight", "past"),
        ("ArrowRight", "cancelled"),
        ("ArrowRight", "upcoming"),
        ("ArrowLeft", "cancelled"),
        ("Home", "upcoming"),
        ("End", "cancelled"),
    ]:
        page.keyboard.press(key)
        assert focused(page)["testid"] == f"tab-{wanted}", key
        expect(page.get_by_test_id(f"tab-{wanted}")).to_have_attribute("aria-selected", "true")
        expect(page).to_have_url(re.compile(rf"tab={wanted}"))
    page.keyboard.press("Home")
    expect(rows).to_have_count(2)
    page.keyboard.press("Tab")  # from the chosen tab straight into its list: the other tabs are not stops
    assert not focused(page)["testid"].startswith("tab-")

    # cancelling the first visit: the focus goes to the visit that took its place, not to the top of the page
    first, second = sorted(booked, key=lambda i: page.get_by_test_id(f"appointment-row-{i}").bounding_box()["y"])
    tab_to(page, f"cancel-{first}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id(f"appointment-row-{first}")).to_have_count(0)
    expect(page.get_by_test_id(f"appointment-card-{second}")).to_be_focused()
    assert focused(page)["ring"]
    # and cancelling the last one leaves the focus on the list's tab
    tab_to(page, f"cancel-{second}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("tab-upcoming")).to_be_focused()
