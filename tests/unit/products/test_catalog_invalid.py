"""Bad catalogs are refused with errors that name the file, the product and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from product_docs import Document, valid_document, valid_product

from products.catalog import load_catalog
from products.errors import CatalogError, CatalogIssue

MakeDir = Callable[[dict[str, Document]], Path]


def issues_of(directory: Path) -> tuple[CatalogIssue, ...]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    return caught.value.issues


def with_value(document: Document, dotted: str, value: Any) -> Document:
    """A copy of ``document`` with the value at ``dotted`` (keys split on ".") replaced."""
    changed = copy.deepcopy(document)
    *parents, last = dotted.split(".")
    node = changed
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return changed


def one_issue(directory: Path) -> CatalogIssue:
    issues = issues_of(directory)
    assert len(issues) == 1, [str(issue) for issue in issues]
    return issues[0]


PRODUCT_FIELD_CASES = [
    # (dotted path in the product, new value, field named in the error, message fragment)
    ("colour_table", {}, "colour_table", "Unknown field"),
    ("grade_table.dark_green.bonus_bp", 5, "grade_table.dark_green.bonus_bp", "Unknown field"),
    ("rate.cap_pct", "9", "rate.cap_pct", "Unknown field"),
    (
        "grade_table.dark_green.limit_multiplier",
        "1.51",
        "grade_table.dark_green.limit_multiplier",
        "at most 1.5",
    ),
    (
        "grade_table.dark_green.limit_multiplier",
        "0",
        "grade_table.dark_green.limit_multiplier",
        "above 0",
    ),
    (
        "grade_table.light_green.rate_discount_bp",
        -5,
        "grade_table.light_green.rate_discount_bp",
        "greater than or equal to 0",
    ),
    (
        "grade_table.light_green.rate_discount_bp",
        20.5,
        "grade_table.light_green.rate_discount_bp",
        "integer",
    ),
    ("min_amount_yuan", "100000.001", "min_amount_yuan", "at most 2 decimal places"),
    ("sectors", ["industry", "shipping"], "sectors[1]", "Must be one of"),
    ("grade_basis", "stars", "grade_basis", "Must be one of"),
    (
        "adjustments.0.condition.metric",
        "profit_pct",
        "adjustments[0].condition.metric",
        "Must be one of",
    ),
    (
        "adjustments.0.condition.value",
        "150",
        "adjustments[0].condition.value",
        "outside the range of intensity_cut_yoy_pct",
    ),
    ("eligibility.max_pd", "1.2", "eligibility.max_pd", "less than or equal to 1"),
    ("eligibility.max_quality_tier", 6, "eligibility.max_quality_tier", "Must be one of"),
    (
        "eligibility.excluded_industries",
        ["3011"],
        "eligibility.excluded_industries[0]",
        "not a GB/T 4754 code prefix",
    ),
    ("eligibility.provisional_grade", "maybe", "eligibility.provisional_grade", "Must be one of"),
    ("code", "test loan", "code", "not a code"),
    ("cerf_eligible", "yes", "cerf_eligible", "boolean"),
    ("effective_from", "2025-02-30", "effective_from", "date"),
]


@pytest.mark.parametrize(("dotted", "value", "field", "fragment"), PRODUCT_FIELD_CASES)
def test_a_bad_product_field_is_named_with_file_and_product(
    catalog_dir: MakeDir, dotted: str, value: Any, field: str, fragment: str
) -> None:
    product = with_value(valid_product(), dotted, value)
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert (issue.file, issue.field) == ("bank.json", field)
    assert issue.product == f"{product['code']} v1"
    assert fragment in issue.message


RULE_CASES = [
    # cross-field rules checked after the schema
    ({"min_amount_yuan": "2000000.00"}, "max_amount_yuan", "below min_amount_yuan"),
    ({"min_term_months": 48}, "max_term_months", "below min_term_months"),
    ({"max_term_months": 84}, "rate.lpr_tenor", "use 5y"),
    (
        {"rate": {"lpr_tenor": "5y", "spread_bp": 100, "floor_rate_pct": "3.00"}},
        "rate.lpr_tenor",
        "use 1y",
    ),
    ({"effective_to": "2025-05-01"}, "effective_to", "precedes effective_from"),
    ({"sectors": ["industry", "industry"]}, "sectors", "twice"),
    ({"sectors": ["resident"]}, "sectors", "resident accounts carry no colour grade"),
    ({"cerf_eligible": True}, "cerf_category", "required when cerf_eligible is true"),
    ({"cerf_category": "clean_energy"}, "cerf_category", "only allowed when cerf_eligible"),
    ({"max_total_discount_bp": 40}, "max_total_discount_bp", "below the largest grade discount"),
    ({"effective_from": "2019-01-01"}, "effective_from", "no LPR fixing on or before 2019-01-01"),
]


@pytest.mark.parametrize(("changes", "field", "fragment"), RULE_CASES)
def test_a_broken_rule_is_named_with_file_product_and_field(
    catalog_dir: MakeDir, changes: dict[str, Any], field: str, fragment: str
) -> None:
    issue = one_issue(catalog_dir({"bank.json": valid_document(valid_product(**changes))}))
    assert (issue.file, issue.product, issue.field) == ("bank.json", "TEST-LOAN v1", field)
    assert fragment in issue.message


def test_a_grade_outside_the_scale_is_refused(catalog_dir: MakeDir) -> None:
    product = with_value(
        valid_product(),
        "grade_table.green",
        {
            "limit_multiplier": "1.10",
            "rate_discount_bp": 10,
        },
    )
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert issue.field == "grade_table.green"
    assert "not a colour grade" in issue.message


def test_every_grade_down_to_the_minimum_needs_terms(catalog_dir: MakeDir) -> None:
    product = with_value(valid_product(), "eligibility.minimum_grade", "yellow")
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert issue.field == "grade_table"
    assert "missing yellow" in issue.message


def test_a_grade_worse_than_the_minimum_is_refused(catalog_dir: MakeDir) -> None:
    product = with_value(
        valid_product(),
        "grade_table.red",
        {
            "limit_multiplier": "1.00",
            "rate_discount_bp": 0,
        },
    )
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert issue.field == "grade_table.red"
    assert "worse than the minimum grade light_green" in issue.message


def test_a_worse_grade_may_not_earn_better_terms(catalog_dir: MakeDir) -> None:
    product = with_value(
        valid_product(),
        "grade_table.light_green",
        {
            "limit_multiplier": "1.50",
            "rate_discount_bp": 55,
        },
    )
    issues = issues_of(catalog_dir({"bank.json": valid_document(product)}))
    assert [issue.field for issue in issues] == ["grade_table.light_green.rate_discount_bp"]
    assert "exceeds the better grade dark_green's 50" in issues[0].message


def test_a_discount_that_can_pass_the_floor_is_refused(catalog_dir: MakeDir) -> None:
    # 3.00 (1y LPR from 2025-05-20) + 1.00 - (0.50 + 0.10) = 3.40% < 3.50%
    product = with_value(valid_product(), "rate.floor_rate_pct", "3.50")
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert (issue.product, issue.field) == ("TEST-LOAN v1", "rate.floor_rate_pct")
    assert "largest total discount 60 bp" in issue.message
    assert "3.40%" in issue.message
    assert "below the floor 3.50%" in issue.message


def test_the_floor_is_checked_against_every_lpr_fixing_in_force(catalog_dir: MakeDir) -> None:
    # Launched 2024-11-01 at 1y LPR 3.10: 3.10 + 0.50 - 0.60 = 3.00, on the floor. The May 2025
    # fixing (3.00) takes the same product to 2.90%, so it breaches once it runs past 2025-05-19.
    product = valid_product(
        rate={"lpr_tenor": "1y", "spread_bp": 50, "floor_rate_pct": "3.00"},
        effective_from="2024-11-01",
        effective_to="2025-12-31",
    )
    issue = one_issue(catalog_dir({"bank.json": valid_document(product)}))
    assert issue.field == "rate.floor_rate_pct"
    assert "fixing of 2025-05-20" in issue.message
    assert "down to 2.90%" in issue.message

    before_cut = with_value(product, "effective_to", "2025-05-19")
    assert len(load_catalog(catalog_dir({"bank.json": valid_document(before_cut)})).products) == 1


def test_a_total_discount_cap_keeps_the_rate_above_the_floor(catalog_dir: MakeDir) -> None:
    # uncapped 60 bp gives 3.40% < 3.45%; capped at 55 bp gives exactly 3.45%
    product = valid_product(
        rate={"lpr_tenor": "1y", "spread_bp": 100, "floor_rate_pct": "3.45"},
        max_total_discount_bp=55,
    )
    catalog = load_catalog(catalog_dir({"bank.json": valid_document(product)}))
    assert catalog.products[0].largest_discount_bp == 55
    uncapped = with_value(product, "max_total_discount_bp", None)
    assert one_issue(catalog_dir({"bank.json": valid_document(uncapped)})).field == (
        "rate.floor_rate_pct"
    )


def test_overlapping_versions_of_one_code_are_refused(catalog_dir: MakeDir) -> None:
    first = valid_product(effective_from="2025-06-01", effective_to="2025-12-31")
    second = valid_product(version=2, effective_from="2025-12-31")
    issue = one_issue(catalog_dir({"bank.json": valid_document(first, second)}))
    assert (issue.product, issue.field) == ("TEST-LOAN v2", "effective_from")
    assert "overlaps v1 (2025-06-01..2025-12-31, bank.json)" in issue.message


def test_back_to_back_versions_are_accepted(catalog_dir: MakeDir) -> None:
    first = valid_product(effective_from="2025-06-01", effective_to="2025-12-31")
    second = valid_product(version=2, effective_from="2026-01-01")
    catalog = load_catalog(catalog_dir({"bank.json": valid_document(first, second)}))
    assert [p.version_id for p in catalog.products] == ["TEST-LOAN@v1", "TEST-LOAN@v2"]


def test_a_higher_version_must_start_later(catalog_dir: MakeDir) -> None:
    first = valid_product(effective_from="2026-01-01", effective_to="2026-12-31")
    second = valid_product(version=2, effective_from="2025-06-01", effective_to="2025-12-31")
    issue = one_issue(catalog_dir({"bank.json": valid_document(first, second)}))
    assert (issue.product, issue.field) == ("TEST-LOAN v2", "effective_from")
    assert "a higher version must start later" in issue.message


def test_a_duplicate_code_and_version_is_refused_naming_both_files(catalog_dir: MakeDir) -> None:
    early = valid_product(effective_to="2025-12-31")
    late = valid_product(effective_from="2026-01-01")
    issues = issues_of(
        catalog_dir({"a.json": valid_document(early), "b.json": valid_document(late)})
    )
    assert [(i.file, i.product, i.field) for i in issues] == [("b.json", "TEST-LOAN v1", "version")]
    assert "also defined in a.json" in issues[0].message


def test_a_code_belongs_to_one_lender(catalog_dir: MakeDir) -> None:
    mine = valid_product(effective_to="2025-12-31")
    theirs = valid_product(version=2, effective_from="2026-01-01")
    files = {"a.json": valid_document(mine), "b.json": valid_document(theirs, lender="other-bank")}
    issue = one_issue(catalog_dir(files))
    assert (issue.file, issue.product, issue.field) == ("b.json", "TEST-LOAN v2", "code")
    assert "already a product of test-bank (a.json)" in issue.message


def test_file_level_problems_are_named(catalog_dir: MakeDir) -> None:
    document = valid_document()
    document["owner"] = "x"
    document["illustrative"] = "yes"
    del document["lender"]["name_en"]
    issues = issues_of(catalog_dir({"bank.json": document}))
    assert {(i.file, i.product, i.field) for i in issues} == {
        ("bank.json", None, "owner"),
        ("bank.json", None, "illustrative"),
        ("bank.json", None, "lender.name_en"),
    }


def test_a_product_that_is_not_an_object_is_named_by_position(catalog_dir: MakeDir) -> None:
    document = valid_document()
    document["products"].append("oops")
    issue = one_issue(catalog_dir({"bank.json": document}))
    assert (issue.product, issue.field) == ("products[1]", "(product)")


def test_invalid_json_names_the_file(catalog_dir: MakeDir, tmp_path: Path) -> None:
    directory = catalog_dir({"good.json": valid_document()})
    (directory / "bad.json").write_text('{"format": ', encoding="utf-8")
    issue = one_issue(directory)
    assert (issue.file, issue.field) == ("bad.json", "(file)")
    assert "invalid JSON" in issue.message


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    issue = one_issue(tmp_path)
    assert issue.field == "(directory)"
    assert "no product files" in issue.message


def test_all_errors_are_collected_into_one_error(catalog_dir: MakeDir) -> None:
    broken = [
        valid_product(code="LOAN-A", extra=1),
        with_value(valid_product(code="LOAN-B"), "grade_table.dark_green.limit_multiplier", "2"),
        with_value(valid_product(code="LOAN-C"), "rate.floor_rate_pct", "3.90"),
    ]
    files = {"one.json": valid_document(*broken), "two.json": {**valid_document(), "x": 1}}
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_dir(files))
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("is invalid (4 errors):")
    assert lines[1:] == [
        "  one.json: product LOAN-A v1: extra: Unknown field.",
        "  one.json: product LOAN-B v1: grade_table.dark_green.limit_multiplier: must be above 0 "
        "and at most 1.5 (the hard cap)",
        "  one.json: product LOAN-C v1: rate.floor_rate_pct: the largest total discount 60 bp "
        "takes the reference rate 1y LPR 3.00% (fixing of 2025-05-20) +100 bp = 4.00% down to "
        "3.40%, below the floor 3.90%",
        "  two.json: x: Unknown field.",
    ]
