"""Domain errors raised by services, and the one place that turns every error into the API's JSON shape."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

# A database that is restarting, unreachable, out of pool connections or locked (SQLite) is down for a moment.
DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
RETRY_AFTER_SECONDS = 5


class DomainError(Exception):
    """A rule of the product was not met; services raise these, never HTTP codes."""

    status = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class ValidationFailed(DomainError):
    status, code, default_message = 422, "validation_error", "Some fields are not valid."


class Unauthorized(DomainError):
    status, code, default_message = 401, "unauthorized", "Authentication is required."


class Forbidden(DomainError):
    status, code, default_message = 403, "forbidden", "You are not allowed to do this."


class NotFound(DomainError):
    status, code, default_message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, code, default_message = 409, "conflict", "This conflicts with the current state."


class Duplicate(Conflict):
    code, default_message = "duplicate", "This already exists."


class SlotTaken(Conflict):
    code, default_message = "slot_taken", "This slot has just been taken. Please choose another one."


class PatientBusy(Conflict):
    code, default_message = "patient_busy", "You already have an appointment at this time."


class RateLimited(DomainError):
    status, code, default_message = 429, "rate_limited", "Too many attempts. Please wait and try again."

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))


class TooManyBookings(Conflict):
    code = "too_many_bookings"


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> tuple[Response, int]:
    return jsonify(error_body(code, message, fields)), status


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _flatten_webargs_messages(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location ({"json": {...}}); clients want the fields themselves."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    fields: dict[str, Any] = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            fields.update(value)
        else:
            fields[location] = value
    return fields


def http_exception_response(error: HTTPException) -> tuple[Response, int] | HTTPException:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    fields = _flatten_webargs_messages(messages) if messages else {}
    if status == 400 and fields:
        first = next(iter(fields.values()))
        message = first[0] if isinstance(first, list) and first else "The request body is not valid JSON."
        return error_response(400, "bad_request", str(message), fields)
    if status == 422:
        return error_response(422, "validation_error", "Some fields are not valid.", fields)
    message = error.description or "Request failed."
    if status == 429:
        message = "Too many requests. Please wait and try again."
    # flask-limiter's 429s get their Retry-After from the limiter's after_request hook.
    return error_response(status, HTTP_CODES.get(status, "error"), message, fields)


def register_error_handlers(app: Flask) -> None:
    """Every error under /api becomes the same JSON body; nothing under /api answers with HTML."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        response, status = error_response(error.status, error.code, error.message, error.fields)
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if not request.path.startswith(("/api", "/fhir")) and error.code == 404:
            return error
        return http_exception_response(error)

    def _database_unavailable(error: Exception):
        from hms.extensions import db

        app.logger.warning("Database unavailable on %s %s: %s", request.method, request.path, error)
        try:
            db.session.rollback()  # a dropped connection is invalidated by the pool; the next checkout is fresh
        except Exception:
            app.logger.warning("rollback after a database fault failed", exc_info=True)
        response, status = error_response(
            503, "service_unavailable", "The database is unavailable for a moment. Please try again shortly."
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, _database_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side. It has been logged.")
