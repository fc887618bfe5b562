"""Security headers on every response, no-store on personal API data, and CORS only for configured origins."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request

# The built Vue SPA needs nothing outside this origin: no CDN, no inline script (Vite emits module files).
# Inline styles stay allowed for Bootstrap components and Chart.js canvases; blob: frames show PDF previews.
APP_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
)
# Swagger UI's page starts itself with an inline script.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'"
)
DOCS_PREFIX = "/api/docs"


def setting_limit(name: str) -> Callable[[], str]:
    """A flask-limiter limit read from Settings at request time (HMS_RATE_LIMIT_*), keyed by client address."""
    return lambda: str(getattr(current_app.config["HMS"], name))


def _is_docs(path: str) -> bool:
    return path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/")


def _carries_personal_data(response: Response) -> bool:
    """Every authenticated /api/ answer may hold personal data; keep it out of browser and proxy caches."""
    if not request.path.startswith("/api/"):
        return False
    return bool(request.headers.get("Authorization") or request.cookies.get("access_token_cookie"))


def init_security(app: Flask) -> None:
    """Register the response headers and, when HMS_CORS_ORIGINS lists origins, CORS on /api/*."""
    settings = app.config["HMS"]
    if settings.cors_origins:
        from flask_cors import CORS

        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            allow_headers=["Authorization", "Content-Type", "X-CSRF-TOKEN"],
            expose_headers=["Content-Disposition", "Retry-After"],
            supports_credentials=False,
            max_age=600,
        )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if "Content-Security-Policy" not in headers:  # a route's own, stricter policy wins
            headers["Content-Security-Policy"] = DOCS_CSP if _is_docs(request.path) else APP_CSP
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if _carries_personal_data(response):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
