"""URL converters that bound path parameters, so an id past the database's range is a 404, not a query."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter, Map

from hms.common.fields import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 1..2**31-1; anything else matches no route (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class LineConverter(BaseConverter):
    """The default `<name>` converter without control characters: they never name anything we store."""

    regex = "[^/\x00-\x1f\x7f-\x9f\u2028\u2029]{1,200}"


def line_param(_converter: LineConverter) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/\\u0000-\\u001f\\u007f-\\u009f]+$"}


def install_converters(app: Flask) -> None:
    """Replace werkzeug's int and string converters; call before any route is added."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = LineConverter
    app.url_map.converters["string"] = LineConverter


CONVERTER_DOCS = ((LineConverter, line_param),)
