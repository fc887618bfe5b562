"""Response bodies dumped without marshmallow's per-field machinery, for the schemas where that gives the same output.

`Schema.dump` asks every field of every row to look its value up through an accessor, check for a default and only
then format it: on a page of twenty appointments that was a sixth of the admin list's CPU, most of it for values
that are already what JSON needs (ints, strings, booleans). `fast_dump(schema)` plans a schema once: each field's
value is read the way marshmallow reads it (`utils._get_value_for_key`: a key, else an attribute), passed through
when it is an int, a str or a bool its field would return unchanged, and otherwise formatted by the field's own
`_serialize`, so dates, times, timestamps and any custom field come out exactly as before. Nested schemas and lists
are planned the same way. A schema this cannot reproduce exactly (dump hooks, a custom accessor, fields that are
not read from the object, dotted attributes, an ordered dict class) gets None, and its blueprint keeps
marshmallow's `dump`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import _get_value_for_key, missing

Formatter = Callable[[Any, str, Any], Any]
# Deeper than any answer of the API nests; a schema nested in itself would otherwise be planned for ever.
MAX_NESTING = 8
Dumper = Callable[[Any], Any]


def fast_dump(schema: Schema) -> Callable[..., Any] | None:
    """A drop-in for `schema.dump(obj, many=None)` that gives marshmallow's output, or None if it cannot."""
    dump_one = _plan(schema)
    if dump_one is None:
        return None
    default_many = bool(schema.many)

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        if (default_many if many is None else many) and obj is not None:  # many=True with None: one empty object
            return [dump_one(item) for item in obj]
        return dump_one(obj)

    return dump


def _plan(schema: Schema, depth: int = 0) -> Dumper | None:
    if depth > MAX_NESTING:  # a schema that nests itself ("self"): marshmallow's dump resolves it lazily
        return None
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    if type(schema).get_attribute is not Schema.get_attribute or schema.dict_class is not dict:
        return None
    steps: list[tuple[str, str, Formatter, Any]] = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute if field.attribute is not None else name
        formatter = _formatter(field, depth)
        if formatter is None or "." in attribute:
            return None
        steps.append((field.data_key if field.data_key is not None else name, attribute, formatter, field.dump_default))

    def dump_one(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attribute, formatter, default in steps:
            value = _get_value_for_key(obj, attribute, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = formatter(value, attribute, obj)
        return out

    return dump_one


def _formatter(field: fields.Field, depth: int) -> Formatter | None:
    """How one field turns its value into the answer's, as `field.serialize` would after reading it."""
    kind = type(field)
    if kind.serialize is not fields.Field.serialize or kind.get_value is not fields.Field.get_value:
        return None
    if not field._CHECK_ATTRIBUTE:  # Method, Function, Constant: not read from the object
        return None
    if isinstance(field, fields.Nested) and kind is fields.Nested:
        return _nested(field, depth)
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _formatter(field.inner, depth) if type(field.inner) is fields.Nested else field.inner._serialize
        if inner is None:
            return None
        return lambda value, attr, obj: None if value is None else [inner(each, attr, obj) for each in value]
    serialize = field._serialize
    passes = _passes_unchanged(field)
    if passes is None:
        return serialize
    return lambda value, attr, obj: value if type(value) is passes else serialize(value, attr, obj)


def _passes_unchanged(field: fields.Field) -> type | None:
    """The type whose values this field returns as they are (its `_serialize` would hand them back unchanged)."""
    kind = type(field)
    if kind in (fields.Integer, fields.Int) and not field.as_string:  # type: ignore[attr-defined]
        return int
    if kind in (fields.String, fields.Str):
        return str
    if kind in (fields.Boolean, fields.Bool):
        return bool
    return None


def _nested(field: fields.Nested, depth: int) -> Formatter | None:
    schema = field.schema
    dump_one = _plan(schema, depth + 1)
    if dump_one is None:
        return None
    many = bool(schema.many or field.many)

    def formatter(value: Any, _attr: str, _obj: Any) -> Any:
        if value is None:
            return None
        return [dump_one(item) for item in value] if many else dump_one(value)

    return formatter
