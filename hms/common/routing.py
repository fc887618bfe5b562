"""URL converters that bound path parameters, so an id past the database's range is a 404, not a query."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter, Map, PathConverter

from hms.common.fields import MAX_ID


def _up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..limit, without leading zeros."""
    digits = str(limit)
    choices = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        rest = len(digits) - position - 1
        low = "1" if position == 0 else "0"
        high = int(digit) - 1
        if high >= int(low):
            choices.append(f"{digits[:position]}[{low}-{high}][0-9]{{{rest}}}")
    choices.append(digits)
    return "(?:" + "|".join(choices) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 1..2**31-1, bounded in the pattern itself, so a path with an id out of
    range matches no route at all and is a 404, whatever its method (a converter that only refused the value
    would leave werkzeug answering 405 when a sibling route with another method had matched)."""

    regex = _up_to(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
        self.regex = _up_to(MAX_ID)


class LineConverter(BaseConverter):
    """The default `<name>` converter without control characters: they never name anything we store."""

    regex = "[^/\x00-\x1f\x7f-\x9f\u2028\u2029]{1,200}"


class SpaPathConverter(PathConverter):
    """The SPA's history-mode catch-all, which never claims /api or /fhir: an unknown API URL is a JSON 404
    whatever its method, not a 405 because the SPA route answers GET."""

    regex = "(?!(?:api|fhir)(?:/|$))[^/].*?"


def line_param(_converter: LineConverter) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/\\u0000-\\u001f\\u007f-\\u009f]+$"}


def install_converters(app: Flask) -> None:
    """Replace werkzeug's int and string converters; call before any route is added."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = LineConverter
    app.url_map.converters["string"] = LineConverter
    app.url_map.converters["spa_path"] = SpaPathConverter


CONVERTER_DOCS = ((LineConverter, line_param),)
