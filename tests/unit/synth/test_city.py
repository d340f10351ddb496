"""The synthetic city: determinism, counts, grade spread, load shapes, totals, faults, raw rows."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import date

import numpy as np
import pytest

from accounting.energy import EnergyType
from accounting.readings import MeterSpec as IngestMeter
from accounting.readings import RawReadings, ReadingFlag, validate_readings
from accounting.vocab import Sector
from finance_engine.synth import (
    City,
    build_city,
    design_benchmarks,
    design_emissions_tco2e,
)
from finance_engine.synth.faults import WARMUP_DAYS
from finance_engine.synth.industries import INDUSTRIES

E = EnergyType
K_CUTS = [0.6, 0.8, 1.2, 2.0]  # Zhejiang carbon-efficiency grade cut-offs (domain.md §1.2)


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=7, scale=0.02)


@pytest.fixture(scope="module")
def clean(city: City) -> np.ndarray:
    return city.meter_arrays(clean=True)


def _day(city: City, iso: str) -> int:
    return (date.fromisoformat(iso) - date(city.year, 1, 1)).days


def test_same_seed_gives_identical_city_and_arrays(city: City) -> None:
    again = build_city(seed=7, scale=0.02)
    assert again.fingerprint() == city.fingerprint()
    first = hashlib.sha256(city.meter_arrays([0, 1, 70]).tobytes()).hexdigest()
    assert hashlib.sha256(again.meter_arrays([0, 1, 70]).tobytes()).hexdigest() == first
    assert build_city(seed=8, scale=0.02).fingerprint() != city.fingerprint()


def test_arrays_do_not_depend_on_how_meters_are_chunked(city: City) -> None:
    whole = city.meter_arrays()
    chunks = np.concatenate([values for _, values in city.iter_meter_arrays(64)])
    assert np.array_equal(whole, chunks, equal_nan=True)
    assert np.array_equal(city.meter_arrays([70, 3]), whole[[70, 3]], equal_nan=True)
    assert whole.shape == (len(city.meters), 366, 96)
    assert whole.dtype == np.float32


def test_full_scale_counts_without_generating_arrays() -> None:
    full = build_city(seed=1, scale=1.0)
    sectors = Counter(e.sector for e in full.entities)
    assert sectors == {Sector.INDUSTRY: 2392, Sector.ENERGY: 97}
    metered = [e for e in full.entities if e.sector is Sector.INDUSTRY and e.metered]
    assert len(metered) == 1100
    per_firm = Counter(m.entity_id for m in full.meters)
    industrial_meters = sum(per_firm[e.id] for e in metered)
    assert 4.0 <= industrial_meters / len(metered) <= 4.6  # about four meters a metered firm
    assert len({e.industry_code for e in full.entities if e.sector is Sector.INDUSTRY}) == 21


def test_small_scale_keeps_the_shares(city: City) -> None:
    industrial = [e for e in city.entities if e.sector is Sector.INDUSTRY]
    assert len(industrial) == round(2392 * 0.02)
    assert sum(e.metered for e in industrial) == round(len(industrial) * 1100 / 2392)
    assert len({e.industry_code for e in industrial}) == len(INDUSTRIES)
    producers = {e.industry_code for e in city.entities if e.sector is Sector.ENERGY}
    assert producers == {"D4411", "D4412", "D4430", "D4416"}


def _grades(city: City) -> dict[str, int]:
    benchmark = design_benchmarks()
    out = {}
    for entity, activity in zip(city.entities, city.activity, strict=True):
        k = activity.intensity / benchmark[entity.industry_code][0]
        out[entity.id] = int(np.digitize(k, K_CUTS, right=True)) + 1
    return out


def _proxy_colour(grade: int, change: float) -> str:
    """A stand-in for the colour rule (the grading module's thresholds are configuration):
    K grade with the own year-on-year trend."""
    if grade <= 2 and change <= 0:
        return "dark_green"
    if grade <= 3 and change <= 0.05:
        return "light_green"
    if grade == 5 or (grade == 4 and change > 0.05):
        return "red"
    return "yellow"


def test_every_grade_label_and_colour_occurs_even_in_a_small_city(city: City) -> None:
    grades = _grades(city)
    industrial = [
        (e, a)
        for e, a in zip(city.entities, city.activity, strict=True)
        if e.sector is Sector.INDUSTRY
    ]
    assert {grades[e.id] for e, _ in industrial} == {1, 2, 3, 4, 5}
    labels = {int(np.digitize(a.intensity, [0.6, 2.0], right=True)) for _, a in industrial}
    assert labels == {0, 1, 2}  # low, medium, high carbon
    colours = {
        _proxy_colour(grades[e.id], a.intensity / a.previous_intensity - 1) for e, a in industrial
    }
    assert colours == {"dark_green", "light_green", "yellow", "red"}
    by_industry = defaultdict(list)  # benchmarks from the city's own medians also spread
    for e, a in industrial:
        by_industry[e.industry_code].append(a.intensity)
    k = [a.intensity / np.median(by_industry[e.industry_code]) for e, a in industrial]
    assert set((np.digitize(k, K_CUTS, right=True) + 1).tolist()) == {1, 2, 3, 4, 5}


def test_meter_totals_give_back_the_intended_intensity(city: City, clean: np.ndarray) -> None:
    totals: dict[str, dict[EnergyType, float]] = defaultdict(dict)
    sums = clean.sum(axis=(1, 2), dtype=np.float64)
    faulted = np.nansum(city.meter_arrays(), axis=(1, 2), dtype=np.float64)
    faulted_totals: dict[str, dict[EnergyType, float]] = defaultdict(dict)
    for meter in city.meters:
        for store, values in ((totals, sums), (faulted_totals, faulted)):
            bucket = store[meter.entity_id]
            bucket[meter.energy_type] = bucket.get(meter.energy_type, 0.0) + values[meter.index]
    for declared in city.declared_totals:
        totals[declared.entity_id][declared.energy_type] = declared.quantity
    activity = {a.entity_id: a for a in city.activity}
    for entity in city.entities:
        a = activity[entity.id]
        emissions = design_emissions_tco2e(totals[entity.id], city.factors)
        if entity.sector is Sector.INDUSTRY:
            assert emissions / float(a.value_added_10k_yuan) == pytest.approx(a.intensity, rel=1e-5)
        if entity.metered:
            with_faults = design_emissions_tco2e(faulted_totals[entity.id], city.factors)
            assert with_faults == pytest.approx(emissions, rel=0.03)  # spikes add, gaps take


def test_energy_producers_supply_energy_at_their_intensity(city: City) -> None:
    for entity, a in zip(city.entities, city.activity, strict=True):
        if entity.sector is not Sector.ENERGY:
            continue
        if a.intensity_unit == "tCO2/MWh":
            supplied = a.electricity_supplied_mwh or 0.0
        else:
            supplied = (a.heat_supplied_gj or 0.0) + 3.6 * (a.electricity_supplied_mwh or 0.0)
        assert a.emissions_tco2e == pytest.approx(a.intensity * supplied)
    solar = next(e for e in city.entities if e.industry_code == "D4416")
    exported = [
        m for m in city.meters if m.entity_id == solar.id and m.energy_type is E.RENEWABLE_EXPORTED
    ]
    supplied_mwh = next(
        a for a in city.activity if a.entity_id == solar.id
    ).electricity_supplied_mwh
    assert exported[0].annual_quantity == pytest.approx((supplied_mwh or 0.0) * 1000)


def _pattern_meters(city: City, shifts: int) -> list[int]:
    shifts_of = {p.code: p.shifts for p in INDUSTRIES}
    entities = {e.id: e for e in city.entities}
    return [
        m.index
        for m in city.meters
        if m.energy_type is E.ELECTRICITY
        and shifts_of.get(entities[m.entity_id].industry_code) == shifts
    ]


def test_one_shift_firms_rest_at_weekends_and_continuous_ones_do_not(
    city: City, clean: np.ndarray
) -> None:
    daily = clean.sum(axis=2)
    day_type = city.calendar.day_type
    normal = city.calendar.festival == 0
    for shifts, low, high in ((1, 0.0, 0.5), (3, 0.9, 1.05)):
        rows = _pattern_meters(city, shifts)
        assert rows
        sunday = daily[np.ix_(rows, (day_type == 2) & normal)].mean(axis=1)
        workday = daily[np.ix_(rows, (day_type == 0) & normal)].mean(axis=1)
        assert np.all((sunday / workday > low) & (sunday / workday < high))


def test_load_shapes_follow_hours_holidays_and_seasons(city: City, clean: np.ndarray) -> None:
    one_shift = _pattern_meters(city, 1)
    workdays = np.nonzero((city.calendar.day_type == 0) & (city.calendar.festival == 0))[0]
    profile = clean[np.ix_(one_shift, workdays)].mean(axis=(0, 1))
    assert profile[40] > 3 * profile[8]  # 10:00 against 02:00
    daily = clean.sum(axis=2)
    festival = daily[:, _day(city, "2024-02-12") : _day(city, "2024-02-16")].mean(axis=1)
    march = daily[:, _day(city, "2024-03-11") : _day(city, "2024-03-15")].mean(axis=1)
    assert np.all(festival[one_shift] < 0.4 * march[one_shift])  # Spring Festival closure
    cooled = list(_pattern_meters(city, 3))
    july = daily[cooled, _day(city, "2024-07-22") : _day(city, "2024-07-29")].mean(axis=1)
    april = daily[cooled, _day(city, "2024-04-15") : _day(city, "2024-04-22")].mean(axis=1)
    assert np.median(july / april) > 1.04  # summer cooling


def test_pv_meters_generate_by_day_only(city: City, clean: np.ndarray) -> None:
    pv = [m.index for m in city.meters if m.energy_type is E.RENEWABLE_SELF_CONSUMED]
    assert pv
    assert np.all(clean[pv][:, :, :16] == 0)  # nothing before 04:00
    assert np.all(clean[pv][:, :, 44:52].sum(axis=2) > 0)  # something around noon, every day


def test_faults_are_separate_after_the_warm_up_and_applied_where_recorded(
    city: City, clean: np.ndarray
) -> None:
    faults = city.faults
    assert set(faults.kind.tolist()) == {"spike", "flat_line", "gap", "counter_reset", "duplicate"}
    assert faults.start_slot.min() >= WARMUP_DAYS * 96
    order = np.lexsort((faults.start_slot, faults.meter))
    same_meter = faults.meter[order][1:] == faults.meter[order][:-1]
    ends = (faults.start_slot + faults.length)[order][:-1]
    assert np.all(~same_meter | (faults.start_slot[order][1:] > ends))  # no overlap, no touch
    values = city.meter_arrays().reshape(len(city.meters), -1)
    base = clean.reshape(len(city.meters), -1)
    gaps = faults.of_kind("gap")
    nan_rows, nan_slots = np.nonzero(np.isnan(values))
    expected = {
        (m, s + i)
        for m, s, n in zip(gaps.meter, gaps.start_slot, gaps.length, strict=True)
        for i in range(n)
    }
    assert set(zip(nan_rows.tolist(), nan_slots.tolist(), strict=True)) == expected
    spike = faults.of_kind("spike")
    m, s = spike.meter[0], spike.start_slot[0]
    assert values[m, s] == pytest.approx(base[m, s] * spike.magnitude[0], rel=1e-5)
    flat = faults.of_kind("flat_line")
    m, s, n = flat.meter[0], flat.start_slot[0], flat.length[0]
    assert np.all(values[m, s : s + n] == base[m, s - 1] * flat.magnitude[0])
    kinds = {city.meters[i].reading_kind for i in city.faults.of_kind("counter_reset").meter}
    assert kinds == {"cumulative"}
    assert all(not city.meters[i].energy_type.value.startswith("renewable") for i in spike.meter)


def _counter_check(city: City, meter: int) -> int:
    """Check one cumulative meter's raw stream; return how many drops (wraps or resets) it has."""
    spec = city.meters[meter]
    rows = city.to_raw_rows([meter], days=(0, 366))
    dups = city.faults.of_kind("duplicate")
    dups = dups.select(dups.meter == meter)
    assert len(rows) == 366 * 96 + 1 + int(dups.length.sum())
    assert np.all(np.diff(rows.timestamp_s) >= 0)
    assert np.all(rows.timestamp_s % 900 == 0)
    stamps, first = np.unique(rows.timestamp_s, return_index=True)
    counter = rows.value[first]  # the counter at each reading instant
    assert len(stamps) == 366 * 96 + 1
    assert stamps[0] == city.start_s
    delta = np.diff(counter)  # interval [t, t + 900) closes at the reading at t + 900
    interval = city.meter_arrays([meter]).reshape(-1).astype(np.float64)
    resets = city.faults.of_kind("counter_reset")
    reset_slots = resets.start_slot[resets.meter == meter]
    if spec.counter_rollover is not None:
        assert reset_slots.size == 0  # resets go to counters that never wrap
        assert np.all(counter < spec.counter_rollover)
        fixed = np.where(delta < 0, delta + spec.counter_rollover, delta)
    else:
        assert reset_slots.size > 0
        fixed = delta.copy()
        fixed[reset_slots] = counter[reset_slots + 1]  # restarted from zero in that interval
        assert np.all(delta[reset_slots] < 0)
    assert np.allclose(fixed, interval, rtol=1e-6, atol=1e-6 * counter.max())
    assert set(rows.meter_code().tolist()) == {spec.code}
    return int((delta < 0).sum())


def test_raw_rows_carry_counters_rollovers_resets_and_duplicates(city: City) -> None:
    cumulative = [m for m in city.meters if m.reading_kind == "cumulative"]
    wrapping = [m.index for m in cumulative if m.counter_rollover is not None]
    resetting = [m.index for m in cumulative if m.counter_rollover is None]
    assert wrapping
    assert resetting
    assert sum(_counter_check(city, m) for m in wrapping) > 0  # some counters wrap in the year
    for meter in resetting:
        _counter_check(city, meter)


def test_raw_rows_of_interval_meters_skip_gaps_and_repeat_duplicates(city: City) -> None:
    gap = city.faults.of_kind("gap")
    meter = int(gap.meter[0])
    day = int(gap.start_slot[0] // 96)
    rows = city.to_raw_rows([meter], days=(day, day + 2))
    values = city.meter_arrays([meter])[0, day : day + 2].reshape(-1)
    dups = city.faults.of_kind("duplicate")
    mine = dups.select(
        (dups.meter == meter) & (dups.start_slot // 96 >= day) & (dups.start_slot < (day + 2) * 96)
    )
    assert len(rows) == int((~np.isnan(values)).sum() + mine.length.sum())
    first = city.start_s + day * 86_400
    expected = first + 900 * np.nonzero(~np.isnan(values))[0]
    assert np.array_equal(np.unique(rows.timestamp_s), expected)


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="scale"):
        build_city(seed=1, scale=0)
    with pytest.raises(ValueError, match="year"):
        build_city(seed=1, scale=0.01, year=2019)
    small = build_city(seed=1, scale=0.01)
    with pytest.raises(ValueError, match="meters"):
        small.meter_arrays([len(small.meters)])
    with pytest.raises(ValueError, match="days"):
        small.to_raw_rows([0], days=(5, 5))


def test_raw_stream_passes_ingest_validation_and_gives_back_the_interval_arrays(
    city: City,
) -> None:
    cumulative = [m.index for m in city.meters if m.reading_kind == "cumulative"]
    gappy = sorted(set(city.faults.of_kind("gap").meter.tolist()))[:8]
    chosen = np.array(sorted({*cumulative, *gappy}))
    rows = city.to_raw_rows(chosen)
    raw = RawReadings(
        row=np.arange(len(rows)),
        meter_ref=rows.meter,
        meter_codes=rows.codes,
        timestamp_s=rows.timestamp_s,
        quantity=rows.value,
    )
    specs = [
        IngestMeter(
            m.code,
            m.energy_type,
            m.unit,
            m.reading_kind,
            m.rated_max_per_interval,
            m.counter_rollover,
        )
        for m in city.meters
    ]
    batch = validate_readings(raw, specs, 60)
    duplicates = city.faults.of_kind("duplicate")
    assert batch.rejections == ()
    assert batch.duplicates == int(duplicates.length[np.isin(duplicates.meter, chosen)].sum())
    slot = (batch.interval_start_s - city.start_s) // 900
    anchor = (batch.flags & int(ReadingFlag.ANCHOR)) != 0
    assert np.all(slot[anchor] == -1)  # each counter's first reading closes no interval
    truth = city.meter_arrays().reshape(len(city.meters), -1)
    meter, slot = batch.meter_index[~anchor], slot[~anchor]
    assert np.allclose(batch.quantity[~anchor], truth[meter, slot], rtol=1e-6)
    received = np.zeros(truth.shape, dtype=bool)
    received[meter, slot] = True
    assert np.array_equal(received[chosen], ~np.isnan(truth[chosen]))  # gaps exactly as injected
    reset = (batch.flags[~anchor] & int(ReadingFlag.COUNTER_RESET)) != 0
    resets = city.faults.of_kind("counter_reset")
    assert sorted(zip(meter[reset].tolist(), slot[reset].tolist(), strict=True)) == sorted(
        zip(resets.meter.tolist(), resets.start_slot.tolist(), strict=True)
    )
