"""A challenger rule set as a patch on the champion catalog (``finance-engine/rule-patch@1``).

A patch is a JSON file listing *changes*; each change selects products and says what to change
in them: minimum grade, grade-table multipliers and discounts, PD cut-off, total-discount cap,
adjustment discounts. ``docs/backtests.md`` describes the format. Every selected version of a
product is changed. The patched products must still pass the catalog's own checks (hard cap 1.5,
monotone grade table, the floor rule under every LPR fixing...); a patch that breaks one is
refused with every problem listed, each naming the change, the product and the field.

Within one change the order is: minimum grade, declined grades (cut from the worst end of the
grade table: ``"decline_grades": ["red"]`` declines red borrowers on every colour product and
leaves the others alone), explicit grade terms (``grade_table``), then
``limit_multiplier_factor`` and ``rate_discount_bp_delta`` on the grades *not* set explicitly,
then ``max_pd``, ``max_total_discount_bp`` and ``adjustments``. Changes apply in list order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from products.catalog import Catalog
from products.model import Adjustment, GradeBasis, GradeTerms, Product
from products.rules import check_product, product_label
from scoring._documents import load_object, read_json

PATCH_FORMAT = "finance-engine/rule-patch@1"
MULTIPLIER_QUANTUM = Decimal("0.01")


class PatchError(ValueError):
    """A patch file is invalid or cannot be applied; the message lists every problem."""


class _Terms(Schema):
    class Meta:
        unknown = RAISE

    limit_multiplier = fields.Decimal(validate=validate.Range(min=0, min_inclusive=False))
    rate_discount_bp = fields.Integer(strict=True, validate=validate.Range(min=0))


class _Adjustment(Schema):
    class Meta:
        unknown = RAISE

    discount_bp = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class _Change(Schema):
    class Meta:
        unknown = RAISE

    products = fields.Raw(required=True)
    grade_basis = fields.Enum(GradeBasis, by_value=True)
    sectors = fields.List(fields.String(), validate=validate.Length(min=1))
    lenders = fields.List(fields.String(), validate=validate.Length(min=1))
    minimum_grade = fields.Raw()
    decline_grades = fields.List(fields.String(), validate=validate.Length(min=1))
    grade_table = fields.Dict(keys=fields.String(), values=fields.Nested(_Terms))
    limit_multiplier_factor = fields.Decimal(validate=validate.Range(min=0, min_inclusive=False))
    rate_discount_bp_delta = fields.Integer(strict=True)
    max_pd = fields.Decimal(validate=validate.Range(min=0, max=1, min_inclusive=False))
    max_total_discount_bp = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0)
    )
    adjustments = fields.Dict(keys=fields.String(), values=fields.Nested(_Adjustment))

    @validates_schema
    def _shapes(self, data: dict[str, Any], **_: Any) -> None:
        chosen = data["products"]
        if chosen != "*" and not (
            isinstance(chosen, list) and chosen and all(isinstance(c, str) for c in chosen)
        ):
            raise ValidationError('"*" or a non-empty list of product codes', "products")
        grade = data.get("minimum_grade")
        bases = {basis.value for basis in GradeBasis}
        by_basis = isinstance(grade, dict) and all(
            key in bases and isinstance(value, str) for key, value in grade.items()
        )
        if grade is not None and not isinstance(grade, str) and not by_basis:
            raise ValidationError("a grade, or an object of grades by grade basis", "minimum_grade")


class _Patch(Schema):
    class Meta:
        unknown = RAISE

    format = fields.String(required=True, validate=validate.Equal(PATCH_FORMAT))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="")
    changes = fields.List(fields.Nested(_Change), required=True, validate=validate.Length(min=1))


@dataclass(frozen=True)
class RulePatch:
    """A validated patch: its name, changes (as loaded) and the SHA-256 of its canonical JSON."""

    name: str
    description: str
    changes: tuple[Mapping[str, Any], ...]
    digest: str


def patch_from_dict(data: Any, where: str = "patch") -> RulePatch:
    """Validate a parsed patch document (numbers as ``Decimal`` or ``int``).

    Raises
    ------
    PatchError
        Naming ``where`` and every bad field.
    """
    loaded = load_object(_Patch(), data, where, PatchError)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return RulePatch(
        name=loaded["name"],
        description=loaded["description"],
        changes=tuple(loaded["changes"]),
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def load_patch(path: Path | str) -> RulePatch:
    """Read and validate a patch file.

    Raises
    ------
    PatchError
        The file is unreadable, not JSON, or invalid (every problem named).
    """
    return patch_from_dict(read_json(path, PatchError), str(path))


def _selected(catalog: Catalog, change: Mapping[str, Any]) -> tuple[list[Product], list[str]]:
    chosen = change["products"]
    problems = []
    if chosen != "*":
        problems = [
            f"products: unknown product code {code!r}"
            for code in chosen
            if not catalog.versions(code)
        ]
    pool = [p for p in catalog.products if chosen == "*" or p.code in chosen]
    if "grade_basis" in change:
        pool = [p for p in pool if p.grade_basis is change["grade_basis"]]
    if "sectors" in change:
        pool = [p for p in pool if any(s.value in change["sectors"] for s in p.sectors)]
    if "lenders" in change:
        pool = [p for p in pool if p.lender.code in change["lenders"]]
    if not pool and not problems:
        problems.append("products: the change selects no product")
    return pool, problems


def _minimum(product: Product, change: Mapping[str, Any]) -> str:
    wanted = change.get("minimum_grade")
    if isinstance(wanted, dict):
        wanted = wanted.get(product.grade_basis.value)
    return product.eligibility.minimum_grade if wanted is None else str(wanted)


def _grade_rows(product: Product, change: Mapping[str, Any], minimum: str) -> list[GradeTerms]:
    basis = product.grade_basis
    if minimum not in basis.grades:
        raise ValueError(f"minimum_grade: {minimum!r} is not a {basis.value} grade")
    grades = basis.grades[: basis.rank(minimum)]
    explicit: dict[str, Mapping[str, Any]] = change.get("grade_table", {})
    for grade in explicit:
        if grade not in grades:
            raise ValueError(f"grade_table.{grade}: not a {basis.value} grade down to {minimum}")
    factor = change.get("limit_multiplier_factor")
    delta = change.get("rate_discount_bp_delta", 0)
    rows = []
    for grade in grades:
        old = product.grade_terms(grade)
        given = explicit.get(grade, {})
        if old is None and not {"limit_multiplier", "rate_discount_bp"} <= given.keys():
            raise ValueError(
                f"grade_table.{grade}: a grade added by lowering the minimum needs "
                "limit_multiplier and rate_discount_bp"
            )
        multiplier = given.get("limit_multiplier", old.limit_multiplier if old else None)
        discount = given.get("rate_discount_bp", old.rate_discount_bp if old else 0)
        if grade not in explicit:
            if factor is not None:
                multiplier = (multiplier * factor).quantize(MULTIPLIER_QUANTUM, rounding=ROUND_DOWN)
            discount = max(0, discount + delta)
        rows.append(GradeTerms(grade, Decimal(multiplier), int(discount)))
    return rows


def _adjustments(product: Product, change: Mapping[str, Any]) -> tuple[Adjustment, ...]:
    wanted: dict[str, Mapping[str, Any]] = change.get("adjustments", {})
    known = {a.code for a in product.adjustments}
    for code in wanted:
        if code not in known:
            raise ValueError(f"adjustments.{code}: the product has no such adjustment")
    return tuple(
        replace(a, discount_bp=wanted[a.code]["discount_bp"]) if a.code in wanted else a
        for a in product.adjustments
    )


def _after_declines(product: Product, change: Mapping[str, Any], minimum: str) -> str:
    """The minimum grade once ``decline_grades`` are cut from the worst end of the table."""
    basis = product.grade_basis
    if minimum not in basis.grades:
        raise ValueError(f"minimum_grade: {minimum!r} is not a {basis.value} grade")
    grades = basis.grades[: basis.rank(minimum)]
    declined = set(change.get("decline_grades", ()))
    kept = [grade for grade in grades if grade not in declined]
    if not kept:
        raise ValueError(f"decline_grades: declines every grade of {product_label(product)}")
    if kept != list(grades[: len(kept)]):
        raise ValueError(
            f"decline_grades: would leave a gap in the grade table (keeps {', '.join(kept)})"
        )
    return kept[-1]


def _patched(product: Product, change: Mapping[str, Any]) -> Product:
    minimum = _after_declines(product, change, _minimum(product, change))
    eligibility = replace(
        product.eligibility,
        minimum_grade=minimum,
        max_pd=change.get("max_pd", product.eligibility.max_pd),
    )
    cap = change.get("max_total_discount_bp", product.max_total_discount_bp)
    return replace(
        product,
        grade_table=tuple(_grade_rows(product, change, minimum)),
        eligibility=eligibility,
        max_total_discount_bp=cap,
        adjustments=_adjustments(product, change),
    )


def apply_patch(catalog: Catalog, patch: RulePatch) -> Catalog:
    """The catalog with the patch applied (a new :class:`Catalog`; ``catalog`` is unchanged).

    Raises
    ------
    PatchError
        Listing every problem: unknown codes, changes selecting nothing, grades off the scale,
        and every catalog rule a patched product breaks.
    """
    by_key = {(p.code, p.version): p for p in catalog.products}
    problems: list[str] = []
    for index, change in enumerate(patch.changes):
        pool, issues = _selected(catalog, change)
        problems += [f"changes[{index}]: {issue}" for issue in issues]
        for product in pool:
            current = by_key[(product.code, product.version)]
            label = f"changes[{index}]: {product_label(current)}"
            try:
                updated = _patched(current, change)
            except ValueError as exc:
                problems.append(f"{label}: {exc}")
                continue
            found = check_product(updated, catalog.lpr)
            problems += [f"{label}: {field}: {message}" for field, message in found]
            by_key[(product.code, product.version)] = updated
    if problems:
        raise PatchError(f"patch {patch.name}: " + "; ".join(problems))
    digest = hashlib.sha256(f"{catalog.digest}\0{patch.digest}".encode()).hexdigest()
    ordered = tuple(sorted(by_key.values(), key=lambda p: (p.code, p.version)))
    return Catalog(products=ordered, lpr=catalog.lpr, digest=digest)
