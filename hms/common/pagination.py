"""One pagination helper: `?page=&per_page=` in, `{"items", "page", "per_page", "total"}` out."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import Select, func, select
from sqlalchemy import inspect as sa_inspect

from hms.common.fields import MAX_PER_PAGE, PageArgs
from hms.extensions import db

__all__ = ["MAX_PER_PAGE", "PageArgs", "page_of", "paginate", "paginate_ranked"]


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


# A page that starts this deep first picks its ids from the index alone, then loads only those rows (a "deferred
# join"): OFFSET otherwise builds every skipped row with its joined people, departments and EXISTS columns.
DEFERRED_JOIN_OFFSET = 200
# Totals this large are remembered for a few seconds (per filter), so paging through a million appointments does
# not count them again on every page; smaller totals are always exact.
CACHED_TOTAL_MIN = 10_000
CACHED_TOTAL_SECONDS = 15


def _is_plain(statement: Select) -> bool:
    """No GROUP BY, DISTINCT, HAVING or limit of its own: its rows are its first entity's rows, one each."""
    return not (
        statement._group_by_clauses
        or statement._distinct
        or statement._having_criteria
        or statement._limit_clause is not None
        or statement._offset_clause is not None
    )


def _primary_key(statement: Select) -> Any | None:
    """The one-column primary key of the statement's first ORM entity, if it has one."""
    descriptions = statement.column_descriptions
    entity = descriptions[0].get("entity") if descriptions else None
    if entity is None or descriptions[0].get("expr") is not entity:
        return None
    primary_key = sa_inspect(entity).primary_key
    return primary_key[0] if len(primary_key) == 1 else None


def count_statement(statement: Select) -> Select:
    """`SELECT count(*) FROM <the base table and explicit joins> WHERE <the same filters>`.

    Counting over the statement itself (as a subquery) made the database build every row of the list first: the
    joined-eager people and departments and per-row EXISTS columns, for a million appointments.
    """
    if _is_plain(statement):
        return statement.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    return select(func.count()).select_from(statement.order_by(None).subquery())


# The SQL text of each count statement's shape, per process. Naming a cached total by compiling its count on every
# request cost ~0.4 ms of a 7 ms list page; SQLAlchemy's cache key (the statement's structure) now finds the text,
# and the key's bound values, in their fixed order, complete the name, so every process names the same filters alike.
_COUNT_SQL: dict[tuple[str, Any], str] = {}
_COUNT_SQL_LIMIT = 512


def _total_key(counting: Select) -> str:
    cache_key = counting._generate_cache_key()
    values: list[Any]
    if cache_key is None:  # a statement SQLAlchemy cannot cache: compile it each time
        compiled = counting.compile(db.engine)
        text, values = str(compiled), sorted(compiled.params.items())
    else:
        shape = (db.engine.dialect.name, cache_key.key)
        known = _COUNT_SQL.get(shape)
        if known is None:
            if len(_COUNT_SQL) >= _COUNT_SQL_LIMIT:
                _COUNT_SQL.clear()
            known = _COUNT_SQL[shape] = str(counting.compile(db.engine))
        text, values = known, [bind.effective_value for bind in cache_key.bindparams]
    return hashlib.sha256(f"{text}|{values!r}".encode()).hexdigest()[:32]


def _total(statement: Select) -> int:
    from hms.common.cache import get_or_set_if

    counting = count_statement(statement)
    key = _total_key(counting)
    return get_or_set_if(
        "totals",
        key,
        lambda: int(db.session.execute(counting).scalar_one()),
        keep=lambda total: total >= CACHED_TOTAL_MIN,
        timeout=CACHED_TOTAL_SECONDS,
    )


def paginate_ranked(
    statement: Select, ranked: Select, *, key: Any, page: int = 1, per_page: int = 20
) -> dict[str, Any]:
    """A page whose ids are picked by `ranked` and whose rows `statement` loads (it carries the list's order).

    `ranked` selects one column (the ids) with the list's filters and order; the page of ids and the total come
    from one statement (`count(*) OVER ()` beside the LIMIT), then `statement` loads only those ids. For a search
    whose filter is a UNION of index scans (the patients' trigram search): counting it and then sorting the rows it
    matches in a second statement ran the same trigram scans twice, and the planner, joining the union back to the
    table, read every patient. A page past the end counts the ids alone, so the answer's total stays exact.
    """
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    offset = (page - 1) * per_page
    rows = db.session.execute(ranked.add_columns(func.count().over()).limit(per_page).offset(offset)).all()
    if not rows:
        total = 0 if offset == 0 else int(db.session.execute(count_statement(ranked)).scalar_one())
        return {"items": [], "page": page, "per_page": per_page, "total": total}
    items = list(db.session.execute(statement.where(key.in_([row[0] for row in rows]))).scalars())
    return {"items": items, "page": page, "per_page": per_page, "total": int(rows[0][1])}


def paginate(statement: Select, *, page: int = 1, per_page: int = 20, scalars: bool = True) -> dict[str, Any]:
    """Run one count and one page query; never load the whole list."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    offset = (page - 1) * per_page
    total = _total(statement)
    if offset >= total and offset > 0:
        return {"items": [], "page": page, "per_page": per_page, "total": total}
    key = _primary_key(statement) if offset >= DEFERRED_JOIN_OFFSET and _is_plain(statement) else None
    if key is not None:
        ids = statement.with_only_columns(key, maintain_column_froms=True).limit(per_page).offset(offset)
        page_statement = statement.where(key.in_(ids))
    else:
        page_statement = statement.limit(per_page).offset(offset)
    result = db.session.execute(page_statement)
    items = list(result.scalars()) if scalars else list(result)
    return {"items": items, "page": page, "per_page": per_page, "total": total}
