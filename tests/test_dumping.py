"""hms.common.dumping: every answer the fast dumper writes is the one marshmallow's Schema.dump writes.

The API tests read answers field by field; this file compares whole answers for every response schema of the app
that takes the fast path, on values of every kind (present, None, missing, of an unexpected type, on an object
instead of a dict), and checks that the schemas it cannot reproduce keep marshmallow's dump.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from marshmallow import Schema, fields, post_dump

from hms.common.dumping import fast_dump


def _value(field: fields.Field, odd: bool) -> Any:
    """A value of the field's kind; `odd`: one its fast path must not pass through (a bool for an int, ...)."""
    if isinstance(field, fields.Nested):
        inner = _sample(field.schema, odd)
        return [inner, {}] if (field.many or field.schema.many) else inner
    if isinstance(field, fields.List):
        return [_value(field.inner, odd), _value(field.inner, not odd)]
    if isinstance(field, fields.Boolean):
        return 1 if odd else True
    if isinstance(field, fields.Integer):
        return True if odd else 7
    if isinstance(field, fields.Number):
        return Decimal("12.50") if odd else 12.5
    if isinstance(field, fields.Date):
        return date(2026, 12, 1)
    if isinstance(field, fields.Time):
        return time(9, 30)
    if isinstance(field, fields.DateTime):
        return datetime(2026, 12, 1, 4, 5, 6, tzinfo=UTC) if odd else datetime(2026, 12, 1, 9, 30, 15)
    if isinstance(field, fields.String):
        return 12 if odd else "Kavya Ménon"
    if isinstance(field, fields.Dict):
        return {"a": 1}
    return {"k": "v"} if odd else "raw"


def _sample(schema: Schema, odd: bool = False) -> dict[str, Any]:
    return {
        (field.attribute or name): _value(field, odd)
        for name, field in schema.dump_fields.items()
        if not field.load_only
    }


def _outcome(dump: Any, obj: Any) -> Any:
    """What dumping gives, or the kind of error it raises (marshmallow's own quirks included: a page dict without
    "items" reads dict.items, which is not a list)."""
    try:
        return dump(obj)
    except Exception as error:
        return type(error)


def _response_schemas(app) -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for responses in getattr(view, "_apidoc", {}).get("response", {}).get("responses", {}).values():
            for response in responses:
                schema = response.get("schema")
                if schema is not None:
                    found.setdefault(type(schema).__name__, schema)
    return found


def test_most_answers_take_the_fast_path(app):
    schemas = _response_schemas(app)
    fast = [name for name, schema in schemas.items() if fast_dump(schema) is not None]
    assert len(fast) >= 0.8 * len(schemas), sorted(set(schemas) - set(fast))
    assert {"AppointmentRead", "AppointmentReadPage", "DoctorRead"} <= set(fast)


def test_every_fast_answer_is_what_marshmallow_writes(app):
    compared = 0
    for name, schema in _response_schemas(app).items():
        dump = fast_dump(schema)
        if dump is None:
            continue
        many = bool(schema.many)
        for odd in (False, True):
            sample = _sample(schema, odd)
            variants = [
                sample,
                dict.fromkeys(sample),  # every value None
                {},  # every value missing: left out, or the field's default
                SimpleNamespace(**sample),  # an ORM row: read by attribute
            ]
            for obj in variants:
                given = [obj, obj] if many else obj
                assert _outcome(dump, given) == _outcome(lambda o, s=schema: Schema.dump(s, o), given), (name, odd, obj)
                compared += 1
    assert compared > 100


class _Hooked(Schema):
    id = fields.Integer()

    @post_dump
    def _shout(self, data: dict, **_kwargs: Any) -> dict:
        return {key.upper(): value for key, value in data.items()}


class _Computed(Schema):
    id = fields.Integer()
    label = fields.Method("_label")

    def _label(self, obj: Any) -> str:
        return f"#{obj['id']}"


class _Dotted(Schema):
    city = fields.String(attribute="address.city")


class _Keyed(Schema):
    id = fields.Integer(data_key="identifier")
    name = fields.String(dump_default="anonymous")


@pytest.mark.parametrize(
    "schema", [_Hooked(), _Computed(), _Dotted(), Schema.from_dict({"x": fields.Nested(_Hooked)})()]
)
def test_a_schema_it_cannot_reproduce_keeps_marshmallows_dump(schema):
    assert fast_dump(schema) is None


def test_data_keys_and_dump_defaults_come_out_as_marshmallow_writes_them():
    schema = _Keyed()
    dump = fast_dump(schema)
    assert dump is not None
    for obj in ({"id": 3, "name": "Asha"}, {"id": 3}, {}):
        assert dump(obj) == Schema.dump(schema, obj)
    assert dump({"id": 3}) == {"identifier": 3, "name": "anonymous"}


class _Composite(Schema):
    people = fields.Nested(_Keyed, many=True)
    tags = fields.List(fields.String())
    when = fields.Date(allow_none=True)


def test_nested_many_and_plain_lists_come_out_as_marshmallow_writes_them():
    schema = _Composite()
    dump = fast_dump(schema)
    assert dump is not None
    filled = {"people": [{"id": 1}, {"id": 2, "name": "Asha"}], "tags": ["a", 3], "when": date(2026, 12, 1)}
    for obj in (filled, dict.fromkeys(filled), {}):
        assert dump(obj) == Schema.dump(schema, obj)
    for obj in ([filled, {}], [], None):  # many=True, None included: marshmallow writes one empty object for None
        assert dump(obj, many=True) == Schema.dump(schema, obj, many=True)
    assert dump(filled)["people"] == [{"identifier": 1, "name": "anonymous"}, {"identifier": 2, "name": "Asha"}]


class _Person(Schema):
    name = fields.String()
    manager = fields.Nested("self", allow_none=True)


def test_a_schema_nested_in_itself_keeps_marshmallows_dump():
    assert fast_dump(_Person()) is None
