"""flask-smorest's Api with the product's error format, so validation errors look like every other error."""

from __future__ import annotations

from flask_smorest import Api
from werkzeug.exceptions import HTTPException


class HmsApi(Api):
    """Api whose HTTP errors (including webargs' 422s) use the SPEC §11 error body."""

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        from hms.common.errors import http_exception_response

        return http_exception_response(error)
