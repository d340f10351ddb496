"""Rule patches (``finance-engine/rule-patch@1``): what each change does, and what is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from backtest_builders import CATALOG

from products.model import GradeBasis
from scoring.backtest import PatchError, apply_patch, load_patch, patch_from_dict


def patch(*changes: dict[str, Any], name: str = "test") -> Any:
    return patch_from_dict(
        {"format": "finance-engine/rule-patch@1", "name": name, "changes": list(changes)}
    )


def grades(catalog: Any, code: str) -> dict[str, tuple[Decimal, int]]:
    product = catalog.get(code)
    return {row.grade: (row.limit_multiplier, row.rate_discount_bp) for row in product.grade_table}


def test_declining_red_cuts_red_from_every_colour_product_and_leaves_the_rest() -> None:
    patched = apply_patch(CATALOG, patch({"products": "*", "decline_grades": ["red"]}))
    for product in patched.products:
        before = CATALOG.get(product.code, on=product.effective_from)
        if product.grade_basis is GradeBasis.COLOUR and before.eligibility.minimum_grade == "red":
            assert product.eligibility.minimum_grade == "yellow"
            assert product.grade_terms("red") is None
        else:
            assert product.grade_table == before.grade_table
    assert CATALOG.get("ABC-QZ-ESR").grade_terms("red") is not None  # the champion is unchanged


def test_a_minimum_grade_per_scale_applies_to_the_products_of_that_scale() -> None:
    patched = apply_patch(
        CATALOG, patch({"products": "*", "minimum_grade": {"carbon_efficiency": "2"}})
    )
    assert list(grades(patched, "CCB-QZ-CEL")) == ["1", "2"]
    assert grades(patched, "CIB-QZ-CLL") == grades(CATALOG, "CIB-QZ-CLL")


def test_lowering_the_minimum_grade_needs_terms_for_the_grades_added() -> None:
    with pytest.raises(PatchError) as caught:
        apply_patch(CATALOG, patch({"products": ["CIB-QZ-CLL"], "minimum_grade": "red"}))
    assert "changes[0]: CIB-QZ-CLL v1: grade_table.red: a grade added" in str(caught.value)
    lowered = apply_patch(
        CATALOG,
        patch(
            {
                "products": ["CIB-QZ-CLL"],
                "minimum_grade": "red",
                "grade_table": {"red": {"limit_multiplier": "1.00", "rate_discount_bp": 0}},
            }
        ),
    )
    assert grades(lowered, "CIB-QZ-CLL")["red"] == (Decimal("1.00"), 0)
    assert lowered.get("CIB-QZ-CLL").eligibility.minimum_grade == "red"


def test_a_factor_and_a_delta_change_the_grades_not_set_explicitly() -> None:
    change = {
        "products": ["ICBC-QZ-IND-CRL"],
        "limit_multiplier_factor": "0.9",
        "rate_discount_bp_delta": -20,
        "grade_table": {"dark_green": {"rate_discount_bp": 70}},
    }
    patched = apply_patch(CATALOG, patch(change))
    assert grades(patched, "ICBC-QZ-IND-CRL") == {
        "dark_green": (Decimal("1.50"), 70),  # set explicitly: left alone by factor and delta
        "light_green": (Decimal("1.17"), 20),  # 1.30 x 0.9 = 1.17; 40 - 20
        "yellow": (Decimal("0.99"), 0),  # 1.10 x 0.9 = 0.99; 15 - 20 floored at 0
    }
    assert {p.version for p in patched.versions("ICBC-QZ-IND-CRL")} == {1, 2}
    assert grades(patched, "ICBC-QZ-IND-CRL") == {
        row.grade: (row.limit_multiplier, row.rate_discount_bp)
        for row in patched.versions("ICBC-QZ-IND-CRL")[0].grade_table
    }  # every version is changed


def test_pd_cut_offs_caps_and_adjustments_change() -> None:
    change = {
        "products": ["CIB-QZ-CLL"],
        "max_pd": "0.025",
        "max_total_discount_bp": None,
        "adjustments": {"YOY-CUT-5": {"discount_bp": 5}},
    }
    product = apply_patch(CATALOG, patch(change)).get("CIB-QZ-CLL")
    assert product.eligibility.max_pd == Decimal("0.025")
    assert product.max_total_discount_bp is None
    assert [a.discount_bp for a in product.adjustments] == [5]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "products": ["CIB-QZ-CLL"],
                "grade_table": {"dark_green": {"limit_multiplier": "1.6"}},
            },
            "changes[0]: CIB-QZ-CLL v1: grade dark_green: limit_multiplier 1.6 outside (0, 1.5]",
        ),
        (
            {"products": ["ICBC-QZ-IND-CRL"], "rate_discount_bp_delta": 200},
            "changes[0]: ICBC-QZ-IND-CRL v2: rate.floor_rate_pct: the largest total discount",
        ),
        (
            {"products": ["NO-SUCH"], "max_pd": "0.03"},
            "changes[0]: products: unknown product code 'NO-SUCH'",
        ),
        (
            {"products": "*", "sectors": ["resident"], "grade_basis": "colour"},
            "changes[0]: products: the change selects no product",
        ),
        (
            {"products": ["CIB-QZ-CLL"], "adjustments": {"NOPE": {"discount_bp": 1}}},
            "adjustments.NOPE: the product has no such adjustment",
        ),
        (
            {"products": ["CIB-QZ-CLL"], "decline_grades": ["light_green"]},
            "decline_grades: would leave a gap in the grade table",
        ),
        (
            {"products": ["CIB-QZ-CLL"], "minimum_grade": "3"},
            "minimum_grade: '3' is not a colour grade",
        ),
    ],
)
def test_a_change_breaking_a_catalog_rule_is_refused_naming_it(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PatchError) as caught:
        apply_patch(CATALOG, patch(change))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format": "x", "name": "n", "changes": [{"products": "*"}]}, "format: Must be equal"),
        ({"format": "finance-engine/rule-patch@1", "name": "n", "changes": []}, "changes:"),
        (
            {
                "format": "finance-engine/rule-patch@1",
                "name": "n",
                "changes": [{"products": "*", "max_pdd": "0.1"}],
            },
            "changes[0].max_pdd: Unknown field",
        ),
        (
            {"format": "finance-engine/rule-patch@1", "name": "n", "changes": [{"products": 3}]},
            "products:",
        ),
    ],
)
def test_a_malformed_patch_is_refused_naming_the_field(document: Any, message: str) -> None:
    with pytest.raises(PatchError, match="patch: ") as caught:
        patch_from_dict(document)
    assert message in str(caught.value)


def test_a_patch_file_is_read_and_its_digest_is_stable(tmp_path: Path) -> None:
    document = {
        "format": "finance-engine/rule-patch@1",
        "name": "tighter",
        "description": "PD cut-off 3% everywhere",
        "changes": [{"products": "*", "max_pd": 0.03}],
    }
    path = tmp_path / "patch.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    first, again = load_patch(path), load_patch(path)
    assert first.digest == again.digest
    assert len(first.digest) == 64
    patched = apply_patch(CATALOG, first)
    assert {p.eligibility.max_pd for p in patched.products} == {Decimal("0.03")}
    assert patched.digest not in ("", CATALOG.digest)
    assert apply_patch(CATALOG, again).digest == patched.digest


def test_an_unreadable_patch_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="cannot read"):
        load_patch(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(PatchError, match="invalid JSON"):
        load_patch(bad)
