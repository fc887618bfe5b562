"""Finding 1 over real HTTP: a gunicorn server on loopback, a stranger at 127.0.0.2 and the owner at 127.0.0.1."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.factories import PASSWORD, AdminFactory

pytestmark = pytest.mark.slow


def post_login(base: str, source: str, username: str, password: str) -> tuple[int, dict, str | None]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=15, source_address=(source, 0))
    try:
        body = json.dumps({"username": username, "password": password})
        connection.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}"), response.getheader("Retry-After")
    finally:
        connection.close()


def test_a_stranger_at_another_address_cannot_lock_the_admin_out(server):
    AdminFactory(username="chief")
    stranger = [post_login(server, "127.0.0.2", "chief", f"guess-{n}")[0] for n in range(7)]
    assert stranger == [401, 401, 401, 401, 429, 429, 429]
    status, body, retry_after = post_login(server, "127.0.0.2", "chief", PASSWORD)
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert int(retry_after) > 0
    status, body, _ = post_login(server, "127.0.0.1", "chief", PASSWORD)
    assert status == 200
    assert body["user"]["username"] == "chief"
