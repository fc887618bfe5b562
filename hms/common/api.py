"""flask-smorest's Api with the product's error format, so validation errors look like every other error,
and an OpenAPI document that says which errors each operation can answer with."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask import Flask
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from hms.common.dumping import fast_dump

# Error responses by status, as registered (lazily) by flask-smorest under their HTTPStatus names.
ERROR_RESPONSES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


class _SchemaReusingParser(FlaskParser):
    """webargs builds a new schema object on every request when it is given a schema class (as every
    `@blp.arguments(SomeArgs)` here does): a twelfth of the anonymous slot read's CPU went to Schema.__init__. One
    instance per class is built on first use and shared; loading keeps no state on the schema (flask-smorest shares
    its response schemas across threads the same way)."""

    def __init__(self) -> None:
        super().__init__()
        self._instances: dict[type[Schema], Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            instance = self._instances.get(argmap)
            if instance is None:
                instance = self._instances.setdefault(argmap, argmap())
            return instance
        return super()._get_schema(argmap, req)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint whose arguments are parsed with one schema instance per class, and whose answers
    are dumped by `hms.common.dumping.fast_dump` wherever it gives marshmallow's output."""

    ARGUMENTS_PARSER = _SchemaReusingParser()

    def response(self, status_code: int | str, schema: Any = None, **kwargs: Any) -> Any:
        if schema is not None:
            schema = resolve_schema_instance(schema)
            dump = fast_dump(schema)
            if dump is not None:
                schema.dump = dump  # this instance only: flask-smorest calls schema.dump(result)
        return super().response(status_code, schema, **kwargs)


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "Some fields are not valid."})
    field_messages = fields.Dict(
        data_key="fields",
        required=True,
        metadata={"description": "Messages per field (empty when the error is not about a field)."},
    )


class ErrorBody(Schema):
    """SPEC §11: every error under /api has this body."""

    error = fields.Nested(ErrorDetail, required=True)


def documents_errors(*statuses: int) -> dict[str, Any]:
    """`@blp.doc(**documents_errors(401, 429))`: error answers an operation gives beyond the derived ones."""
    return {"responses": {str(status): ERROR_RESPONSES[status] for status in statuses}}


class ErrorResponsesPlugin(BasePlugin):
    """Documents the error answers every operation can give, derived from what it is:

    an operation marked by roles_required (`x-roles`) needs a token (401) and the right role (403); a path with
    parameters may name nothing (404); a JSON body may be malformed (400); a body or query parameters may be
    invalid (422); a write may conflict with the current state (409); any may meet a database that is down for a
    moment (503). Views add others with documents_errors().
    """

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_kwargs: Any) -> None:
        """Runs before the marshmallow plugin, so request schemas are still marshmallow schemas here."""
        for method, operation in (operations or {}).items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            statuses: set[int] = set()
            if "x-roles" in operation:
                statuses |= {401, 403}
                operation.setdefault("security", [{"bearerAuth": []}])
            else:
                operation.setdefault("security", [])
            if path and "{" in path:
                statuses.add(404)
            has_query = any(
                isinstance(param, dict) and param.get("in") == "query" for param in operation.get("parameters", [])
            )
            if "requestBody" in operation:
                statuses |= {400, 422}
            if has_query:
                statuses.add(422)
            if any(_names_a_record(schema) for schema in _request_schemas(operation)):
                statuses.add(404)
            if method in WRITE_METHODS:
                statuses.add(409)
            # A part that is down for a moment (the database) is a 503 with Retry-After, on any operation.
            statuses.add(503)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), ERROR_RESPONSES[status])


def _request_schemas(operation: dict[str, Any]) -> list[Any]:
    schemas = [param.get("schema") for param in operation.get("parameters", []) if isinstance(param, dict)]
    for content in operation.get("requestBody", {}).get("content", {}).values():
        schemas.append(content.get("schema"))
    return [schema for schema in schemas if schema is not None]


def _names_a_record(schema: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a request schema carries an id of another record (which may not exist: 404)."""
    from hms.common.fields import Id

    try:
        instance = resolve_schema_instance(schema)
    except Exception:
        return False
    if not isinstance(instance, Schema) or type(instance) in seen:
        return False
    for field in instance.fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, Id):
            return True
        if isinstance(inner, fields.Nested) and _names_a_record(inner.schema, seen | {type(instance)}):
            return True
    return False


def _declared_format(_converter: Any, field: Any, **_kwargs: Any) -> dict[str, Any]:
    """A field's own `format` metadata wins over apispec's guess (which is null for a custom time format)."""
    return {"format": field.metadata["format"]} if "format" in field.metadata else {}


class HmsApi(Api):
    """Api whose HTTP errors (including webargs' 422s) use the SPEC §11 error body."""

    ERROR_SCHEMA = ErrorBody
    # No catch-all "default" response: each operation lists the statuses it really answers with.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app: Flask, *, spec_kwargs: dict | None = None) -> None:
        """Bounded path converters first: every route registered afterwards uses them."""
        from hms.common.routing import CONVERTER_DOCS, install_converters

        install_converters(app)
        for converter, schema in CONVERTER_DOCS:
            if (converter, schema) not in self._converters:
                self._converters.append((converter, schema))
        errors_plugin = ErrorResponsesPlugin()
        spec_kwargs = {**(spec_kwargs or {}), "extra_plugins": [errors_plugin]}
        super().init_app(app, spec_kwargs=spec_kwargs)
        plugins = self.spec.plugins
        plugins.remove(errors_plugin)
        plugins.insert(plugins.index(self.ma_plugin), errors_plugin)
        self.ma_plugin.converter.add_attribute_function(_declared_format)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        from hms.common.errors import http_exception_response

        return http_exception_response(error)
