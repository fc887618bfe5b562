"""WCAG 2.1 AA in the browser: axe-core (from frontend/node_modules, nothing fetched) runs on every route of the
router, in desktop and phone viewports, with modals open, form errors shown and empty lists, and fails on any
serious or critical violation of the WCAG 2.0/2.1 A and AA rules."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from .conftest import ROOT
from .helpers import api, api_token, confirm_address, find_free_slot, hospital_today, items, login, settled, unique
from .helpers import new_doctor as add_doctor

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
ROUTER = ROOT / "frontend" / "src" / "router" / "index.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
DUMP = os.environ.get("HMS_AXE_REPORT")  # a file to which every finding is appended as a JSON line


def router_routes() -> dict[str, str]:
    """Every route of the SPA's router, name → path, read from its source so a new page cannot be forgotten."""
    source = ROUTER.read_text()
    routes = {name: path for path, name in re.findall(r"\{ path: '([^']*)', name: '([^']+)'", source)}
    for portal, name, path in re.findall(r"\b(admin|doctor|patient)\('([^']+)', '([^']*)'", source):
        routes[f"{portal}-{name}"] = f"/{portal}{path}"
    assert len(routes) > 20, f"could not read the routes of {ROUTER}"
    return routes


def run_axe(page: Page) -> list[dict]:
    """The serious and critical WCAG A/AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    # Colours caught halfway through a button's hover transition are nobody's final colours: let them settle
    # (a finite transition ends; an endless animation, like a spinner, is not waited for).
    page.evaluate(
        """() => Promise.all(document.getAnimations()
               .filter(a => a.effect && a.effect.getTiming().iterations !== Infinity)
               .map(a => a.finished.catch(() => null)))"""
    )
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        TAGS,
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


@dataclass
class Check:
    """One state of one route to check: `route` is the router's name, `reach` brings the page into the state."""

    route: str
    label: str
    reach: Callable[[Page, dict], None]


def visit(path: str, *, ready: str | None = None) -> Callable[[Page, dict], None]:
    def reach(page: Page, ctx: dict) -> None:
        page.goto(path.format(**ctx))
        settled(page)
        expect(page.locator("h1").first).to_be_visible()
        if ready:
            expect(page.locator(ready).first).to_be_visible()

    return reach


def then(first: Callable[[Page, dict], None], step: Callable[[Page], None]) -> Callable[[Page, dict], None]:
    def reach(page: Page, ctx: dict) -> None:
        first(page, ctx)
        step(page)

    return reach


def click(testid: str, *, shows: str) -> Callable[[Page], None]:
    def step(page: Page) -> None:
        page.get_by_test_id(testid).first.click()
        expect(page.locator(shows).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("loading")).to_have_count(0)

    return step


def open_menu(page: Page) -> None:
    """On a collapsed bar, open the menu so its links are checked too."""
    toggle = page.get_by_test_id("nav-toggle")
    if toggle.is_visible():
        toggle.click()
        expect(page.locator("#main-nav")).to_be_visible()


def wrong_login(page: Page, ctx: dict) -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill("patient1")
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()


def register_errors(page: Page, ctx: dict) -> None:
    page.goto("/register")
    page.get_by_test_id("register-submit").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def wizard_to(step: str) -> Callable[[Page, dict], None]:
    """The booking wizard at a given step, with the slot grid of a doctor who has free slots."""

    def reach(page: Page, ctx: dict) -> None:
        visit("/patient/book", ready='[data-testid^="dept-option-"]')(page, ctx)
        if step == "department":
            return
        page.get_by_test_id(f"dept-option-{ctx['department_id']}").click()
        expect(page.get_by_test_id(f"doctor-option-{ctx['doctor_id']}")).to_be_visible()
        if step == "doctor":
            return
        page.get_by_test_id(f"doctor-option-{ctx['doctor_id']}").click()
        if step == "date":
            expect(page.get_by_test_id("wizard-step-date")).to_be_visible()
            return
        page.get_by_test_id(f"date-option-{ctx['day']}").click()
        expect(page.get_by_test_id("slot-summary")).to_be_visible()
        if step == "slot":
            return
        # The first time this patient can take (issue 20 marks times they already hold elsewhere as taken).
        page.locator('button[data-testid^="slot-"]:not([disabled])').first.click()
        page.get_by_test_id("wizard-next").click()
        expect(page.get_by_test_id("wizard-step-confirm")).to_be_visible()

    return reach


def click_first_enabled(prefix: str, *, shows: str) -> Callable[[Page], None]:
    def step(page: Page) -> None:
        page.locator(f'[data-testid^="{prefix}"]:not([disabled])').first.click()
        expect(page.locator(shows).first).to_be_visible()
        page.wait_for_load_state("networkidle")

    return step


def search_nothing(page: Page) -> None:
    page.get_by_test_id("patient-filter-q").fill("no-such-patient-zzz")
    page.get_by_test_id("patient-filter-submit").click()
    expect(page.get_by_test_id("empty-state")).to_be_visible()


def password_errors(page: Page) -> None:
    visit("/admin/password")(page, {})
    page.get_by_test_id("password-current").fill("not-my-password")
    page.get_by_test_id("password-new").fill("short")
    page.get_by_test_id("password-confirm").fill("other")
    page.get_by_test_id("password-submit").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def register_done(page: Page) -> None:
    page.goto("/register")
    name = unique("axe")
    page.get_by_test_id("register-username").fill(name)
    page.get_by_test_id("register-email").fill(f"{name}@example.org")
    page.get_by_test_id("register-password").fill("long-enough-pass-1")
    page.get_by_test_id("register-confirm").fill("long-enough-pass-1")
    page.get_by_test_id("register-full-name").fill("Axe Patient")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-done")).to_be_visible()


def forgot_sent(page: Page) -> None:
    page.get_by_test_id("forgot-email").fill("nobody@example.org")
    page.get_by_test_id("forgot-submit").click()
    expect(page.get_by_test_id("reset-requested")).to_be_visible()


def reset_refused(page: Page) -> None:
    page.get_by_test_id("reset-new").fill("long-enough-new-1")
    page.get_by_test_id("reset-confirm").fill("long-enough-new-1")
    page.get_by_test_id("reset-submit").click()
    expect(page.get_by_test_id("reset-error")).to_be_visible()


def wizard_no_slots(page: Page, ctx: dict) -> None:
    """The date step with a day the doctor does not work: shown with no free slots, and it cannot be chosen."""
    wizard_to("date")(page, ctx)
    expect(page.get_by_test_id(f"date-option-{ctx['closed_day']}")).to_be_disabled()


PUBLIC = [
    Check("landing", "page", visit("/")),
    Check("landing", "menu open", then(visit("/"), open_menu)),
    Check("login", "page", visit("/login")),
    Check("login", "wrong password", wrong_login),
    Check("register", "page", visit("/register")),
    Check("register", "field errors", register_errors),
    Check("forgot-password", "page", visit("/forgot-password")),
    Check(
        "forgot-password",
        "sent",
        then(visit("/forgot-password"), lambda page: forgot_sent(page)),
    ),
    Check("verify-email", "no token", visit("/verify-email", ready='[data-testid="verify-error"]')),
    Check("verify-email", "refused", visit("/verify-email#token=1.x", ready='[data-testid="verify-error"]')),
    Check("register", "done", lambda page, ctx: register_done(page)),
    Check("reset-password", "no token", visit("/reset-password", ready='[data-testid="reset-error"]')),
    Check("reset-password", "form", visit("/reset-password#token=1.x", ready='[data-testid="reset-form"]')),
    Check("reset-password", "refused", then(visit("/reset-password#token=1.x"), lambda page: reset_refused(page))),
    Check("not-found", "page", visit("/no-such-page")),
]

ADMIN = [
    Check("admin-dashboard", "charts", visit("/admin", ready='[data-testid="chart-per-day"]')),
    Check("admin-dashboard", "menu open", then(visit("/admin"), open_menu)),
    Check("admin-departments", "list", visit("/admin/departments", ready='[data-testid^="department-row-"]')),
    Check(
        "admin-departments",
        "add department, errors",
        then(
            then(visit("/admin/departments"), click("department-add", shows='[role="dialog"]')),
            click("department-save", shows=".invalid-feedback"),
        ),
    ),
    Check("admin-doctors", "list", visit("/admin/doctors", ready='[data-testid^="doctor-row-"]')),
    Check("admin-doctors", "add doctor", then(visit("/admin/doctors"), click("doctor-add", shows='[role="dialog"]'))),
    Check(
        "admin-doctors",
        "add doctor, errors",
        then(
            then(visit("/admin/doctors"), click("doctor-add", shows='[role="dialog"]')),
            click("doctor-save", shows=".invalid-feedback"),
        ),
    ),
    Check("admin-patients", "list", visit("/admin/patients", ready='[data-testid^="patient-row-"]')),
    Check(
        "admin-patients", "add patient", then(visit("/admin/patients"), click("patient-add", shows='[role="dialog"]'))
    ),
    Check("admin-patients", "no match", then(visit("/admin/patients"), lambda page: search_nothing(page))),
    Check("admin-appointments", "list", visit("/admin/appointments", ready='[data-testid^="appointment-row-"]')),
    Check(
        "admin-appointments",
        "reschedule",
        then(
            visit("/admin/appointments?status=booked", ready='[data-testid^="reschedule-"]:not([disabled])'),
            click_first_enabled("reschedule-", shows='[data-testid="reschedule-modal"] [data-testid="slot-summary"]'),
        ),
    ),
    Check(
        "admin-appointments",
        "cancel dialog",
        then(
            visit("/admin/appointments?status=booked", ready='[data-testid^="cancel-"]'),
            click_first_enabled("cancel-", shows='[data-testid="confirm-dialog"]'),
        ),
    ),
    Check("admin-desk", "walk-in form and queue", visit("/admin/desk", ready='[data-testid="walk-in-form"]')),
    Check(
        "admin-desk",
        "walk-in errors",
        then(
            visit("/admin/desk", ready='[data-testid="walk-in-form"]'), click("walk-in-save", shows=".invalid-feedback")
        ),
    ),
    Check("admin-billing", "summary and lists", visit("/admin/billing", ready='[data-testid^="invoice-row-"]')),
    Check(
        "admin-billing",
        "invoice with payment form",
        then(
            visit("/admin/billing", ready='[data-testid^="invoice-open-"]'),
            click_first_enabled("invoice-open-", shows='[data-testid="invoice-modal"] [data-testid="invoice-details"]'),
        ),
    ),
    Check(
        "admin-billing",
        "bill a visit, line errors",
        then(
            then(
                then(
                    visit("/admin/billing", ready='[data-testid^="bill-"]'),
                    click_first_enabled("bill-", shows='[data-testid="bill-modal"]'),
                ),
                click("bill-add-line", shows='[data-testid="bill-line-0"]'),
            ),
            click("bill-save", shows=".invalid-feedback"),
        ),
    ),
    Check("admin-reports", "page", visit("/admin/reports")),
    Check("admin-exports", "page", visit("/admin/exports")),
    Check("admin-audit", "page", visit("/admin/audit")),
    Check("admin-password", "page", visit("/admin/password")),
    Check("admin-password", "errors", lambda page, ctx: password_errors(page)),
    Check("admin-sessions", "page", visit("/admin/sessions", ready='[data-testid="session-current"]')),
]

DOCTOR = [
    Check("doctor-dashboard", "page", visit("/doctor", ready="canvas")),
    Check("doctor-dashboard", "menu open", then(visit("/doctor"), open_menu)),
    Check("doctor-appointments", "list", visit("/doctor/appointments", ready='[data-testid^="appointment-row-"]')),
    Check(
        "doctor-treatment",
        "form",
        visit("/doctor/appointments/{appointment_id}/treatment", ready='[data-testid="treatment-form"]'),
    ),
    Check(
        "doctor-treatment",
        "with a medicine",
        then(
            visit("/doctor/appointments/{appointment_id}/treatment", ready='[data-testid="treatment-form"]'),
            click("medicine-add", shows='[data-testid="medicine-row-0"]'),
        ),
    ),
    Check("doctor-patients", "list", visit("/doctor/patients", ready='[data-testid^="patient-row-"]')),
    Check("doctor-patient-history", "history", visit("/doctor/patients/{patient_id}")),
    Check("doctor-availability", "grid", visit("/doctor/availability", ready='[data-testid="availability-grid"]')),
    Check("doctor-report", "report", visit("/doctor/report")),
    Check("doctor-calendar", "page", visit("/doctor/calendar")),
    Check("doctor-profile", "page", visit("/doctor/profile", ready='[data-testid="profile-form"]')),
    Check("doctor-password", "page", visit("/doctor/password")),
    Check("doctor-sessions", "page", visit("/doctor/sessions", ready='[data-testid="session-current"]')),
    Check(
        "doctor-sessions",
        "two-factor enrolment (QR code, key, code field)",
        then(
            visit("/doctor/sessions", ready='[data-testid="totp-start"]'),
            click("totp-start", shows='[data-testid="totp-qr"] svg'),
        ),
    ),
]

NEW_DOCTOR = [
    Check("doctor-dashboard", "empty", visit("/doctor")),
    Check("doctor-appointments", "empty", visit("/doctor/appointments", ready='[data-testid="empty-state"]')),
    Check("doctor-patients", "empty", visit("/doctor/patients", ready='[data-testid="empty-state"]')),
    Check("doctor-availability", "empty", visit("/doctor/availability")),
]

PATIENT = [
    Check("patient-dashboard", "page", visit("/patient", ready="canvas")),
    Check("patient-dashboard", "menu open", then(visit("/patient"), open_menu)),
    Check("patient-doctors", "search", visit("/patient/doctors", ready='[data-testid^="doctor-card-"]')),
    Check(
        "patient-doctors",
        "doctor profile",
        then(
            visit("/patient/doctors", ready='[data-testid^="doctor-card-"]'),
            click_first_enabled("doctor-profile-", shows='[data-testid="doctor-profile"]'),
        ),
    ),
    Check("patient-book", "department step", wizard_to("department")),
    Check("patient-book", "doctor step", wizard_to("doctor")),
    Check("patient-book", "date step", wizard_to("date")),
    Check("patient-book", "slot grid", wizard_to("slot")),
    Check("patient-book", "confirm step", wizard_to("confirm")),
    Check(
        "patient-appointments", "upcoming", visit("/patient/appointments", ready='[data-testid^="appointment-row-"]')
    ),
    Check(
        "patient-appointments",
        "past",
        then(visit("/patient/appointments"), click("tab-past", shows='[data-testid="tab-past"][aria-selected="true"]')),
    ),
    Check(
        "patient-appointments",
        "reschedule",
        then(
            visit("/patient/appointments", ready='[data-testid^="reschedule-"]'),
            click_first_enabled("reschedule-", shows='[data-testid="reschedule-modal"] [data-testid="slot-summary"]'),
        ),
    ),
    Check(
        "patient-appointments",
        "cancel dialog",
        then(
            visit("/patient/appointments", ready='[data-testid^="cancel-"]'),
            click_first_enabled("cancel-", shows='[data-testid="confirm-dialog"]'),
        ),
    ),
    Check("patient-waitlist", "page", visit("/patient/waitlist")),
    Check("patient-history", "visits", visit("/patient/history", ready='[data-testid^="history-item-"]')),
    Check("patient-invoices", "list", visit("/patient/invoices", ready='[data-testid^="invoice-row-"]')),
    Check(
        "patient-invoices",
        "details",
        then(
            visit("/patient/invoices", ready='[data-testid^="invoice-view-"]'),
            click_first_enabled("invoice-view-", shows='[data-testid="invoice-details"]'),
        ),
    ),
    Check("patient-profile", "page", visit("/patient/profile", ready='[data-testid="profile-form"]')),
    Check("patient-password", "page", visit("/patient/password")),
    Check("patient-sessions", "page", visit("/patient/sessions", ready='[data-testid="session-current"]')),
]

NEW_PATIENT = [
    Check("patient-dashboard", "empty", visit("/patient")),
    Check("patient-appointments", "empty", visit("/patient/appointments", ready='[data-testid="empty-state"]')),
    Check("patient-waitlist", "empty", visit("/patient/waitlist", ready='[data-testid="empty-state"]')),
    Check("patient-history", "empty", visit("/patient/history", ready='[data-testid="empty-state"]')),
    Check("patient-invoices", "empty", visit("/patient/invoices", ready='[data-testid="empty-state"]')),
    Check("patient-book", "no free slot", lambda page, ctx: wizard_no_slots(page, ctx)),
]


def check_all(page: Page, checks: list[Check], ctx: dict, viewport: str, found: list[str], rules: Counter) -> None:
    """Bring the page into each state in turn and collect axe's serious and critical findings, readably."""
    for check in checks:
        check.reach(page, ctx)
        for violation in run_axe(page):
            lines = [
                f"[{viewport}] {check.route} ({check.label}): {violation['id']} ({violation['impact']}): "
                f"{violation['help']}"
            ]
            for node in violation["nodes"][:6]:
                summary = (node.get("failureSummary") or "").replace("\n", " ")
                lines.append(f"    at {' '.join(node['target'])}: {summary[:220]}")
            if len(violation["nodes"]) > 6:
                lines.append(f"    … and {len(violation['nodes']) - 6} more elements")
            found.append("\n".join(lines))
            rules[violation["id"]] += len(violation["nodes"])
            if DUMP:
                with open(DUMP, "a") as out:
                    for node in violation["nodes"]:
                        record = {"viewport": viewport, "route": check.route, "state": check.label}
                        record |= {"rule": violation["id"], "target": node["target"], "html": node["html"][:200]}
                        out.write(json.dumps(record | {"summary": node.get("failureSummary")}) + "\n")


def report(found: list[str], rules: Counter, checked: int) -> str:
    by_rule = ", ".join(f"{rule}: {count} elements" for rule, count in rules.most_common())
    return f"{len(found)} axe violations on {checked} states ({by_rule}):\n" + "\n\n".join(found)


@pytest.fixture(scope="module")
def context(live_server) -> dict:
    """Ids the parametrised routes need, from the demo data through the API."""
    doctor = api(live_server, api_token(live_server, "dr.asha", "doctor123"))
    appointments = items(doctor.get("/doctor/appointments", params={"per_page": 100}).json())
    patients = items(doctor.get("/doctor/patients", params={"per_page": 100}).json())

    department_id, doctor_id, day, start, _ = find_free_slot(live_server)
    # patient1 holds one upcoming visit (with another doctor, so the wizard's slot stays free) to reschedule
    _, other_doctor, other_day, other_start, _ = find_free_slot(live_server, skip_doctors={doctor_id})
    patient = api(live_server, api_token(live_server, "patient1", "patient123"))
    booked = patient.post(
        "/patient/appointments",
        json={"doctor_id": other_doctor, "date": other_day, "start_time": other_start, "reason": "Check-up"},
    )
    assert booked.status_code == 201, booked.text
    if not items(patient.get("/patient/invoices").json()):  # patient1's invoices page needs one to show
        admin = api(live_server, api_token(live_server, "admin", "admin123"))
        visits = items(patient.get("/patient/history", params={"per_page": 50}).json())
        assert visits, "patient1 has no completed visit in the demo data"
        billed = admin.post("/admin/invoices", json={"appointment_id": visits[0]["id"]})
        assert billed.status_code == 201, billed.text
    return {
        "appointment_id": appointments[0]["id"],
        "patient_id": patients[0]["id"],
        "department_id": department_id,
        "doctor_id": doctor_id,
        "day": day,
        "start": start,
        "closed_day": closed_day(live_server, doctor_id),
    }


def closed_day(base_url: str, doctor_id: int) -> str:
    client = api(base_url)
    for offset in range(1, 8):
        day = (hospital_today() + timedelta(days=offset)).isoformat()
        if not any(
            s["available"] for s in client.get(f"/doctors/{doctor_id}/slots", params={"date": day}).json()["slots"]
        ):
            return day
    pytest.fail("the demo doctor works every day of the week: no day without free slots to show")


def new_doctor(base_url: str) -> tuple[str, str]:
    """A doctor with nothing yet (empty states), past the forced password change."""
    _doctor_id, username, password = add_doctor(base_url, "dr.axe", "Dr. Empty Schedule")
    return username, password


def new_patient(base_url: str) -> tuple[str, str]:
    username = unique("axe")
    registered = api(base_url).post(
        "/auth/register",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "s3cret-pass",
            "full_name": "New Patient",
        },
    )
    assert registered.status_code == 202, registered.text
    confirm_address(username)
    return username, "s3cret-pass"


PORTALS = {
    "public": (None, PUBLIC),
    "admin": (("admin", "admin123"), ADMIN),
    "doctor": (("dr.asha", "doctor123"), DOCTOR),
    "new-doctor": (new_doctor, NEW_DOCTOR),
    "patient": (("patient1", "patient123"), PATIENT),
    "new-patient": (new_patient, NEW_PATIENT),
}


def test_every_route_of_the_router_is_checked():
    """A page added to the router without an accessibility check here fails this test."""
    checked = {check.route for _, checks in PORTALS.values() for check in checks}
    assert set(router_routes()) - checked == set()
    assert checked - set(router_routes()) == set()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("portal", list(PORTALS))
def test_no_serious_axe_violations(new_page, live_server, context, portal, viewport):
    # the app's Content-Security-Policy rightly refuses injected scripts: only the test's own axe is let through
    page = sign_in(new_page(phone=viewport == "phone", bypass_csp=True), live_server, portal)
    found: list[str] = []
    rules: Counter = Counter()
    check_all(page, PORTALS[portal][1], context, viewport, found, rules)
    assert not found, report(found, rules, len(PORTALS[portal][1]))


@pytest.mark.parametrize("portal", list(PORTALS))
def test_every_state_reflows_at_200_percent_zoom(new_page, live_server, context, portal):
    """A 1366 px window zoomed to 200 % lays pages out in 683 CSS pixels: no page may scroll sideways (tables
    scroll inside their own box, which WCAG 1.4.10 allows)."""
    page = sign_in(new_page({"width": 683, "height": 450}, device_scale_factor=2), live_server, portal)
    wide = []
    seen = set()
    for check in PORTALS[portal][1]:
        if check.route in seen:
            continue  # one state per route: dialogs and errors are laid out by the same rules
        seen.add(check.route)
        check.reach(page, context)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            wide.append(f"{check.route} ({check.label}): {overflow}px")
    assert not wide, "scrolls sideways at 200 % zoom: " + ", ".join(wide)


def sign_in(page: Page, base_url: str, portal: str) -> Page:
    who = PORTALS[portal][0]
    if callable(who):
        who = who(base_url)
    if who:
        login(page, *who, lands_on="/" + portal.removeprefix("new-"))
    return page
