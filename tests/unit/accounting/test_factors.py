"""Factor sets: published values, effective dating, validation, exact reproduction."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accounting.factors import (
    DEFAULT_FACTOR_SET_DIR,
    FactorSetError,
    FactorSetRegistry,
    canonical_sha256,
    factor_set_from_content,
    load_factor_set,
    load_factor_set_dir,
)


def _content(version: str = "CN-2022") -> dict[str, Any]:
    text = (DEFAULT_FACTOR_SET_DIR / f"{version}.json").read_text(encoding="utf-8")
    content: dict[str, Any] = json.loads(text)
    return content


def _write(directory: Path, content: dict[str, Any]) -> Path:
    path = directory / f"{content['version']}.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- published values


@pytest.mark.parametrize(
    ("fuel", "implied_ef_per_unit"),
    [
        # domain.md §2.1 "Implied EF" column: tCO2/t (natural gas: kg/m3 = tCO2 per 1000 m3)
        ("raw_coal", 1.900),
        ("coke", 2.860),
        ("diesel", 3.096),
        ("gasoline", 2.925),
        ("fuel_oil", 3.171),
        ("lpg", 3.101),
    ],
)
def test_fuel_factors_match_the_implied_factors_of_the_table(
    fuel: str, implied_ef_per_unit: float
) -> None:
    fs = load_factor_set_dir().get("CN-2023")
    value, used = fs.factor(fuel)
    assert value == pytest.approx(implied_ef_per_unit, rel=1e-3)
    assert used.unit == "tCO2/t"
    assert "GB/T 32150" in used.source


def test_raw_coal_factor_is_the_hand_calculation() -> None:
    fs = load_factor_set_dir().get("CN-2021")
    # NCV 20.908 GJ/t x CC 26.37 tC/TJ x 1e-3 TJ/GJ x OF 0.94 x 44/12
    assert fs.factor("raw_coal")[0] == pytest.approx(20.908 * 26.37e-3 * 0.94 * 44 / 12, rel=1e-12)
    assert fs.factor("raw_coal")[0] == pytest.approx(1.9003, rel=1e-4)


def test_natural_gas_factor_per_m3_and_per_10k_m3() -> None:
    fs = load_factor_set_dir().get("CN-2022")
    # 389.31 GJ/10^4 m3 x 15.3 tC/TJ x 1e-3 x 0.99 x 44/12 = 21.622 tCO2/10^4 m3 = 2.162 kg/m3
    per_10k = 389.31 * 15.3e-3 * 0.99 * 44 / 12
    assert fs.factor("natural_gas", unit="10^4 m3")[0] == pytest.approx(per_10k, rel=1e-12)
    assert fs.factor("natural_gas")[0] == pytest.approx(per_10k / 1e4, rel=1e-12)
    assert fs.factor("natural_gas")[1].unit == "tCO2/m3"


@pytest.mark.parametrize(
    ("version", "region", "tco2_per_mwh", "confirmed"),
    [
        ("CN-2021", "national", 0.5568, False),
        ("CN-2021", "zhejiang", 0.5422, False),
        ("CN-2022", "national", 0.5366, True),
        ("CN-2022", "national_excl_market_nonfossil", 0.5856, True),
        ("CN-2022", "fossil_only", 0.8325, True),
        ("CN-2022", "east_china", 0.5617, True),
        ("CN-2022", "south_china", 0.3869, True),
        ("CN-2022", "zhejiang", 0.5153, False),
        ("CN-2023", "national", 0.5306, True),
        ("CN-2023", "national_excl_market_nonfossil", 0.6096, True),
        ("CN-2023", "east_china", 0.5500, True),
        ("CN-LEGACY-0.5703", "national", 0.5703, False),
    ],
)
def test_grid_factors_per_version_and_region(
    version: str, region: str, tco2_per_mwh: float, confirmed: bool
) -> None:
    fs = load_factor_set_dir().get(version)
    grid = fs.grid_factor(region)
    assert (grid.value_tco2_per_mwh, grid.confirmed) == (tco2_per_mwh, confirmed)
    assert fs.factor("electricity", region, "MWh")[0] == tco2_per_mwh
    assert fs.factor("electricity", region)[0] == pytest.approx(tco2_per_mwh / 1000, rel=1e-12)
    assert grid.source


def test_heat_and_steam_factors() -> None:
    fs = load_factor_set_dir().get("CN-2023")
    assert fs.factor("heat")[0] == 0.11
    assert fs.factor("steam", unit="GJ")[0] == 0.11
    # 1 t of steam at 2777 kJ/kg: (2777 - 83.74) x 1e-3 = 2.69326 GJ; x 0.11 tCO2/GJ
    assert fs.steam_gj_per_t() == pytest.approx(2.69326, rel=1e-12)
    assert fs.factor("steam")[0] == pytest.approx(2.69326 * 0.11, rel=1e-12)
    assert fs.steam_gj_per_t(3000.0) == pytest.approx(2.91626, rel=1e-12)


def test_unknown_grid_region_names_the_known_ones() -> None:
    fs = load_factor_set_dir().get("CN-2023")
    with pytest.raises(FactorSetError, match=r"'zhejiang' \(known: east_china"):
        fs.factor("electricity", "zhejiang")


def test_unit_not_accepted_for_the_type_is_refused() -> None:
    fs = load_factor_set_dir().get("CN-2023")
    with pytest.raises(ValueError, match="unit 'm3' is not valid for raw_coal"):
        fs.factor("raw_coal", unit="m3")


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2021, 1, 1), "CN-2021"),
        (date(2021, 12, 31), "CN-2021"),
        (date(2022, 1, 1), "CN-2022"),
        (date(2022, 12, 31), "CN-2022"),
        (date(2023, 1, 1), "CN-2023"),
        (date(2026, 6, 30), "CN-2023"),
    ],
)
def test_effective_on_picks_the_set_in_force(day: date, version: str) -> None:
    assert load_factor_set_dir().effective_on(day).version == version


def test_no_set_before_the_first_and_legacy_never_by_date() -> None:
    registry = load_factor_set_dir()
    with pytest.raises(FactorSetError, match="no factor set is effective on 2020-12-31"):
        registry.effective_on(date(2020, 12, 31))
    assert registry.get("CN-LEGACY-0.5703").legacy
    assert all(
        registry.effective_on(date(y, 6, 1)).version != "CN-LEGACY-0.5703" for y in (2023, 2024)
    )


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(
        FactorSetError, match=r"unknown factor set version 'CN-1999' \(known: CN-2021"
    ):
        load_factor_set_dir().get("CN-1999")


def test_overlapping_effective_ranges_are_refused(tmp_path: Path) -> None:
    a = _content("CN-2022")
    b = _content("CN-2023") | {"version": "CN-2022B", "effective_from": "2022-12-31"}
    _write(tmp_path, a)
    _write(tmp_path, b)
    with pytest.raises(FactorSetError, match="'CN-2022' and 'CN-2022B' have overlapping"):
        load_factor_set_dir(tmp_path)


def test_same_start_of_two_open_ended_sets_is_refused() -> None:
    a = factor_set_from_content(_content("CN-2023"))
    b = factor_set_from_content(_content("CN-2023") | {"version": "CN-2023B"})
    with pytest.raises(FactorSetError, match="overlapping"):
        FactorSetRegistry([a, b])


def test_duplicate_versions_are_refused() -> None:
    a = factor_set_from_content(_content("CN-2022"))
    with pytest.raises(FactorSetError, match="duplicate factor set version 'CN-2022'"):
        FactorSetRegistry([a, a])


def test_publishing_a_new_set_supersedes_the_open_one_and_changes_no_old_set(
    tmp_path: Path,
) -> None:
    before = load_factor_set_dir()
    for path in DEFAULT_FACTOR_SET_DIR.glob("*.json"):
        shutil.copy(path, tmp_path)
    new = _content("CN-2023") | {"version": "CN-2024", "effective_from": "2024-01-01"}
    new["grid_electricity_tco2_per_mwh"]["national"]["value"] = 0.5
    _write(tmp_path, new)
    after = load_factor_set_dir(tmp_path)
    assert after.effective_on(date(2023, 12, 31)).version == "CN-2023"
    assert after.effective_on(date(2024, 1, 1)).version == "CN-2024"
    for version in before.versions:
        assert after.get(version).sha256 == before.get(version).sha256


# --------------------------------------------------------------------------- validation


def test_unknown_key_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    content = _content()
    content["fuels"]["raw_coal"]["colour"] = "black"
    path = _write(tmp_path, content)
    with pytest.raises(FactorSetError) as info:
        load_factor_set(path)
    assert str(info.value) == "CN-2022.json: fuels.raw_coal.colour: Unknown field."


def test_unknown_fuel_and_bad_grid_value_are_named(tmp_path: Path) -> None:
    content = _content()
    content["fuels"]["wood"] = content["fuels"]["coke"]
    content["grid_electricity_tco2_per_mwh"]["east_china"]["value"] = "high"
    with pytest.raises(FactorSetError) as info:
        load_factor_set(_write(tmp_path, content))
    message = str(info.value)
    assert "fuels.wood: Unknown field." in message
    assert "grid_electricity_tco2_per_mwh.east_china.value: Not a valid number." in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c["fuels"]["raw_coal"].update(ncv_unit="GJ/10^4 m3"), "fuels.raw_coal.ncv_unit"),
        (lambda c: c["fuels"]["diesel"].update(oxidation_rate=1.5), "fuels.diesel.oxidation_rate"),
        (lambda c: c["grid_electricity_tco2_per_mwh"].pop("national"), "a 'national' region"),
        (lambda c: c.update(effective_to="2021-01-01"), "effective_to: must not be before"),
        (lambda c: c["steam"].update(default_enthalpy_kj_per_kg=50.0), "steam.default_enthalpy"),
        (lambda c: c.pop("heat_tco2_per_gj"), "heat_tco2_per_gj: Missing data"),
    ],
)
def test_invalid_content_is_refused_naming_the_field(change: Any, expected: str) -> None:
    content = _content()
    change(content)
    with pytest.raises(FactorSetError, match="^stored: .*" + expected.replace("(", r"\(")):
        factor_set_from_content(content, "stored")


def test_not_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"version": "X",\n oops}', encoding="utf-8")
    with pytest.raises(FactorSetError, match=r"broken.json: not valid JSON \(line 2"):
        load_factor_set(path)


# --------------------------------------------------------------------------- reproduction


def test_a_stored_content_rebuilds_the_identical_set() -> None:
    original = load_factor_set_dir().get("CN-2022")
    stored = json.loads(json.dumps(dict(original.content)))  # what a JSON column gives back
    rebuilt = factor_set_from_content(stored)
    assert rebuilt == original
    assert rebuilt.sha256 == original.sha256 == canonical_sha256(stored)
    for energy_type in ("raw_coal", "natural_gas", "electricity", "steam", "heat", "lpg"):
        assert rebuilt.factor(energy_type) == original.factor(energy_type)


def test_hash_ignores_key_order_but_not_values() -> None:
    content = _content()
    reordered = json.loads(json.dumps(dict(reversed(list(content.items())))))
    assert canonical_sha256(reordered) == canonical_sha256(content)
    content["heat_tco2_per_gj"]["value"] = 0.12
    assert canonical_sha256(content) != canonical_sha256(reordered)


def test_every_value_carries_a_source() -> None:
    for fs in load_factor_set_dir():
        assert all(f.source for f in fs.fuels.values())
        assert all(g.source for g in fs.grid.values())
        assert fs.heat_source
        assert fs.steam_source
