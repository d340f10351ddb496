"""Report content: required account fields, headline figures, emissions rows, the JSON data."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from typing import Any

import pytest
from report_helpers import ISSUED, ContentFactory

from reports import Lang, MonthlySeries, ReportDataError, ReportMeta
from reports.content import energy_scope, yoy_change_pct

TOTAL_TCO2E = 4638.9904533  # examples/industry.json under CN-2023 (account calc)


def test_a_missing_account_field_is_named(
    make_content: ContentFactory, example_account: dict[str, Any]
) -> None:
    account = copy.deepcopy(example_account)
    del account["emissions_tco2e"]["scope2"]
    with pytest.raises(ReportDataError, match=r"account\.emissions_tco2e\.scope2: missing"):
        make_content(account=account)
    account = copy.deepcopy(example_account)
    del account["grade"]
    with pytest.raises(ReportDataError, match=r"account\.grade: missing"):
        make_content(account=account)


def test_summary_puts_intensity_beside_benchmark_and_last_year(
    make_content: ContentFactory,
) -> None:
    summary = make_content().summary()
    intensity = TOTAL_TCO2E / 5000  # tCO2 per 10k yuan value added
    assert summary["intensity"] == pytest.approx(intensity)
    assert summary["benchmark"] == 1.10
    assert summary["previous_intensity"] == 1.02
    assert summary["yoy_change_pct"] == pytest.approx((intensity / 1.02 - 1) * 100)
    assert summary["colour"] == "dark_green"
    assert summary["carbon_efficiency_grade"] == 3
    assert summary["k"] == pytest.approx(intensity / 1.10)


def test_emissions_rows_carry_scope_and_share_largest_first(make_content: ContentFactory) -> None:
    rows = make_content().emissions_rows()
    by_type = {r["source"]: r for r in rows}
    assert rows[0]["source"] == "raw_coal"
    assert by_type["raw_coal"]["scope"] == "scope1"
    assert by_type["electricity"]["scope"] == "scope2"
    assert by_type["electricity"]["emissions_tco2e"] == pytest.approx(1800 * 0.5306)
    assert by_type["raw_coal"]["share"] == pytest.approx(1900.2988488 / TOTAL_TCO2E)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert [r["emissions_tco2e"] for r in rows] == sorted(
        (r["emissions_tco2e"] for r in rows), reverse=True
    )


def test_report_data_is_plain_json_that_round_trips(make_content: ContentFactory) -> None:
    data = make_content().to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["format"] == "finance-engine/carbon-credit-report@1"
    assert data["report"]["number"] == "CCR-20250701-TEST0001"
    assert data["report"]["issued_at"] == "2025-07-01T10:30:00+08:00"
    assert data["versions"]["factor_set"] == "CN-2023"
    assert data["versions"]["benchmark"] == "example"
    assert data["products"]["offers"][0]["indicative_rate_pct"] == "3.40"
    assert len(data["monthly"]["months"]) == 12
    assert data["alerts"][0]["kind"] == "over_consumption"


def test_sector_accounts_list_non_energy_sources_and_sinks_last(
    make_content: ContentFactory, example_account: dict[str, Any]
) -> None:
    account = copy.deepcopy(example_account)
    em = account["emissions_tco2e"]
    em["by_source"] = {
        **em["by_energy"],
        "manure_ch4:pig/solid_storage": 34.5,
        "forest_sink": -100.0,
    }
    em["total"] += 34.5
    em["scope1"] += 34.5
    em["net"] = em["total"] - 100.0
    rows = make_content(account=account).emissions_rows()
    assert rows[-1] == {
        "source": "forest_sink",
        "scope": "sink",
        "emissions_tco2e": -100.0,
        "share": None,
    }
    manure = next(r for r in rows if r["source"].startswith("manure_ch4"))
    assert manure["scope"] == "scope1"
    assert manure["share"] == pytest.approx(34.5 / em["total"])
    assert sum(r["share"] for r in rows if r["share"] is not None) == pytest.approx(1.0)
    data = make_content(account=account).to_dict()
    assert data["emissions"]["net_tco2e"] == pytest.approx(em["total"] - 100.0)


def test_a_declared_only_account_has_no_monthly_series(make_content: ContentFactory) -> None:
    data = make_content(monthly=MonthlySeries(months=())).to_dict()
    assert data["monthly"] == {"available": False, "declared_tco2e": 0.0, "months": []}


def test_meta_refuses_a_naive_time_and_an_expiry_before_issue() -> None:
    fields: dict[str, Any] = {
        "report_number": "N",
        "verification_code": "C",
        "valid_until": date(2025, 9, 29),
        "issuer": "I",
        "verify_url": "http://x/C",
        "lang": Lang.ZH,
        "signer_name": "S",
    }
    with pytest.raises(ReportDataError, match="issued_at: must be timezone-aware"):
        ReportMeta(issued_at=datetime(2025, 7, 1, 10, 30), **fields)
    with pytest.raises(ReportDataError, match="valid_until: precedes"):
        ReportMeta(issued_at=ISSUED, **{**fields, "valid_until": date(2025, 6, 30)})


def test_scope_of_sources_and_year_on_year_change() -> None:
    assert energy_scope("natural_gas") == "scope1"
    assert energy_scope("steam") == "scope2"
    assert energy_scope("renewable_self_consumed") == "none"
    assert energy_scope("enteric_ch4:pig", 135.0) == "scope1"
    assert energy_scope("orchard_sink", -231.0) == "sink"
    assert yoy_change_pct(0.9, 1.0) == pytest.approx(-10.0)
    assert yoy_change_pct(0.9, None) is None
