"""``finance-engine products list | show | validate`` end to end through the CLI's error mapping.

The commands are mounted on a fresh group with ``register`` and run through ``run_cli``, the same
entry point (and exit-code mapping) the console script uses.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Invoke, cli_invoker

from finance_engine.cli.products import register
from products.catalog import DEFAULT_CATALOG_DIR


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str]) -> Invoke:
    return cli_invoker(capsys, register, prefix=("products",))


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    """The packaged catalog with one multiplier raised to 1.6 in cib-quzhou.json."""
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    path = directory / "cib-quzhou.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["products"][0]["grade_table"]["dark_green"]["limit_multiplier"] = "1.6"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return directory


def as_json(out: str) -> Any:
    return json.loads(out)


def test_validate_the_packaged_catalog(invoke: Invoke) -> None:
    code, out, _ = invoke("validate")
    assert code == 0
    assert out.startswith("45 products valid (48 versions from 11 lenders) in ")
    code, out, _ = invoke("validate", "--json")
    result = as_json(out)
    assert (code, result["valid"], result["products"], result["versions"]) == (0, True, 45, 48)
    assert len(result["digest"]) == 64


def test_validate_lists_every_error_and_exits_2(invoke: Invoke, broken_catalog: Path) -> None:
    code, out, err = invoke("validate", str(broken_catalog))
    assert (code, out) == (2, "")
    assert "is invalid (1 error):" in err
    assert (
        "cib-quzhou.json: product CIB-QZ-CLL v1: grade_table.dark_green.limit_multiplier: "
        "must be above 0 and at most 1.5 (the hard cap)"
    ) in err


def test_validate_json_reports_errors_as_records(invoke: Invoke, broken_catalog: Path) -> None:
    code, out, err = invoke("validate", str(broken_catalog), "--json")
    assert code == 2
    assert as_json(out)["errors"] == [
        {
            "file": "cib-quzhou.json",
            "product": "CIB-QZ-CLL v1",
            "field": "grade_table.dark_green.limit_multiplier",
            "message": "must be above 0 and at most 1.5 (the hard cap)",
        }
    ]
    assert "invalid (1 error)" in err


def test_list_filters_by_date_sector_and_lender(invoke: Invoke) -> None:
    _, out, _ = invoke("list", "--on", "2026-06-01", "--json")
    assert as_json(out)["count"] == 45
    _, out, _ = invoke("list", "--on", "2026-06-01", "--sector", "resident", "--json")
    assert [row["code"] for row in as_json(out)["products"]] == [
        "ABC-QZ-PCP", "BOC-QZ-GMORT", "CCB-QZ-NEV", "CCB-QZ-PCA",
        "JSRCB-PCP", "JSRCB-RPV", "QJRCB-PCP", "TLCB-QZ-PCP",
    ]  # fmt: skip
    _, out, _ = invoke("list", "--on", "2026-06-01", "--lender", "CIB-Quzhou", "--json")
    assert [row["code"] for row in as_json(out)["products"]] == [
        "CIB-QZ-CERF", "CIB-QZ-CLL", "CIB-QZ-EMC", "CIB-QZ-SLL",
    ]  # fmt: skip
    _, out, _ = invoke("list", "--all-versions", "--json")
    assert as_json(out)["count"] == 48


def test_list_as_text(invoke: Invoke) -> None:
    code, out, _ = invoke("list", "--on", "2026-06-01", "--lender", "cib-quzhou")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split() == [
        "CIB-QZ-CLL", "v1", "cib-quzhou", "industry", "x1.50", "-150", "bp",
        "Carbon-performance-linked", "loan",
    ]  # fmt: skip
    assert lines[-1] == "4 product version(s) in force on 2026-06-01"


def test_show_gives_terms_and_rates_on_a_date(invoke: Invoke) -> None:
    code, out, _ = invoke("show", "cib-qz-cll", "--on", "2026-06-01", "--json")
    detail = as_json(out)
    assert code == 0
    assert (detail["version_id"], detail["lender"]["code"]) == ("CIB-QZ-CLL@v1", "cib-quzhou")
    # 1y LPR 3.00 + 200 bp = 5.00%; largest discount 150 bp (capped) -> 3.50%
    assert (detail["reference_rate_pct"], detail["lowest_rate_pct"]) == ("5.00", "3.50")
    assert detail["grade_table"]["dark_green"] == {
        "limit_multiplier": "1.50",
        "rate_discount_bp": 140,
    }
    assert detail["illustrative"] is True


def test_show_picks_the_version_in_force(invoke: Invoke) -> None:
    _, out, _ = invoke("show", "ICBC-QZ-IND-CRL", "--on", "2025-01-15", "--json")
    detail = as_json(out)
    # v1 on 2025-01-15: 1y LPR 3.10 (2024-10-21 fixing) + 80 bp = 3.90%
    assert (detail["version"], detail["reference_rate_pct"]) == (1, "3.90")
    code, out, _ = invoke("show", "ICBC-QZ-IND-CRL", "--version", "2")
    assert code == 0
    assert out.startswith("ICBC-QZ-IND-CRL@v2  工业减碳贷 / Industrial carbon-reduction loan")
    assert "illustrative: modelled on public reports" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "NOPE"), "error: unknown product code 'NOPE'"),
        (("show", "ICBC-QZ-IND-CRL", "--on", "2024-01-01"), "no version in force on 2024-01-01"),
        (("show", "ICBC-QZ-IND-CRL", "--version", "9"), "has no version 9"),
        (("list", "--sector", "shipping"), "Invalid value for '--sector'"),
    ],
)
def test_bad_requests_exit_2_with_one_line(
    invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert message in err


def test_list_refuses_a_broken_catalog(invoke: Invoke, broken_catalog: Path) -> None:
    code, _, err = invoke("list", "--catalog", str(broken_catalog))
    assert code == 2
    assert "CIB-QZ-CLL v1: grade_table.dark_green.limit_multiplier" in err
