"""A patient who forgot their password resets it from the e-mail that a real SMTP server on loopback received
(issue 14): the app's own worker sends it, the link opens the SPA, the new password signs in, the old does not,
and the "your password was changed" notice arrives too."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from tests.notifications.conftest import SmtpServer

from .conftest import serve
from .helpers import login, no_token_in_web_storage


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory, smtp) -> Iterator[str]:
    """A second live server whose worker sends e-mail to the loopback SMTP server (plain SMTP on loopback)."""
    instance = tmp_path_factory.mktemp("browser-mail-instance")
    with serve(instance, {"HMS_SMTP_HOST": "127.0.0.1", "HMS_SMTP_PORT": str(smtp.port)}, worker=True) as url:
        yield url


def wait_for_mail(smtp: SmtpServer, to: str, subject: str, timeout: float = 150) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for recipients, message in smtp.inbox.messages:
            if to in recipients and message["Subject"] == subject:
                return message
        time.sleep(0.5)
    seen = [(r, m["Subject"]) for r, m in smtp.inbox.messages]
    pytest.fail(f"no e-mail {subject!r} to {to} within {timeout} s; received: {seen}")


def test_a_patient_resets_a_forgotten_password_from_the_email(browser, smtp, mailing_server):
    context = browser.new_context(base_url=mailing_server, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_test_id("link-forgot").click()
        expect(page).to_have_url(re.compile(r"/forgot-password$"))
        page.get_by_test_id("forgot-email").fill("patient7@example.org")
        page.get_by_test_id("forgot-submit").click()
        expect(page.get_by_test_id("reset-requested")).to_contain_text("If an account uses this e-mail address")

        mail = wait_for_mail(smtp, "patient7@example.org", "Reset your password")
        text = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"http://127\.0\.0\.1:\d+/reset-password#token=[\w.-]+", text)
        assert link, text

        page.goto(link.group(0))
        expect(page.get_by_test_id("reset-form")).to_be_visible()
        assert "token" not in page.url  # taken out of the address bar at once
        page.get_by_test_id("reset-new").fill("my-fresh-secret-42")
        page.get_by_test_id("reset-confirm").fill("my-fresh-secret-42")
        page.get_by_test_id("reset-submit").click()
        expect(page.get_by_test_id("reset-done")).to_be_visible()
        wait_for_mail(smtp, "patient7@example.org", "Your password was changed")

        # the link worked once (a fresh load: from the same page only the fragment would change)
        page.goto("about:blank")
        page.goto(link.group(0))
        page.get_by_test_id("reset-new").fill("another-secret-43")
        page.get_by_test_id("reset-confirm").fill("another-secret-43")
        page.get_by_test_id("reset-submit").click()
        expect(page.get_by_test_id("reset-error")).to_contain_text("not valid any more")

        page.goto("/login")
        page.get_by_test_id("login-username").fill("patient7")
        page.get_by_test_id("login-password").fill("patient123")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-error")).to_be_visible()
        login(page, "patient7", "my-fresh-secret-42", lands_on="/patient")
        no_token_in_web_storage(page)
    finally:
        context.close()
