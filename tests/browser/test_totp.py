"""Two-factor sign-in in the browser (issue 14): with HMS_ADMIN_TOTP_REQUIRED an admin is sent to enrol first,
enrols with the secret shown (the test computes the codes with pyotp, like a phone app), sees the recovery codes
once, and signs in again with a code after the password."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import TIMEZONE, serve
from .helpers import no_token_in_web_storage, settled
from .test_accessibility import run_axe


@pytest.fixture(scope="module")
def totp_server(tmp_path_factory) -> Iterator[str]:
    """A second live server where administrators must use two-factor sign-in (as in production)."""
    instance = tmp_path_factory.mktemp("browser-totp-instance")
    with serve(instance, {"HMS_ADMIN_TOTP_REQUIRED": "1"}) as url:
        yield url


def fresh_code(secret: str, used: set[str]) -> str:
    """The current code, waiting for the next 30-second step when this one was used already (no replay)."""
    totp = pyotp.TOTP(secret)
    while (code := totp.now()) in used:
        time.sleep(1)
    used.add(code)
    return code


def test_an_admin_must_enrol_then_signs_in_with_a_code(browser, totp_server):
    context = browser.new_context(
        base_url=totp_server, viewport={"width": 1366, "height": 900}, timezone_id=TIMEZONE, bypass_csp=True
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    used: set[str] = set()
    try:
        page.goto("/login")
        page.get_by_test_id("login-username").fill("admin")
        page.get_by_test_id("login-password").fill("admin123")
        page.get_by_test_id("login-submit").click()
        # sent to enrolment before anything else, and the guard keeps it there
        expect(page).to_have_url(re.compile(r"/admin/sessions$"))
        expect(page.get_by_test_id("totp-must-enrol")).to_be_visible()
        page.goto("/admin/doctors")
        expect(page).to_have_url(re.compile(r"/admin/sessions$"))

        page.get_by_test_id("totp-start").click()
        expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
        secret = page.get_by_test_id("totp-secret").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        settled(page)
        assert run_axe(page) == []  # the enrolment state (QR, key, code field)
        page.get_by_test_id("totp-code").fill("000000")
        page.get_by_test_id("totp-confirm").click()
        expect(page.locator("#totp-code-error")).to_be_visible()
        page.get_by_test_id("totp-code").fill(fresh_code(secret, used))
        page.get_by_test_id("totp-confirm").click()
        codes = page.get_by_test_id("totp-recovery-codes").locator("li")
        expect(codes).to_have_count(10)
        expect(page.get_by_test_id("totp-on")).to_be_visible()
        no_token_in_web_storage(page)

        # now the rest of the portal opens
        page.goto("/admin/doctors")
        expect(page).to_have_url(re.compile(r"/admin/doctors$"))
        page.get_by_test_id("logout").click()
        expect(page).to_have_url(re.compile(r"/login$"))

        # signing in again asks for the code after the password; a wrong code is refused
        page.get_by_test_id("login-username").fill("admin")
        page.get_by_test_id("login-password").fill("admin123")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-code")).to_be_focused()
        settled(page)
        assert run_axe(page) == []  # the code step of the sign-in page
        page.get_by_test_id("login-code").fill("000000")
        page.get_by_test_id("login-code-submit").click()
        expect(page.get_by_test_id("login-error")).to_contain_text("code is not correct")
        page.get_by_test_id("login-code").fill(fresh_code(secret, used))
        page.get_by_test_id("login-code-submit").click()
        expect(page).to_have_url(re.compile(r"/admin/?$"))
        no_token_in_web_storage(page)
    finally:
        context.close()
