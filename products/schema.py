"""Marshmallow schemas for product files: field types, ranges and unknown keys.

A file is checked in two steps so every error can name its product: :class:`CatalogFileSchema`
checks the file header and that ``products`` is a list, then each product is loaded on its own with
:class:`ProductSchema`. Checks across fields and products live in :mod:`products.rules`;
:mod:`products.documents` turns loaded data into :class:`~products.model.Product` values and back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.vocab import QUALITY_TIERS, Sector
from products.model import (
    MAX_LIMIT_MULTIPLIER,
    METRIC_RANGES,
    CerfCategory,
    GradeBasis,
    LprTenor,
    Metric,
    Op,
    Policy,
)

CATALOG_FORMAT = "finance-engine/product-catalog@1"
"""The ``format`` string every product file declares."""

CODE_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"
"""Product and adjustment codes: upper-case words joined by hyphens, e.g. ``ICBC-QZ-IND-CRL``."""

INDUSTRY_PREFIX_PATTERN = r"^[A-T][0-9]{2,4}$"
"""GB/T 4754-2017 code prefix: section letter plus a 2-digit division, 3-digit group or 4-digit
class (``C31``, ``C301``, ``C3011``)."""


def _text() -> fields.String:
    """A required, non-empty line of text."""
    return fields.String(required=True, validate=validate.Length(min=1, max=500))


def _code() -> validate.Regexp:
    """Validator for product and adjustment codes."""
    return validate.Regexp(
        CODE_PATTERN, error="{input!r} is not a code (upper-case words joined by hyphens)"
    )


def _strict_bool() -> fields.Boolean:
    """A required JSON boolean (no "yes", 1 or "true" strings)."""
    return fields.Boolean(required=True, truthy={True}, falsy={False})


def _places(limit: int) -> Callable[[Decimal], None]:
    """A validator refusing decimals with more than ``limit`` decimal places."""

    def check(value: Decimal) -> None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > limit:
            raise ValidationError(f"at most {limit} decimal places")

    return check


class LenderSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9]+(-[a-z0-9]+)*$",
            error="{input!r} is not a lender code (lower-case words joined by hyphens)",
        ),
    )
    name_zh = _text()
    name_en = _text()


class CatalogFileSchema(Schema):
    """The header of one product file; ``products`` items are checked by :class:`ProductSchema`."""

    format = fields.String(required=True, validate=validate.Equal(CATALOG_FORMAT))
    illustrative = _strict_bool()
    disclaimer = fields.String(load_default="")
    lender = fields.Nested(LenderSchema, required=True)
    products = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))


class GradeTermsSchema(Schema):
    limit_multiplier = fields.Decimal(
        required=True,
        validate=[
            validate.Range(
                0,
                MAX_LIMIT_MULTIPLIER,
                min_inclusive=False,
                error=f"must be above 0 and at most {MAX_LIMIT_MULTIPLIER} (the hard cap)",
            ),
            _places(2),
        ],
    )
    rate_discount_bp = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))


class RateSchema(Schema):
    lpr_tenor = fields.Enum(LprTenor, by_value=True, required=True)
    spread_bp = fields.Integer(strict=True, required=True, validate=validate.Range(-300, 1000))
    floor_rate_pct = fields.Decimal(
        required=True, validate=[validate.Range(0, 20, min_inclusive=False), _places(2)]
    )


class ConditionSchema(Schema):
    metric = fields.Enum(Metric, by_value=True, required=True)
    op = fields.Enum(Op, by_value=True, required=True)
    value = fields.Decimal(required=True)

    @validates_schema
    def _value_in_metric_range(self, data: dict[str, Any], **_: Any) -> None:
        low, high = METRIC_RANGES[data["metric"]]
        if not low <= data["value"] <= high:
            raise ValidationError(
                f"{data['value']} is outside the range of {data['metric'].value} ({low}..{high})",
                "value",
            )


class AdjustmentSchema(Schema):
    code = fields.String(required=True, validate=_code())
    description = _text()
    condition = fields.Nested(ConditionSchema, required=True)
    discount_bp = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))


class EligibilitySchema(Schema):
    minimum_grade = fields.String(required=True)
    provisional_grade = fields.Enum(Policy, by_value=True, required=True)
    open_critical_alerts = fields.Enum(Policy, by_value=True, required=True)
    excluded_industries = fields.List(
        fields.String(
            validate=validate.Regexp(
                INDUSTRY_PREFIX_PATTERN,
                error="{input!r} is not a GB/T 4754 code prefix (section letter + 2-4 digits, "
                "e.g. C31)",
            )
        ),
        load_default=list,
    )
    max_pd = fields.Decimal(
        required=True, validate=[validate.Range(0, 1, min_inclusive=False), _places(4)]
    )
    max_quality_tier = fields.Integer(
        strict=True, required=True, validate=validate.OneOf(QUALITY_TIERS)
    )


class ProductSchema(Schema):
    """One product version, as written in a file (the lender comes from the file header)."""

    code = fields.String(required=True, validate=_code())
    version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    name_zh = _text()
    name_en = _text()
    sectors = fields.List(
        fields.Enum(Sector, by_value=True), required=True, validate=validate.Length(min=1)
    )
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    min_amount_yuan = fields.Decimal(
        required=True, validate=[validate.Range(0, min_inclusive=False), _places(2)]
    )
    max_amount_yuan = fields.Decimal(
        required=True, validate=[validate.Range(0, min_inclusive=False), _places(2)]
    )
    min_term_months = fields.Integer(strict=True, required=True, validate=validate.Range(1, 360))
    max_term_months = fields.Integer(strict=True, required=True, validate=validate.Range(1, 360))
    rate = fields.Nested(RateSchema, required=True)
    grade_basis = fields.Enum(GradeBasis, by_value=True, required=True)
    grade_table = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(GradeTermsSchema),
        required=True,
        validate=validate.Length(min=1),
    )
    adjustments = fields.List(fields.Nested(AdjustmentSchema), load_default=list)
    max_total_discount_bp = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    eligibility = fields.Nested(EligibilitySchema, required=True)
    cerf_eligible = _strict_bool()
    cerf_category = fields.Enum(CerfCategory, by_value=True, load_default=None, allow_none=True)
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(load_default=None, allow_none=True)
    source = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


def flatten_messages(messages: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    """Marshmallow error messages as ``(field path, message)`` pairs.

    Paths read like ``grade_table.dark_green.limit_multiplier`` and ``adjustments[0].discount_bp``
    (marshmallow's ``value`` level under a dict entry is dropped; ``_schema`` becomes the parent).
    """
    if isinstance(messages, Mapping):
        for key, sub in messages.items():
            if key == "_schema" or (_is_dict_entry_level(path) and key in ("key", "value")):
                yield from flatten_messages(sub, path)
            else:
                yield from flatten_messages(sub, (*path, key))
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from flatten_messages(message, path)
    else:
        yield format_path(path), str(messages)


def _is_dict_entry_level(path: tuple[str | int, ...]) -> bool:
    return len(path) >= 2 and path[-2] == "grade_table"


def format_path(path: tuple[str | int, ...]) -> str:
    """``("adjustments", 0, "discount_bp")`` -> ``adjustments[0].discount_bp``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"
