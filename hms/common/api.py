"""flask-smorest's Api with the product's error format, so validation errors look like every other error."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException


def _declared_format(_converter: Any, field: Any, **_kwargs: Any) -> dict[str, Any]:
    """A field's own `format` metadata wins over apispec's guess (which is null for a custom time format)."""
    return {"format": field.metadata["format"]} if "format" in field.metadata else {}


class HmsApi(Api):
    """Api whose HTTP errors (including webargs' 422s) use the SPEC §11 error body."""

    def init_app(self, app: Flask, *, spec_kwargs: dict | None = None) -> None:
        """Bounded path converters first: every route registered afterwards uses them."""
        from hms.common.routing import CONVERTER_DOCS, install_converters

        install_converters(app)
        for converter, schema in CONVERTER_DOCS:
            if (converter, schema) not in self._converters:
                self._converters.append((converter, schema))
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.ma_plugin.converter.add_attribute_function(_declared_format)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        from hms.common.errors import http_exception_response

        return http_exception_response(error)
