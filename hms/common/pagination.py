"""One pagination helper: `?page=&per_page=` in, `{"items", "page", "per_page", "total"}` out."""

from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import Select, func, select

from hms.common.fields import MAX_PER_PAGE, PageArgs
from hms.extensions import db

__all__ = ["MAX_PER_PAGE", "PageArgs", "page_of", "paginate"]


@cache
def page_of(item_schema: type[Schema]) -> type[Schema]:
    """A response schema for a page of item_schema, named so the OpenAPI document reads well."""
    name = item_schema.__name__.removesuffix("Schema") + "Page"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        },
        name=name,
    )


def paginate(statement: Select, *, page: int = 1, per_page: int = 20, scalars: bool = True) -> dict[str, Any]:
    """Run one count and one page query; never load the whole list."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = db.session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    page_statement = statement.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(page_statement)
    items = list(result.scalars()) if scalars else list(result)
    return {"items": items, "page": page, "per_page": per_page, "total": total}
