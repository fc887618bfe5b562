"""The one-time links mailed to users (password reset, e-mail verification): their tokens and URLs.

A token is ``<row id>.<HMAC-SHA256(key, purpose:id)>`` with a key derived from the signing key, which lives outside
the database: neither the ``account_tokens`` row (its SHA-256 only) nor the outbox row (the row id only) holds a
usable token. Here, in common, because the outbox renders the link at sending time (hms.notifications.messages)
and the accounts domain issues and checks them (hms.accounts.tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app

RESET = "reset"
VERIFY = "verify"
# Where each kind of link opens the SPA; the token travels in the fragment, which browsers never send to a
# server (no access log, no Referer), and the page removes it from the address bar at once.
PATHS = {RESET: "/reset-password", VERIFY: "/verify-email"}


def _key() -> bytes:
    secret = current_app.config["HMS"].jwt_secret.encode()
    return hmac.new(secret, b"hms-account-links", hashlib.sha256).digest()


def token(purpose: str, row_id: int) -> str:
    mac = hmac.new(_key(), f"{purpose}:{row_id}".encode(), hashlib.sha256).digest()
    return f"{row_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def url(row_id: int, purpose: str) -> str:
    """The URL mailed to the user (made only when the message is rendered)."""
    base = current_app.config["HMS"].public_url.rstrip("/")
    return f"{base}{PATHS[purpose]}#token={token(purpose, row_id)}"
