"""Screenshots of each portal's main pages at desktop and phone size (docs/screenshots/, shown in the README).
Each page must have finished loading without an error toast before it is photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import screenshot
from .helpers import login, settled

PAGES = {
    None: [("landing", "/"), ("login", "/login"), ("register", "/register")],
    ("admin", "admin123", "/admin"): [
        ("admin-dashboard", "/admin"),
        ("admin-doctors", "/admin/doctors"),
        ("admin-appointments", "/admin/appointments"),
    ],
    ("dr.asha", "doctor123", "/doctor"): [
        ("doctor-dashboard", "/doctor"),
        ("doctor-availability", "/doctor/availability"),
        ("doctor-appointments", "/doctor/appointments"),
    ],
    ("patient1", "patient123", "/patient"): [
        ("patient-dashboard", "/patient"),
        ("patient-book", "/patient/book"),
        ("patient-book-dates", "/patient/book?doctor_id=1"),
        ("patient-appointments", "/patient/appointments"),
    ],
}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("who", list(PAGES), ids=lambda who: who[0] if who else "public")
def test_screenshots(new_page, who, size):
    page = new_page(phone=size == "phone")
    if who:
        login(page, *who[:2], lands_on=who[2])
    for name, path in PAGES[who]:
        page.goto(path)
        settled(page)
        if path != "/":
            expect(page.locator("h1").first).to_be_visible()
        if name == "admin-dashboard":
            for chart in ("chart-per-day", "chart-by-status", "chart-by-department", "chart-new-patients"):
                page.wait_for_function(
                    "id => document.querySelector(`[data-testid='${id}']`)?.toDataURL().length > 2000", arg=chart
                )
        if name == "patient-book":
            expect(page.locator('[data-testid^="dept-option-"]').first).to_be_visible()
        if name == "patient-book-dates":
            expect(page.locator('[data-testid^="date-free-"]').first).not_to_be_empty()
        if size == "desktop":  # a 1366 px hospital desktop shows the whole menu, no hamburger
            expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
        # nothing overflows sideways, on a phone or on a laptop screen
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} scrolls sideways at {size} size by {overflow}px"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky bar belongs at the top of a full-page picture
        screenshot(page, f"{name}-{size}")
