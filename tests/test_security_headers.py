"""Security headers on every response, a CSP that lets the SPA and the API docs work, no-store on personal
API data, and CORS only for the origins an operator configured."""

from __future__ import annotations

import pytest

from hms import create_app
from hms.common.security import APP_CSP, DOCS_CSP
from tests.conftest import make_settings
from tests.factories import AdminFactory

COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


@pytest.mark.parametrize(
    "path", ["/", "/admin/dashboard", "/api/openapi.json", "/api/no-such-thing", "/api/admin/stats"]
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (path, name)
    assert response.headers["Content-Security-Policy"] == APP_CSP


def test_spa_policy_allows_only_this_origin_and_no_inline_script():
    directives = dict(part.strip().split(" ", 1) for part in APP_CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "http" not in APP_CSP  # no CDN


def test_api_docs_get_their_own_policy_with_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == DOCS_CSP
    assert "script-src 'self' 'unsafe-inline'" in DOCS_CSP
    assert "<script" in response.get_data(as_text=True)


def test_authenticated_api_answers_are_never_stored(client, auth):
    response = client.get("/api/admin/stats", headers=auth(AdminFactory()))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_authenticated_error_answers_are_never_stored_either(client, auth):
    response = client.get("/api/admin/audit?page=abc", headers=auth(AdminFactory()))
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"


def test_public_api_answers_may_be_cached(client):
    assert "no-store" not in client.get("/api/openapi.json").headers.get("Cache-Control", "")


def test_no_cors_headers_without_configured_origins(client):
    response = client.get("/api/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def cors_client(app, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = create_app(make_settings(tmp_path, database_url=database_url, cors_origins=["https://ui.example.org"]))
    return other.test_client()


def test_configured_origin_gets_cors_on_the_api(cors_client):
    preflight = cors_client.options(
        "/api/admin/stats",
        headers={
            "Origin": "https://ui.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://ui.example.org"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = cors_client.get("/api/openapi.json", headers={"Origin": "https://ui.example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://ui.example.org"


def test_other_origins_and_non_api_paths_get_no_cors(cors_client):
    response = cors_client.get("/api/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = cors_client.get("/", headers={"Origin": "https://ui.example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers
