"""Benchmarks: median/percentile per group, fallback levels, versions, files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from accounting.benchmarks import (
    BenchmarkError,
    BenchmarkSet,
    aggregate_intensity_by_group,
    compute_benchmarks,
    group_percentile,
    load_benchmark_set,
    save_benchmark_set,
)

VA = "tco2_per_10k_yuan_value_added"

# A hand-built population (t CO2 per 10k yuan value added):
#   C26 in kecheng: 1 2 3 4 5      (n = 5: its own benchmark)
#   C26 in qujiang: 10 20          (n = 2: falls back to C26-wide: 1 2 3 4 5 10 20)
#   C30 in kecheng: 7 8 9          (n = 3, and C30-wide n = 3: falls back to the sector)
#   sector-wide: 1 2 3 4 5 7 8 9 10 20 (n = 10)
INDUSTRY = ["C26"] * 7 + ["C30"] * 3
REGION = ["kecheng"] * 5 + ["qujiang"] * 2 + ["kecheng"] * 3
VALUES = [1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 7.0, 8.0, 9.0]


@pytest.fixture(scope="module")
def medians() -> BenchmarkSet:
    return compute_benchmarks("industry", INDUSTRY, REGION, VA, VALUES, period="2023")


def test_median_of_a_group_with_enough_accounts(medians: BenchmarkSet) -> None:
    found = medians.lookup("industry", "C26", "kecheng", VA)
    assert found is not None
    assert (found.value, found.n, found.level) == (3.0, 5, "industry_region")
    assert found.version == medians.version


def test_small_group_falls_back_to_the_industry(medians: BenchmarkSet) -> None:
    found = medians.lookup("industry", "C26", "qujiang", VA)
    assert found is not None
    assert (found.value, found.n, found.level) == (4.0, 7, "industry")  # median of 7 values
    assert found.key == ("industry", "C26", "*", VA)


def test_small_industry_falls_back_to_the_sector(medians: BenchmarkSet) -> None:
    found = medians.lookup("industry", "C30", "kecheng", VA)
    assert found is not None
    assert (found.value, found.n, found.level) == ((5.0 + 7.0) / 2, 10, "sector")
    assert medians.lookup("industry", "C99", "anywhere", VA) == found


def test_no_benchmark_for_another_sector_or_metric(medians: BenchmarkSet) -> None:
    assert medians.lookup("energy", "D44", "kecheng", VA) is None
    assert medians.lookup("industry", "C26", "kecheng", "tco2_per_mwh_supplied") is None


def test_configured_percentile_uses_linear_interpolation() -> None:
    p25 = compute_benchmarks("industry", INDUSTRY, REGION, VA, VALUES, period="2023", percentile=25)
    assert p25.method == "p25"
    # C26/kecheng 1..5: position 0.25 x 4 = 1 -> 2.0; C26-wide (7 values): 0.25 x 6 = 1.5 -> 2.5
    assert p25.values[("industry", "C26", "kecheng", VA)].value == 2.0
    assert p25.values[("industry", "C26", "*", VA)].value == 2.5


def test_min_n_is_configurable() -> None:
    loose = compute_benchmarks("industry", INDUSTRY, REGION, VA, VALUES, period="2023", min_n=2)
    found = loose.lookup("industry", "C26", "qujiang", VA)
    assert found is not None
    assert (found.value, found.level) == (15.0, "industry_region")


def test_group_percentile_equals_numpy_per_group() -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 40, 3000).astype(np.int64)
    values = rng.lognormal(0, 1, 3000)
    for q in (10.0, 50.0, 90.0):
        groups, counts, result = group_percentile(codes, values, q)
        for g, c, r in zip(groups, counts, result, strict=True):
            members = values[codes == g]
            assert c == len(members)
            assert r == pytest.approx(np.percentile(members, q), rel=1e-12)


def test_missing_or_negative_intensities_are_left_out() -> None:
    values = [1.0, 2.0, 3.0, np.nan, -1.0, 4.0, 5.0]
    bs = compute_benchmarks("industry", "C26", "kecheng", VA, values, period="2023")
    found = bs.lookup("industry", "C26", "kecheng", VA)
    assert found is not None
    assert (found.value, found.n) == (3.0, 5)


def test_version_is_deterministic_and_follows_the_content(medians: BenchmarkSet) -> None:
    again = compute_benchmarks("industry", INDUSTRY, REGION, VA, VALUES, period="2023")
    assert again.version == medians.version
    assert again == medians
    assert medians.version.startswith("BM-2023-median-")
    assert len(medians.version) == 23
    other = compute_benchmarks(
        "industry", INDUSTRY, REGION, VA, [v * 1.01 for v in VALUES], period="2023"
    )
    assert other.version != medians.version


def test_lookup_many_equals_lookup_per_entity(medians: BenchmarkSet) -> None:
    industries = np.array(["C26", "C26", "C30", "C99", "C26"])
    regions = np.array(["kecheng", "qujiang", "kecheng", "x", "kecheng"])
    values, levels = medians.lookup_many("industry", industries, regions, VA)
    for j in range(len(industries)):
        found = medians.lookup("industry", str(industries[j]), str(regions[j]), VA)
        assert found is not None
        assert values[j] == found.value
        assert levels[j] == ("industry_region", "industry", "sector").index(found.level)
    none_values, none_levels = medians.lookup_many("energy", industries, regions, VA)
    assert np.isnan(none_values).all()
    assert (none_levels == -1).all()


def test_save_and_load_round_trip(tmp_path: Path, medians: BenchmarkSet) -> None:
    path = tmp_path / "bm.json"
    save_benchmark_set(medians, path)
    loaded = load_benchmark_set(path)
    assert loaded == medians
    assert loaded.values == medians.values
    assert loaded.lookup("industry", "C30", "kecheng", VA) == medians.lookup(
        "industry", "C30", "kecheng", VA
    )


def test_loaded_file_with_unknown_key_names_file_and_field(
    tmp_path: Path, medians: BenchmarkSet
) -> None:
    content = json.loads(json.dumps(dict(medians.content)))
    content["values"][1]["weight"] = 2
    path = tmp_path / "official.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(
        BenchmarkError, match=r"^official.json: values\[1\].weight: Unknown field.$"
    ):
        load_benchmark_set(path)


def test_a_published_file_without_counts_is_used_as_is(tmp_path: Path) -> None:
    content = {
        "version": "ZJ-2023-published",
        "method": "published average",
        "percentile": 50,
        "period": "2023",
        "min_n": 5,
        "source": "example file written by this test",
        "values": [
            {
                "sector": "industry",
                "industry_code": "C26",
                "region": "*",
                "metric": VA,
                "value": 2.5,
                "n": None,
                "source": "test",
            }
        ],
    }
    path = tmp_path / "published.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    found = load_benchmark_set(path).lookup("industry", "C26", "kecheng", VA)
    assert found is not None
    assert (found.value, found.level, found.n) == (2.5, "industry", None)


def test_regional_aggregate_intensity_is_sum_over_sum() -> None:
    groups = ["a", "a", "b", "b", "b"]
    emissions = [10.0, 30.0, 5.0, 5.0, 100.0]
    value_added = [10.0, 10.0, 5.0, 5.0, np.nan]  # the last has no value added: left out
    # a: 40 / 20 = 2.0; b: 10 / 10 = 1.0
    assert aggregate_intensity_by_group(groups, emissions, value_added).tolist() == [2, 2, 1, 1, 1]
