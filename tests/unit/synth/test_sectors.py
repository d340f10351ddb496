"""The synthetic buildings, transport firms and farms: counts, determinism, exact intensities, and
every grade and colour in every sector when graded with the real accounting code."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from accounting.account import (
    AccountInput,
    Activity,
    CarbonAccountResult,
    EntityRef,
    Period,
    compute_accounts,
)
from accounting.calc_sectors import SECTION_SCHEMAS, sector_data_from_section
from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType
from accounting.factors import load_factor_set_dir
from accounting.grading import load_grading_config
from accounting.vocab import Colour, Sector
from finance_engine.services.activity import ActivityRecordSchema
from finance_engine.services.sector_inputs import population_benchmarks
from finance_engine.synth.sectors import SectorCity, build_sectors

YEAR = Period(date(2024, 1, 1), date(2024, 12, 31))
SECTORS = (Sector.BUILDING, Sector.TRANSPORT, Sector.AGRICULTURE)


@pytest.fixture(scope="module")
def small() -> SectorCity:
    return build_sectors(seed=7, scale=0.02, year=2024)


@pytest.fixture(scope="module")
def full() -> SectorCity:
    return build_sectors(seed=7, scale=1.0, year=2024)


def _inputs(city: SectorCity) -> list[AccountInput]:
    """Account inputs from the records, as the accounts service builds them (meters' yearly
    totals for metered buildings, declared energy otherwise)."""
    metered: dict[str, list[EnergyTotal]] = {}
    for m in city.meters:
        metered.setdefault(m.entity_id, []).append(
            EnergyTotal(m.energy_type, m.annual_quantity, m.unit, m.code)
        )
    out = []
    for plan in city.plans:
        e, record = plan.entity, plan.record
        section = SECTION_SCHEMAS[e.sector]().load(record[e.sector.value])
        declared = [
            EnergyTotal(EnergyType(d["type"]), d["quantity"], d["unit"])
            for d in record["declared_energy"]
        ]
        output = record.get("output_value_10k_yuan")
        out.append(
            AccountInput(
                EntityRef(e.id, e.name, e.sector, e.industry_code, e.region),
                YEAR,
                (*declared, *metered.get(e.id, [])),
                Activity(output_value_10k_yuan=None if output is None else Decimal(output)),
                previous_intensity=record["previous_intensity"],
                sector_data=sector_data_from_section(e.sector, section),
            )
        )
    return out


def _graded(city: SectorCity) -> list[CarbonAccountResult]:
    """Two passes, as compute_period_accounts does: population medians, then grades."""
    fs = load_factor_set_dir().effective_on(YEAR.start)
    rules = load_grading_config()
    inputs = _inputs(city)
    bench = population_benchmarks(compute_accounts(inputs, fs, rules), "2024", 50.0)
    return compute_accounts(inputs, fs, rules, benchmark_set=bench, regional_from_population=True)


def test_full_scale_has_quzhous_counts(full: SectorCity) -> None:
    counts = Counter(e.sector for e in full.entities)
    assert counts == {Sector.BUILDING: 109, Sector.TRANSPORT: 55, Sector.AGRICULTURE: 845}
    types = Counter(e.industry_code for e in full.entities if e.sector is Sector.BUILDING)
    assert set(types) == {
        "office", "retail", "hotel", "hospital", "school", "data_centre", "residential"
    }  # fmt: skip


def test_small_scale_keeps_five_per_benchmark_group(small: SectorCity) -> None:
    groups = Counter((e.sector, e.industry_code) for e in small.entities)
    assert min(groups.values()) == 5
    assert len(groups) == 7 + 2 + 5


def test_it_is_deterministic(small: SectorCity) -> None:
    again = build_sectors(seed=7, scale=0.02, year=2024)
    assert again.activity_records() == small.activity_records()
    assert again.meters == small.meters
    assert build_sectors(seed=8, scale=0.02).activity_records() != small.activity_records()


def test_records_pass_the_activity_schema(small: SectorCity) -> None:
    schema = ActivityRecordSchema()
    for record in small.activity_records():
        schema.load(record)  # raises on any bad record


def test_accounts_return_the_intended_intensities(small: SectorCity) -> None:
    fs = load_factor_set_dir().effective_on(YEAR.start)
    results = compute_accounts(_inputs(small), fs, load_grading_config())
    for result, plan in zip(results, small.plans, strict=True):
        assert result.intensity.primary.metric == plan.metric
        assert result.intensity.primary.value == pytest.approx(plan.intended, rel=1e-9)


def test_building_meters_sum_to_their_yearly_totals(small: SectorCity) -> None:
    index = np.arange(len(small.meters))
    arrays = small.meter_arrays(index)
    assert arrays.shape == (len(small.meters), 366, 96)
    totals = arrays.sum(axis=(1, 2), dtype=np.float64)
    np.testing.assert_allclose(totals, [m.annual_quantity for m in small.meters], rtol=1e-5)
    raw = small.raw_readings(index[:2])
    assert raw.quantity.size == 2 * 366 * 96
    assert raw.timestamp_s[1] - raw.timestamp_s[0] == 900


def test_building_loads_follow_the_temperature(small: SectorCity) -> None:
    electricity = [m.index for m in small.meters if m.energy_type is EnergyType.ELECTRICITY]
    daily = small.meter_arrays(electricity).sum(axis=(0, 2))
    hot = small.temperature_c > 28
    mild = (small.temperature_c > 18) & (small.temperature_c < 22)
    assert daily[hot].mean() > 1.1 * daily[mild].mean()
    assert small.hdd == pytest.approx(np.maximum(18 - small.temperature_c, 0).sum())


@pytest.mark.parametrize("size", ["small", "full"])
def test_every_grade_and_colour_occurs_in_every_sector(
    size: str, request: pytest.FixtureRequest
) -> None:
    results = _graded(request.getfixturevalue(size))
    for sector in SECTORS:
        mine = [r for r in results if r.entity.sector is sector]
        grades = {r.grade.carbon_efficiency for r in mine}
        colours = {r.grade.colour for r in mine}
        assert grades == {1, 2, 3, 4, 5}, sector
        assert colours == set(Colour), sector


def test_sector_labels_occur(small: SectorCity) -> None:
    labels = Counter(
        (r.entity.sector, label) for r in _graded(small) if r.sector for label in r.sector.labels
    )
    assert labels[(Sector.AGRICULTURE, "carbon_neutral_farm")] > 0
    assert labels[(Sector.TRANSPORT, "new_energy_fleet")] > 0
