"""Limit/offset pagination: query schema, page envelope and ``Link: rel="next"``.

A list returns ``{"items": [...], "pagination": {"limit", "offset", "returned",
"next_offset"}}``; ``next_offset`` is null on the last page. Queries fetch ``limit + 1`` rows to
know whether a next page exists without counting the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, validate

MAX_LIMIT = 1000
T = TypeVar("T")


class PageQuerySchema(Schema):
    """``limit`` (1-1000, default 100) and ``offset`` (default 0)."""

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": "Items per page (1-1000)"},
    )
    offset = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 100_000_000),
        metadata={"description": "Items to skip"},
    )


class PaginationSchema(Schema):
    """Where this page sits."""

    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    returned = fields.Integer(required=True, metadata={"description": "Items on this page"})
    next_offset = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Offset of the next page"}
    )


@cache
def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The page envelope schema for ``item_schema`` (one class per item schema)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "pagination": fields.Nested(PaginationSchema, required=True),
        },
        name=name,
    )


def page(rows: Sequence[T], limit: int, offset: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Envelope for ``rows`` (fetched with ``limit + 1``) and its ``Link`` header."""
    more = len(rows) > limit
    items = list(rows[:limit])
    next_offset = offset + limit if more else None
    headers: dict[str, str] = {}
    if next_offset is not None:
        args = {k: v for k, v in request.args.items(multi=True) if k != "offset"}
        query = urlencode([*args.items(), ("offset", str(next_offset))])
        headers["Link"] = f'<{request.path}?{query}>; rel="next"'
    envelope = {
        "items": items,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "returned": len(items),
            "next_offset": next_offset,
        },
    }
    return envelope, headers
